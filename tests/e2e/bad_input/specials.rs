//! Cases that are not one flag's value: files (kubeconfig, values), the environment variables of
//! docs/contract.md §2, conflicting flags, and extra helm arguments that would override what c8dr decides.

use super::cases::{Bin, Case, FileKind, MALFORMED_LINE};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn case(bin: Bin, args: &[&str], names: &[&str], what: &str) -> Case {
    Case {
        bin,
        args: s(args),
        env: vec![],
        files: vec![],
        names: s(names),
        yaml_line: None,
        what: what.into(),
        direct: false,
    }
}

fn with_env(mut c: Case, env: &[(&str, Option<&str>)]) -> Case {
    c.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect();
    c
}

const FILE_KINDS: [(FileKind, &str, &str); 8] = [
    (FileKind::Device, "zero.yml", "a link to /dev/zero"),
    (FileKind::Directory, "bad-dir", "a directory"),
    (FileKind::Binary, "bad.bin", "binary data"),
    (FileKind::List, "list.yml", "a YAML list, not a map"),
    (FileKind::Scalar, "scalar.yml", "a YAML scalar, not a map"),
    (FileKind::Malformed, "malformed.yml", "invalid YAML"),
    (FileKind::Huge, "huge.yml", "over 1 MiB"),
    (
        FileKind::KubeconfigWithoutContext,
        "no-context.kubeconfig",
        "a kubeconfig without the context",
    ),
];

/// Kubeconfig and values files: missing, a directory, binary, a list, a scalar, invalid YAML
/// (line and column), huge, a kubeconfig without the context.
pub fn files() -> Vec<Case> {
    let mut out = vec![];
    let missing = "missing ünïcode;rm.yml";
    for (kind, file, what) in FILE_KINDS {
        let kubeconfig_only = kind == FileKind::KubeconfigWithoutContext;
        let mut targets: Vec<Case> = vec![
            case(
                Bin::Kubectl,
                &["--kubeconfig", file, "exporters", "list"],
                &["--kubeconfig", file],
                what,
            ),
            with_env(
                case(
                    Bin::Kubectl,
                    &["exporters", "list"],
                    &["KUBECONFIG", file],
                    what,
                ),
                &[("KUBECONFIG", Some(file))],
            ),
            with_env(
                case(
                    Bin::Helm,
                    &["redeploy", "--yes"],
                    &["KUBECONFIG", file],
                    what,
                ),
                &[("KUBECONFIG", Some(file))],
            ),
            // status reads every region it can and tolerates unreachable ones: bad input must
            // still be exit 2, never "cannot reach either region" (exit 5).
            with_env(
                case(Bin::Kubectl, &["status"], &["KUBECONFIG", file], what),
                &[("KUBECONFIG", Some(file))],
            ),
        ];
        if !kubeconfig_only {
            targets.push(case(
                Bin::Helm,
                &["redeploy", "--yes", "-f", file],
                &["-f", "--values", file],
                what,
            ));
            let rv = format!("region0={file}");
            targets.push(case(
                Bin::Helm,
                &["redeploy", "--yes", "--region-values", &rv],
                &["--region-values", file],
                what,
            ));
        }
        for mut c in targets {
            c.files = vec![(file.to_string(), kind)];
            if kind == FileKind::Malformed {
                c.yaml_line = Some(MALFORMED_LINE);
            }
            out.push(c);
        }
    }
    out.push(case(
        Bin::Kubectl,
        &["--kubeconfig", missing, "exporters", "list"],
        &["--kubeconfig", missing],
        "a file that does not exist (unicode, metacharacters)",
    ));
    out.push(with_env(
        case(
            Bin::Helm,
            &["redeploy", "--yes"],
            &["KUBECONFIG", missing],
            "a file that does not exist",
        ),
        &[("KUBECONFIG", Some(missing))],
    ));
    out.push(case(
        Bin::Helm,
        &["redeploy", "--yes", "-f", missing],
        &["-f", "--values", missing],
        "a file that does not exist (unicode, metacharacters)",
    ));
    out
}

