//! No function in `commands/` is over [`MAX_LINES`] lines (issue 21): a command reads as its
//! stages (validate → evidence → safety → plan → confirm → act → wait → report), each a function.
//! The test reads the source files and measures each `fn` from its first line to its closing
//! brace, counting braces outside strings, characters and comments.

use std::path::{Path, PathBuf};

/// The longest a function in `commands/` may be, in lines (signature and closing brace included).
const MAX_LINES: usize = 80;

/// `(file, function, first line, lines)` of every function of the `.rs` files below `dir`.
fn functions(dir: &Path) -> Vec<(PathBuf, String, usize, usize)> {
    let mut out = vec![];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && let Ok(src) = std::fs::read_to_string(&p)
            {
                out.extend(
                    measure(&src)
                        .into_iter()
                        .map(|(n, l, len)| (p.clone(), n, l, len)),
                );
            }
        }
    }
    out
}

/// The code of `src` with strings, character literals and comments blanked (newlines kept).
fn code_only(src: &str) -> Vec<char> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    let blank = |out: &mut Vec<char>, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            while i < c.len() && !(c[i] == '*' && c.get(i + 1) == Some(&'/')) {
                blank(&mut out, c[i]);
                i += 1;
            }
            i = (i + 2).min(c.len());
            out.extend([' ', ' ']);
        } else if c[i] == 'r' && matches!(next, Some('"' | '#')) && !ident(c.get(i.wrapping_sub(1)))
        {
            match raw_string_end(&c, i) {
                Some(end) => {
                    c[i..end].iter().for_each(|&ch| blank(&mut out, ch));
                    i = end;
                }
                None => {
                    out.push(c[i]);
                    i += 1;
                }
            }
        } else if c[i] == '"' {
            blank(&mut out, c[i]);
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            if i < c.len() {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '\'' && (next == Some('\\') || c.get(i + 2) == Some(&'\'')) {
            // A character literal ('{', '\''); a lifetime ('a) has no closing quote.
            let mut j = i + 1;
            if c.get(j) == Some(&'\\') {
                j += 2;
            } else {
                j += 1;
            }
            while j < c.len() && c[j] != '\'' {
                j += 1;
            }
            let end = (j + 1).min(c.len());
            for &ch in &c[i..end] {
                blank(&mut out, ch);
            }
            i = end;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Where the raw string starting at `i` (`r"…"`, `r#"…"#`) ends, if one starts there.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if c.get(j) != Some(&'"') {
        return None;
    }
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let mut k = j + 1;
    while k < c.len() && !c[k..].starts_with(&close) {
        k += 1;
    }
    Some((k + close.len()).min(c.len()))
}

fn ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// `(name, first line, lines)` of every function with a body in `src`.
fn measure(src: &str) -> Vec<(String, usize, usize)> {
    let code: String = code_only(src).into_iter().collect();
    let lines: Vec<&str> = code.lines().collect();
    let mut out = vec![];
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let mut depth = 0usize;
        let mut opened = false;
        'scan: for (n, l) in lines.iter().enumerate().skip(start) {
            for ch in l.chars() {
                match ch {
                    ';' if !opened => break 'scan,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if opened && depth == 0 {
                            out.push((name.clone(), start + 1, n - start + 1));
                            break 'scan;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The name of the function a line declares (`pub(crate) async fn name(`), if it does.
fn fn_name(line: &str) -> Option<String> {
    let mut words = line.split_whitespace().peekable();
    while let Some(w) = words.peek() {
        if w.starts_with("pub") || ["const", "async", "unsafe", "extern"].contains(w) {
            words.next();
        } else {
            break;
        }
    }
    if words.next()? != "fn" {
        return None;
    }
    let rest = words.next()?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

#[test]
fn the_counter_measures_functions_and_ignores_braces_in_strings_and_comments() {
    let src = "fn a() {\n    let s = \"}}}\"; // }\n    let c = '}';\n}\n\npub async fn b<'x>(v: &'x str) -> usize {\n    /* { */ let r = r#\"{\"#;\n    v.len() + r.len()\n}\ntrait T { fn c(&self); }\n";
    assert_eq!(
        measure(src),
        vec![("a".to_string(), 1, 4), ("b".to_string(), 6, 4)]
    );
}

#[test]
fn no_function_in_commands_is_over_the_bound() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let found = functions(&dir);
    assert!(found.len() > 100, "the source files were not read: {dir:?}");
    let mut over = vec![];
    for (file, name, line, len) in &found {
        if *len > MAX_LINES {
            over.push(format!(
                "{}:{line} fn {name}: {len} lines (at most {MAX_LINES})",
                file.display()
            ));
        }
    }
    assert!(
        over.is_empty(),
        "split these by stage:\n{}",
        over.join("\n")
    );
}
