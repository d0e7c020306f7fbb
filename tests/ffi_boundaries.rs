//! Every exported C function is one call of `boundary` or `boundary_or` (src/ffi/mod.rs),
//! so no panic can cross the ABI and every failure reaches `luarun_last_error`: the
//! body of each `#[no_mangle] pub ... extern "C" fn` under `src/` is that call and
//! nothing else (comments, such as its `// SAFETY:` note, aside).
//!
//! The rule has no exceptions today. Should a function ever be unable to use a
//! boundary, the line directly above its `fn` must say why: `// no boundary: <reason>`.

use std::path::{Path, PathBuf};

/// The comment that exempts one function, followed by its reason.
const EXEMPTION: &str = "// no boundary:";

/// An exported function: where it is and whether its body is one boundary call.
#[derive(Debug)]
struct Export {
    name: String,
    line: usize,
    verdict: Verdict,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The body is one call of `boundary(` or `boundary_or(`.
    Boundary,
    /// `// no boundary: <reason>` stands above the `fn`.
    Exempt,
    /// Anything else, with what the body does instead.
    Missing(String),
}

/// The exported functions of one Rust source text.
fn exports(source: &str) -> Vec<Export> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed != "#[no_mangle]" && trimmed != "#[unsafe(no_mangle)]" {
            continue;
        }
        // Further attributes may stand between `#[no_mangle]` and the `fn`.
        let Some(fn_index) = (index + 1..lines.len()).find(|&i| {
            let trimmed = lines[i].trim();
            !(trimmed.starts_with("#[") || trimmed.starts_with("//"))
        }) else {
            continue;
        };
        let signature = lines[fn_index].trim();
        let Some(name) = exported_name(signature) else {
            continue;
        };
        let exempt = lines[fn_index - 1]
            .trim()
            .strip_prefix(EXEMPTION)
            .is_some_and(|reason| !reason.trim().is_empty());
        let offset: usize = lines[..fn_index].iter().map(|l| l.len() + 1).sum();
        let verdict = match body_verdict(&source[offset..]) {
            Verdict::Missing(_) if exempt => Verdict::Exempt,
            verdict => verdict,
        };
        found.push(Export {
            name,
            line: fn_index + 1,
            verdict,
        });
    }
    found
}

/// `name` for a `pub ... extern "C" fn name(` line.
fn exported_name(signature: &str) -> Option<String> {
    if !signature.starts_with("pub") {
        return None;
    }
    let (_, after) = signature.split_once("extern \"C\" fn ")?;
    let name: String = after
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Judges the body of the function whose signature starts `text`.
fn body_verdict(text: &str) -> Verdict {
    let tokens = Scanner::new(text);
    // The body opens at the first `{` outside the parameter list.
    let mut depth = 0i32;
    let mut body = None;
    for (at, c) in tokens {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '{' if depth == 0 => {
                body = Some(at + 1);
                break;
            }
            _ => {}
        }
    }
    let Some(body) = body else {
        return Verdict::Missing("no body found".into());
    };
    let rest = skip_blank(&text[body..]);
    let call = ["boundary(", "boundary_or("]
        .into_iter()
        .find(|call| rest.starts_with(call));
    let Some(call) = call else {
        let first = rest.lines().next().unwrap_or("").trim();
        return Verdict::Missing(format!("the body starts with `{first}`"));
    };
    // Find the call's closing parenthesis; after it only the body's `}` may follow.
    let open = text.len() - rest.len() + call.len() - 1;
    let mut depth = 0i32;
    for (at, c) in Scanner::new(&text[open..]) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let after = skip_blank(&text[open + at + 1..]);
                    let after = after.strip_prefix(';').map_or(after, skip_blank);
                    return if after.starts_with('}') {
                        Verdict::Boundary
                    } else {
                        let next = after.lines().next().unwrap_or("").trim();
                        Verdict::Missing(format!("code follows the boundary call: `{next}`"))
                    };
                }
            }
            _ => {}
        }
    }
    Verdict::Missing("the boundary call never closes".into())
}

/// `text` without its leading whitespace and comments.
fn skip_blank(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(comment) = text.strip_prefix("//") {
            text = comment.split_once('\n').map_or("", |(_, rest)| rest);
        } else if let Some(comment) = text.strip_prefix("/*") {
            text = comment.split_once("*/").map_or("", |(_, rest)| rest);
        } else {
            return text;
        }
    }
}

/// The code characters of Rust source with their byte offsets: comments, string and
/// character literals are skipped, so a `(` in a message does not count.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, at: 0 }
    }

    /// Skips the literal or comment at `self.at`, if one starts there.
    fn skip_literal(&mut self) -> bool {
        let rest = &self.text[self.at..];
        let end = if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            rest.find("*/").map_or(rest.len(), |end| end + 2)
        } else if let Some(raw) = raw_string_len(rest) {
            raw
        } else if rest.starts_with('"') {
            quoted_len(rest, '"')
        } else if rest.starts_with('\'') && is_char_literal(rest) {
            quoted_len(rest, '\'')
        } else {
            return false;
        };
        self.at += end;
        true
    }
}

