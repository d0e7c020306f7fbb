//! Limits and interrupts: each test would fail without the protection it names.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use luarun_core::error::ErrorKind;
use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

fn state_with(limits: CallLimits, memory_limit: Option<usize>) -> Arc<State> {
    State::new(&Options {
        call_limits: limits,
        memory_limit,
        ..Options::default()
    })
    .expect("state")
}

/// A state `interrupt()` works on: any state on Lua 5.4; on LuaJIT one with a limit,
/// which switches the JIT compiler off (compiled loops cannot be interrupted).
fn interruptible() -> Arc<State> {
    if cfg!(feature = "luajit") {
        timed(3_600_000)
    } else {
        State::new(&Options::default()).unwrap()
    }
}

fn timed(ms: u64) -> Arc<State> {
    state_with(
        CallLimits {
            time: Some(Duration::from_millis(ms)),
            instructions: None,
        },
        None,
    )
}

/// Runaway shapes that must all stop: plain loops, loops that pcall/xpcall the error
/// away, loops inside coroutines, loops in callbacks of C library functions.
fn runaways() -> Vec<&'static str> {
    let mut shapes = COMMON_RUNAWAYS.to_vec();
    if cfg!(feature = "lua54") {
        shapes.push(
            "local x <close> = setmetatable({}, {__close = function() while true do end end})",
        );
    }
    shapes
}

const COMMON_RUNAWAYS: &[&str] = &[
    "while true do end",
    "local function f() return f() end f()",
    "while true do pcall(function() while true do end end) end",
    "while true do xpcall(function() while true do end end, function(e) return e end) end",
    "while true do pcall(error, 'x') end",
    "coroutine.wrap(function() while true do end end)()",
    "local co = coroutine.create(function() while true do end end) \
     while true do coroutine.resume(co) end",
    "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
    "local co = coroutine.wrap(function() while true do pcall(function() \
     while true do end end) end end) co()",
    "string.gsub(string.rep('a', 1e6), '.', function() while true do end end)",
    "table.sort({3, 2, 1}, function(a, b) while true do end end)",
    "local t = setmetatable({}, {__index = function(t, k) while true do end end}) return t.x",
    "while true do local ok = pcall(string.rep) end",
];

#[test]
fn time_limit_stops_every_runaway_shape_and_the_state_stays_usable() {
    let state = timed(30);
    for code in runaways() {
        let started = Instant::now();
        let err = state.exec(code.as_bytes(), None).expect_err(code);
        assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
        assert!(
            err.message.contains("time limit"),
            "{code}: {}",
            err.message
        );
        // Generous bound: the point is that it stops at all, not how fast (see benches).
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{code} took too long"
        );
        let value = state.eval(b"40 + 2", None).expect("usable after a stop");
        assert_eq!(value, mlua::Value::Integer(42));
    }
}

#[test]
fn instruction_limit_stops_every_runaway_shape() {
    let state = state_with(
        CallLimits {
            instructions: Some(200_000),
            time: None,
        },
        None,
    );
    for code in runaways() {
        let err = state.exec(code.as_bytes(), None).expect_err(code);
        assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
        assert!(err.message.contains("instruction limit"), "{code}");
    }
    // The budget is per call: many small calls each get a fresh one.
    for _ in 0..100 {
        state
            .exec(b"for i = 1, 10000 do end", None)
            .expect("within budget");
    }
}

#[test]
fn interrupt_from_another_thread_stops_every_runaway_shape() {
    let state = interruptible();
    for code in runaways() {
        let stopper = Arc::clone(&state);
        let handle = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            stopper.interrupt().unwrap();
        });
        let err = state.exec(code.as_bytes(), None).expect_err(code);
        handle.join().unwrap();
        assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
        assert!(state.exec(b"x = 1", None).is_ok());
    }
}

/// Runs `work` on a thread of its own and fails the test if it does not finish within
/// `seconds`: without the protection under test the code runs forever, and the test
/// must fail rather than hang.
fn within<T: Send + 'static>(
    what: &str,
    seconds: u64,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(work());
    });
    result
        .recv_timeout(Duration::from_secs(seconds))
        .unwrap_or_else(|_| panic!("{what}: not stopped within {seconds} s"))
}

