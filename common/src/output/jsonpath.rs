//! `-o jsonpath=TEMPLATE`: kubectl's template form over the report's document. Text outside
//! braces is printed as it is; `{PATH}` prints what the JSONPath selects (several results
//! separated by a space, strings raw, objects and arrays as compact JSON, null as nothing, a
//! missing field as nothing, as `kubectl get -o jsonpath` does); `{"\n"}` prints a string
//! literal; `{range PATH}…{end}` repeats its body for each result, paths inside starting from
//! that result. Paths are RFC 9535 JSONPath evaluated by the `jsonpath-rust` crate, written the
//! kubectl way without the leading `$` (`{.exporters[*].exporterId}`, filters
//! `{.exporters[?(@.status=="ENABLED")].exporterId}`); `$…` and `@…` are accepted too.
//! (kubectl's template language: kubernetes/kubernetes
//! `staging/src/k8s.io/client-go/util/jsonpath/{parser,jsonpath}.go`.)

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

use crate::error::{Error, Result};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    /// A path, kept as written (RFC 9535 form, from the root or from the range's element).
    Path(String),
    Range(String, Vec<Node>),
}

/// A parsed `-o jsonpath` template (its paths checked when parsed: exit 2 before any call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    nodes: Vec<Node>,
}

/// Split a template into literal text and `{…}` actions (braces inside quotes do not count).
fn actions(template: &str) -> std::result::Result<Vec<(bool, String)>, String> {
    let mut out = vec![];
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            text.push(c);
            continue;
        }
        if !text.is_empty() {
            out.push((false, std::mem::take(&mut text)));
        }
        let mut action = String::new();
        let mut quote: Option<char> = None;
        let mut closed = false;
        while let Some(c) = chars.next() {
            match quote {
                Some(q) => {
                    action.push(c);
                    if c == '\\' {
                        if let Some(n) = chars.next() {
                            action.push(n);
                        }
                    } else if c == q {
                        quote = None;
                    }
                }
                None if c == '}' => {
                    closed = true;
                    break;
                }
                None => {
                    if c == '"' || c == '\'' {
                        quote = Some(c);
                    }
                    action.push(c);
                }
            }
        }
        if !closed {
            return Err(format!("unclosed action '{{{action}' (missing '}}')"));
        }
        out.push((true, action.trim().to_string()));
    }
    if !text.is_empty() {
        out.push((false, text));
    }
    Ok(out)
}

/// A kubectl path as RFC 9535 (`.a[*]` → `$.a[*]`, `@.a` → `$.a` on the current element).
fn rfc_path(raw: &str) -> std::result::Result<String, String> {
    let p = raw.trim();
    let path = if let Some(rest) = p.strip_prefix('@') {
        format!("${rest}")
    } else if p.starts_with('$') {
        p.to_string()
    } else if p.starts_with('.') || p.starts_with('[') {
        format!("${p}")
    } else {
        return Err(format!(
            "'{{{p}}}': expected a path starting with '.', '[', '@' or '$', a \"string\", range or end"
        ));
    };
    parse(&path).map(|_| path)
}

fn parse(path: &str) -> std::result::Result<JpQuery, String> {
    parse_json_path(path).map_err(|e| {
        format!(
            "'{path}' is not a valid JSONPath {}",
            one_line(&e.to_string())
        )
    })
}

