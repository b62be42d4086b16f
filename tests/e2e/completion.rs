//! Shell completion end to end (issue 12 item 5): `kubectl c8dr …<TAB>` through the REAL
//! kubectl's plugin completion (`kubectl __complete c8dr WORDS…`, which runs
//! `kubectl_complete-c8dr` from PATH: the shim of `dist/`), and `kubectl-c8dr` typed directly
//! through bash with the script of `kubectl-c8dr completion bash`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use c8dr_e2e::{Run, TestEnv, bin_dir};

/// A directory holding the shipped shim, as a user puts it on PATH.
fn shim_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("shim dir");
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/kubectl_complete-c8dr");
    let target = dir.path().join("kubectl_complete-c8dr");
    std::fs::copy(&shim, &target).expect("copy the shim");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

fn path_with(dir: &Path) -> OsString {
    let system = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(
        [dir.to_path_buf(), bin_dir()]
            .into_iter()
            .chain(std::env::split_paths(&system)),
    )
    .expect("PATH")
}

/// `kubectl __complete c8dr WORDS…` with the shim on PATH, plus extra environment.
fn kubectl_complete(env: &TestEnv, words: &[&str], extra: &[(&str, &str)]) -> Run {
    let shim = shim_dir();
    let mut args: Vec<OsString> = vec!["__complete".into(), "c8dr".into()];
    args.extend(words.iter().map(OsString::from));
    let mut cmd = env
        .command("kubectl", args)
        .env("PATH", path_with(shim.path()));
    for (k, v) in extra {
        cmd = cmd.env(k, v);
    }
    cmd.run().success()
}

/// The candidates (descriptions cut off) and the directive line of cobra's format.
fn candidates(run: &Run) -> (Vec<String>, String) {
    let mut lines: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    let directive = lines.pop().unwrap_or_default();
    (lines, directive)
}

#[test]
fn kubectl_offers_a_flags_values_where_a_value_goes() {
    let env = TestEnv::start();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--region", ""],
            &["surviving", "recreated", "region0", "region1"],
        ),
        (&["-o", ""], &["text", "json", "yaml", "name", "jsonpath="]),
        (&["status", "--output", "y"], &["yaml"]),
        (&["status", "--output", "j"], &["json", "jsonpath="]),
        (&["failover", "--lost", ""], &["region0", "region1"]),
        (&["--color", ""], &["auto", "always", "never"]),
        (
            &["es", "copy", "--from", "re"],
            &["recreated", "region0", "region1"],
        ),
    ];
    for (words, expected) in cases {
        let run = kubectl_complete(&env, words, &[]);
        let (got, directive) = candidates(&run);
        assert_eq!(got, *expected, "{words:?}\n{}", run.context());
        assert_eq!(
            directive,
            ":4",
            "no file names for a value: {}",
            run.context()
        );
    }
}

#[test]
fn kubectl_offers_subcommands_only_where_a_subcommand_goes() {
    let env = TestEnv::start();
    let run = kubectl_complete(&env, &["brokers", ""], &[]);
    let (got, _) = candidates(&run);
    assert!(
        got.contains(&"remove".to_string()) && got.contains(&"add".to_string()),
        "{}",
        run.context()
    );
    for other in ["status", "failover", "--odd"] {
        assert!(
            !got.contains(&other.to_string()),
            "{other}: {}",
            run.context()
        );
    }
    // After a global flag and its value, the subcommands are offered again.
    let run = kubectl_complete(&env, &["--region", "region1", "exp"], &[]);
    assert_eq!(
        candidates(&run).0,
        ["exporters", "exporting"],
        "{}",
        run.context()
    );
    // Flags when a flag is being typed.
    let run = kubectl_complete(&env, &["brokers", "remove", "--o"], &[]);
    assert_eq!(
        candidates(&run).0,
        ["--odd", "--output"],
        "{}",
        run.context()
    );
}

const KUBECONFIG_A: &str = "apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: 'https://127.0.0.1:1'}
users:
- name: u
  user: {token: x}
contexts:
- name: eks-frankfurt
  context: {cluster: a, user: u, namespace: camunda-fra}
- name: eks-dublin
  context: {cluster: a, user: u, namespace: camunda-dub}
current-context: eks-frankfurt
";

const KUBECONFIG_B: &str = "apiVersion: v1
kind: Config
contexts:
- name: kind-local
  context: {cluster: a, user: u}
- name: eks-dublin
  context: {cluster: a, user: u, namespace: shadowed}
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write kubeconfig");
    p
}

#[test]
fn contexts_and_namespaces_come_from_the_kubeconfig_without_calling_a_cluster() {
    let env = TestEnv::start();
    let dir = tempfile::tempdir().expect("dir");
    let a = write(dir.path(), "a.yaml", KUBECONFIG_A);
    let b = write(dir.path(), "b.yaml", KUBECONFIG_B);
    let list = std::env::join_paths([&a, &b]).expect("list");
    let list = list.to_string_lossy().into_owned();
    let kubeconfig = [("KUBECONFIG", list.as_str())];

    let run = kubectl_complete(&env, &["status", "--context", ""], &kubeconfig);
    assert_eq!(
        candidates(&run).0,
        ["eks-frankfurt", "eks-dublin", "kind-local"],
        "every context of the KUBECONFIG list, the first file winning: {}",
        run.context()
    );
    let run = kubectl_complete(&env, &["-n", ""], &kubeconfig);
    assert_eq!(
        candidates(&run).0,
        ["camunda-fra", "camunda-dub"],
        "{}",
        run.context()
    );
    // --kubeconfig on the line wins over $KUBECONFIG, as when the command runs.
    let b_path = b.display().to_string();
    let run = kubectl_complete(
        &env,
        &["--kubeconfig", &b_path, "--context", "k"],
        &kubeconfig,
    );
    assert_eq!(candidates(&run).0, ["kind-local"], "{}", run.context());
    // The simulator's own kubeconfig (the test's KUBECONFIG): its contexts.
    let run = kubectl_complete(&env, &["--context", "c8dr"], &[]);
    assert_eq!(
        candidates(&run).0,
        ["c8dr-sim-region0", "c8dr-sim-region1"],
        "{}",
        run.context()
    );
    assert!(
        env.requests().is_empty(),
        "completion called a cluster: {:?}",
        env.requests()
    );
}

