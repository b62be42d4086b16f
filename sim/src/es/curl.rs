//! `curl` as run by `kubectl exec` in the Elasticsearch container: argv and stdin config
//! (`curl -K -`) interpreted against the simulated Elasticsearch.
//!
//! The form c8dr sends (secrets and body never in argv, docs/contract.md §4 rule 6):
//!
//! ```text
//! argv:  curl -sS -K - -X PUT -H 'Content-Type: application/json' -w '\n%{http_code}' http://localhost:9200/_snapshot/camunda_backup
//! stdin: user = "elastic:<password>"
//!        data-raw = "{\"type\":\"s3\",…}"
//! ```
//!
//! stdout is the response body, a newline and the status code. Config syntax follows curl's
//! manual (`-K, --config`): `name = value` / `name value`, optional leading `--`, `#` comments,
//! double-quoted values with `\\ \" \t \n \r \v` escapes. `data-raw` is used because `data` and
//! `data-binary` treat a leading `@` as a file name. Options c8dr does not use are unsupported
//! (exit 2, like curl's "option … is unknown").

use base64::Engine;
use bytes::Bytes;

use crate::exec::ExecOutcome;
use crate::http::SimRequest;
use crate::world::{RegionId, SharedWorld};

/// What a curl invocation asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct CurlRequest {
    method: Option<String>,
    headers: Vec<String>,
    user: Option<String>,
    data: Option<String>,
    write_out: Option<String>,
    url: Option<String>,
    config_stdin: bool,
}

impl CurlRequest {
    /// Apply one option (long name without dashes) with its value.
    fn set(&mut self, name: &str, value: Option<String>) -> Result<(), String> {
        let need = |v: Option<String>| {
            v.ok_or_else(|| format!("curl: option --{name}: requires parameter"))
        };
        match name {
            "silent" | "show-error" | "insecure" | "fail-with-body" => {}
            // The simulated ES answers at once: time limits only need a valid value.
            "max-time" | "connect-timeout" => {
                let v = need(value)?;
                if v.parse::<f64>().is_err() {
                    return Err(format!(
                        "curl: option --{name}: expected a proper numerical parameter"
                    ));
                }
            }
            "request" => self.method = Some(need(value)?),
            "header" => self.headers.push(need(value)?),
            "user" => self.user = Some(need(value)?),
            "data-raw" => self.data = Some(need(value)?),
            "data" | "data-binary" => {
                let v = need(value)?;
                if v.starts_with('@') {
                    return Err(format!(
                        "curl: (26) Failed to open/read local data from file/application ({v} not simulated)"
                    ));
                }
                self.data = Some(v);
            }
            "write-out" => self.write_out = Some(need(value)?),
            "url" => self.url = Some(need(value)?),
            "config" => {
                if need(value)? != "-" {
                    return Err("curl: only -K - (config on stdin) is simulated".into());
                }
                self.config_stdin = true;
            }
            other => return Err(format!("curl: option --{other}: is unknown")),
        }
        Ok(())
    }
}

fn takes_value(long: &str) -> bool {
    !matches!(
        long,
        "silent" | "show-error" | "insecure" | "fail-with-body"
    )
}

fn long_name(short: char) -> Option<&'static str> {
    Some(match short {
        's' => "silent",
        'S' => "show-error",
        'k' => "insecure",
        'K' => "config",
        'X' => "request",
        'H' => "header",
        'u' => "user",
        'd' => "data",
        'w' => "write-out",
        'm' => "max-time",
        _ => return None,
    })
}

fn parse_argv(argv: &[String]) -> Result<CurlRequest, String> {
    let mut req = CurlRequest::default();
    let mut it = argv.iter().skip(1);
    while let Some(arg) = it.next() {
        if let Some(long) = arg.strip_prefix("--") {
            let value = if takes_value(long) {
                it.next().cloned()
            } else {
                None
            };
            req.set(long, value)?;
        } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let chars: Vec<char> = shorts.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                let long = long_name(*c).ok_or_else(|| format!("curl: option -{c}: is unknown"))?;
                if takes_value(long) {
                    // The rest of the word is the value (`-XPUT`), else the next argument.
                    let rest: String = chars[i + 1..].iter().collect();
                    let value = if rest.is_empty() {
                        it.next().cloned()
                    } else {
                        Some(rest)
                    };
                    req.set(long, value)?;
                    break;
                }
                req.set(long, None)?;
            }
        } else {
            req.url = Some(arg.clone());
        }
    }
    Ok(req)
}

/// Parse a curl config file into (option, value) pairs.
fn parse_config(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = vec![];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line
            .find(|c: char| c.is_whitespace() || c == '=' || c == ':')
            .unwrap_or(line.len());
        let name = line[..name_end].trim_start_matches('-').to_string();
        let rest = line[name_end..].trim_start();
        let rest = rest
            .strip_prefix('=')
            .or_else(|| rest.strip_prefix(':'))
            .unwrap_or(rest)
            .trim_start();
        let value = if rest.is_empty() {
            None
        } else if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('t') => v.push('\t'),
                        Some('n') => v.push('\n'),
                        Some('r') => v.push('\r'),
                        Some('v') => v.push('\u{b}'),
                        Some(other) => v.push(other),
                        None => break,
                    },
                    c => v.push(c),
                }
            }
            if !closed {
                return Err(format!(
                    "curl: -: line {}: unterminated quoted string",
                    n + 1
                ));
            }
            Some(v)
        } else {
            Some(
                rest.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            )
        };
        out.push((name, value));
    }
    Ok(out)
}