/// The environment variables of docs/contract.md §2 (and helm's HELM_KUBECONTEXT/HELM_NAMESPACE), each on a
/// command that uses it.
pub fn env_vars() -> Vec<Case> {
    let list = || case(Bin::Kubectl, &["exporters", "list"], &[], "");
    let redeploy = || case(Bin::Helm, &["redeploy", "--yes"], &[], "");
    let mut out = vec![];
    let mut add = |base: Case, args: &[&str], var: &str, value: Option<&str>, what: &str| {
        let mut c = with_env(base, &[(var, value)]);
        c.args.extend(s(args));
        c.names = vec![var.to_string()];
        c.what = what.into();
        out.push(c);
    };
    for base in [list(), redeploy()] {
        add(
            base.clone(),
            &[],
            "CLUSTER_SURVIVING",
            Some("nowhere"),
            "no such context",
        );
        add(
            base.clone(),
            &[],
            "CAMUNDA_NAMESPACE_SURVIVING",
            Some("Camunda_NS"),
            "not a DNS-1123 label",
        );
        add(
            base.clone(),
            &[],
            "CAMUNDA_NAMESPACE_SURVIVING",
            Some("../kube-system"),
            "path traversal",
        );
        add(
            base.clone(),
            &[],
            "REGION_SURVIVING",
            Some("region7"),
            "no such region",
        );
        add(
            base.clone(),
            &[],
            "REGION_SURVIVING",
            Some("region0\n"),
            "a newline",
        );
        add(
            base.clone(),
            &["--region", "recreated"],
            "CLUSTER_RECREATED",
            Some("nowhere"),
            "no such context",
        );
        add(
            base.clone(),
            &["--region", "recreated"],
            "CAMUNDA_NAMESPACE_RECREATED",
            Some("ns;id"),
            "shell metacharacters",
        );
        add(
            base.clone(),
            &["--region", "recreated"],
            "REGION_RECREATED",
            Some("region7"),
            "no such region",
        );
        add(
            base.clone(),
            &[],
            "CAMUNDA_RELEASE_NAME",
            Some("../camunda"),
            "'../' in a release name",
        );
        add(
            base.clone(),
            &[],
            "CAMUNDA_RELEASE_NAME",
            Some("Camunda"),
            "uppercase release name",
        );
        add(
            base,
            &[],
            "CAMUNDA_RELEASE_NAME",
            Some("camunda\n--set x=y"),
            "a newline and a helm flag",
        );
    }
    // By index, without the *_SURVIVING/*_RECREATED exports.
    for (var, value, what) in [
        ("CLUSTER_1", "nowhere", "no such context"),
        ("CAMUNDA_NAMESPACE_1", "Camunda_NS", "not a DNS-1123 label"),
    ] {
        let mut c = with_env(
            case(
                Bin::Kubectl,
                &["--region", "region1", "exporters", "list"],
                &[var],
                what,
            ),
            &[
                ("CLUSTER_SURVIVING", None),
                ("CAMUNDA_NAMESPACE_SURVIVING", None),
                ("REGION_SURVIVING", None),
                ("CLUSTER_RECREATED", None),
                ("CAMUNDA_NAMESPACE_RECREATED", None),
                ("REGION_RECREATED", None),
            ],
        );
        c.env.push((var.into(), Some(value.into())));
        out.push(c);
    }
    let mut add = |c: Case| out.push(c);
    for (value, what) in [
        ("--atomic", "a helm flag"),
        ("not a version", "not a semver constraint"),
    ] {
        add(with_env(
            case(
                Bin::Helm,
                &["redeploy", "--yes"],
                &["HELM_CHART_VERSION"],
                what,
            ),
            &[("HELM_CHART_VERSION", Some(value))],
        ));
    }
    add(with_env(
        case(
            Bin::Helm,
            &["redeploy", "--yes"],
            &["HELM_KUBECONTEXT"],
            "no such context",
        ),
        &[("HELM_KUBECONTEXT", Some("nowhere"))],
    ));
    add(with_env(
        case(
            Bin::Helm,
            &["redeploy", "--yes"],
            &["HELM_NAMESPACE"],
            "not a DNS-1123 label",
        ),
        &[("HELM_NAMESPACE", Some("Camunda_NS"))],
    ));
    for cmd in [
        &["es", "repo", "register", "--yes"][..],
        &["failback", "--yes"],
    ] {
        add(with_env(
            case(
                Bin::Kubectl,
                cmd,
                &["S3_BUCKET_NAME"],
                "not an S3 bucket name",
            ),
            &[("S3_BUCKET_NAME", Some("Bad_Bucket"))],
        ));
    }
    add(with_env(
        case(
            Bin::Kubectl,
            &["topology"],
            &["CAMUNDA_CLIENT_AUTH_METHOD"],
            "not basic or oidc",
        ),
        &[("CAMUNDA_CLIENT_AUTH_METHOD", Some("kerberos"))],
    ));
    add(with_env(
        case(
            Bin::Kubectl,
            &["topology"],
            &[
                "CAMUNDA_CLIENT_AUTH_CLIENT_ID",
                "CAMUNDA_CLIENT_AUTH_CLIENT_SECRET",
                "CAMUNDA_CLIENT_AUTH_TOKEN_URL",
            ],
            "oidc without client id, secret and token URL",
        ),
        &[("CAMUNDA_CLIENT_AUTH_METHOD", Some("oidc"))],
    ));
    add(with_env(
        case(
            Bin::Kubectl,
            &["topology"],
            &["CAMUNDA_CLIENT_AUTH_TOKEN_URL"],
            "not a URL",
        ),
        &[
            ("CAMUNDA_CLIENT_AUTH_METHOD", Some("oidc")),
            ("CAMUNDA_CLIENT_AUTH_CLIENT_ID", Some("c8dr")),
            ("CAMUNDA_CLIENT_AUTH_CLIENT_SECRET", Some("s3cret")),
            ("CAMUNDA_CLIENT_AUTH_TOKEN_URL", Some("notaurl")),
        ],
    ));
    add(with_env(
        case(
            Bin::Kubectl,
            &["topology"],
            &["CAMUNDA_CLIENT_AUTH_PASSWORD"],
            "basic without a password",
        ),
        &[("CAMUNDA_CLIENT_AUTH_PASSWORD", None)],
    ));
    out
}

