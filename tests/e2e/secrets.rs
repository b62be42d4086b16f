//! The security pass (issue 13 item 3, docs/security.md): every secret c8dr handles gets a
//! unique canary value, the commands that touch it run at every verbosity and output format,
//! and the canary must never appear in stdout, stderr, the argv of any process on this machine
//! while c8dr runs (sampled from /proc), the URL of any request the simulated clusters receive
//! (the exec subresource's query carries the argv of the curl c8dr starts in a pod), the argv
//! helm is given (recorded by the helm stand-in), or any file left behind in HOME, the working
//! directory or TMPDIR.
//!
//! Rerun with `cargo test -p c8dr-e2e --test e2e secrets`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use c8dr_e2e::{Run, TestEnv, TestEnvBuilder};

/// Elasticsearch's password: in the chart's Secret (`<release>-elasticsearch`) and given with
/// `--es-password-env`.
const ES_PASSWORD: &str = "cnry-es-pw-6Qd2x";
/// `CAMUNDA_CLIENT_AUTH_PASSWORD`, and the OIDC client secret (the simulator's token endpoint
/// accepts the REST credentials as client id and secret).
const REST_PASSWORD: &str = "cnry-rest-pw-Vx91k";
/// A wrong password / client secret: it reaches error paths.
const WRONG_SECRET: &str = "cnry-wrong-Kp33m";
/// A password in a values file given to `helm c8dr` (an `orchestration.env` entry and the
/// chart's Elasticsearch auth).
const VALUES_SECRET: &str = "cnry-values-pw-Zz08q";
/// The access token the simulator's OIDC token endpoint hands out.
const TOKEN: &str = c8dr_sim::zeebe::http::SIM_ACCESS_TOKEN;

/// A password the user writes into a URL on the command line (`http://user:pw@host`): it is in
/// the argv of the command the user runs, so the argv sampler does not look for it; everywhere
/// else it must not appear.
const URL_SECRET: &str = "cnry-url-pw-Hh47t";

/// What no process c8dr starts may have in its argv.
const CANARIES: [&str; 5] = [
    ES_PASSWORD,
    REST_PASSWORD,
    WRONG_SECRET,
    VALUES_SECRET,
    TOKEN,
];

/// What no output, request URL or file left behind may hold.
const ALL: [&str; 6] = [
    ES_PASSWORD,
    REST_PASSWORD,
    WRONG_SECRET,
    VALUES_SECRET,
    TOKEN,
    URL_SECRET,
];

/// A [`TestEnv`] whose every secret is a canary, with its own TMPDIR, a helm record directory
/// outside the scanned directories, and a sampler of every process's argv.
struct Pass {
    env: TestEnv,
    tmp: PathBuf,
    records: tempfile::TempDir,
    /// Files present before the pass (user inputs): path -> content.
    before: BTreeMap<PathBuf, Vec<u8>>,
    sampler: Option<Sampler>,
    commands: usize,
}

fn secured(builder: TestEnvBuilder) -> TestEnvBuilder {
    builder.config(|c| {
        c.es_security = true;
        c.es_password = ES_PASSWORD.into();
        c.rest_password = REST_PASSWORD.into();
    })
}

impl Pass {
    fn start(builder: TestEnvBuilder) -> Self {
        let mut env = secured(builder).start().scripted();
        let tmp = env.home.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("TMPDIR");
        env.set_env("TMPDIR", tmp.display().to_string());
        let records = tempfile::tempdir().expect("helm record dir");
        env.set_env("C8DR_SIM_HELM_RECORD", records.path().display().to_string());
        Self {
            env,
            tmp,
            records,
            before: BTreeMap::new(),
            sampler: Some(Sampler::start(&CANARIES)),
            commands: 0,
        }
    }

    /// Remember the files present now (the user's own inputs, which may hold secrets).
    fn inputs_written(&mut self) {
        self.before = files(self.env.home.path());
    }

    /// Check one finished run's output.
    fn clean(&mut self, run: Run) -> Run {
        self.commands += 1;
        assert!(!run.killed, "{}", run.context());
        for canary in ALL {
            assert!(
                !run.stdout.contains(canary) && !run.stderr.contains(canary),
                "secret {canary} printed by `{}`",
                run.context()
            );
        }
        run
    }

    /// `kubectl c8dr` with the words of `line`, checked.
    fn c8dr(&mut self, line: &str) -> Run {
        let run = self.env.c8dr(line);
        self.clean(run)
    }

