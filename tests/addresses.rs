//! Default states hand out no addresses (issue 19 item 16): `tostring`, `string.format`'s
//! `%s` and `%p`, `print` and host objects show a keyed permutation of an object's
//! address instead of the address, which for C functions (`tostring(print)`) used to
//! reveal where libluarun is loaded. And `print` goes where the host says.

use std::sync::{Arc, Mutex};

use luarun_core::addresses::hide;
use luarun_core::error::ErrorKind;
use luarun_core::state::{Options, State};

fn state() -> Arc<State> {
    State::new(&Options::default()).unwrap()
}

fn eval_string(state: &State, expr: &str) -> String {
    match state.eval(expr.as_bytes(), None) {
        Ok(value) => value.to_string().unwrap(),
        Err(e) => panic!("{expr}: {}", e.message),
    }
}

/// What luarun shows for `value` (a global's value): `kind: 0x<hidden address>`.
fn shown(state: &State, kind: &str, global: &str) -> String {
    let value: mlua::Value = state.lua().globals().get(global).unwrap();
    let address = value.to_pointer() as usize;
    assert_ne!(address, 0, "{global} has an address");
    format!("{kind}: 0x{:016x}", hide(address))
}

#[test]
fn tostring_shows_hidden_addresses() {
    let state = state();
    state
        .exec(
            b"t = {} f = function() end co = coroutine.create(f) p = print ts = tostring",
            None,
        )
        .unwrap();
    for (kind, global) in [
        ("table", "t"),
        ("function", "f"),
        ("thread", "co"),
        ("function", "p"),
        ("function", "ts"),
    ] {
        let expected = shown(&state, kind, global);
        assert_eq!(
            eval_string(&state, &format!("tostring({global})")),
            expected
        );
        assert_eq!(
            eval_string(&state, &format!("string.format('%s', {global})")),
            expected
        );
        // The real address appears nowhere.
        let value: mlua::Value = state.lua().globals().get(global).unwrap();
        let real = format!("{:x}", value.to_pointer() as usize);
        assert!(!expected.contains(&real), "{expected} shows {real}");
    }
}

#[test]
fn tostring_is_still_an_identity_and_keeps_lua_semantics() {
    let state = state();
    let checks = [
        "(function() local a, b = {}, {} \
           return tostring(a) ~= tostring(b) and tostring(a) == tostring(a) end)()",
        "tostring(setmetatable({}, {__tostring = function() return 'custom' end})) == 'custom'",
        "tostring(1.5) == '1.5' and tostring(10) == '10' and tostring(nil) == 'nil' \
           and tostring(true) == 'true' and tostring('s') == 's'",
        "string.format('%5.1f|%d|%%p|%s', 1.25, 3, 'x') == '  1.2|3|%p|x'",
        "not pcall(tostring)",
        "select(2, pcall(tostring, setmetatable({}, {__tostring = function() return {} end}))) \
           :find('__tostring', 1, true) ~= nil",
    ];
    for check in checks {
        assert_eq!(
            eval_string(&state, &format!("tostring({check})")),
            "true",
            "{check}"
        );
    }
    if cfg!(feature = "lua54") {
        // __name names the type, as in Lua 5.4.
        let named = eval_string(&state, "tostring(setmetatable({}, {__name = 'Point'}))");
        assert!(named.starts_with("Point: 0x"), "{named}");
    }
}

#[test]
#[cfg(feature = "lua54")]
fn format_p_shows_hidden_addresses() {
    let state = state();
    state.exec(b"t = {} s = 'a string'", None).unwrap();
    let table = shown(&state, "table", "t");
    assert_eq!(
        eval_string(&state, "string.format('%p', t)"),
        &table["table: ".len()..]
    );
    let string = eval_string(&state, "string.format('<%p>', s)");
    let real = format!(
        "{:x}",
        state.eval(b"s", None).unwrap().to_pointer() as usize
    );
    assert!(!string.contains(&real), "{string}");
    assert_eq!(eval_string(&state, "string.format('%p', 1)"), "(null)");
    // Widths still apply; arguments after a %p keep their places.
    let wide = eval_string(&state, "string.format('%-20p|%d|%p', t, 7, print)");
    assert!(
        wide.starts_with(&format!("{:<20}|7|0x", &table["table: ".len()..])),
        "{wide}"
    );
}

/// A state whose `print` lines are collected.
fn collecting() -> (Arc<State>, Arc<Mutex<Vec<u8>>>) {
    let state = state();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    state.set_print(Some(Arc::new(move |line: &[u8]| {
        sink.lock().unwrap().extend_from_slice(line);
        Ok(())
    })));
    (state, lines)
}

#[test]
fn print_goes_to_the_writer_the_host_sets_without_addresses() {
    let (state, lines) = collecting();
    state
        .exec(
            b"t = {} print(1, 'two', nil, t) print() print('a\\0b')",
            None,
        )
        .unwrap();
    let expected = format!("1\ttwo\tnil\t{}\n\na\0b\n", shown(&state, "table", "t"));
    assert_eq!(String::from_utf8_lossy(&lines.lock().unwrap()), expected);
    // __tostring is honoured, as by Lua's print.
    lines.lock().unwrap().clear();
    state
        .exec(
            b"print(setmetatable({}, {__tostring = function() return 'me' end}))",
            None,
        )
        .unwrap();
    assert_eq!(&*lines.lock().unwrap(), b"me\n");
}

#[test]
fn a_failing_writer_is_a_lua_error_and_none_restores_stdout() {
    let state = state();
    state.set_print(Some(Arc::new(|_: &[u8]| Err("disk full".to_string()))));
    let message = eval_string(&state, "select(2, pcall(print, 'x'))");
    assert!(message.contains("disk full"), "{message}");
    let err = state.exec(b"print('x')", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Runtime);
    state.set_print(None);
    state.exec(b"print('back on stdout')", None).unwrap();
}

#[test]
fn the_hosts_tostring_shows_what_scripts_see() {
    let state = state();
    state
        .exec(b"t = {} f = function() end c = print", None)
        .unwrap();
    for global in ["t", "f", "c"] {
        let value: mlua::Value = state.lua().globals().get(global).unwrap();
        let from_host = state
            .to_string(value)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            from_host,
            eval_string(&state, &format!("tostring({global})"))
        );
        assert!(from_host.contains("0x"), "{from_host}");
    }
    // Whatever a script does to the global afterwards.
    state
        .exec(b"tostring = function() return 'x' end", None)
        .unwrap();
    let value: mlua::Value = state.lua().globals().get("t").unwrap();
    assert!(state
        .to_string(value)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("table: 0x"));
}
