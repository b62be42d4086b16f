//! Commands run through exec in a simulated pod (OWNED BY THE KUBE API WORK: issue 3).

use crate::world::{RegionId, SharedWorld};

/// What a command run in a pod produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

impl ExecOutcome {
    pub fn success(stdout: impl Into<Vec<u8>>) -> Self {
        Self {
            stdout: stdout.into(),
            stderr: vec![],
            exit_code: 0,
        }
    }
    pub fn failure(exit_code: i32, stderr: impl Into<Vec<u8>>) -> Self {
        Self {
            stdout: vec![],
            stderr: stderr.into(),
            exit_code,
        }
    }
}

/// Run `argv` in `container` of `pod` in `region`.
///
/// Besides `curl` in the Elasticsearch container, a few generic commands exist in every
/// container, enough to exercise the exec protocol: `echo`, `cat` (echoes stdin), `true`,
/// `false`, `env`, and `sh -c 'exit N'` (only that literal form).
pub fn run(
    world: &SharedWorld,
    region: RegionId,
    pod: &str,
    container: &str,
    argv: &[String],
    stdin: &[u8],
) -> ExecOutcome {
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    match (container, args.as_slice()) {
        ("elasticsearch", ["curl", ..]) => crate::es::curl::run(world, region, argv, stdin),
        (_, ["echo", rest @ ..]) => ExecOutcome::success(format!("{}\n", rest.join(" "))),
        (_, ["cat"]) => ExecOutcome::success(stdin),
        (_, ["true"]) => ExecOutcome::success(""),
        (_, ["false"]) => ExecOutcome::failure(1, ""),
        (_, ["env"]) => ExecOutcome::success(env(world, region, pod, container)),
        (_, ["sh" | "bash", "-c", script]) => match shell_exit(script) {
            Some(code) => ExecOutcome {
                stdout: vec![],
                stderr: vec![],
                exit_code: code,
            },
            None => ExecOutcome::failure(2, format!("sh: simulated shell cannot run: {script}\n")),
        },
        (_, [cmd, ..]) => ExecOutcome::failure(127, format!("{cmd}: command not found\n")),
        (_, []) => ExecOutcome::failure(1, "no command given\n"),
    }
}

/// `exit N` (the one script form the simulated shell understands).
fn shell_exit(script: &str) -> Option<i32> {
    let code = script.trim().strip_prefix("exit")?.trim();
    if code.is_empty() {
        return Some(0);
    }
    code.parse::<u8>().ok().map(i32::from)
}

/// The environment of a container, as `env` prints it.
fn env(world: &SharedWorld, region: RegionId, pod: &str, container: &str) -> String {
    let w = world.lock();
    let r = &w.regions[region];
    let mut vars = vec![
        format!("HOSTNAME={pod}"),
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
    ];
    if container == "orchestration" {
        let ordinal: u32 = pod
            .rsplit('-')
            .next()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        vars.push(format!("K8S_NAME={pod}"));
        vars.push(format!("K8S_NAMESPACE={}", r.namespace));
        vars.push(format!(
            "VALUES_ORCHESTRATION_NODE_ID={}",
            ordinal * 2 + region as u32
        ));
        if r.schema_manager_disabled {
            vars.push("CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false".to_string());
        }
    } else if container == "elasticsearch" {
        vars.push("ELASTICSEARCH_ENABLE_REST_TLS=false".to_string());
    }
    vars.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{SimConfig, World};

    fn run_args(args: &[&str], stdin: &[u8]) -> ExecOutcome {
        let world = SharedWorld::new(World::healthy(SimConfig::default()));
        let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        run(&world, 1, "camunda-zeebe-0", "orchestration", &argv, stdin)
    }

    #[test]
    fn generic_commands() {
        assert_eq!(run_args(&["echo", "a", "b"], b"").stdout, b"a b\n");
        assert_eq!(run_args(&["cat"], b"in").stdout, b"in");
        assert_eq!(run_args(&["false"], b"").exit_code, 1);
        assert_eq!(run_args(&["sh", "-c", "exit 7"], b"").exit_code, 7);
        assert_eq!(run_args(&["sh", "-c", "ls"], b"").exit_code, 2);
        assert_eq!(run_args(&["nope"], b"").exit_code, 127);
        let env = String::from_utf8(run_args(&["env"], b"").stdout).expect("utf8");
        assert!(env.contains("VALUES_ORCHESTRATION_NODE_ID=1"), "{env}");
    }
}
