//! A script's own `debug.sethook` runs alongside luarun's count hook (issue 15): limits
//! keep holding whatever hooks a script sets or removes, the script's hook sees exactly
//! the events and counts it asked for, and `debug.gethook` shows the script's hook,
//! never luarun's. Both flavors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use luarun_core::error::ErrorKind;
use luarun_core::state::{call_limits, Libraries, Options, State};

/// A state with every library (the debug library among them) and `limits`.
fn state(instructions: u64, time_ms: u64) -> Arc<State> {
    State::new(&Options {
        libraries: Libraries(Libraries::ALL),
        call_limits: call_limits(instructions, time_ms),
        allow_bytecode: false,
        ..Options::default()
    })
    .unwrap()
}

fn eval(state: &State, code: &str) -> String {
    match state.eval(code.as_bytes(), Some("=test")) {
        Ok(value) => state
            .to_string(value)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string(),
        Err(e) => panic!("{code}: {}", e.message),
    }
}

#[test]
fn gethook_shows_no_hook_of_luarun() {
    for state in [state(1_000_000, 0), state(0, 60_000), state(0, 0)] {
        assert_eq!(eval(&state, "tostring(debug.gethook())"), "nil");
        assert_eq!(
            eval(
                &state,
                "(function() local f = function() end debug.sethook(f, 'l')
                  local g, mask, count = debug.gethook() debug.sethook()
                  return tostring(g == f) .. ' ' .. mask .. ' ' .. count end)()"
            ),
            "true l 0"
        );
        assert_eq!(eval(&state, "tostring(debug.gethook())"), "nil");
        assert_eq!(
            eval(
                &state,
                "(function() debug.sethook(function() end, 'crl', 7)
                  local _, mask, count = debug.gethook() debug.sethook()
                  return mask .. ' ' .. count end)()"
            ),
            "crl 7"
        );
        // As in Lua: a hook with no events (no letters, a count <= 0 or one that does
        // not fit a C int) is no hook at all.
        for args in ["'', -5", "'x', 0", "'', 2^40"] {
            assert_eq!(
                eval(
                    &state,
                    &format!("(function() debug.sethook(print, {args}) return tostring(debug.gethook()) end)()")
                ),
                "nil",
                "{args}"
            );
        }
    }
}

#[test]
fn the_instruction_limit_holds_after_a_script_sets_or_removes_a_hook() {
    let state = state(1_000_000, 0);
    for setup in [
        "debug.sethook()",
        "debug.sethook(function() end, 'l')",
        "debug.sethook(function() end, '', 1000)",
        "debug.sethook(function() end, 'cr')",
    ] {
        let error = state
            .exec(
                format!("{setup} while true do end").as_bytes(),
                Some("=test"),
            )
            .expect_err(setup);
        assert_eq!(
            error.kind,
            ErrorKind::Interrupted,
            "{setup}: {}",
            error.message
        );
        assert!(
            error.message.contains("instruction limit"),
            "{setup}: {}",
            error.message
        );
        // No frame of luarun's hook in the traceback: plain Lua has none.
        assert!(!error.message.contains("hook '?'"), "{}", error.message);
        state.exec(b"debug.sethook()", None).unwrap();
    }
}

#[test]
fn a_script_hook_persists_across_calls_and_limits_still_hold() {
    let state = state(1_000_000, 0);
    state
        .exec(
            b"lines = 0 debug.sethook(function() lines = lines + 1 end, 'l')",
            None,
        )
        .unwrap();
    state.exec(b"local a = 1\nlocal b = 2\n", None).unwrap();
    let lines: i64 = eval(&state, "lines").parse().unwrap();
    assert!(lines >= 2, "{lines}");
    assert!(state.exec(b"while true do end", None).is_err());
    state.exec(b"debug.sethook()", None).unwrap();
}

/// Lua 5.4's instruction counts (LuaJIT's bytecode counts differently).
#[cfg(not(feature = "luajit"))]
#[test]
fn count_hooks_see_exactly_the_counts_they_asked_for() {
    // With luarun counting (an instruction limit) and without, as in Lua's db.lua.
    for state in [state(100_000_000, 0), state(0, 0)] {
        let counted = |count: u32| -> i64 {
            eval(
                &state,
                &format!(
                    "(function() local a = 0
                       debug.sethook(function() a = a + 1 end, '', {count})
                       for i = 1, 1000 do end
                       debug.sethook() return a end)()"
                ),
            )
            .parse()
            .unwrap()
        };
        let one = counted(1);
        assert!((1000..1012).contains(&one), "count 1: {one}");
        let four = counted(4);
        assert!((250..255).contains(&four), "count 4: {four}");
        assert_eq!(counted(4000), 0);
        // Counts above luarun's interval (10000 instructions) come round exactly too.
        let big: i64 = eval(
            &state,
            "(function() local a = 0
               debug.sethook(function() a = a + 1 end, '', 25000)
               for i = 1, 100000 do end
               debug.sethook() return a end)()",
        )
        .parse()
        .unwrap();
        // 100000 loop instructions and a few around them: 4 counts, as in Lua.
        assert_eq!(big, 4, "count 25000");
    }
}