/// Loops whose stop is raised inside a function that `load` calls (its reader), which
/// `load` hands back as `nil, message` instead of raising.
fn load_runaways() -> Vec<&'static str> {
    let mut shapes = vec![
        "while true do load(function() while true do end end) end",
        "while true do load(function() coroutine.wrap(function() while true do end end)() end) end",
        "while true do pcall(load, function() while true do end end) end",
        "local n = 0 while true do load(function() n = n + 1 return nil end) end",
    ];
    if cfg!(feature = "luajit") {
        shapes.push("while true do loadstring(function() while true do end end) end");
    }
    shapes
}

#[test]
fn stops_inside_load_readers_are_raised_again() {
    for limits in [
        CallLimits {
            time: Some(Duration::from_millis(30)),
            instructions: None,
        },
        CallLimits {
            time: None,
            instructions: Some(200_000),
        },
    ] {
        let state = state_with(limits, None);
        for code in load_runaways() {
            let runner = Arc::clone(&state);
            let err = within(code, 20, move || runner.exec(code.as_bytes(), None)).expect_err(code);
            assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
        }
    }
    let state = interruptible();
    for code in load_runaways() {
        let stopper = Arc::clone(&state);
        let interrupter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            stopper.interrupt().unwrap();
        });
        let runner = Arc::clone(&state);
        let err = within(code, 20, move || runner.exec(code.as_bytes(), None)).expect_err(code);
        interrupter.join().unwrap();
        assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
    }
    // load still returns ordinary reader errors as values (Lua adds the traceback of
    // the message handler active around it).
    let value = state
        .eval(
            b"select(2, load(function() error('reader failed', 0) end))",
            None,
        )
        .unwrap();
    let message = value.to_string().unwrap();
    assert!(message.starts_with("reader failed"), "{message}");
}

/// Loops of short coroutine resumes: each resume used to re-arm the hook, and on LuaJIT
/// (one hook count for all coroutines) that restarted the count every time, so the
/// hook never fired.
const SHORT_RESUME_LOOPS: &[&str] = &[
    "local co = coroutine.wrap(function() while true do coroutine.yield() end end) \
     while true do co() end",
    "local co = coroutine.create(function() while true do coroutine.yield() end end) \
     while true do coroutine.resume(co) end",
    "while true do coroutine.resume(coroutine.create(function() end)) end",
    "while true do coroutine.wrap(function() end)() end",
];

#[test]
fn interrupts_reach_loops_of_short_resumes() {
    let instruction_limited = || {
        state_with(
            CallLimits {
                instructions: Some(1 << 40),
                time: None,
            },
            None,
        )
    };
    for (kind, state) in [
        ("interruptible", interruptible()),
        ("with an instruction limit", instruction_limited()),
    ] {
        for code in SHORT_RESUME_LOOPS {
            let stopper = Arc::clone(&state);
            let interrupter = thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                stopper.interrupt().unwrap();
            });
            let runner = Arc::clone(&state);
            let err = within(code, 20, move || runner.exec(code.as_bytes(), None)).expect_err(code);
            interrupter.join().unwrap();
            assert_eq!(
                err.kind,
                ErrorKind::Interrupted,
                "{kind}: {code}: {}",
                err.message
            );
        }
    }
    for limits in [
        CallLimits {
            time: Some(Duration::from_millis(30)),
            instructions: None,
        },
        CallLimits {
            time: None,
            instructions: Some(200_000),
        },
    ] {
        let state = state_with(limits, None);
        for code in SHORT_RESUME_LOOPS {
            let runner = Arc::clone(&state);
            let err = within(code, 20, move || runner.exec(code.as_bytes(), None)).expect_err(code);
            assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
        }
    }
}

#[test]
fn lua_cannot_observe_and_continue_after_a_stop() {
    // After the limit trips, pcall must not return: the flag must stay unset.
    let state = timed(20);
    let err = state
        .exec(
            b"caught = false
              local ok = pcall(function() while true do end end)
              caught = true",
            None,
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interrupted);
    assert_eq!(
        state.eval(b"caught", None).unwrap(),
        mlua::Value::Boolean(false)
    );
}

