//! Lua modules: host-preloaded sources in sandboxed states, module paths, C modules built
//! against the shipped headers, and the Lua C API the shared library exports, in both
//! flavors. (Debian's lpeg, cjson and lfs are exercised from C and Python:
//! tests/c/test_modules.c, tests/python/test_modules.py.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use luarun_core::error::{ErrorKind, Setting};
use luarun_core::state::{call_limits, Libraries, Options, State};

const PACKAGE: u32 = 1 << 7;
const FLAVOR_DIR: &str = if cfg!(feature = "luajit") {
    "luajit"
} else {
    "lua54"
};

fn sandboxed() -> Arc<State> {
    State::new(&Options::default()).expect("state")
}

fn with_package() -> Arc<State> {
    State::new(&Options {
        libraries: Libraries(Libraries(0x1f).0 | PACKAGE),
        ..Options::default()
    })
    .expect("state")
}

fn eval_string(state: &State, expression: &str) -> String {
    match state.eval(expression.as_bytes(), None).expect(expression) {
        mlua::Value::String(s) => s.to_string_lossy(),
        other => panic!("{expression} gave {other:?}"),
    }
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("luarun-modules-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sandboxed_states_have_no_require_until_a_module_is_preloaded() {
    let state = sandboxed();
    assert_eq!(eval_string(&state, "type(require)"), "nil");
    state
        .preload(
            "greeting",
            b"local name = ... return { hello = 'hello from ' .. name }",
        )
        .unwrap();
    assert_eq!(
        eval_string(&state, "require('greeting').hello"),
        "hello from greeting"
    );
    assert_eq!(
        eval_string(
            &state,
            "tostring(require('greeting') == require('greeting'))"
        ),
        "true"
    );
    assert_eq!(eval_string(&state, "type(package)"), "nil");
}

#[test]
fn the_minimal_require_names_what_it_can_find() {
    let state = sandboxed();
    state.preload("present", b"return 1").unwrap();
    let error = state.exec(b"require 'absent'", None).unwrap_err();
    assert!(
        error.message.contains("module 'absent' not found") && error.message.contains("preloaded"),
        "{}",
        error.message
    );
    let error = state.exec(b"require(42)", None).unwrap_err();
    assert!(
        error.message.contains("string expected"),
        "{}",
        error.message
    );
}

#[test]
fn preloaded_sources_load_as_text_under_the_states_limits() {
    let state = State::new(&Options {
        call_limits: call_limits(100_000, 0),
        ..Options::default()
    })
    .unwrap();
    state.preload("spin", b"while true do end").unwrap();
    let error = state.exec(b"require 'spin'", None).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Interrupted, "{}", error.message);
    state.preload("binary", b"\x1bLua\x54\x00garbage").unwrap();
    let error = state.exec(b"require 'binary'", None).unwrap_err();
    // Lua 5.4: "attempt to load a binary chunk"; LuaJIT: "... chunk with wrong mode".
    assert!(
        error.message.contains("binary chunk") || error.message.contains("wrong mode"),
        "{}",
        error.message
    );
    state.preload("broken", b"return (").unwrap();
    let error = state.exec(b"require 'broken'", None).unwrap_err();
    assert!(
        error.message.contains("error loading module 'broken'")
            && error.message.contains("broken:1:"),
        "{}",
        error.message
    );
    // The state stays usable.
    assert_eq!(eval_string(&state, "'still here'"), "still here");
}

#[test]
fn preloads_reach_lua_s_own_require_where_package_is_open() {
    let state = with_package();
    state.preload("answer", b"return 42").unwrap();
    assert_eq!(eval_string(&state, "tostring(require 'answer')"), "42");
    assert_eq!(
        eval_string(&state, "type(package.preload.answer)"),
        "function"
    );
}

#[test]
fn module_paths_need_the_package_library() {
    let state = sandboxed();
    for error in [
        state.set_module_path(b"/tmp/?.lua").unwrap_err(),
        state.set_c_module_path(b"/tmp/?.so").unwrap_err(),
    ] {
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        assert!(
            error.message.contains("package library"),
            "{}",
            error.message
        );
        assert_eq!(error.setting, Some(Setting::Library(Libraries::PACKAGE)));
    }
}

