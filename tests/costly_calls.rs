//! Once a limit has passed or an interrupt is pending, the very next VM instruction stops
//! the call. The count hook used to look only every 10 000 instructions, so loops of
//! short but costly C calls (each taking milliseconds) ran for seconds past a 100 ms
//! time limit or an interrupt: `table.sort` of 1e5 items in a loop 25-33 s, `utf8.len`
//! of 16 MB 20-26 s, `s:upper()` of 8 MB 10-12 s.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use luarun_core::error::ErrorKind;
use luarun_core::error::StopReason;
use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

/// Loops whose every iteration is a few instructions around one C call of milliseconds.
fn costly_loops() -> Vec<&'static str> {
    let mut loops = vec![
        "local t = {} for i = 1, 1e5 do t[i] = -i end while true do table.sort(t) end",
        "local s = string.rep('x', 8 * 2^20) while true do local u = s:upper() end",
    ];
    if cfg!(feature = "lua54") {
        loops.push("local s = string.rep('x', 16 * 2^20) while true do local n = utf8.len(s) end");
    }
    loops
}

fn state_with(limits: CallLimits) -> Arc<State> {
    State::new(&Options {
        call_limits: limits,
        ..Options::default()
    })
    .expect("state")
}

/// Runs `code` on its own thread; the error it stopped with and how long it ran.
/// Fails the test (instead of hanging it) when it runs past 60 s.
fn run(state: &Arc<State>, code: &'static str) -> (luarun_core::error::Error, Duration) {
    let (done, result) = std::sync::mpsc::channel();
    let runner = Arc::clone(state);
    thread::spawn(move || {
        let started = Instant::now();
        let outcome = runner.exec(code.as_bytes(), None);
        let _ = done.send((outcome, started.elapsed()));
    });
    let (outcome, took) = result
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{code}: not stopped within 60 s"));
    (outcome.expect_err(code), took)
}

/// Generous for a noisy host: a stop at the next instruction lands within one C call
/// (tens of milliseconds); waiting for the count hook took 10 s and more.
const BOUND: Duration = Duration::from_secs(3);

#[test]
fn a_passed_time_limit_stops_loops_of_costly_c_calls_at_once() {
    let time = Some(Duration::from_millis(100));
    let mut limit_sets = vec![CallLimits {
        time,
        instructions: None,
    }];
    // Lua 5.4: with an instruction limit the hook counts all the time; the deadline
    // must still cut its interval short. (LuaJIT sees it at the next count.)
    if cfg!(feature = "lua54") {
        limit_sets.push(CallLimits {
            time,
            instructions: Some(1 << 40),
        });
    }
    for limits in limit_sets {
        let state = state_with(limits);
        for code in costly_loops() {
            let (err, took) = run(&state, code);
            assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
            assert!(
                err.message.contains("time limit"),
                "{code}: {}",
                err.message
            );
            assert!(took < BOUND, "{limits:?}: {code} ran {took:?}");
        }
    }
}

#[test]
fn an_interrupt_stops_loops_of_costly_c_calls_at_once() {
    let mut states = vec![state_with(CallLimits {
        // LuaJIT needs a limit to run without the JIT compiler (and be interruptible).
        time: cfg!(feature = "luajit").then(|| Duration::from_secs(3600)),
        instructions: None,
    })];
    if cfg!(feature = "lua54") {
        states.push(state_with(CallLimits {
            time: None,
            instructions: Some(1 << 40),
        }));
    }
    for state in states {
        for code in costly_loops() {
            let stopper = Arc::clone(&state);
            let interrupter = thread::spawn(move || {
                thread::sleep(Duration::from_millis(100));
                stopper.interrupt().unwrap();
                Instant::now()
            });
            let (err, took) = run(&state, code);
            interrupter.join().unwrap();
            assert_eq!(err.kind, ErrorKind::Interrupted, "{code}: {}", err.message);
            assert!(took < BOUND, "{code} ran {took:?}");
        }
    }
}

/// Runs `code` until an interrupt from another thread 50 ms later stops it.
fn interrupted(state: &Arc<State>, code: &'static str) -> luarun_core::error::Error {
    let stopper = Arc::clone(state);
    let interrupter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        stopper.interrupt().unwrap();
    });
    let (err, _) = run(state, code);
    interrupter.join().unwrap();
    err
}

#[test]
fn after_a_stop_the_next_calls_count_instructions_as_before() {
    // The stop switches the hook to fire on every instruction; the next call must be
    // back to counting by its interval, or its budget would be used up 10 000x too fast.
    let state = state_with(CallLimits {
        time: None,
        instructions: Some(1_000_000_000),
    });
    let err = interrupted(&state, "while true do end");
    assert_eq!(err.stop, Some(StopReason::Interrupted), "{}", err.message);
    state
        .exec(b"for i = 1, 100000 do end", None)
        .expect("well within the instruction budget");
    // And a coroutine that was running when a later stop came.
    let err = interrupted(&state, "coroutine.wrap(function() while true do end end)()");
    assert_eq!(err.stop, Some(StopReason::Interrupted), "{}", err.message);
    state
        .exec(
            b"local co = coroutine.wrap(function() while true do coroutine.yield() end end) \
              for i = 1, 10000 do co() end",
            None,
        )
        .expect("well within the instruction budget");
}