#[test]
fn interrupt_racing_with_the_end_of_calls_never_corrupts_the_state() {
    let state = interruptible();
    let stopper = Arc::clone(&state);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done_flag = Arc::clone(&done);
    let interrupter = thread::spawn(move || {
        while !done_flag.load(std::sync::atomic::Ordering::Relaxed) {
            stopper.interrupt().unwrap();
            thread::yield_now();
        }
    });
    let mut interrupted = 0;
    for i in 0..2000 {
        match state.exec(format!("x = {i} for j = 1, 100 do end").as_bytes(), None) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Interrupted, "{}", e.message);
                interrupted += 1;
            }
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    interrupter.join().unwrap();
    assert!(
        interrupted > 0,
        "the race never happened; the test proves nothing"
    );
    // At most one pending interrupt can be left over; then calls run normally.
    let _ = state.exec(b"", None);
    state.exec(b"x = 'fine'", None).expect("usable");
    assert_eq!(state.eval(b"x", None).unwrap().to_string().unwrap(), "fine");
}

#[test]
fn memory_limit_counts_what_the_state_really_holds() {
    const LIMIT: usize = 64 << 20;
    let state = state_with(CallLimits::default(), Some(LIMIT));
    let err = state
        .exec(b"t = {} for i = 1, 1e9 do t[i] = i end", None)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Memory, "{}", err.message);
    // It got close to the limit (a 1e9-element table would need 16 GiB) ...
    let used = state.used_memory();
    assert!(used <= LIMIT, "used {used} > limit");
    assert!(used > LIMIT / 4, "stopped far below the limit: {used}");
    // ... and after dropping the table the memory comes back and calls work again.
    state
        .exec(b"t = nil collectgarbage() collectgarbage()", None)
        .unwrap();
    assert!(state.used_memory() < LIMIT / 8, "{}", state.used_memory());
    state
        .exec(b"local t = {} for i = 1, 1e5 do t[i] = i end", None)
        .expect("usable after a memory error");
}

#[test]
fn memory_bombs_fail_cleanly() {
    let state = state_with(CallLimits::default(), Some(32 << 20));
    for code in [
        "local s = string.rep('x', 1 << 30)",
        "local s = 'x' while true do s = s .. s end",
        "local t = {} while true do t[#t + 1] = {} end",
        "local s = string.rep('ab', 1e7, ',')",
        "local t = {} for i = 1, 1e8 do t[i] = tostring(i) end",
        "return string.rep('x', 1e6):rep(100)",
    ] {
        let err = state.exec(code.as_bytes(), None).expect_err(code);
        assert_eq!(err.kind, ErrorKind::Memory, "{code}: {}", err.message);
        state
            .exec(b"collectgarbage()", None)
            .unwrap_or_else(|e| panic!("after {code}: {}", e.message));
        assert!(state.eval(b"1", None).is_ok());
    }
}

#[test]
fn a_memory_limit_below_what_a_state_needs_is_refused_with_advice() {
    let err = State::new(&Options {
        memory_limit: Some(1000),
        ..Options::default()
    })
    .err()
    .expect("refused");
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("allow at least"), "{}", err.message);
}

#[test]
fn deep_recursion_is_a_lua_error_not_a_host_stack_overflow() {
    let state = State::new(&Options::default()).unwrap();
    for code in [
        "local function f() return f() + 1 end f()",
        "local function f(n) return {f(n + 1)} end f(1)",
        "local s = string.rep('(', 1e6) .. string.rep(')', 1e6) load('return ' .. s)()",
        "local t = setmetatable({}, {}) getmetatable(t).__index = t return t.x",
    ] {
        let err = state.exec(code.as_bytes(), None).expect_err(code);
        assert!(
            matches!(err.kind, ErrorKind::Runtime | ErrorKind::Syntax),
            "{code}: {:?} {}",
            err.kind,
            err.message
        );
    }
    // Deep nesting built by Lua and handed out as a handle needs no recursion to convert.
    let nested = state
        .eval(
            b"(function() local t = {} for i = 1, 1e5 do t = {t} end return t end)()",
            None,
        )
        .unwrap();
    assert!(matches!(nested, mlua::Value::Table(_)));
}