#[test]
fn lua_modules_load_from_the_module_path() {
    let dir = scratch_dir("path");
    std::fs::write(
        dir.join("shapes.lua"),
        "return { sides = function() return 4 end }",
    )
    .unwrap();
    let state = with_package();
    let path = format!("{}/?.lua", dir.display());
    state.set_module_path(path.as_bytes()).unwrap();
    assert_eq!(eval_string(&state, "package.path"), path);
    assert_eq!(
        eval_string(&state, "tostring(require('shapes').sides())"),
        "4"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn c_modules_are_off_until_a_c_module_path_is_set() {
    let Some(module) = build_own_module("off") else {
        return;
    };
    let state = with_package();
    let cpath = format!("{}/?.so", module.parent().unwrap().display());
    state
        .exec(format!("package.cpath = {cpath:?}").as_bytes(), None)
        .unwrap();
    let error = state.exec(b"require 'twice'", None).unwrap_err();
    assert!(
        error.message.contains("module 'twice' not found"),
        "{}",
        error.message
    );
}

#[test]
fn a_c_module_built_against_the_shipped_headers_loads() {
    let Some(module) = build_own_module("on") else {
        return;
    };
    let state = with_package();
    let cpath = format!("{}/?.so", module.parent().unwrap().display());
    state.set_c_module_path(cpath.as_bytes()).unwrap();
    assert_eq!(
        eval_string(&state, "tostring(require('twice').twice(21) == 42)"),
        "true"
    );
    let expected = if cfg!(feature = "luajit") {
        "501"
    } else {
        "504"
    };
    assert_eq!(
        eval_string(&state, "tostring(require('twice').version_num)"),
        expected
    );
    // A file without the open function says so.
    std::fs::copy(&module, module.with_file_name("other.so")).unwrap();
    let error = state.exec(b"require 'other'", None).unwrap_err();
    assert!(error.message.contains("luaopen_other"), "{}", error.message);
    // Not found lists the C path's files too.
    let error = state.exec(b"require 'missing'", None).unwrap_err();
    assert!(error.message.contains("missing.so"), "{}", error.message);
}

/// Builds tests/c/lua_module/twice.c against include/<flavor> into a fresh directory;
/// None (with a message) where no C compiler is available.
fn build_own_module(tag: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = scratch_dir(&format!("c-{tag}"));
    let output = dir.join("twice.so");
    let built = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-I"])
        .arg(root.join("include").join(FLAVOR_DIR))
        .arg(root.join("tests/c/lua_module/twice.c"))
        .arg("-o")
        .arg(&output)
        .status();
    match built {
        Ok(status) if status.success() => Some(output),
        Ok(status) => panic!("building the test module failed: {status}"),
        Err(error) => {
            eprintln!("SKIPPED: no C compiler to build the test module ({error})");
            None
        }
    }
}

#[test]
fn shipped_lua_headers_are_the_vendored_ones() {
    let Some(vendored) = option_env!("LUARUN_VENDORED_LUA_INCLUDE") else {
        panic!("build.rs found no vendored Lua headers");
    };
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("include")
        .join(FLAVOR_DIR);
    let bless = std::env::var_os("LUARUN_BLESS_HEADER").is_some();
    let mut compared = 0;
    for entry in std::fs::read_dir(vendored).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let fresh = std::fs::read(entry.path()).unwrap();
        let target = shipped.join(&name);
        if bless {
            std::fs::create_dir_all(&shipped).unwrap();
            std::fs::write(&target, &fresh).unwrap();
        }
        let checked_in = std::fs::read(&target).unwrap_or_default();
        assert!(
            checked_in == fresh,
            "{} differs from the vendored {}; run LUARUN_BLESS_HEADER=1 cargo test --test modules",
            target.display(),
            entry.path().display()
        );
        compared += 1;
    }
    assert!(
        compared >= 4,
        "only {compared} vendored headers found in {vendored}"
    );
}

#[test]
fn the_shared_library_exports_its_lua_c_api_and_nothing_else_new() {
    let exe = std::env::current_exe().unwrap();
    let library = exe.parent().unwrap().parent().unwrap().join("libluarun.so");
    if !library.exists() || !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: no {} to inspect", library.display());
        return;
    }
    let Ok(listing) = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&library)
        .output()
    else {
        eprintln!("SKIPPED: nm not found (binutils)");
        return;
    };
    let listing = String::from_utf8(listing.stdout).unwrap();
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .collect();
    let foreign: Vec<&&str> = names
        .iter()
        .filter(|name| {
            !["luarun_", "lua_", "luaL_", "luaopen_", "luaJIT_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .collect();
    assert!(foreign.is_empty(), "unexpected exports: {foreign:?}");
    for needed in [
        "lua_gettop",
        "lua_pushcclosure",
        "luaL_checklstring",
        "luaL_openlibs",
        "luaopen_base",
    ] {
        assert!(names.contains(&needed), "{needed} is not exported");
    }
    if cfg!(feature = "luajit") {
        assert!(names.contains(&"luaJIT_setmode"));
    } else {
        assert!(names.contains(&"lua_ident") && names.contains(&"lua_setcstacklimit"));
    }
}
