//! The cases of [`super::specials::input_bounds`] on their own (they are part of the whole
//! suite too), for a quick rerun: `cargo test -p c8dr-e2e --test e2e bad_input::bounds`.

#[test]
fn values_files_echoes_and_proxies_are_bounded_bad_input() {
    let cases = super::specials::input_bounds();
    let results = super::run_all(&cases);
    let failed: Vec<String> = cases
        .iter()
        .zip(&results)
        .filter(|(_, (p, _, _))| !p.is_empty())
        .map(|(c, (p, run, _))| {
            let id: String = c.id().chars().take(200).collect();
            let stderr: String = run.stderr.chars().take(600).collect();
            format!("{id}\n  {}\n  stderr: {stderr}", p.join("; "))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases fail:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}