#[test]
fn strings_with_nul_bytes_and_invalid_utf8_round_trip() {
    let state = State::new(&Options::default()).unwrap();
    let code = b"s = '\\0\\255\\254 caf\\195\\169 \\0'";
    state.exec(code, None).unwrap();
    let mlua::Value::String(s) = state.eval(b"s", None).unwrap() else {
        panic!("not a string")
    };
    assert_eq!(&*s.as_bytes(), b"\0\xff\xfe caf\xc3\xa9 \0");
    // Invalid UTF-8 in the source itself is fine inside strings; Lua 5.4 refuses it in
    // names (LuaJIT accepts bytes >= 0x80 as identifier characters).
    state.exec(b"u = '\xff\xfe'", None).unwrap();
    if cfg!(feature = "lua54") {
        let err = state.exec(b"\xff = 1", None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax);
    }
}

#[test]
fn many_threads_on_one_state_are_serialized() {
    let state = State::new(&Options::default()).unwrap();
    state.exec(b"counter = 0", None).unwrap();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                for _ in 0..500 {
                    // A read-modify-write across two statements: lost updates would
                    // show if two threads ran inside the state at once.
                    state
                        .exec(
                            b"local c = counter for i = 1, 10 do end counter = c + 1",
                            None,
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(
        state.eval(b"counter", None).unwrap(),
        mlua::Value::Integer(4000)
    );
}

#[test]
fn separate_states_run_in_parallel_threads_independently() {
    let workers: Vec<_> = (0..8)
        .map(|n| {
            thread::spawn(move || {
                let state = State::new(&Options::default()).unwrap();
                state.exec(format!("id = {n}").as_bytes(), None).unwrap();
                for _ in 0..200 {
                    state
                        .exec(b"local t = {} for i = 1, 100 do t[i] = id end", None)
                        .unwrap();
                }
                state.eval(b"id", None).unwrap()
            })
        })
        .collect();
    for (n, worker) in workers.into_iter().enumerate() {
        assert_eq!(worker.join().unwrap(), mlua::Value::Integer(n as i64));
    }
}

#[test]
fn time_limits_of_finished_calls_never_stop_later_calls() {
    // Each call registers a deadline with the watchdog and cancels it when it returns;
    // a stale expiry would interrupt some later call. 3000 calls take longer than the
    // limit, so stale deadlines would pass during later calls; the limit itself stays
    // far above what one short call takes even on a loaded host (a stop now lands at
    // the next instruction, so a call that really ran past 5 ms was stopped).
    let state = timed(50);
    for _ in 0..3000 {
        state
            .exec(b"local x = 1", None)
            .expect("short calls finish in time");
    }
    thread::sleep(Duration::from_millis(20));
    state
        .exec(b"for i = 1, 1000 do end", None)
        .expect("no stale expiry");
    // And the limit still works afterwards.
    let err = state.exec(b"while true do end", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interrupted);
}

#[test]
fn interrupt_is_refused_where_it_cannot_be_delivered() {
    let state = State::new(&Options::default()).unwrap();
    match state.interrupt() {
        Ok(()) => assert!(!state.jit_enabled()),
        Err(e) => {
            assert!(state.jit_enabled());
            assert_eq!(e.kind, ErrorKind::Unsupported);
            assert!(
                e.message.contains("time or instruction limit"),
                "{}",
                e.message
            );
        }
    }
}

#[test]
fn the_library_says_which_lua_it_embeds() {
    let version = luarun_core::state::lua_version().unwrap();
    let expected = if cfg!(feature = "luajit") {
        "LuaJIT 2.1"
    } else {
        "Lua 5.4"
    };
    assert!(version.starts_with(expected), "{version}");
}

#[test]
fn binary_and_odd_bytes_in_code_still_give_clear_errors() {
    let state = State::new(&Options::default()).unwrap();
    for code in [
        &b"\x1bLua\x54\x00\x19\x93"[..],
        b"\x00\x01\x02",
        b"\xff\xfe\"\n",
    ] {
        let err = state.exec(code, None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax, "{}", err.message);
        assert!(!err.message.contains("nul byte"), "{}", err.message);
    }
}

/// Single library calls that run for minutes in C (backtracking patterns over a long
/// subject, a 2 GB repeat): the Rust port of the pattern functions and `string.rep`
/// counts its steps and checks the limits, so each must stop like a Lua loop.
#[cfg(feature = "lua54")]
const PATTERN_BOMBS: &[&str] = &[
    "return ('a'):rep(1e5):find('.-.-.-.-b')",
    "return string.match(('a'):rep(1e5), '.-.-.-.-b')",
    "for w in ('a'):rep(1e5):gmatch('.-.-.-.-b') do end",
    "return (('a'):rep(1e5):gsub('.-.-.-.-b', 'x'))",
    "local s = ('a'):rep(1e5) while true do pcall(string.find, s, '.-.-.-.-b') end",
    "return coroutine.wrap(function() return ('a'):rep(1e5):find('.-.-.-.-b') end)()",
    "return #string.rep('ab', 1e9)",
    // No backtracking, but 1e10 byte comparisons: a long literal, a long set.
    "return ('a'):rep(2e5):find(('a'):rep(1e5) .. '.b')",
    "return ('a'):rep(1e5):find('[' .. ('b'):rep(1e5) .. ']')",
    // Short subjects: too many repetitions for Lua's C functions to take over.
    "return ('a'):rep(60):find(('.-'):rep(12) .. 'b')",
    "return (('a'):rep(40):gsub(('a*'):rep(10) .. 'b', 'x'))",
];

/// Runs `work` on a thread of its own and fails the test if it does not finish within a
/// minute: without the protection these calls run for minutes, and the test must fail
/// rather than hang.
#[cfg(feature = "lua54")]
fn finishes<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(work());
    });
    result
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: not stopped within a minute"))
}

