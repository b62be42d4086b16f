//! The README, followed as written: its by-hand blocks (marked `<!-- readme-test: NAME -->`)
//! run in `bash -e` with a fresh HOME and the debug binaries on PATH, as a new user would paste
//! them into two shells, until `kubectl c8dr status` says the installation is healthy again.
//! Also: what the README links to ships in the repository.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use c8dr_e2e::bin_dir;

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The fenced `sh` block right after `<!-- readme-test: NAME -->`.
fn block(readme: &str, name: &str) -> String {
    let marker = format!("<!-- readme-test: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no `{marker}`"))
        .1;
    let body = after
        .trim_start()
        .strip_prefix("```sh\n")
        .unwrap_or_else(|| panic!("`{marker}` is not followed by a ```sh block"));
    let end = body
        .find("\n```")
        .unwrap_or_else(|| panic!("the block after `{marker}` is not closed"));
    body[..end].to_string()
}

/// A fresh shell: nothing of the test runner's environment but a PATH with the debug binaries
/// (and the system's tools: bash, kubectl), a new HOME, and no runtime directory (so that `serve`
/// records itself under HOME/.cache, not in the runner's session).
fn shell(home: &Path, cwd: &Path, script: &str, out: &Path) -> Child {
    let path = std::env::join_paths(std::iter::once(bin_dir()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let log = |name: &str| {
        std::fs::File::create(out.with_extension(name)).expect("create the shell's log file")
    };
    Command::new("bash")
        .arg("-e")
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
        // Stands in for the user answering `y` at each confirmation: the blocks run without a
        // terminal, where c8dr refuses without --yes (exit 3) instead of asking.
        .env("C8DR_ASSUME_YES", "1")
        .stdin(Stdio::null())
        .stdout(log("stdout"))
        .stderr(log("stderr"))
        // Its own process group, so that the whole shell (bash and c8dr-sim) can be stopped.
        .process_group(0)
        .spawn()
        .expect("spawning bash")
}

fn logs(out: &Path) -> String {
    let read = |ext: &str| std::fs::read_to_string(out.with_extension(ext)).unwrap_or_default();
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        read("stdout"),
        read("stderr")
    )
}

/// Stops the serve shell's process group (by its id) when the test ends, passed or not.
struct Group(Child);

impl Group {
    /// `kill -s SIGNAL -- -PGID`: the `--` keeps `-PGID` from being read as an option.
    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args(["-s", signal, "--"])
            .arg(format!("-{}", self.0.id()))
            .status();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal("KILL");
        let _ = self.0.wait();
    }
}

use std::os::unix::process::CommandExt as _;

