//! Non-UTF-8 bytes in the environment and on the command line (issue 19 item 5). Both binaries
//! once panicked (exit 101) on any non-UTF-8 variable, even one they never read, and the panic
//! message printed the value, a secret included. Now: a variable c8dr reads is exit 2 naming it
//! (never its value), any other variable is ignored, an argument is exit 2 naming its position;
//! the canary bytes never appear in the output.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use c8dr_e2e::{Run, TestEnv};

use super::cases::{self, Bin};

/// A secret-looking value with bytes that are not UTF-8.
const CANARY: &[u8] = b"cnry-nonutf8-Qw7\xff\xfe-pw";
const CANARY_TEXT: &str = "cnry-nonutf8-Qw7";

/// A binary by its path: PATH itself is one of the variables made non-UTF-8.
fn bin_path(name: &str) -> String {
    c8dr_e2e::bin_dir().join(name).display().to_string()
}

fn canary() -> OsString {
    OsString::from_vec(CANARY.to_vec())
}

fn no_canary(run: &Run, what: &str) {
    assert!(
        !run.stdout.contains(CANARY_TEXT) && !run.stderr.contains(CANARY_TEXT),
        "{what}: the value was printed\n{}",
        run.context()
    );
}

/// The commands each variable is fed to: one of each plugin that reads the environment.
fn commands(env: &TestEnv, bin: Bin) -> c8dr_e2e::RunBuilder {
    match bin {
        Bin::Kubectl => env.command(
            &bin_path("kubectl-c8dr"),
            vec!["exporters".into(), "list".into()],
        ),
        Bin::Helm => env.command(
            &bin_path("helm-c8dr"),
            vec!["redeploy".into(), "--yes".into(), "--dry-run".into()],
        ),
    }
}

#[test]
fn a_non_utf8_variable_c8dr_reads_is_exit_2_naming_it_and_never_its_value() {
    let env = TestEnv::builder()
        .values_layout("c8-multi-region-8.8")
        .start();
    for var in c8dr_common::config::VARIABLES {
        for bin in [Bin::Kubectl, Bin::Helm] {
            let run = commands(&env, bin)
                .env(var, canary())
                .run_within(super::CASE_LIMIT);
            let what = format!("{bin:?} with {var} not UTF-8");
            no_canary(&run, &what);
            assert_eq!(run.code, 2, "{what}\n{}", run.context());
            assert!(run.stderr.contains(var), "{what}\n{}", run.context());
        }
    }
    assert!(env.requests().is_empty(), "no call reached the simulator");
}

#[test]
fn a_non_utf8_variable_c8dr_does_not_read_is_ignored() {
    let env = TestEnv::builder()
        .values_layout("c8-multi-region-8.8")
        .start();
    let run = env
        .command(
            &bin_path("kubectl-c8dr"),
            vec!["exporters".into(), "list".into()],
        )
        .env("SOME_OTHER_TOOLS_SECRET", canary())
        .run_within(super::CASE_LIMIT);
    no_canary(&run, "an unrelated variable");
    assert_eq!(run.code, 0, "{}", run.context());
    let run = env
        .command(
            &bin_path("helm-c8dr"),
            vec!["redeploy".into(), "--yes".into(), "--dry-run".into()],
        )
        .env("SOME_OTHER_TOOLS_SECRET", canary())
        .run_within(super::CASE_LIMIT);
    no_canary(&run, "an unrelated variable");
    assert_eq!(run.code, 0, "{}", run.context());
}

#[test]
fn a_non_utf8_value_of_every_flag_is_exit_2_naming_its_position() {
    let env = TestEnv::start();
    let (kubectl, helm) = cases::definitions();
    let mut checked = 0;
    for (bin, defs, program) in [
        (Bin::Kubectl, &kubectl, "kubectl-c8dr"),
        (Bin::Helm, &helm, "helm-c8dr"),
    ] {
        for cmd in defs.iter().filter(|c| c.is_leaf()) {
            for opt in cmd.options.iter().filter(|o| o.value.is_some()) {
                let mut args: Vec<OsString> = cases::base_args(cmd, "")
                    .into_iter()
                    .map(OsString::from)
                    .collect();
                args.push(format!("--{}", opt.long).into());
                let position = args.len() + 1;
                args.push(canary());
                let run = env
                    .command(&bin_path(program), args)
                    .run_within(super::CASE_LIMIT);
                let what = format!("{bin:?} {} --{} <not UTF-8>", cmd.name(), opt.long);
                no_canary(&run, &what);
                assert_eq!(run.code, 2, "{what}\n{}", run.context());
                assert!(
                    run.stderr.contains(&format!("argument {position}")),
                    "{what}: position {position} not named\n{}",
                    run.context()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} flags");
    assert!(env.requests().is_empty(), "no call reached the simulator");
}

/// Echoed input is cut to a readable length (issue 19 item 9): every flag of every command given
/// a 20 KiB value; whatever the command makes of it, no line it prints to stderr is longer than
/// [`super::MAX_ERROR_LINE`].
#[test]
fn no_flag_value_is_echoed_whole() {
    let env = TestEnv::builder()
        .values_layout("c8-multi-region-8.8")
        .start();
    let (kubectl, helm) = cases::definitions();
    let long = "z".repeat(20 * 1024);
    let mut runs = vec![];
    for (defs, program) in [(&kubectl, "kubectl-c8dr"), (&helm, "helm-c8dr")] {
        for cmd in defs.iter().filter(|c| c.is_leaf()) {
            for opt in cmd.options.iter().filter(|o| o.value.is_some()) {
                let mut args: Vec<OsString> = cases::base_args(cmd, &opt.long)
                    .into_iter()
                    .map(OsString::from)
                    .collect();
                args.push(format!("--{}={long}", opt.long).into());
                // Never wait on a real operation: dry runs only.
                if !args.iter().any(|a| a == "--dry-run") && opt.long != "dry-run" {
                    args.push("--dry-run".into());
                }
                runs.push((
                    format!("{program} {} --{}", cmd.name(), opt.long),
                    program,
                    args,
                ));
            }
        }
    }
    let failed: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<_> = runs.chunks(runs.len().div_ceil(4).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let env = &env;
                scope.spawn(move || {
                    let mut failed = vec![];
                    for (what, program, args) in chunk {
                        let run = env
                            .command(&bin_path(program), args.clone())
                            .run_within(super::CASE_LIMIT);
                        if let Some(line) = run
                            .stderr
                            .lines()
                            .find(|l| l.chars().count() > super::MAX_ERROR_LINE)
                        {
                            let head: String = line.chars().take(160).collect();
                            failed.push(format!(
                                "{what}: exit {}, a stderr line of {} characters: {head}…",
                                run.code,
                                line.chars().count()
                            ));
                        }
                    }
                    failed
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        failed.is_empty(),
        "{} flags echo their value whole:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