#[cfg(feature = "lua54")]
fn assert_stops(state: &Arc<State>, code: &'static str, reason: &str) {
    let runner = Arc::clone(state);
    let err = finishes(code, move || runner.exec(code.as_bytes(), None)).expect_err(code);
    assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
    assert!(err.message.contains(reason), "{code}: {}", err.message);
    let value = state
        .eval(b"('ab'):rep(3):find('b', 3)", None)
        .expect("usable after a stop");
    assert_eq!(value, mlua::Value::Integer(4), "{code}");
}

#[cfg(feature = "lua54")]
#[test]
fn time_limit_stops_pattern_bombs_and_huge_repeats() {
    let state = timed(50);
    for code in PATTERN_BOMBS {
        assert_stops(&state, code, "time limit of 50 ms");
    }
}

#[cfg(feature = "lua54")]
#[test]
fn instruction_limit_stops_pattern_bombs_and_huge_repeats() {
    let state = state_with(
        CallLimits {
            instructions: Some(1_000_000),
            time: None,
        },
        None,
    );
    for code in PATTERN_BOMBS {
        assert_stops(&state, code, "instruction limit");
    }
}

#[cfg(feature = "lua54")]
#[test]
fn interrupt_from_another_thread_stops_pattern_bombs_and_huge_repeats() {
    let state = interruptible();
    for code in PATTERN_BOMBS {
        let stopper = Arc::clone(&state);
        let interrupter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            stopper.interrupt().unwrap();
        });
        assert_stops(&state, code, "the host interrupted the call");
        interrupter.join().unwrap();
    }
}

#[cfg(feature = "lua54")]
#[test]
fn lua_cannot_catch_a_stop_inside_a_pattern_call() {
    let state = timed(30);
    let runner = Arc::clone(&state);
    let err = finishes("pcall around a pattern bomb", move || {
        runner.exec(
            b"caught = false
              local ok, e = pcall(string.find, ('a'):rep(1e5), '.-.-.-.-b')
              caught = true",
            None,
        )
    })
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interrupted, "{}", err.message);
    assert_eq!(
        state.eval(b"caught", None).unwrap(),
        mlua::Value::Boolean(false)
    );
}