#[test]
fn the_by_hand_section_of_the_readme_reaches_healthy_again_when_pasted() {
    let readme = readme();
    let serve = block(&readme, "serve");
    let walk = block(&readme, "walk");
    let home = tempfile::tempdir().expect("temp HOME");
    // Shell 1 in a fresh "checkout", shell 2 somewhere else: ctl must find the simulator.
    let checkout = home.path().join("c8dr");
    let elsewhere = home.path().join("elsewhere");
    for d in [&checkout, &elsewhere] {
        std::fs::create_dir_all(d.join("target")).expect("mkdir");
        // The README names the binaries as a checkout holds them after `cargo build --release`.
        std::os::unix::fs::symlink(bin_dir(), d.join("target/release")).expect("link the build");
    }
    let serve_out = home.path().join("serve");
    let mut server = Group(shell(home.path(), &checkout, &serve, &serve_out));
    let record = home.path().join(".cache/c8dr-sim/current");
    let started = Instant::now();
    while !record.exists() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!(
                "the serve block exited ({status}) before the simulator was up\n{}",
                logs(&serve_out)
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the simulator did not record itself in {} within 60 s\n{}",
            record.display(),
            logs(&serve_out)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let serve_text =
        std::fs::read_to_string(serve_out.with_extension("stdout")).unwrap_or_default();
    for export in ["export HELM_BIN=", "export S3_BUCKET_NAME=", "export PATH="] {
        assert!(
            serve_text.contains(export),
            "serve does not print `{export}…`\n{}",
            logs(&serve_out)
        );
    }

    let walk_out = home.path().join("walk");
    let mut walker = shell(home.path(), &elsewhere, &walk, &walk_out);
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Ok(Some(status)) = walker.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = walker.kill();
            let _ = walker.wait();
            panic!(
                "the walk block did not finish within 300 s\n{}",
                logs(&walk_out)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = logs(&walk_out);
    assert!(
        status.success(),
        "the walk block failed ({status}): a step of the README does not work as written\n{text}"
    );
    let stdout = std::fs::read_to_string(walk_out.with_extension("stdout")).unwrap_or_default();
    // Where the procedure stands now, in the JSON a script would read (the same shell setup).
    let check_out = home.path().join("check");
    let mut check = shell(
        home.path(),
        &elsewhere,
        "eval \"$(c8dr-sim ctl env)\"\nkubectl-c8dr status -o json",
        &check_out,
    );
    let checked = check.wait().expect("wait for status");
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(check_out.with_extension("stdout")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("status -o json ({checked}): {e}\n{}", logs(&check_out)));
    let phase = doc["procedure"]["phase"].as_str().unwrap_or_default();
    assert!(
        phase == "healthy",
        "after the README's walk the installation is not healthy: phase {phase:?}\n{text}"
    );
    assert!(
        stdout.contains("region1 lost") && stdout.contains("region1 recreated"),
        "the walk did not lose and recreate region1 through `c8dr-sim ctl`\n{text}"
    );
    // The PATH the walk sets up holds the programs alone: `kubectl plugin list` finds the plugin
    // and warns about nothing (cargo's output directory holds `kubectl-c8dr.d`, which it would
    // report as a plugin that is not executable). A shell without the test's PATH additions.
    let plugins = Command::new("bash")
        .arg("-c")
        .arg("eval \"$(target/release/c8dr-sim ctl env)\" && kubectl plugin list")
        .current_dir(&elsewhere)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home.path())
        .output()
        .expect("kubectl plugin list");
    let listed = String::from_utf8_lossy(&plugins.stdout);
    let warned = String::from_utf8_lossy(&plugins.stderr);
    assert!(
        listed.contains("kubectl-c8dr") && !warned.contains("warning"),
        "kubectl plugin list with the walk's PATH:\n{listed}\n{warned}"
    );
    drop(server);
    let stopped = Instant::now();
    while record.exists() && stopped.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !record.exists(),
        "serve leaves its record behind after SIGTERM: {}",
        record.display()
    );
}

/// `c8dr-sim ctl` without a running simulator says how to point it at one.
#[test]
fn ctl_without_a_running_simulator_says_dir() {
    let home = tempfile::tempdir().expect("temp HOME");
    let out = home.path().join("ctl");
    let mut child = shell(home.path(), home.path(), "c8dr-sim ctl lose region1", &out);
    let status = child.wait().expect("wait");
    let text = logs(&out);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("--dir DIR"), "{text}");
}

/// Every relative link of the README and of docs/ names a file of the repository, and neither
/// points at anything outside it (a folder beside the checkout on the machine it was written on).
#[test]
fn the_readme_and_docs_link_only_to_files_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root");
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut bad: Vec<String> = vec![];
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let beside = format!("..{}shared", '/');
        if text.contains(&beside) {
            bad.push(format!(
                "{name}: refers to {beside} (outside the repository)"
            ));
        }
        if name == "README.md" && text.contains("../") {
            bad.push(format!(
                "{name}: refers to something outside the repository (`../`)"
            ));
        }
        for part in text.split("](").skip(1) {
            let target = part.split(')').next().unwrap_or_default();
            let target = target.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let base = file.parent().unwrap_or(&root);
            match base.join(target).canonicalize() {
                Ok(resolved) if resolved.starts_with(&root) => {}
                Ok(resolved) => bad.push(format!(
                    "{name}: {target} is outside the repository ({})",
                    resolved.display()
                )),
                Err(_) => bad.push(format!("{name}: {target} does not exist")),
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// A simulator that was killed (its record and control-url left behind) is reported as not
/// running, with the way out, instead of a bare connection error.
#[test]
fn ctl_with_a_stale_record_says_the_simulator_is_not_running() {
    let home = tempfile::tempdir().expect("temp HOME");
    let dir = home.path().join("old-sim");
    std::fs::create_dir_all(&dir).expect("mkdir");
    // A loopback port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    std::fs::write(
        dir.join("control-url"),
        format!("http://127.0.0.1:{port}\n"),
    )
    .expect("write");
    let record = home.path().join(".cache/c8dr-sim/current");
    std::fs::create_dir_all(record.parent().expect("parent")).expect("mkdir");
    std::fs::write(&record, format!("{}\n", dir.display())).expect("write");
    let out = home.path().join("ctl");
    let mut child = shell(
        home.path(),
        home.path(),
        "c8dr-sim ctl recreate region1",
        &out,
    );
    let status = child.wait().expect("wait");
    let text = logs(&out);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("not running"), "{text}");
    assert!(text.contains(&dir.display().to_string()), "{text}");
}
