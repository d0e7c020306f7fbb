//! Binary chunks: every way Lua code can load code refuses bytecode unless the options
//! allow it (hand-made bytecode can crash the VM), in both flavors.

use std::path::PathBuf;
use std::sync::Arc;

use luarun_core::state::{Libraries, Options, State};

/// The Lua libraries plus `io` (dofile, loadfile) and `package` (require).
const SAFE_IO_PACKAGE: u32 = 0x1f | (1 << 6) | (1 << 7);

fn state(allow_bytecode: bool) -> Arc<State> {
    State::new(&Options {
        libraries: Libraries(SAFE_IO_PACKAGE),
        allow_bytecode,
        ..Options::default()
    })
    .expect("state")
}

/// A real dump of a function that marks that it ran, made by a state that may dump.
fn dumped_chunk() -> Vec<u8> {
    let maker = state(true);
    let value = maker
        .eval(
            b"string.dump(function() ran = (ran or 0) + 1 return 'ran' end)",
            None,
        )
        .expect("string.dump with allow_bytecode");
    let mlua::Value::String(bytes) = value else {
        panic!("string.dump returned {value:?}")
    };
    bytes.as_bytes().to_vec()
}

/// A directory with `dumped.lua` (bytecode), `mangled.lua` (bytecode with its body
/// overwritten, the shape that crashes the VM) and `hashbang.lua` (a `#!` line, then
/// bytecode).
fn chunk_files(chunk: &[u8], test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("luarun-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dumped.lua"), chunk).unwrap();
    let mut mangled = chunk.to_vec();
    for byte in mangled.iter_mut().skip(8) {
        *byte = 0xff;
    }
    std::fs::write(dir.join("mangled.lua"), mangled).unwrap();
    let mut hashbang = b"#!/usr/bin/env lua\n".to_vec();
    hashbang.extend_from_slice(chunk);
    std::fs::write(dir.join("hashbang.lua"), hashbang).unwrap();
    dir
}

fn prepare(state: &State, chunk: &[u8], dir: &std::path::Path) {
    let dir = dir.to_str().unwrap();
    state
        .run(|lua| {
            let globals = lua.globals();
            globals.set("chunk", lua.create_string(chunk)?)?;
            globals.set("dir", dir)?;
            lua.load("package.path = dir .. '/?.lua'").exec()
        })
        .unwrap();
}

/// Each entry point, given `chunk` (bytecode as a string) and files in `dir`; each
/// expression raises or returns nil plus a message when loading fails.
fn loaders() -> Vec<&'static str> {
    let mut shapes = vec![
        "assert(load(chunk))()",
        "assert(load(chunk, 'c', 'b'))()",
        "assert(load(chunk, 'c', 'bt', _G))()",
        "assert(load(chunk, 'c', 'b', nil))()",
        // A reader function handing the chunk over in pieces.
        "local i = 0 assert(load(function() i = i + 1 return chunk:sub(i * 8 - 7, i * 8) \
         end, 'reader', 'b'))()",
        "assert(loadfile(dir .. '/dumped.lua'))()",
        "assert(loadfile(dir .. '/dumped.lua', 'b'))()",
        "assert(loadfile(dir .. '/dumped.lua', 'b', _G))()",
        "assert(loadfile(dir .. '/hashbang.lua', 'b'))()",
        "dofile(dir .. '/dumped.lua')",
        "dofile(dir .. '/mangled.lua')",
        "require('dumped')",
        "require('mangled')",
        "assert(load(chunk:sub(1, 8) .. string.rep('\\255', #chunk - 8)))()",
    ];
    if cfg!(feature = "luajit") {
        shapes.extend([
            "assert(loadstring(chunk))()",
            "assert(loadstring(chunk, 'c', 'b'))()",
            "assert(loadstring(chunk:sub(1, 8) .. string.rep('\\255', #chunk - 8), 'c', 'b'))()",
        ]);
    }
    shapes
}

#[test]
fn no_loader_runs_bytecode_unless_allowed() {
    let chunk = dumped_chunk();
    let dir = chunk_files(&chunk, "refused");
    let state = state(false);
    prepare(&state, &chunk, &dir);
    for code in loaders() {
        let err = state
            .exec(code.as_bytes(), None)
            .expect_err(&format!("{code}: loaded bytecode"));
        let lowered = err.message.to_lowercase();
        assert!(
            // Lua 5.4 and LuaJIT say it in their words; LuaJIT refuses bytecode after a
            // `#!` line whatever the mode.
            ["binary chunk", "wrong mode", "malformed bytecode"]
                .iter()
                .any(|refusal| lowered.contains(refusal)),
            "{code}: {}",
            err.message
        );
        assert_eq!(
            state.eval(b"ran", None).unwrap(),
            mlua::Value::Nil,
            "{code} ran the chunk"
        );
    }
    // require without `io` (no loadfile global) refuses it too.
    let package_only = State::new(&Options {
        libraries: Libraries(0x1f | (1 << 7)),
        ..Options::default()
    })
    .unwrap();
    prepare(&package_only, &chunk, &dir);
    for code in ["require('dumped')", "require('mangled')"] {
        let err = package_only.exec(code.as_bytes(), None).expect_err(code);
        assert!(err.message.contains("binary chunk") || err.message.contains("wrong mode"));
        assert_eq!(package_only.eval(b"ran", None).unwrap(), mlua::Value::Nil);
    }
    // Text still loads through every one of them.
    std::fs::write(dir.join("text.lua"), "return 'text'").unwrap();
    for code in [
        "return load('return 1')()",
        "return loadfile(dir .. '/text.lua')() and 1",
        "return dofile(dir .. '/text.lua') and 1",
        "return require('text') and 1",
    ] {
        let value = state.load(code.as_bytes(), None).unwrap();
        let result = state.call(&value, mlua::MultiValue::new()).expect(code);
        assert_eq!(result.into_iter().next(), Some(mlua::Value::Integer(1)));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn string_dump_exists_only_when_bytecode_is_allowed() {
    for (allow, expected) in [(false, "nil"), (true, "function")] {
        let state = state(allow);
        let value = state.eval(b"type(string.dump)", None).unwrap();
        assert_eq!(
            value.to_string().unwrap(),
            expected,
            "allow_bytecode {allow}"
        );
    }
}

#[test]
fn allow_bytecode_loads_it_everywhere() {
    // The control: the same shapes (well-formed chunks only) run when allowed, so the
    // test above fails for the right reason.
    let chunk = dumped_chunk();
    let dir = chunk_files(&chunk, "allowed");
    let state = state(true);
    prepare(&state, &chunk, &dir);
    let well_formed: Vec<_> = loaders()
        .into_iter()
        .filter(|code| !code.contains("mangled") && !code.contains("255"))
        .filter(|code| !code.contains("hashbang")) // LuaJIT refuses that on its own
        // Lua 5.4 gives the chunk a nil _ENV there: it loads, then cannot set `ran`.
        .filter(|code| cfg!(feature = "luajit") || !code.contains("nil)"))
        .collect();
    for code in well_formed {
        state.exec(b"ran = nil", None).unwrap();
        state
            .exec(code.as_bytes(), None)
            .unwrap_or_else(|e| panic!("{code}: {}", e.message));
        assert_eq!(
            state.eval(b"ran", None).unwrap(),
            mlua::Value::Integer(1),
            "{code}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