/// `kubectl-c8dr completion bash`, sourced, completing words below the first level (clap's
/// static script never matched them for a binary named `kubectl c8dr`).
#[test]
fn bash_completion_of_kubectl_c8dr_works_below_the_first_level() {
    let env = TestEnv::start();
    let script = r#"
source <(kubectl-c8dr completion bash) || exit 9
complete_words() {
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_TYPE=9
    _clap_complete_kubectl_c8dr kubectl-c8dr "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    echo "$(printf '%s ' "${COMPREPLY[@]}")|"
}
complete_words kubectl-c8dr brokers remove --region ""
complete_words kubectl-c8dr es sn
complete_words kubectl-c8dr es snapshot ""
complete_words kubectl-c8dr exporters disable -o y
"#;
    let run = env
        .command("bash", vec!["-c".into(), script.into()])
        .run()
        .success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.context());
    assert_eq!(
        lines[0],
        "surviving recreated region0 region1 |",
        "{}",
        run.context()
    );
    assert_eq!(lines[1], "snapshot |", "{}", run.context());
    // A new word below `es snapshot`: its subcommands (clap's engine adds the flags after them).
    assert!(
        lines[2].starts_with("create list show restore help ") && !lines[2].contains("copy"),
        "{}",
        run.context()
    );
    assert_eq!(lines[3], "yaml |", "{}", run.context());
}

/// The krew manifest's caveats say how to put the completion executable on PATH (krew links only
/// the plugin's binary): those very lines, run in a fresh KREW_ROOT, make kubectl complete.
#[test]
fn the_krew_caveats_instructions_make_kubectl_complete() {
    let env = TestEnv::start();
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/krew/c8dr.yaml"),
    )
    .expect("the krew manifest");
    let script: String = manifest
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("printf ") || l.starts_with("chmod "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(script.lines().count() == 2, "caveats: {manifest}");
    let root = tempfile::tempdir().expect("KREW_ROOT");
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let root_str = root.path().display().to_string();
    env.command("sh", vec!["-ec".into(), script.into()])
        .env("KREW_ROOT", &root_str)
        .run()
        .success();
    // krew's bin directory holds kubectl-c8dr as a link; the built binary stands in for it.
    std::os::unix::fs::symlink(bin_dir().join("kubectl-c8dr"), bin.join("kubectl-c8dr"))
        .expect("link the plugin");
    let system = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&system)))
            .expect("PATH");
    let run = env
        .command(
            "kubectl",
            vec![
                "__complete".into(),
                "c8dr".into(),
                "--region".into(),
                "".into(),
            ],
        )
        .env("PATH", path)
        .run()
        .success();
    assert_eq!(
        candidates(&run).0,
        ["surviving", "recreated", "region0", "region1"],
        "{}",
        run.context()
    );
}

/// Issue 22 item 7: exporter ids, snapshot names and change ids complete from the cluster the command would
/// talk to, through the real kubectl; a region that does not answer completes nothing, quickly.
#[test]
fn exporter_ids_snapshot_names_and_change_ids_complete_from_the_cluster() {
    let env = TestEnv::start();
    let run = kubectl_complete(&env, &["exporters", "disable", ""], &[]);
    assert_eq!(
        candidates(&run).0,
        ["camundaregion0", "camundaregion1"],
        "{}",
        run.context()
    );
    assert!(
        run.stdout.contains("camundaregion1\tENABLED"),
        "{}",
        run.context()
    );
    let run = kubectl_complete(
        &env,
        &[
            "exporters",
            "enable",
            "camundaregion1",
            "--initialize-from",
            "camundaregion0",
        ],
        &[],
    );
    assert_eq!(candidates(&run).0, ["camundaregion0"], "{}", run.context());
    env.c8dr("exporters disable camundaregion1 --yes").success();
    let run = kubectl_complete(&env, &["changes", "wait", ""], &[]);
    let (ids, _) = candidates(&run);
    assert_eq!(ids.len(), 1, "the last change: {}", run.context());
    assert!(
        run.stdout.contains("last change, COMPLETED"),
        "{}",
        run.context()
    );
    env.c8dr("es repo register --bucket camunda-bucket --yes")
        .success();
    env.c8dr("es snapshot create c8dr-first --yes").success();
    let run = kubectl_complete(&env, &["es", "snapshot", "restore", ""], &[]);
    assert_eq!(candidates(&run).0, ["c8dr-first"], "{}", run.context());
    env.lose_region(0);
    let started = std::time::Instant::now();
    let run = kubectl_complete(&env, &["exporters", "disable", ""], &[]);
    assert!(candidates(&run).0.is_empty(), "{}", run.context());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a lost region must not hang a TAB: {:?}",
        started.elapsed()
    );
}
