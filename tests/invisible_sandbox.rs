//! The sandbox's guarded functions look exactly like Lua's own (issue 15): names in
//! errors and `debug.getinfo`, hook events, tracebacks, return and error values. Lua 5.4
//! flavor: there they are C functions (src guards.rs, coroutines.rs, the pattern port's
//! C closures).
#![cfg(not(feature = "luajit"))]

use luarun_core::state::{Libraries, Options, State};

fn state_with(libraries: u32) -> std::sync::Arc<State> {
    State::new(&Options {
        libraries: Libraries(libraries),
        ..Options::default()
    })
    .unwrap()
}

fn eval_string(state: &State, expr: &str) -> String {
    match state.eval(expr.as_bytes(), Some("=test")) {
        Ok(value) => value.to_string().unwrap(),
        Err(e) => panic!("{expr}: {}", e.message),
    }
}

#[test]
fn wrap_adds_the_callers_position_to_string_errors() {
    let state = state_with(Libraries::SAFE);
    let message = eval_string(
        &state,
        "select(2, pcall(function() coroutine.wrap(function() error('plain', 0) end)() end))",
    );
    assert_eq!(message, "test:1: plain");
}

#[test]
fn wrap_reports_an_error_raised_while_closing_the_coroutine() {
    let state = state_with(Libraries::SAFE);
    let message = eval_string(
        &state,
        "select(2, pcall(function() coroutine.wrap(function()
            local x <close> = setmetatable({}, {__close = function() error('in close', 0) end})
            error('original', 0)
        end)() end))",
    );
    assert_eq!(message, "test:4: in close");
}

#[test]
fn load_with_mode_b_refuses_text() {
    let state = State::new(&Options {
        allow_bytecode: true,
        ..Options::default()
    })
    .unwrap();
    let message = eval_string(&state, "select(2, load('return 1', 'chunk', 'b'))");
    assert_eq!(message, "attempt to load a text chunk (mode is 'b')");
    // Without bytecode, a binary chunk is refused whatever the mode.
    let sandboxed = state_with(Libraries::SAFE);
    let message = eval_string(&sandboxed, "select(2, load('\\27Lua', 'chunk', 'b'))");
    assert_eq!(message, "attempt to load a binary chunk (mode is 't')");
    let message = eval_string(
        &sandboxed,
        "select(2, load(coroutine.wrap(function() coroutine.yield('\\27Lua') end), 'c', 'bt'))",
    );
    assert_eq!(message, "attempt to load a binary chunk (mode is 't')");
}

#[test]
fn errors_name_the_functions_as_lua_does() {
    let state = state_with(Libraries::SAFE);
    assert_eq!(
        eval_string(&state, "select(2, pcall(setmetatable, 1, {}))"),
        "bad argument #1 to 'setmetatable' (table expected, got number)"
    );
    assert_eq!(
        eval_string(&state, "select(2, pcall(setmetatable, {}, 1))"),
        "bad argument #2 to 'setmetatable' (nil or table expected, got number)"
    );
    assert_eq!(
        eval_string(&state, "select(2, pcall(coroutine.resume, 1))"),
        "bad argument #1 to 'coroutine.resume' (thread expected, got number)"
    );
    assert_eq!(
        eval_string(&state, "select(2, pcall(xpcall, print))"),
        "bad argument #2 to 'xpcall' (function expected, got no value)"
    );
    // Finalizers are still refused, at the caller's line.
    let message = eval_string(
        &state,
        "select(2, pcall(function() setmetatable({}, {__gc = print}) end))",
    );
    assert!(
        message.starts_with("test:1: __gc metamethods are disabled"),
        "{message}"
    );
}

#[test]
fn guarded_functions_are_c_functions() {
    let state = state_with(Libraries::ALL);
    for name in [
        "pcall",
        "xpcall",
        "load",
        "setmetatable",
        "coroutine.resume",
        "coroutine.wrap",
        "coroutine.close",
        "string.find",
        "string.match",
        "string.gmatch",
        "string.gsub",
        "string.rep",
        "string.gmatch('a', 'a')",
        "coroutine.wrap(print)",
    ] {
        assert_eq!(
            eval_string(&state, &format!("debug.getinfo({name}).what")),
            "C",
            "{name}"
        );
    }
    assert_eq!(eval_string(&state, "debug.getinfo(print, 'u').nups"), "0");
    assert_eq!(
        eval_string(&state, "debug.getupvalue(string.gmatch('x', 'x'), 1)"),
        ""
    );
}

#[test]
fn tracebacks_show_no_luarun_frames() {
    let state = state_with(Libraries::ALL);
    let traceback = eval_string(
        &state,
        "select(2, xpcall(function() error('x') end, debug.traceback))",
    );
    assert!(!traceback.contains("luarun"), "{traceback}");
    assert!(!traceback.contains("raw_"), "{traceback}");
    assert!(
        traceback.contains("[C]: in function 'xpcall'"),
        "{traceback}"
    );
    // Inside a __close handler run under pcall, the caller is pcall itself.
    let name = eval_string(
        &state,
        "(function()
            local name
            pcall(function()
              local x <close> = setmetatable({}, {__close = function() name = debug.getinfo(2).name end})
              error('e')
            end)
            return name
          end)()",
    );
    assert_eq!(name, "pcall");
}

#[test]
fn pattern_functions_raise_no_tail_call_events() {
    let state = state_with(Libraries::ALL);
    let events = eval_string(
        &state,
        "(function()
            local events = {}
            debug.sethook(function(e) events[#events + 1] = e end, 'cr')
            string.find('abc', 'b')
            debug.sethook()
            return table.concat(events, ',')
          end)()",
    );
    assert!(!events.contains("tail call"), "{events}");
    // A pattern error names the caller's line, as luaL_error does.
    assert_eq!(
        eval_string(
            &state,
            "select(2, pcall(function() return ('x'):find('%') end))"
        ),
        "test:1: malformed pattern (ends with '%')"
    );
}

#[test]
fn coroutines_nest_as_deeply_as_lua_allows() {
    let state = state_with(Libraries::SAFE);
    let depth = eval_string(
        &state,
        "(function()
            local depth = 0
            local function nest()
              depth = depth + 1
              coroutine.wrap(nest)()
            end
            pcall(nest)
            return depth
          end)()",
    );
    let depth: u32 = depth.parse().unwrap();
    assert!(depth > 150, "{depth}");
}

#[test]
fn a_c_stack_overflow_in_recursive_gsub_is_a_plain_string() {
    let state = state_with(Libraries::SAFE);
    for code in [
        // A function replacement calling gsub again, and a table whose __index does.
        "local function f() string.gsub('a', '.', f) end \
         local ok, e = pcall(f) return type(e) .. ':' .. e",
        "local f local t = setmetatable({}, {__index = function() return f() end}) \
         f = function() string.gsub('a', '.', t) end \
         local ok, e = pcall(f) return type(e) .. ':' .. e",
    ] {
        let result = eval_string(&state, &format!("(function() {code} end)()"));
        assert!(result.starts_with("string:"), "{result}");
        assert!(result.contains("stack overflow"), "{result}");
        assert!(!result.contains("stack traceback"), "{result}");
    }
}