fn expand_write_out(fmt: &str, status: u16) -> String {
    fmt.replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("%{http_code}", &format!("{status:03}"))
        .replace("%{response_code}", &format!("{status:03}"))
}

pub fn run(world: &SharedWorld, region: RegionId, argv: &[String], stdin: &[u8]) -> ExecOutcome {
    let mut req = match parse_argv(argv) {
        Ok(r) => r,
        Err(e) => {
            return ExecOutcome::failure(
                2,
                format!("{e}\ncurl: try 'curl --help' for more information\n"),
            );
        }
    };
    if req.config_stdin {
        let text = String::from_utf8_lossy(stdin);
        let options = match parse_config(&text) {
            Ok(o) => o,
            Err(e) => return ExecOutcome::failure(26, format!("{e}\n")),
        };
        for (name, value) in options {
            if let Err(e) = req.set(&name, value) {
                return ExecOutcome::failure(2, format!("{e}\n"));
            }
        }
    }
    let Some(raw_url) = req.url.clone() else {
        return ExecOutcome::failure(2, "curl: no URL specified\n");
    };
    let url = match url::Url::parse(&raw_url) {
        Ok(u) => u,
        Err(_) => {
            return ExecOutcome::failure(
                3,
                "curl: (3) URL rejected: Malformed input to a URL function\n",
            );
        }
    };
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(0);
    if !matches!(url.scheme(), "http" | "https") {
        return ExecOutcome::failure(
            1,
            format!("curl: (1) Protocol \"{}\" not supported\n", url.scheme()),
        );
    }
    let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
    // Inside the pod only localhost answers; another IP literal does not connect (curl exit
    // 7), another name does not resolve in this simulation (exit 6).
    let ip_literal = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    if !loopback && !ip_literal {
        return ExecOutcome::failure(6, format!("curl: (6) Could not resolve host: {host}\n"));
    }
    if !loopback || port != 9200 {
        return ExecOutcome::failure(
            7,
            format!(
                "curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server\n"
            ),
        );
    }
    let method = req
        .method
        .clone()
        .unwrap_or_else(|| if req.data.is_some() { "POST" } else { "GET" }.to_string());
    let mut headers = std::collections::BTreeMap::new();
    for h in &req.headers {
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if let Some(user) = &req.user {
        let token = base64::engine::general_purpose::STANDARD.encode(user.as_bytes());
        headers.insert("authorization".into(), format!("Basic {token}"));
    }
    let sim_req = SimRequest {
        method,
        path: url.path().to_string(),
        query: url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers,
        body: Bytes::from(req.data.clone().unwrap_or_default()),
    };
    let (status, body) = {
        let mut w = world.lock();
        crate::es::handle(&mut w, region, &sim_req)
    };
    let mut stdout = serde_json::to_vec(&body).unwrap_or_default();
    if let Some(fmt) = &req.write_out {
        stdout.extend_from_slice(expand_write_out(fmt, status).as_bytes());
    }
    ExecOutcome::success(stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_and_config() {
        let argv: Vec<String> = [
            "curl",
            "-sS",
            "-K",
            "-",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/json",
            "-w",
            "\\n%{http_code}",
            "http://localhost:9200/_snapshot/r",
        ]
        .map(String::from)
        .to_vec();
        let mut req = parse_argv(&argv).expect("argv");
        assert!(req.config_stdin);
        assert_eq!(req.method.as_deref(), Some("PUT"));
        for (k, v) in parse_config(
            "# c\nuser = \"elastic:p\\\"w\"\ndata-raw = \"{\\\"a\\\":\\\"b\\\\c\\\"}\"\n",
        )
        .expect("config")
        {
            req.set(&k, v).expect("option");
        }
        assert_eq!(req.user.as_deref(), Some("elastic:p\"w"));
        assert_eq!(req.data.as_deref(), Some(r#"{"a":"b\c"}"#));
        assert_eq!(expand_write_out("\\n%{http_code}", 200), "\n200");
    }

    fn argv(url: &str) -> Vec<String> {
        [
            "curl",
            "-sS",
            "-K",
            "-",
            "--max-time",
            "30",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/json",
            "-w",
            "\\n%{http_code}",
            url,
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn runs_against_the_region_and_reports_connection_errors() {
        let world = SharedWorld::new(crate::world::World::healthy(Default::default()));
        let stdin = b"data-raw = \"{\\\"type\\\":\\\"fs\\\",\\\"settings\\\":{\\\"location\\\":\\\"/b\\\"}}\"\n";
        let out = run(&world, 0, &argv("http://localhost:9200/_snapshot/r"), stdin);
        assert_eq!(out.exit_code, 0, "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "{\"acknowledged\":true}\n200"
        );
        assert!(world.lock().regions[0].es.repositories.contains_key("r"));
        let out = run(&world, 0, &argv("http://localhost:9201/"), b"");
        assert_eq!(out.exit_code, 7);
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("Failed to connect to localhost port 9201")
        );
        assert_eq!(
            run(&world, 0, &argv("http://10.0.0.1:9200/"), b"").exit_code,
            7
        );
        assert_eq!(
            run(&world, 0, &argv("http://elsewhere:9200/"), b"").exit_code,
            6
        );
    }

    #[test]
    fn unknown_option_and_file_data() {
        assert!(parse_argv(&["curl".into(), "--bogus".into()]).is_err());
        let mut r = CurlRequest::default();
        assert!(r.set("data", Some("@/etc/passwd".into())).is_err());
    }
}
