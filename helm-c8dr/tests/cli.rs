//! The command line on its own, before anything is planned.

use assert_cmd::Command;

#[test]
fn version_prints_the_plugins_version_and_commit_like_kubectl_c8dr() {
    let out = Command::cargo_bin("helm-c8dr")
        .expect("helm-c8dr is built")
        .env_clear()
        .arg("--version")
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "helm c8dr {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            env!("C8DR_GIT_COMMIT")
        )
    );
}

/// `helm-c8dr man DIR` (hidden; the README's Install section): a page for the plugin and one per
/// subcommand, none for the hidden `man` itself.
#[test]
fn man_pages_are_written_per_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("helm-c8dr")
        .expect("helm-c8dr is built")
        .env_clear()
        .arg("man")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for page in ["helm-c8dr.1", "helm-c8dr-redeploy.1", "helm-c8dr-overlay.1"] {
        assert!(dir.path().join(page).exists(), "{page} missing");
    }
    assert!(!dir.path().join("helm-c8dr-man.1").exists());
}

fn helm_c8dr(args: &[&str]) -> String {
    let out = Command::cargo_bin("helm-c8dr")
        .expect("helm-c8dr is built")
        .env_clear()
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Helm completes `helm c8dr <TAB>` from the plugin directory's completion.yaml: the file in
/// the repository (the plugin directory `helm plugin install` uses) is exactly what the CLI
/// definition generates, so a new flag or command cannot be missing from it.
#[test]
fn the_completion_yaml_of_the_plugin_is_generated_from_the_cli() {
    let generated = helm_c8dr(&["completion-yaml"]);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../completion.yaml");
    let shipped = std::fs::read_to_string(&path).expect("completion.yaml in the repository");
    assert!(
        shipped == generated,
        "completion.yaml is stale: run `cargo run -p helm-c8dr -- completion-yaml > completion.yaml`"
    );
}

/// The fields Helm reads (helm/helm `cmd/helm/load_plugins.go` `pluginCommand`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginCommand {
    name: String,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    valid_args: Vec<String>,
    #[serde(default)]
    commands: Vec<PluginCommand>,
}

#[test]
fn the_completion_yaml_names_every_command_and_flag_as_helm_pairs_them() {
    let text = helm_c8dr(&["completion-yaml"]);
    // Helm reads it as YAML 1.1, where an unquoted y or yes is `true` (and Helm panics on the
    // flag defined twice): every name is a quoted string.
    for line in text.lines().filter(|l| l.trim_start().starts_with("- \"")) {
        assert!(line.trim_end().ends_with('"'), "{line}");
    }
    assert!(
        !text
            .lines()
            .any(|l| l.trim() == "- y" || l.trim() == "- yes")
    );
    let root: PluginCommand = serde_saphyr::from_str(&text).expect("YAML");
    assert_eq!(root.name, "c8dr");
    let names: Vec<&str> = root.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["redeploy", "overlay", "version", "completion"],
        "man, completion-yaml hidden"
    );
    let redeploy = &root.commands[0];
    for flag in [
        "region",
        "no-webapps",
        "no-schema-manager",
        "dry-run",
        "version",
        "wait",
    ] {
        assert!(
            redeploy.flags.iter().any(|f| f == flag),
            "--{flag}: {:?}",
            redeploy.flags
        );
    }
    // Helm pairs the i-th one-letter flag with the i-th long one.
    let longs: Vec<&String> = redeploy.flags.iter().filter(|f| f.len() > 1).collect();
    let shorts: Vec<&String> = redeploy.flags.iter().filter(|f| f.len() == 1).collect();
    let pairs: Vec<(&str, &str)> = longs
        .iter()
        .zip(&shorts)
        .map(|(l, s)| (l.as_str(), s.as_str()))
        .collect();
    for pair in [("values", "f"), ("yes", "y"), ("output", "o")] {
        assert!(pairs.contains(&pair), "{pair:?} in {pairs:?}");
    }
    assert_eq!(pairs.len(), shorts.len());
    let completion = &root.commands[3];
    assert!(completion.valid_args.iter().any(|a| a == "bash"));
}

/// `helm-c8dr completion bash` registers the binary's own name and calls it back; the callback
/// answers from the command tree (clap_complete's static script never matched a subcommand of a
/// binary whose name holds a `-`).
#[test]
fn the_bash_completion_of_the_binary_completes_its_commands_and_flags() {
    let script = helm_c8dr(&["completion", "bash"]);
    assert!(script.contains("HELM_C8DR_COMPLETE"), "{script}");
    assert!(
        script.contains(" helm-c8dr"),
        "registered for the binary's name: {script}"
    );
    let ask = |words: &[&str]| {
        let out = Command::cargo_bin("helm-c8dr")
            .expect("helm-c8dr is built")
            .env_clear()
            .env("HELM_C8DR_COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
            .env("_CLAP_COMPLETE_COMP_TYPE", "9")
            .env("_CLAP_COMPLETE_SPACE", "true")
            .env("_CLAP_IFS", "\n")
            .arg("--")
            .args(words)
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).replace('\u{b}', "\n")
    };
    let commands = ask(&["helm-c8dr", ""]);
    for c in ["redeploy", "overlay", "version", "completion"] {
        assert!(commands.lines().any(|l| l == c), "{c}: {commands}");
    }
    let flags = ask(&["helm-c8dr", "redeploy", "--no-"]);
    for f in ["--no-webapps", "--no-schema-manager"] {
        assert!(flags.lines().any(|l| l == f), "{f}: {flags}");
    }
}
