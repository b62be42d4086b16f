//! The stand-in's command line: `helm upgrade --install` as helm (spf13/pflag) parses it.

use std::path::PathBuf;

/// A parsed `helm upgrade --install` command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpgradeArgs {
    pub release: String,
    pub chart: String,
    pub kube_context: Option<String>,
    pub namespace: Option<String>,
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub version: Option<String>,
    pub wait: bool,
    pub timeout: Option<String>,
    /// `--debug` (HELM_DEBUG is read in `upgrade`).
    pub debug: bool,
}

/// Boolean flags of `helm upgrade` that the stand-in accepts and ignores.
const IGNORED_BOOL_FLAGS: &[&str] = &[
    "--atomic",
    "--rollback-on-failure",
    "--wait-for-jobs",
    "--create-namespace",
    "--reset-values",
    "--force",
    "--no-hooks",
    "--skip-crds",
    "--devel",
];

/// Shorthand flags of `helm upgrade` and whether they take a value (`-i` --install, `-h`
/// --help; `-n` --namespace, `-f` --values, `-o` --output).
const SHORTHANDS: &[(char, bool)] = &[
    ('i', false),
    ('h', false),
    ('n', true),
    ('f', true),
    ('o', true),
];

/// Split pflag shorthand clusters as spf13/pflag `parseShortArg`/`parseSingleShortArg` do
/// (flag.go): `-nfoo` and `-n=foo` are `-n foo`, `-in foo` is `-i -n foo`, `-ffile` is
/// `-f file`; a value-taking shorthand takes the rest of the cluster (after an optional `=`).
fn expand_shorthands(args: &[String]) -> Vec<String> {
    let mut out = vec![];
    let mut rest_positional = false;
    for arg in args {
        if rest_positional || arg == "-" || arg.starts_with("--") || !arg.starts_with('-') {
            rest_positional |= arg == "--";
            out.push(arg.clone());
            continue;
        }
        let cluster: Vec<char> = arg.chars().skip(1).collect();
        let mut k = 0;
        while k < cluster.len() {
            let c = cluster[k];
            match SHORTHANDS.iter().find(|(s, _)| *s == c) {
                Some((_, true)) => {
                    out.push(format!("-{c}"));
                    let mut value: String = cluster[k + 1..].iter().collect();
                    if let Some(v) = value.strip_prefix('=') {
                        value = v.to_string();
                    }
                    if k + 1 < cluster.len() {
                        out.push(value);
                    }
                    break;
                }
                Some((_, false)) => out.push(format!("-{c}")),
                // helm: "unknown shorthand flag: 'x' in -x..."
                None => {
                    out.push(format!("-{c}"));
                    break;
                }
            }
            k += 1;
        }
    }
    out
}

/// Parse `upgrade --install REL CHART [flags]`. Errors read as helm's.
pub fn parse_upgrade(args: &[String]) -> Result<UpgradeArgs, String> {
    let mut out = UpgradeArgs::default();
    let mut positional = vec![];
    let mut install = false;
    let args = &expand_shorthands(args);
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--" {
            // pflag: everything after a bare `--` is positional.
            positional.extend(args[i + 1..].iter().cloned());
            break;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        let first = i == 0;
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: {name}"))
        };
        match flag {
            "upgrade" if first => {}
            "--install" | "-i" => install = true,
            "--kube-context" => out.kube_context = Some(value(flag)?),
            "--namespace" | "-n" => out.namespace = Some(value(flag)?),
            "-f" | "--values" => out.values.push(PathBuf::from(value(flag)?)),
            "--set" | "--set-string" => out.set.push(value(flag)?),
            "--version" => out.version = Some(value(flag)?),
            "--timeout" => out.timeout = Some(value(flag)?),
            "--wait" => out.wait = true,
            "--debug" => out.debug = true,
            f if IGNORED_BOOL_FLAGS.contains(&f) => {}
            f if f.starts_with('-') => return Err(format!("unknown flag: {f}")),
            _ => positional.push(arg.to_string()),
        }
        i += 1;
    }
    if args.first().map(String::as_str) != Some("upgrade") {
        return Err("the helm stand-in only simulates `upgrade --install` and `version`".into());
    }
    if !install {
        return Err("the helm stand-in only simulates `upgrade --install`".into());
    }
    match positional.as_slice() {
        [release, chart] => {
            out.release = release.clone();
            out.chart = chart.clone();
            Ok(out)
        }
        _ => Err(format!(
            "\"helm upgrade\" requires 2 arguments\n\nUsage:  helm upgrade [RELEASE] [CHART] [flags] (got {})",
            positional.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_the_upgrade_command_line() {
        let a = parse_upgrade(&s(&[
            "upgrade",
            "--install",
            "camunda",
            "camunda/camunda-platform",
            "--version",
            "13.1.0",
            "--kube-context",
            "c",
            "--namespace=n",
            "-f",
            "a.yml",
            "-f",
            "b.yml",
            "--set",
            "x=1",
            "--wait",
            "--timeout",
            "10m",
        ]))
        .expect("parses");
        assert_eq!(a.release, "camunda");
        assert_eq!(a.namespace.as_deref(), Some("n"));
        assert_eq!(a.values, [PathBuf::from("a.yml"), PathBuf::from("b.yml")]);
        assert!(a.wait);
        assert!(parse_upgrade(&s(&["upgrade", "--install", "r", "c", "--bogus"])).is_err());
        // pflag shorthand forms, the last --namespace wins.
        for form in [
            &["-nother"][..],
            &["-n=other"],
            &["-n", "other"],
            &["--namespace=other"],
        ] {
            let mut argv = s(&["upgrade", "--install", "r", "c", "--namespace", "n"]);
            argv.extend(s(form));
            let a = parse_upgrade(&argv).expect("parses");
            assert_eq!(a.namespace.as_deref(), Some("other"), "{form:?}");
        }
        let a = parse_upgrade(&s(&["upgrade", "r", "c", "-in", "x", "-fv.yml"])).expect("parses");
        assert_eq!(a.namespace.as_deref(), Some("x"));
        assert_eq!(a.values, [PathBuf::from("v.yml")]);
        assert!(parse_upgrade(&s(&["upgrade", "r", "c"])).is_err());
    }
}
