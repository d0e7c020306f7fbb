//! The Lua C API out of the shared library, for C modules (`require` of a `.so`).
//!
//! rustc links a cdylib with a version script that keeps every symbol local except its
//! own `#[no_mangle]` items, so the vendored Lua's `lua_*` functions are invisible to the
//! modules that need them. LLD merges a second version script into rustc's (GNU ld
//! refuses two), so this one names the API: `lua_*`, `luaL_*`, `luaopen_*` and
//! (LuaJIT) `luaJIT_*`. Three more arguments make that safe and complete:
//!
//! - `-Bsymbolic`: the library's own calls of those functions stay inside it, even when
//!   another library in the process (the other flavor, a system liblua) exports the same
//!   names first; without it the dynamic linker could bind them to the wrong Lua.
//! - `-u name` for every function the headers declare, so the archive members defining
//!   functions that luarun itself never calls are linked in as well.
//! - `-fuse-ld=lld` with rustc's own LLD, where rustc does not use it already.
//!
//! Shared by two build scripts: the C API crate's (`build.rs`: [`configure_exports`],
//! the linker arguments, and the vendored headers' directory for the tests,
//! `LUARUN_VENDORED_LUA_INCLUDE`, which compare them with `include/lua54` and
//! `include/luajit`) and luarun-core's (`crates/luarun-core/build.rs`:
//! [`write_names`], `lua_api_names.rs` for the run-time check in `modules/provider.rs`).
#![allow(dead_code)] // each build script uses its half

use std::path::{Path, PathBuf};

const PREFIXES: [&str; 4] = ["luaopen_", "luaJIT_", "luaL_", "lua_"];
const HEADERS: [&str; 4] = ["lua.h", "lauxlib.h", "lualib.h", "luajit.h"];

/// The vendored headers' directory (if found) and every API name they declare.
fn headers_and_names() -> (Option<PathBuf>, Vec<String>) {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let include = vendored_include(&out);
    let names = match &include {
        Some(include) => declared_names(include),
        None => FALLBACK_NAMES.iter().map(|name| name.to_string()).collect(),
    };
    (include, names)
}

/// luarun-core: writes `lua_api_names.rs` into `OUT_DIR`.
pub fn write_names() {
    let (include, names) = headers_and_names();
    if include.is_none() {
        println!(
            "cargo:warning=the vendored Lua's headers were not found: the run-time check \
             of who provides the Lua C API sees only a few of its names"
        );
    }
    let listing: String = names
        .iter()
        .map(|name| format!("    {name:?},\n"))
        .collect();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(
        out.join("lua_api_names.rs"),
        format!("/// Every name the vendored Lua's headers declare.\npub(crate) const LUA_API_NAMES: &[&str] = &[\n{listing}];\n"),
    )
    .unwrap();
}

/// The C API crate: the linker arguments that export the API from the cdylib (ELF
/// only), and the headers' directory for the tests.
pub fn configure_exports(elf: bool) {
    let (include, names) = headers_and_names();
    if let Some(include) = &include {
        println!(
            "cargo:rustc-env=LUARUN_VENDORED_LUA_INCLUDE={}",
            include.display()
        );
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    if !elf {
        return;
    }
    // Test programs link luarun statically; exporting their symbols lets the C modules
    // they load bind to it, as a program linking libluarun.a must (see the README).
    println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic");
    let Some(use_lld) = lld_arguments() else {
        println!(
            "cargo:warning=no LLD found: libluarun will not export the Lua C API, and \
             C modules will be refused at run time"
        );
        return;
    };
    let script = out.join("lua_api.ver");
    std::fs::write(
        &script,
        "{\n  global:\n    lua_*;\n    luaL_*;\n    luaopen_*;\n    luaJIT_*;\n};\n",
    )
    .unwrap();
    for argument in use_lld {
        println!("cargo:rustc-cdylib-link-arg={argument}");
    }
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        script.display()
    );
    println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic");
    for name in names.iter().filter(|name| name.as_str() != "lua_ident") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-u,{name}");
    }
}

/// Names both flavors define, for when the headers cannot be found.
const FALLBACK_NAMES: [&str; 4] = [
    "lua_gettop",
    "lua_settop",
    "lua_pushlstring",
    "luaL_checklstring",
];