    /// `kubectl c8dr` with the words of `line` straight to region `r`'s gateway, checked.
    fn direct(&mut self, r: usize, line: &str) -> Run {
        let run = self.env.c8dr_direct(r, line);
        self.clean(run)
    }

    /// `kubectl c8dr` with extra environment, checked.
    fn c8dr_with(&mut self, line: &str, env: &[(&str, &str)]) -> Run {
        let mut args: Vec<std::ffi::OsString> = vec!["c8dr".into()];
        args.extend(c8dr_e2e::words(line).into_iter().map(Into::into));
        let mut cmd = self.env.command("kubectl", args);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let run = cmd.run();
        self.clean(run)
    }

    /// `helm c8dr` with the words of `line`, checked.
    fn helm(&mut self, line: &str) -> Run {
        let run = self.env.helm(line);
        self.clean(run)
    }

    /// The journal of the pass's mutations (docs/output.md "The journal") holds each of
    /// `expected` — so that the scan of it for secrets is not of an empty file — and no canary,
    /// no header, no values document; `history` prints it, checked like every output.
    fn journal_holds(&mut self, expected: &[&str]) {
        let path = self.env.home.path().join(".local/state/c8dr/journal.jsonl");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the journal {}: {e}", path.display()));
        for e in expected {
            assert!(text.contains(e), "the journal lacks {e}: {text}");
        }
        for needle in ALL
            .iter()
            .chain(&["Authorization", "Bearer", "orchestration:", "password"])
        {
            assert!(!text.contains(needle), "{needle} in the journal: {text}");
        }
        for out in ["", "-o json", "-o yaml"] {
            self.c8dr(&format!("history {out}")).success();
        }
    }

    /// The checks that need the whole pass: argv samples, helm's recorded argv, the request
    /// log, files left behind.
    fn finish(mut self) {
        let sampler = self.sampler.take().expect("sampler");
        let (hits, samples) = sampler.stop();
        assert!(
            hits.is_empty(),
            "a process had a secret in its argv: {hits:#?}"
        );
        assert!(samples > 0, "the argv sampler never ran");
        // The argv of every helm call, as the helm stand-in recorded it.
        let calls = self.env.helm_calls();
        for argv in &calls {
            let line = argv.join(" ");
            for canary in ALL {
                assert!(!line.contains(canary), "helm was given {canary}: {line}");
            }
        }
        // Every URL the clusters received: kube API incl. the exec query (the argv of the curl
        // c8dr runs in the Elasticsearch pod), gateways, REST, Elasticsearch.
        let requests = self.env.requests();
        assert!(!requests.is_empty(), "the pass reached the clusters");
        for r in &requests {
            for canary in ALL {
                assert!(
                    !r.target.contains(canary),
                    "{canary} in a request URL: {} {} ({})",
                    r.method,
                    r.target,
                    r.listener
                );
            }
        }
        // Files left behind in HOME (= the working directory) and TMPDIR, the simulator's own
        // directory excepted; the user's own input files excepted when unchanged.
        let sim_dir = self.env.home.path().join("sim");
        let after = files(self.env.home.path());
        let mut checked = 0;
        for (path, content) in &after {
            if path.starts_with(&sim_dir) || self.before.get(path) == Some(content) {
                continue;
            }
            checked += 1;
            let text = String::from_utf8_lossy(content);
            for canary in ALL {
                assert!(
                    !text.contains(canary),
                    "{canary} left on disk in {}",
                    path.display()
                );
            }
        }
        assert!(self.tmp.starts_with(self.env.home.path()));
        drop(self.records);
        eprintln!(
            "secrets pass: {} commands, {} argv samples, {} helm calls, {} requests, {} new or changed files: no canary",
            self.commands,
            samples,
            calls.len(),
            requests.len(),
            checked
        );
    }
}

/// Every regular file under `dir`, with its content.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file()
                && let Ok(bytes) = std::fs::read(e.path())
            {
                out.insert(e.path(), bytes);
            }
        }
    }
    out
}

/// Samples `/proc/*/cmdline` of every process on the machine while the pass runs: anything
/// c8dr starts (helm, a shell, curl, kubectl) would be seen with its argv.
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<(Vec<String>, usize)>,
}

