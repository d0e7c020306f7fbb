//! The layers stay layers: the core crates (`crates/*`) never speak the C API's
//! language. Messages and docs there name no `luarun_*` C item and no `LUARUN_*`
//! constant; the C API crate (`src/`) words options and statuses for C, each binding in
//! its own vocabulary, from the structured error detail.

use std::path::{Path, PathBuf};

/// Every `.rs` and `.lua` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name == "target") {
                continue;
            }
            sources(&path, out);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "rs" || ext == "lua")
        {
            out.push(path);
        }
    }
}

/// Whether `line` names a C item: `luarun_x` that is not one of the workspace's crate
/// names, or any `LUARUN_` constant.
fn c_name_in(line: &str) -> Option<String> {
    const CRATES: [&str; 3] = ["luarun_core", "luarun_pattern", "luarun_render"];
    if let Some(at) = line.find("LUARUN_") {
        return Some(line[at..].chars().take(30).collect());
    }
    let mut rest = line;
    while let Some(at) = rest.find("luarun_") {
        let word: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !CRATES.contains(&word.as_str()) {
            return Some(word);
        }
        rest = &rest[at + word.len()..];
    }
    None
}

#[test]
fn core_crates_name_no_c_items() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 20, "found only {} core sources", files.len());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (number, line) in text.lines().enumerate() {
            if let Some(name) = c_name_in(line) {
                found.push(format!("{}:{}: {name}", file.display(), number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "C names in core crates (word them neutrally there; the C API crate and the \
         bindings name options in their own vocabulary):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_detector_sees_c_names_and_skips_crate_names() {
    assert_eq!(c_name_in("use luarun_core::state;"), None);
    assert_eq!(
        c_name_in("see luarun_state_new"),
        Some("luarun_state_new".into())
    );
    assert!(c_name_in("gives LUARUN_ERR_MEMORY").is_some());
}