#[cfg(not(feature = "luajit"))]
#[test]
fn hook_events_are_those_lua_gives() {
    let state = state(1_000_000, 0);
    let events = eval(
        &state,
        "(function()
           local seen = {}
           local function f() return 1 end
           debug.sethook(function(event, line) seen[#seen + 1] = event end, 'cr')
           f()
           debug.sethook()
           return table.concat(seen, ' ')
         end)()",
    );
    // The return from sethook, the call and return of f, the call of sethook.
    assert_eq!(events, "return call return call");
    // Line events carry the line; inside the hook, level 2 is the hooked function.
    let lines = eval(
        &state,
        "(function()
           local seen = {}
           debug.sethook(function(event, line)
             seen[#seen + 1] = line .. '=' .. debug.getinfo(2, 'l').currentline
           end, 'l')
           local x = 1
           debug.sethook()
           return table.concat(seen, ' ')
         end)()",
    );
    assert_eq!(lines, "6=6 7=7");
}

/// Lua 5.4 only: LuaJIT's hooks belong to the whole state.
#[cfg(not(feature = "luajit"))]
#[test]
fn coroutines_have_hooks_of_their_own() {
    let state = state(1_000_000, 0);
    let result = eval(
        &state,
        "(function()
           local co = coroutine.create(function() coroutine.yield() end)
           local function f() end
           debug.sethook(co, f, 'l')
           local mine = debug.gethook()
           local its = debug.gethook(co)
           coroutine.resume(co)
           return tostring(mine) .. ' ' .. tostring(its == f)
         end)()",
    );
    assert_eq!(result, "nil true");
    // A runaway coroutine with a hook of its own is still stopped.
    let error = state
        .exec(
            b"local co = coroutine.create(function() while true do end end)
              debug.sethook(co, function() end, 'l')
              coroutine.resume(co)",
            None,
        )
        .unwrap_err();
    assert!(
        error.message.contains("instruction limit"),
        "{}",
        error.message
    );
}

#[test]
fn time_limits_and_interrupts_stop_code_under_a_script_hook() {
    let timed = state(0, 200);
    let start = Instant::now();
    let error = timed
        .exec(
            b"debug.sethook(function() end, '', 100000000) while true do end",
            None,
        )
        .unwrap_err();
    assert!(error.message.contains("time limit"), "{}", error.message);
    assert!(start.elapsed() < Duration::from_secs(10));

    // A limit of some kind: LuaJIT states without any run compiled code, which no
    // hook reaches (as documented).
    let interrupted = state(0, 3_600_000);
    let stopper = {
        let state = Arc::clone(&interrupted);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            state.interrupt().unwrap();
        })
    };
    let error = interrupted
        .exec(
            b"debug.sethook(function() end, 'l') local n = 0 while true do n = n + 1 end",
            None,
        )
        .unwrap_err();
    stopper.join().unwrap();
    assert_eq!(error.kind, ErrorKind::Interrupted, "{}", error.message);
    assert!(
        error.message.contains("host interrupted"),
        "{}",
        error.message
    );
}

/// Both flavors: a count hook comes round at its count with luarun counting too.
#[test]
fn count_hooks_run_beside_the_instruction_limit() {
    let state = state(100_000_000, 0);
    let counts: i64 = eval(
        &state,
        "(function() local a = 0
           debug.sethook(function() a = a + 1 end, '', 1)
           for i = 1, 1000 do end
           debug.sethook() return a end)()",
    )
    .parse()
    .unwrap();
    assert!((1000..1100).contains(&counts), "{counts}");
    let none: i64 = eval(
        &state,
        "(function() local a = 0
           debug.sethook(function() a = a + 1 end, '', 100000)
           for i = 1, 1000 do end
           debug.sethook() return a end)()",
    )
    .parse()
    .unwrap();
    assert_eq!(none, 0);
}

#[cfg(not(feature = "luajit"))]
#[test]
fn hook_errors_reach_the_script_as_in_lua() {
    let state = state(1_000_000, 0);
    let message = eval(
        &state,
        "(function()
           local ok, err = pcall(function()
             debug.sethook(function() debug.sethook() error('from hook', 0) end, 'l')
             local x = 1
           end)
           return err
         end)()",
    );
    assert_eq!(message, "from hook");
    // Lua's own argument errors (pcall names the function by its global path).
    assert_eq!(
        eval(&state, "select(2, pcall(debug.sethook, function() end))"),
        "bad argument #2 to 'debug.sethook' (string expected, got no value)"
    );
}