/// Flags that contradict each other or the environment.
pub fn conflicts() -> Vec<Case> {
    // Command lines without quoting: every argument here is one word.
    let k = |line: &str, names: &[&str], what: &str| {
        case(
            Bin::Kubectl,
            &line.split_whitespace().collect::<Vec<_>>(),
            names,
            what,
        )
    };
    let h = |line: &str, names: &[&str], what: &str| {
        case(
            Bin::Helm,
            &line.split_whitespace().collect::<Vec<_>>(),
            names,
            what,
        )
    };
    let mut out = vec![
        k(
            "brokers remove --odd --even --yes",
            &["--odd", "--even"],
            "both parities",
        ),
        k(
            "brokers remove --odd --ids 1,3 --yes",
            &["--odd", "--ids"],
            "a parity and ids",
        ),
        k(
            "brokers add --even --ids 0,2 --yes",
            &["--even", "--ids"],
            "a parity and ids",
        ),
        k(
            "profiles --expect-webapps --expect-no-webapps",
            &["--expect-webapps", "--expect-no-webapps"],
            "both expectations",
        ),
        k(
            "es repo register --repo-type fs --location /shared --bucket camunda-bucket --yes",
            &["--bucket"],
            "a bucket for an fs repository",
        ),
        k(
            "es repo register --repo-type s3 --location /shared --yes",
            &["--location"],
            "a location for an s3 repository",
        ),
        k(
            "es repo register --repo-type fs --yes",
            &["--location"],
            "an fs repository without a location",
        ),
        k(
            "es copy --from surviving --to surviving --yes",
            &["--from", "--to"],
            "the same region twice",
        ),
        k(
            "es copy --from region0 --to surviving --yes",
            &["--from", "--to"],
            "the same region twice (surviving is region0)",
        ),
        k(
            "es copy --exporting-paused --pause-exporting --yes",
            &["--exporting-paused", "--pause-exporting"],
            "paused already and pause first",
        ),
        k(
            "es snapshot create --es-user elastic --yes",
            &["--es-user", "--es-password-env"],
            "a user without a password",
        ),
        k(
            "failback --repo-type fs --location /shared --bucket camunda-bucket --yes",
            &["--bucket"],
            "a bucket for an fs repository",
        ),
        k(
            "exporters enable camundaregion1 --initialize-from camundaregion1 --yes",
            &["--initialize-from"],
            "initialised from itself",
        ),
        with_env(
            k(
                "--region recreated exporters list",
                &["REGION_RECREATED", "REGION_SURVIVING"],
                "both variables name region0",
            ),
            &[("REGION_RECREATED", Some("region0"))],
        ),
        with_env(
            h(
                "redeploy --region both --yes",
                &["REGION_RECREATED", "REGION_SURVIVING"],
                "both variables name region0",
            ),
            &[("REGION_RECREATED", Some("region0"))],
        ),
        h(
            "redeploy --yes --region-values region0=camunda-values.yml --region-values region0=region0/camunda-values.yml",
            &["--region-values"],
            "one region given twice",
        ),
    ];
    // Extra helm arguments that would override what c8dr decides (refused by helm-c8dr's help).
    for extra in [
        &["--kube-context", "other"][..],
        &["-n", "other"],
        &["--namespace=other"],
        &["--kubeconfig", "other"],
        &["-f", "camunda-values.yml"],
        &["--values=camunda-values.yml"],
        &["--version", "13.0.0"],
        &["--set", "orchestration.env[0].name=X"],
        &["--set-string", "orchestration.profiles.operate=true"],
        &["--kube-token", "abc"],
    ] {
        let mut args = vec!["redeploy", "--yes", "--"];
        args.extend(extra);
        let flag = extra[0].split('=').next().unwrap_or_default();
        out.push(case(
            Bin::Helm,
            &args,
            &[flag],
            "an extra helm argument that overrides c8dr",
        ));
    }
    out
}