/// The parser's multi-line report (position, source line, caret, `= expected …`) as one line
/// (an error is one line on stderr): `at 1:25: expected EOI, segment, or ALPHA`.
fn one_line(report: &str) -> String {
    let at = report
        .lines()
        .find_map(|l| l.split_once("-->"))
        .map(|(_, at)| at.trim());
    let expected = report
        .lines()
        .find_map(|l| l.trim().strip_prefix('='))
        .map(str::trim);
    match (at, expected) {
        (Some(at), Some(expected)) => format!("at {at}: {expected}"),
        _ => report.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

impl Template {
    pub fn parse(template: &str) -> std::result::Result<Self, String> {
        if template.trim().is_empty() {
            return Err("empty template, e.g. -o jsonpath='{.kind}'".into());
        }
        // A stack of open ranges: (path, body so far).
        let mut stack: Vec<(String, Vec<Node>)> = vec![(String::new(), vec![])];
        for (is_action, s) in actions(template)? {
            let node = if !is_action {
                Node::Text(s)
            } else if s.starts_with('"') {
                let lit: String = serde_json::from_str(&s)
                    .map_err(|_| format!("'{{{s}}}': not a valid \"string\" literal"))?;
                Node::Text(lit)
            } else if s == "end" {
                if stack.len() < 2 {
                    return Err("{end} without {range …}".into());
                }
                let (path, body) = stack.pop().ok_or("{end} without {range …}")?;
                Node::Range(path, body)
            } else if let Some(p) = s.strip_prefix("range ") {
                stack.push((rfc_path(p)?, vec![]));
                continue;
            } else if s.is_empty() {
                return Err("empty action '{}'".into());
            } else {
                Node::Path(rfc_path(&s)?)
            };
            if let Some((_, body)) = stack.last_mut() {
                body.push(node);
            }
        }
        if stack.len() > 1 {
            return Err("{range …} without {end}".into());
        }
        let nodes = stack.pop().map(|(_, b)| b).unwrap_or_default();
        Ok(Self { nodes })
    }

    /// The template applied to `doc`.
    pub fn render(&self, doc: &Value) -> Result<String> {
        let mut out = String::new();
        render_nodes(&self.nodes, doc, &mut out)?;
        Ok(out)
    }
}

fn select<'a>(path: &str, current: &'a Value) -> Result<Vec<&'a Value>> {
    let query = parse(path).map_err(|e| Error::usage(format!("-o jsonpath: {e}")))?;
    js_path_process(&query, current)
        .map(|refs| refs.into_iter().map(|r| r.val).collect())
        .map_err(|e| Error::usage(format!("-o jsonpath: '{path}': {e}")))
}

/// One result as kubectl prints it.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn render_nodes(nodes: &[Node], current: &Value, out: &mut String) -> Result<()> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                let found = select(p, current)?;
                out.push_str(
                    &found
                        .iter()
                        .map(|v| text_of(v))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
            Node::Range(p, body) => {
                for item in select(p, current)? {
                    render_nodes(body, item, out)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, doc: &Value) -> String {
        Template::parse(t)
            .unwrap_or_else(|e| panic!("{t}: {e}"))
            .render(doc)
            .unwrap_or_else(|e| panic!("{t}: {e}"))
    }

    fn doc() -> Value {
        json!({"kind": "ExporterList", "exporters": [
            {"exporterId": "camundaregion0", "status": "ENABLED", "region": "region0"},
            {"exporterId": "camundaregion1", "status": "DISABLED", "region": "region1"}
        ], "n": 3, "none": null})
    }

    #[test]
    fn paths_text_and_literals_render_as_kubectl_does() {
        let d = doc();
        assert_eq!(run("{.kind}", &d), "ExporterList");
        assert_eq!(
            run("{.exporters[*].exporterId}", &d),
            "camundaregion0 camundaregion1"
        );
        assert_eq!(run("n={.n}{\"\\n\"}", &d), "n=3\n");
        assert_eq!(run("{.missing}{.none}|", &d), "|");
        assert_eq!(
            run("{.exporters[0]}", &d),
            r#"{"exporterId":"camundaregion0","status":"ENABLED","region":"region0"}"#
        );
        assert_eq!(
            run(r#"{.exporters[?(@.status=="ENABLED")].exporterId}"#, &d),
            "camundaregion0"
        );
        assert_eq!(run("{$.n} {@.n}", &d), "3 3");
    }

    #[test]
    fn range_repeats_its_body_per_element() {
        let d = doc();
        assert_eq!(
            run(
                "{range .exporters[*]}{.exporterId}={.status}{\"\\n\"}{end}",
                &d
            ),
            "camundaregion0=ENABLED\ncamundaregion1=DISABLED\n"
        );
    }

    #[test]
    fn a_bad_path_is_reported_on_one_line() {
        let e = Template::parse("{.a-b}").expect_err("not a JSONPath");
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("'$.a-b' is not a valid JSONPath at 1:"), "{e}");
    }

    #[test]
    fn bad_templates_are_refused_when_parsed() {
        for bad in [
            "",
            "{.a",
            "{}",
            "{.a[}",
            "{range .a[*]}{.b}",
            "{end}",
            "{kind}",
            "{\"unterminated}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
