//! Lua 5.4 `__close` handlers run by `coroutine.close(co)`, or by `coroutine.wrap` after
//! the coroutine failed, run on that coroutine's own Lua thread, which was never hooked:
//! a loop in such a handler ignored the time limit and interrupts. And luarun's
//! `coroutine.wrap` must fail as Lua's does (the close handler's error wins; string
//! errors get the caller's position).
#![cfg(feature = "lua54")]

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use luarun_core::error::ErrorKind;
use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

const LOOPING_CLOSE: &str =
    "local x <close> = setmetatable({}, {__close = function() while true do end end})";

/// Each shape ends up in a looping `__close` handler on a coroutine.
fn shapes() -> Vec<String> {
    vec![
        format!(
            "local co = coroutine.create(function() {LOOPING_CLOSE} coroutine.yield() end) \
             coroutine.resume(co) coroutine.close(co)"
        ),
        format!(
            "local co = coroutine.create(function() {LOOPING_CLOSE} coroutine.yield() end) \
             coroutine.resume(co) while true do pcall(coroutine.close, co) end"
        ),
        format!("coroutine.wrap(function() {LOOPING_CLOSE} error('boom') end)()"),
        format!("while true do pcall(coroutine.wrap(function() {LOOPING_CLOSE} error('x') end)) end"),
        // A coroutine created in an earlier call, closed in a later one.
        format!("co = coroutine.create(function() {LOOPING_CLOSE} coroutine.yield() end) coroutine.resume(co)"),
    ]
}

fn state_with(limits: CallLimits) -> Arc<State> {
    State::new(&Options {
        call_limits: limits,
        ..Options::default()
    })
    .expect("state")
}

/// Runs `code` on a thread of its own; fails instead of hanging when it does not stop.
fn stopped(state: &Arc<State>, code: &str) -> luarun_core::error::Error {
    let (done, result) = std::sync::mpsc::channel();
    let (runner, owned) = (Arc::clone(state), code.to_owned());
    thread::spawn(move || {
        let _ = done.send(runner.exec(owned.as_bytes(), None));
    });
    result
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{code}: not stopped within 20 s"))
        .expect_err(code)
}

/// Runs the shapes; the last one only sets up a coroutine, closed by a second call.
fn check_every_shape(state: &Arc<State>, before_each: impl Fn(), reason: &str) {
    for code in shapes() {
        let code = if code.starts_with("co = ") {
            state.exec(code.as_bytes(), None).expect("setup");
            "coroutine.close(co)".to_string()
        } else {
            code
        };
        before_each();
        let err = stopped(state, &code);
        assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
        assert!(err.message.contains(reason), "{code}: {}", err.message);
        state.exec(b"x = 1", None).expect("usable after the stop");
    }
}

#[test]
fn a_time_limit_stops_looping_close_handlers_of_coroutines() {
    let state = state_with(CallLimits {
        time: Some(Duration::from_millis(50)),
        instructions: None,
    });
    check_every_shape(&state, || {}, "time limit");
}

#[test]
fn an_instruction_limit_stops_looping_close_handlers_of_coroutines() {
    let state = state_with(CallLimits {
        time: None,
        instructions: Some(1_000_000),
    });
    check_every_shape(&state, || {}, "instruction limit");
}

#[test]
fn an_interrupt_stops_looping_close_handlers_of_coroutines() {
    let state = state_with(CallLimits::default());
    let stopper = Arc::clone(&state);
    check_every_shape(
        &state,
        move || {
            let stopper = Arc::clone(&stopper);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                stopper.interrupt().unwrap();
            });
        },
        "interrupted",
    );
}

/// What `code` (an expression) gives in plain Lua 5.4 and in a luarun state.
fn in_both(code: &str) -> (String, String) {
    let expr = format!("return {code}");
    let plain = mlua::Lua::new()
        .load(&expr)
        .set_name("=test")
        .eval::<String>()
        .unwrap_or_else(|e| panic!("plain Lua: {code}: {e}"));
    let state = State::new(&Options::default()).unwrap();
    let ours = state
        .eval(code.as_bytes(), Some("=test"))
        .unwrap_or_else(|e| panic!("luarun: {code}: {}", e.message));
    (plain, ours.to_string().unwrap())
}

/// The error a wrapped coroutine running `body` raises, seen by `pcall` when the
/// wrapped function is called from a Lua function (so Lua's wrap adds that position)
/// and when `pcall` calls it directly (no Lua caller: no position).
fn wrap_errors(body: &str) -> [String; 2] {
    [
        format!(
            "(function() local f = coroutine.wrap(function() {body} end) \
             local _, e = pcall(function() local r = f() return r end) return tostring(e) end)()"
        ),
        format!(
            "(function() local _, e = pcall(coroutine.wrap(function() {body} end)) \
             return tostring(e) end)()"
        ),
    ]
}

#[test]
fn wrap_fails_exactly_as_lua_does() {
    let bodies = [
        "error('boom', 0)",
        "error('boom')",
        "error({})",
        // An error raised by a __close handler during the close replaces the original.
        "local x <close> = setmetatable({}, {__close = function() error('from close', 0) end}) \
         error('original', 0)",
        "local x <close> = setmetatable({}, {__close = function() error(42) end}) \
         error('original', 0)",
        // A handler that does not fail leaves the original error.
        "local x <close> = setmetatable({}, {__close = function() end}) error('original', 0)",
    ];
    for body in bodies {
        for code in wrap_errors(body) {
            let (plain, ours) = in_both(&code);
            if body.contains("error({})") {
                // Addresses differ between states; the shape must not.
                assert!(ours.starts_with("table: "), "{code}: {ours}");
                continue;
            }
            assert_eq!(ours, plain, "{code}");
        }
    }
    // Calling a dead wrapped coroutine.
    let (plain, ours) = in_both(
        "(function() local f = coroutine.wrap(function() end) f() \
         local _, e = pcall(function() local r = f() return r end) return e end)()",
    );
    assert_eq!(ours, plain);
}