/// Inputs that hung or came through whole (issue 19 item 9): values files that are not regular
/// files (a FIFO, `/dev/zero`, a character device), `orchestration.env` given as a map or a
/// scalar (the file and line must be named), a 120 KiB `--release` (echoed whole), and junk
/// proxy variables (blamed on the kubeconfig).
pub fn input_bounds() -> Vec<Case> {
    let mut out = vec![];
    for (file, kind, what) in [
        ("/dev/zero", None, "an endless character device"),
        ("/dev/null", None, "a character device"),
        ("fifo.yml", Some(FileKind::Fifo), "a FIFO nobody writes to"),
    ] {
        for cmd in [&["overlay"][..], &["redeploy", "--yes", "--dry-run"]] {
            let mut args = cmd.to_vec();
            args.extend(["-f", file]);
            let mut c = case(Bin::Helm, &args, &[file], what);
            c.files = kind
                .map(|k| vec![(file.to_string(), k)])
                .unwrap_or_default();
            out.push(c);
        }
    }
    for (file, kind, line, what) in [
        (
            "env-map.yml",
            FileKind::EnvMap,
            3,
            "orchestration.env is a map",
        ),
        (
            "env-scalar.yml",
            FileKind::EnvScalar,
            2,
            "orchestration.env is a scalar",
        ),
    ] {
        for cmd in [&["overlay"][..], &["redeploy", "--yes", "--dry-run"]] {
            let mut args = cmd.to_vec();
            args.extend(["-f", file]);
            let mut c = case(Bin::Helm, &args, &[file], what);
            c.files = vec![(file.to_string(), kind)];
            c.yaml_line = Some(line);
            out.push(c);
        }
    }
    let long = "a".repeat(120 * 1024);
    out.push(case(
        Bin::Helm,
        &["redeploy", "--yes", "--release", &long],
        &["--release"],
        "a 120 KiB release name",
    ));
    let mut c = case(
        Bin::Kubectl,
        &["--release", &long, "exporters", "list"],
        &["--release"],
        "a 120 KiB release name",
    );
    c.direct = true;
    out.push(c);
    for (var, value) in [
        ("HTTPS_PROXY", "http://[::junk"),
        ("NO_PROXY", "10.0.0.0/99,\u{1}"),
    ] {
        let mut c = with_env(
            case(
                Bin::Kubectl,
                &["exporters", "list"],
                &[var],
                "junk proxy variable",
            ),
            &[(var, Some(value))],
        );
        c.direct = true;
        if var == "NO_PROXY" {
            c.env.push((
                "HTTPS_PROXY".into(),
                Some("http://proxy.example:3128".into()),
            ));
        }
        out.push(c);
    }
    out
}