/// Where mlua-sys put the vendored Lua's headers: its `cargo:include` (Lua 5.4; a
/// direct dependency on mlua-sys makes it visible here), else its output directory next
/// to ours (LuaJIT's build reports none), the newest if there are several.
fn vendored_include(out: &Path) -> Option<PathBuf> {
    if let Some(include) = std::env::var_os("DEP_LUA_INCLUDE") {
        return Some(PathBuf::from(include));
    }
    let build_dir = out.parent()?.parent()?;
    // Builds of both flavors may share a target directory: only LuaJIT's has luajit.h.
    let luajit = std::env::var_os("CARGO_FEATURE_LUAJIT").is_some();
    std::fs::read_dir(build_dir)
        .ok()?
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("mlua-sys-"))
        .map(|entry| entry.path().join("out/include"))
        .filter(|include| include.join("luajit.h").exists() == luajit)
        .filter_map(|include| {
            let modified = std::fs::metadata(include.join("lua.h"))
                .ok()?
                .modified()
                .ok()?;
            Some((modified, include))
        })
        .max()
        .map(|(_, include)| include)
}

/// The names declared by `LUA_API`, `LUALIB_API` and `LUAMOD_API` lines, and `lua_ident`
/// where lua.h declares it.
fn declared_names(include: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for header in HEADERS {
        let Ok(text) = std::fs::read_to_string(include.join(header)) else {
            continue;
        };
        // Lua 5.4's one data symbol: its version string.
        if text.contains("extern const char lua_ident[];") {
            names.push("lua_ident".to_string());
        }
        // luajit.h declares its version function through a macro.
        let version_symbol = text.lines().find_map(|line| {
            line.strip_prefix("#define LUAJIT_VERSION_SYM")
                .map(|rest| rest.trim().to_string())
        });
        for line in text.lines() {
            let line = line.trim_start();
            let is_declaration = ["LUA_API", "LUALIB_API", "LUAMOD_API"]
                .iter()
                .any(|api| line.starts_with(api));
            if !is_declaration {
                continue;
            }
            let name = if line.contains("LUAJIT_VERSION_SYM") {
                version_symbol.clone()
            } else {
                first_api_identifier(line)
            };
            if let Some(name) = name {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// The declared function's name: the API identifier in parentheses (`(lua_gettop)`, as
/// lua.h writes them), else the first one followed by its argument list
/// (`luaopen_base(lua_State *L)`, `lua_copy (lua_State *L, ...)`). Return types (`lua_State *`) are neither.
fn first_api_identifier(line: &str) -> Option<String> {
    let is_api = |word: &str| {
        PREFIXES
            .iter()
            .any(|prefix| word.starts_with(prefix) && word.len() > prefix.len())
    };
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in line.char_indices().chain([(line.len(), ' ')]) {
        let part_of_word = c.is_ascii_alphanumeric() || c == '_';
        match (start, part_of_word) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                let next = line[at..].trim_start().chars().next().unwrap_or(' ');
                words.push((&line[from..at], line[..from].chars().last(), next));
                start = None;
            }
            _ => {}
        }
    }
    let parenthesized = words
        .iter()
        .find(|(word, before, after)| is_api(word) && *before == Some('(') && *after == ')');
    let called = || {
        words
            .iter()
            .find(|(word, _, after)| is_api(word) && *after == '(')
    };
    parenthesized
        .or_else(called)
        .map(|(word, _, _)| word.to_string())
}

/// Linker arguments that make the C compiler driver link with LLD: none when rustc
/// links with it already (its own `gcc-ld` directory holds `ld.lld`), `None` when none
/// is available.
fn lld_arguments() -> Option<Vec<String>> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let host = std::env::var("HOST").unwrap_or_default();
    let sysroot = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    if let Some(sysroot) = sysroot {
        let gcc_ld = sysroot.join(format!("lib/rustlib/{host}/bin/gcc-ld"));
        if gcc_ld.join("ld.lld").exists() {
            return Some(vec![
                format!("-B{}", gcc_ld.display()),
                "-fuse-ld=lld".to_string(),
            ]);
        }
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("ld.lld").exists()));
    on_path.then(|| vec!["-fuse-ld=lld".to_string()])
}