impl Sampler {
    fn start(needles: &'static [&'static str]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (ready_tx, ready_rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let hits = Mutex::new(Vec::new());
            let mut samples = 0;
            let mut ready = Some(ready_tx);
            while !flag.load(Ordering::Relaxed) {
                for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let Ok(bytes) = std::fs::read(e.path().join("cmdline")) else {
                        continue;
                    };
                    let argv = String::from_utf8_lossy(&bytes).replace('\0', " ");
                    if needles.iter().any(|c| argv.contains(c))
                        && let Ok(mut h) = hits.lock()
                    {
                        h.push(argv);
                    }
                }
                samples += 1;
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
                std::thread::sleep(Duration::from_millis(15));
            }
            (hits.into_inner().unwrap_or_default(), samples)
        });
        let _ = ready_rx.recv_timeout(Duration::from_secs(10));
        Self { stop, handle }
    }

    fn stop(self) -> (Vec<String>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

/// The sampler sees a process's argv: the check above can fail.
#[cfg(target_os = "linux")]
#[test]
fn secrets_the_argv_sampler_sees_a_canary_in_a_process_argv() {
    use std::os::unix::process::CommandExt;
    const SELF_TEST: &str = "cnry-sampler-self-test-3Jw5";
    let sampler = Sampler::start(&[SELF_TEST]);
    let mut child = std::process::Command::new("sleep")
        .arg0(format!("sleep-{SELF_TEST}"))
        .arg("1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sleep");
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    let (hits, _) = sampler.stop();
    assert!(
        hits.iter().any(|h| h.contains(SELF_TEST)),
        "sampler missed a canary in argv: {hits:?}"
    );
}

/// Zeebe's REST credentials (basic and OIDC client secret) and the OIDC token.
#[test]
fn secrets_rest_credentials_and_the_oidc_token_never_leak() {
    let mut p = Pass::start(TestEnv::builder());
    p.inputs_written();
    for out in ["", "-o json", "-o yaml", "-v", "-v -o json"] {
        p.c8dr(&format!("status {out}")).success();
        p.direct(0, &format!("topology {out}")).success();
        p.direct(0, &format!("exporters list {out}")).success();
    }
    p.c8dr("topology -v").success();
    // OIDC: the client secret goes to the token endpoint, the token to the REST API.
    let token_url = format!("{}/oauth/token", p.env.rest_url(0));
    p.env.set_env("CAMUNDA_CLIENT_AUTH_METHOD", "oidc");
    p.env.set_env("CAMUNDA_CLIENT_AUTH_CLIENT_ID", "demo");
    p.env
        .set_env("CAMUNDA_CLIENT_AUTH_CLIENT_SECRET", REST_PASSWORD);
    p.env.set_env("CAMUNDA_CLIENT_AUTH_TOKEN_URL", &token_url);
    for out in ["-o json", "-o yaml", "-v"] {
        p.direct(0, &format!("topology {out}")).success();
        p.c8dr(&format!("status {out}")).success();
    }
    // Wrong secrets reach the error paths (401 from the token endpoint, from the REST API).
    p.env
        .set_env("CAMUNDA_CLIENT_AUTH_CLIENT_SECRET", WRONG_SECRET);
    let run = p.direct(0, "topology -v");
    assert_ne!(run.code, 0, "{}", run.context());
    p.env.set_env("CAMUNDA_CLIENT_AUTH_METHOD", "basic");
    p.env.set_env("CAMUNDA_CLIENT_AUTH_PASSWORD", WRONG_SECRET);
    let run = p.direct(0, "topology -v -o json");
    assert_ne!(run.code, 0, "{}", run.context());
    p.env.set_env("CAMUNDA_CLIENT_AUTH_PASSWORD", REST_PASSWORD);
    // A password written into a gateway URL: unparsable, unreachable, and reachable.
    for url in [
        format!("http://demo:{URL_SECRET}@[::1"),
        format!("ftp://demo:{URL_SECRET}@example.com"),
        format!("http://demo:{URL_SECRET}@127.0.0.1:1"),
    ] {
        let run = p.c8dr(&format!(
            "topology --gateway-url {url} --rest-url {url} -v -o json"
        ));
        assert_ne!(run.code, 0, "{}", run.context());
        let run = p.c8dr(&format!("exporters list --gateway-url {url} -v"));
        assert_ne!(run.code, 0, "{}", run.context());
    }
    let rest = p
        .env
        .rest_url(0)
        .replacen("http://", &format!("http://demo:{URL_SECRET}@"), 1);
    let gateway =
        p.env
            .gateway_url(0)
            .replacen("http://", &format!("http://demo:{URL_SECRET}@"), 1);
    p.c8dr(&format!(
        "topology --gateway-url {gateway} --rest-url {rest} -v"
    ));
    p.finish();
}

/// Elasticsearch's password from the chart's Secret and from `--es-password-env`, through
/// curl in the pod and directly with `--es-url`, in reads and in every mutation of `es`.
#[test]
fn secrets_the_elasticsearch_password_never_leaks() {
    let mut p = Pass::start(TestEnv::builder());
    p.inputs_written();
    let url = p.env.es_url(0);
    for out in ["", "-o json", "-o yaml", "-v"] {
        p.c8dr(&format!("es status {out}")).success();
        p.c8dr(&format!("es status --es-url {url} {out}")).success();
        p.c8dr_with(
            &format!("es status --es-password-env MY_ES_PW {out}"),
            &[("MY_ES_PW", ES_PASSWORD)],
        )
        .success();
    }
    // A wrong password from the environment, in the pod and directly.
    for line in [
        "es status --es-password-env MY_ES_PW -v".to_string(),
        format!("es status --es-password-env MY_ES_PW --es-url {url} -v -o json"),
    ] {
        let run = p.c8dr_with(&line, &[("MY_ES_PW", WRONG_SECRET)]);
        assert_ne!(run.code, 0, "{}", run.context());
    }
    // The password written into the URL itself.
    let with_userinfo = url.replacen("http://", &format!("http://elastic:{URL_SECRET}@"), 1);
    // (The Secret's credentials win over the URL's, so this one may well succeed.)
    p.c8dr(&format!("es status --es-url {with_userinfo} -v"));
    let wrong_userinfo = url.replacen("http://", &format!("http://elastic:{URL_SECRET}@"), 1);
    let run = p.c8dr(&format!(
        "es status --es-url {wrong_userinfo} --es-password-env NOPE_UNSET -v"
    ));
    assert_ne!(run.code, 0, "{}", run.context());
    let bad_url = format!("http://elastic:{URL_SECRET}@[::1");
    p.c8dr(&format!("es status --es-url {bad_url}")).code(2);
    // Repository, snapshots, at every verbosity, dry run first.
    p.c8dr("es repo register --bucket camunda-bucket --dry-run -v -o json")
        .success();
    p.c8dr("es repo register --bucket camunda-bucket --yes -v")
        .success();
    p.c8dr("es repo show -o yaml -v").success();
    p.c8dr("es snapshot create cnry-snap --dry-run -v")
        .success();
    p.c8dr("es snapshot create cnry-snap --yes -v -o json")
        .success();
    p.c8dr("es snapshot list -v -o yaml").success();
    p.finish();
}

/// The whole procedure with every secret at once: failover of a lost region (dry run and for
/// real), the helm failback steps with a values file holding a password, `es copy`, failback
/// (dry run and for real), the final redeploy.
#[test]
fn secrets_failover_helm_and_failback_never_leak() {
    let mut p = Pass::start(TestEnv::builder().values_layout("c8-multi-region-8.8"));
    std::fs::write(
        p.env.cwd.join("secrets.yml"),
        format!(
            "orchestration:\n  env:\n    - name: CAMUNDA_DATABASE_ELASTICSEARCH_PASSWORD\n      value: \"{VALUES_SECRET}\"\n    - name: ZEEBE_BROKER_EXPORTERS_CAMUNDAREGION0_ARGS_CONNECT_URL\n      value: \"https://elastic:{VALUES_SECRET}@es0:9200\"\nglobal:\n  elasticsearch:\n    auth:\n      password: \"{VALUES_SECRET}\"\n"
        ),
    )
    .expect("secret values");
    p.inputs_written();
    let values = "-f camunda-values.yml -f secrets.yml";
    p.env.lose_region(1);
    p.c8dr("status -v").success();
    p.c8dr("failover --dry-run -v").success();
    p.c8dr("failover --dry-run -o json").success();
    p.c8dr("failover -v -o json").success();
    p.env.recreate_region(1);
    // Failback 1-2: the values file's password must not be printed in plans, overlays or
    // helm's own output (HELM_DEBUG prints the user-supplied values).
    for region in [
        "recreated --no-webapps --no-schema-manager",
        "surviving --no-webapps",
    ] {
        p.helm(&format!("overlay --region {region} {values}"))
            .success();
        for out in ["text", "json"] {
            p.helm(&format!(
                "redeploy --region {region} {values} --dry-run -o {out}"
            ))
            .success();
        }
    }
    p.env.set_env("HELM_DEBUG", "true");
    p.helm(&format!(
        "redeploy --region recreated --no-webapps --no-schema-manager {values} --yes"
    ))
    .success();
    p.helm(&format!(
        "redeploy --region surviving --no-webapps {values} --yes -o json"
    ))
    .success();
    p.env.remove_env("HELM_DEBUG");
    p.c8dr("failback --dry-run -v").success();
    p.c8dr("failback --dry-run -o yaml").success();
    p.c8dr("failback -v").success();
    p.c8dr("status -v -o json").success();
    p.c8dr("es snapshot list --region surviving -v").success();
    p.helm(&format!("redeploy --region both {values} --yes"))
        .success();
    p.journal_holds(&[
        "\"failover 1\"",
        "helm upgrade, webapps off",
        "secrets.yml",
        "\"es copy\"",
        "\"failback 7\"",
        "helm upgrade, webapps on",
    ]);
    p.finish();
}

/// An https server (`openssl s_server -www`) with a certificate for 127.0.0.1 issued by a
/// private CA; killed when dropped.
struct TlsServer {
    child: std::process::Child,
    port: u16,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the TLS test needs the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TlsServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tls dir");
        let d = dir.path();
        let key = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509", "-days", "1", "-subj", "/CN=c8dr-test-ca"];
        ca.extend(key);
        ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
        openssl(d, &ca);
        let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
        csr.extend(key);
        csr.extend(["-keyout", "srv.key", "-out", "srv.csr"]);
        openssl(d, &csr);
        std::fs::write(
            d.join("ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "srv.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "ext",
                "-out",
                "srv.pem",
            ],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = std::process::Command::new("openssl")
            .args([
                "s_server", "-quiet", "-www", "-cert", "srv.pem", "-key", "srv.key",
            ])
            .arg("-accept")
            .arg(format!("127.0.0.1:{port}"))
            .current_dir(d)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let server = Self {
            child,
            port,
            ca: d.join("ca.pem"),
            _dir: dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "s_server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

/// TLS verification is on by default for every direct connection (`--es-url`, `--gateway-url`,
/// `--rest-url`): a server whose certificate chains to an unknown CA is not talked to at all;
/// with the CA added through `SSL_CERT_FILE` (the documented way, docs/security.md) the TLS
/// handshake succeeds and c8dr gets as far as reading the (non-Elasticsearch) answer.
#[test]
fn secrets_tls_verification_is_on_by_default_and_a_ca_can_be_added() {
    let env = TestEnv::start();
    let tls = TlsServer::start();
    let url = format!("https://127.0.0.1:{}", tls.port);
    let es = |ca: Option<&Path>| {
        let mut args: Vec<std::ffi::OsString> = vec!["c8dr".into()];
        args.extend(["es", "status", "--es-url", url.as_str()].map(Into::into));
        let mut cmd = env.command("kubectl", args);
        if let Some(ca) = ca {
            cmd = cmd.env("SSL_CERT_FILE", ca);
        }
        cmd.run()
    };
    let rest = |ca: Option<&Path>| {
        let mut args: Vec<std::ffi::OsString> = vec!["c8dr".into()];
        args.extend(
            [
                "topology",
                "--gateway-url",
                url.as_str(),
                "--rest-url",
                url.as_str(),
            ]
            .map(Into::into),
        );
        let mut cmd = env.command("kubectl", args);
        if let Some(ca) = ca {
            cmd = cmd.env("SSL_CERT_FILE", ca);
        }
        cmd.run()
    };
    // Unknown CA: refused at the handshake, reported as unreachable (exit 5).
    let run = es(None).code(5).stderr_has("cannot reach Elasticsearch");
    assert!(!run.stderr.contains("BODY"), "{}", run.context());
    let run = rest(None).code(5).stderr_has("cannot reach");
    assert!(!run.stderr.contains("BODY"), "{}", run.context());
    // The CA added: the handshake succeeds, the answer (an HTML page) is read and refused.
    let run = es(Some(&tls.ca));
    assert!(run.stderr.contains("BODY"), "{}", run.context());
    assert_ne!(run.code, 0);
    let run = rest(Some(&tls.ca));
    assert!(run.stderr.contains("BODY"), "{}", run.context());
    assert_ne!(run.code, 0);
}