impl Iterator for Scanner<'_> {
    type Item = (usize, char);

    fn next(&mut self) -> Option<(usize, char)> {
        while self.at < self.text.len() && self.skip_literal() {}
        let c = self.text[self.at..].chars().next()?;
        let at = self.at;
        self.at += c.len_utf8();
        Some((at, c))
    }
}

/// The length of `"..."` (or `'...'`) at the start of `text`, escapes included.
fn quoted_len(text: &str, quote: char) -> usize {
    let mut escaped = false;
    for (at, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            _ if c == quote => return at + 1,
            _ => {}
        }
    }
    text.len()
}

/// The length of a raw string (`r"..."`, `r#"..."#`) at the start of `text`.
fn raw_string_len(text: &str) -> Option<usize> {
    let after_r = text.strip_prefix('r')?;
    let hashes = after_r.len() - after_r.trim_start_matches('#').len();
    let body = after_r[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = body
        .find(&close)
        .map_or(body.len(), |end| end + close.len());
    Some(1 + hashes + 1 + end)
}

/// `'x'` or `'\n'` rather than a lifetime such as `'a`.
fn is_char_literal(text: &str) -> bool {
    let mut chars = text.chars().skip(1);
    match chars.next() {
        Some('\\') => true,
        Some(_) => chars.next() == Some('\''),
        None => false,
    }
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("read a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn every_exported_function_is_one_boundary_call() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut names = Vec::new();
    let mut missing = Vec::new();
    for path in rust_files(&src) {
        let source = std::fs::read_to_string(&path).expect("read a source file");
        let shown = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path);
        for export in exports(&source) {
            if let Verdict::Missing(why) = &export.verdict {
                missing.push(format!(
                    "{} ({}:{}): {why}",
                    export.name,
                    shown.display(),
                    export.line
                ));
            }
            names.push(export.name);
        }
    }
    // A scan that finds nothing proves nothing: these live in different files.
    for expected in ["luarun_version", "luarun_state_new", "luarun_frame_get"] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} not found among the exports: {names:?}"
        );
    }
    assert!(
        missing.is_empty(),
        "exported functions whose body is not one call of boundary(...) or \
         boundary_or(...) (or that lack a `{EXEMPTION} <reason>` line above the fn):\n  {}",
        missing.join("\n  ")
    );
}

/// Checks the checker: what it accepts and what it refuses.
mod checker {
    use super::*;

    fn verdict(source: &str) -> Verdict {
        let mut found = exports(source);
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0).verdict
    }

    #[test]
    fn accepts_a_boundary_call_after_comments() {
        let source = r#"
/// Doc.
#[no_mangle]
pub unsafe extern "C" fn luarun_thing(x: *mut u8, f: Option<unsafe extern "C" fn(u8)>) -> luarun_status {
    // SAFETY: a comment with a brace { and a paren (.
    boundary(|| {
        let text = format!("a ( in a string {}", ')');
        let _: &'static str = "";
        Ok(())
    })
}
"#;
        assert_eq!(verdict(source), Verdict::Boundary);
    }

    #[test]
    fn accepts_boundary_or_after_other_attributes() {
        let source = "#[no_mangle]\n#[allow(clippy::too_many_arguments)]\n\
                      pub extern \"C\" fn luarun_get() -> u32 {\n    boundary_or(0, || 7)\n}\n";
        assert_eq!(verdict(source), Verdict::Boundary);
    }

    #[test]
    fn refuses_a_body_without_a_boundary() {
        let source = "#[no_mangle]\npub extern \"C\" fn luarun_get() -> u32 {\n    7\n}\n";
        assert!(matches!(verdict(source), Verdict::Missing(why) if why.contains("`7`")));
    }

    #[test]
    fn refuses_code_before_or_after_the_boundary() {
        let before = "#[no_mangle]\npub extern \"C\" fn luarun_a() -> u32 {\n    \
                      let x = 1;\n    boundary_or(0, || x)\n}\n";
        assert!(matches!(verdict(before), Verdict::Missing(_)));
        let after = "#[no_mangle]\npub extern \"C\" fn luarun_b() -> usize {\n    \
                     let mut n = 0;\n    boundary(|| Ok(()));\n    n\n}\n";
        assert!(matches!(verdict(after), Verdict::Missing(_)));
        let tail = "#[no_mangle]\npub extern \"C\" fn luarun_c() -> usize {\n    \
                    boundary(|| Ok(()));\n    size\n}\n";
        assert!(matches!(verdict(tail), Verdict::Missing(why) if why.contains("`size`")));
    }

    #[test]
    fn exempts_only_with_a_reason_above_the_fn() {
        let with_reason = "#[no_mangle]\n// no boundary: returns a constant\n\
                           pub extern \"C\" fn luarun_k() -> u32 {\n    1\n}\n";
        assert_eq!(verdict(with_reason), Verdict::Exempt);
        let without =
            "#[no_mangle]\n// no boundary:\npub extern \"C\" fn luarun_k() -> u32 {\n    1\n}\n";
        assert!(matches!(verdict(without), Verdict::Missing(_)));
    }

    #[test]
    fn ignores_functions_that_are_not_exported() {
        let source = "pub extern \"C\" fn callback() {}\n#[no_mangle]\nstatic X: u8 = 0;\n";
        assert!(exports(source).is_empty());
    }
}
