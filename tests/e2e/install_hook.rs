//! The helm plugin's install hook (`scripts/install-binary.sh`, run by `helm plugin install` as
//! `sh -c HOOK` with HELM_PLUGIN_DIR set): it reuses an installed helm-c8dr, else downloads the
//! release archive of this machine and checks it against the release's SHA256SUMS, builds with
//! cargo only in a source checkout without a release to download from, and fails loudly when it
//! cannot produce a binary. Each case runs the real script in a fresh plugin directory with a PATH
//! of fakes and the few system tools it needs; a release is a directory reached through curl's
//! `file://` (the real-stack tier serves a real one over HTTP to the real Helm binaries).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A plugin directory as `helm plugin install` leaves it, a fake-tools directory, and a HOME.
struct Hook {
    dir: tempfile::TempDir,
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn context(&self) -> String {
        format!(
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn write_exe(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

impl Hook {
    fn new() -> Self {
        let hook = Self {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let plugin = hook.plugin();
        std::fs::create_dir_all(plugin.join("scripts")).expect("mkdir");
        std::fs::copy(
            repo().join("scripts/install-binary.sh"),
            plugin.join("scripts/install-binary.sh"),
        )
        .expect("copy the hook");
        std::fs::copy(repo().join("plugin.yaml"), plugin.join("plugin.yaml")).expect("copy");
        // The system tools the script may use, and nothing else of the runner's PATH (no real
        // cargo, no installed helm-c8dr).
        let tools = hook.dir.path().join("tools");
        std::fs::create_dir_all(&tools).expect("mkdir");
        for tool in [
            "sh",
            "mkdir",
            "cp",
            "ln",
            "chmod",
            "dirname",
            "rm",
            "cat",
            "touch",
            "uname",
            "sed",
            "awk",
            "head",
            "tail",
            "mktemp",
            "tar",
            "gzip",
            "sha256sum",
            "curl",
        ] {
            let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join(tool))
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("{tool} not found on PATH"));
            std::os::unix::fs::symlink(found, tools.join(tool)).expect("symlink");
        }
        hook
    }
    fn plugin(&self) -> PathBuf {
        self.dir.path().join("plugins/c8dr")
    }
    fn fakes(&self) -> PathBuf {
        self.dir.path().join("fakes")
    }
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    fn bin(&self) -> PathBuf {
        self.plugin().join("bin/helm-c8dr")
    }
    /// A `helm-c8dr` that answers `--version` as the real one does.
    fn installed_helm_c8dr(&self, at: &Path) {
        write_exe(
            at,
            "#!/bin/sh\n[ \"$1\" = --version ] && echo 'helm-c8dr 0.1.0' && exit 0\necho installed-helm-c8dr \"$@\"\n",
        );
    }
    /// A `cargo` that records its call and, if `produce`, leaves a binary where cargo would.
    fn cargo(&self, produce: bool) {
        let make = if produce {
            "mkdir -p target/release && printf '#!/bin/sh\\necho built\\n' > target/release/helm-c8dr && chmod 755 target/release/helm-c8dr\n"
        } else {
            ""
        };
        let calls = self.dir.path().join("cargo-calls");
        write_exe(
            &self.fakes().join("cargo"),
            &format!("#!/bin/sh\necho \"$@\" >> {}\n{make}", calls.display()),
        );
    }
    fn cargo_called(&self) -> bool {
        self.dir.path().join("cargo-calls").exists()
    }
    /// A release in `release/`: the archive `c8dr-<plugin.yaml's version>-<target>.tar.gz`
    /// holding a `helm-c8dr` that prints `says`, and a SHA256SUMS with its real digest (or, with
    /// `corrupt`, the digest of other bytes).
    fn release(&self, target: &str, says: &str, corrupt: bool) -> PathBuf {
        let release = self.dir.path().join("release");
        let stage = self.dir.path().join("stage");
        installed_helm_c8dr_saying(&stage.join("helm-c8dr"), says);
        let archive = format!("c8dr-{}-{target}.tar.gz", plugin_version());
        std::fs::create_dir_all(&release).expect("mkdir");
        let tar = Command::new("tar")
            .arg("-czf")
            .arg(release.join(&archive))
            .arg("-C")
            .arg(&stage)
            .arg("helm-c8dr")
            .status()
            .expect("tar");
        assert!(tar.success());
        let mut bytes = std::fs::read(release.join(&archive)).expect("read");
        if corrupt {
            bytes.push(0);
        }
        let sum = Command::new("sha256sum")
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write as _;
                c.stdin.take().expect("stdin").write_all(&bytes)?;
                c.wait_with_output()
            })
            .expect("sha256sum");
        let digest = String::from_utf8_lossy(&sum.stdout)
            .split_whitespace()
            .next()
            .expect("a digest")
            .to_string();
        std::fs::write(
            release.join("SHA256SUMS"),
            format!(
                "{}  helm-c8dr-plugin-x.tgz\n{digest}  {archive}\n",
                "0".repeat(64)
            ),
        )
        .expect("SHA256SUMS");
        release
    }
    /// `uname` answering as another machine.
    fn machine(&self, s: &str, m: &str) {
        write_exe(
            &self.fakes().join("uname"),
            &format!("#!/bin/sh\ncase \"$1\" in -s) echo {s} ;; -m) echo {m} ;; esac\n"),
        );
    }
    fn run(&self, args: &[&str]) -> Outcome {
        self.run_with(args, &[])
    }
    fn run_with(&self, args: &[&str], env: &[(&str, String)]) -> Outcome {
        std::fs::create_dir_all(self.home()).expect("mkdir");
        std::fs::create_dir_all(self.fakes()).expect("mkdir");
        let path =
            std::env::join_paths([self.fakes(), self.dir.path().join("tools")]).expect("PATH");
        // As helm runs a hook: `sh -c HOOK` with HELM_PLUGIN_DIR set.
        let out = Command::new(self.dir.path().join("tools/sh"))
            .arg("-c")
            .arg(format!(
                "\"$HELM_PLUGIN_DIR/scripts/install-binary.sh\" {}",
                args.join(" ")
            ))
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.home())
            .env("HELM_PLUGIN_DIR", self.plugin())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run the hook");
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// plugin.yaml's version, which names the archive the hook downloads.
fn plugin_version() -> String {
    let yaml = std::fs::read_to_string(repo().join("plugin.yaml")).expect("plugin.yaml");
    yaml.lines()
        .find_map(|l| l.strip_prefix("version:"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("a version in plugin.yaml")
}

/// A `helm-c8dr` that answers `--version` and prints `says` otherwise.
fn installed_helm_c8dr_saying(at: &Path, says: &str) {
    write_exe(
        at,
        &format!(
            "#!/bin/sh\n[ \"$1\" = --version ] && echo 'helm c8dr 0.1.0 (commit x)' && exit 0\necho {says}\n"
        ),
    );
}

fn file_url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

/// The binary a `helm c8dr` would run, run: its output.
fn runs(bin: &Path) -> String {
    let out = Command::new(bin)
        .arg("x")
        .output()
        .expect("run bin/helm-c8dr");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_install_hook_reuses_a_helm_c8dr_on_path_instead_of_building() {
    let hook = Hook::new();
    hook.installed_helm_c8dr(&hook.fakes().join("helm-c8dr"));
    hook.cargo(true);
    std::fs::write(hook.plugin().join("Cargo.toml"), "").expect("a checkout");
    let out = hook.run(&[]);
    assert_eq!(out.code, Some(0), "{}", out.context());
    assert!(
        !hook.cargo_called(),
        "cargo ran although helm-c8dr was installed\n{}",
        out.context()
    );
    assert!(
        runs(&hook.bin()).contains("installed-helm-c8dr"),
        "bin/helm-c8dr is not the installed one\n{}",
        out.context()
    );
    assert!(
        out.stdout.contains("using the installed"),
        "{}",
        out.context()
    );
}

#[test]
fn the_install_hook_reuses_the_helm_c8dr_of_the_krew_archive() {
    let hook = Hook::new();
    hook.installed_helm_c8dr(&hook.home().join(".krew/store/c8dr/v0.1.0/helm-c8dr"));
    hook.cargo(true);
    std::fs::write(hook.plugin().join("Cargo.toml"), "").expect("a checkout");
    let out = hook.run(&[]);
    assert_eq!(out.code, Some(0), "{}", out.context());
    assert!(
        !hook.cargo_called(),
        "cargo ran although krew shipped helm-c8dr\n{}",
        out.context()
    );
    assert!(
        runs(&hook.bin()).contains("installed-helm-c8dr"),
        "{}",
        out.context()
    );
}

#[test]
fn the_install_hook_builds_with_cargo_when_none_is_installed() {
    let hook = Hook::new();
    hook.cargo(true);
    std::fs::write(hook.plugin().join("Cargo.toml"), "").expect("a checkout");
    let out = hook.run(&[]);
    assert_eq!(out.code, Some(0), "{}", out.context());
    assert!(hook.cargo_called(), "{}", out.context());
    assert!(runs(&hook.bin()).contains("built"), "{}", out.context());
}

#[test]
fn the_install_hook_keeps_a_binary_already_in_the_plugin_dir() {
    // What tests/real-stack/run relies on: it puts the helm-c8dr it built into bin/ first.
    let hook = Hook::new();
    hook.installed_helm_c8dr(&hook.bin());
    hook.cargo(true);
    let out = hook.run(&[]);
    assert_eq!(out.code, Some(0), "{}", out.context());
    assert!(
        out.stdout.contains("is already installed"),
        "{}",
        out.context()
    );
    assert!(!hook.cargo_called(), "{}", out.context());
}

#[test]
fn the_install_hook_fails_loudly_without_cargo_or_an_installed_binary() {
    let hook = Hook::new();
    let out = hook.run(&[]);
    assert_eq!(
        out.code,
        Some(1),
        "a plugin install without a binary must fail\n{}",
        out.context()
    );
    assert!(!hook.bin().exists(), "{}", out.context());
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line expected\n{}", out.context());
    assert!(
        lines[0].contains("cargo install --locked --path helm-c8dr"),
        "{}",
        out.context()
    );
}

#[test]
fn the_install_hook_fails_loudly_when_cargo_produces_no_binary() {
    let hook = Hook::new();
    hook.cargo(false);
    std::fs::write(hook.plugin().join("Cargo.toml"), "").expect("a checkout");
    let out = hook.run(&[]);
    assert_eq!(out.code, Some(1), "{}", out.context());
    assert!(!hook.bin().exists(), "{}", out.context());
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("helm-c8dr: install failed:")),
        "{}",
        out.context()
    );
}

#[test]
fn the_install_hook_downloads_the_release_archive_of_this_machine_and_verifies_it() {
    let hook = Hook::new();
    hook.cargo(true);
    std::fs::write(hook.plugin().join("Cargo.toml"), "").expect("a checkout");
    let release = hook.release("x86_64-unknown-linux-musl", "released-helm-c8dr", false);
    hook.machine("Linux", "x86_64");
    // The release location as the release's plugin archive carries it.
    std::fs::write(
        hook.plugin().join("release-url"),
        file_url(&release) + "/\n",
    )
    .expect("url");
    let out = hook.run(&[]);
    assert_eq!(out.code, Some(0), "{}", out.context());
    assert!(
        !hook.cargo_called(),
        "cargo ran although a release was there\n{}",
        out.context()
    );
    assert!(
        runs(&hook.bin()).contains("released-helm-c8dr"),
        "{}",
        out.context()
    );
    assert!(out.stdout.contains("sha256 verified"), "{}", out.context());
}

#[test]
fn the_install_hook_picks_the_archive_by_uname_and_the_env_var_overrides_the_location() {
    let hook = Hook::new();
    let release = hook.release("aarch64-unknown-linux-musl", "arm-helm-c8dr", false);
    hook.machine("Linux", "aarch64");
    std::fs::write(hook.plugin().join("release-url"), "file:///nonexistent\n").expect("url");
    let out = hook.run_with(&[], &[("C8DR_RELEASE_URL", file_url(&release))]);
    assert_eq!(out.code, Some(0), "{}", out.context());
    assert!(
        runs(&hook.bin()).contains("arm-helm-c8dr"),
        "{}",
        out.context()
    );

    // A machine releases are not built for: one line, no half-installed binary.
    let hook = Hook::new();
    hook.machine("Darwin", "arm64");
    let out = hook.run_with(&[], &[("C8DR_RELEASE_URL", file_url(&release))]);
    assert_eq!(out.code, Some(1), "{}", out.context());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.context());
    assert!(
        out.stderr.contains("no archive for Darwin arm64"),
        "{}",
        out.context()
    );
    assert!(!hook.bin().exists());
}

#[test]
fn the_install_hook_refuses_an_archive_that_does_not_match_sha256sums() {
    let hook = Hook::new();
    hook.cargo(true);
    std::fs::write(hook.plugin().join("Cargo.toml"), "").expect("a checkout");
    let release = hook.release("x86_64-unknown-linux-musl", "tampered-helm-c8dr", true);
    hook.machine("Linux", "x86_64");
    let out = hook.run_with(&[], &[("C8DR_RELEASE_URL", file_url(&release))]);
    assert_eq!(out.code, Some(1), "{}", out.context());
    assert!(!hook.bin().exists(), "{}", out.context());
    assert!(
        !hook.cargo_called(),
        "a bad download must not fall back to building\n{}",
        out.context()
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line expected\n{}", out.context());
    assert!(
        lines[0].starts_with("helm-c8dr: install failed: ")
            && lines[0].contains("does not match its SHA256SUMS entry"),
        "{}",
        out.context()
    );

    // A release without the archive of this machine: the URL that failed, in one line.
    let hook = Hook::new();
    hook.machine("Linux", "aarch64");
    let out = hook.run_with(&[], &[("C8DR_RELEASE_URL", file_url(&release))]);
    assert_eq!(out.code, Some(1), "{}", out.context());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.context());
    assert!(
        out.stderr.contains("downloading file://")
            && out
                .stderr
                .contains("aarch64-unknown-linux-musl.tar.gz failed"),
        "{}",
        out.context()
    );
}
