//! Interrupt storms: another thread calls `interrupt()` as fast as it can while the
//! state runs runaway code. Each interrupt used to re-arm the count hook, which restarts
//! its count, so a fast enough storm kept the hook from ever firing and the call never
//! stopped. Every call must stop within seconds however many interrupts arrive.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use luarun_core::error::ErrorKind;
use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

use super::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "storm: interrupts stop a plain loop",
            run: || storm("while true do end"),
        },
        Scenario {
            name: "storm: interrupts stop a loop of short resumes",
            run: || {
                storm(
                    "local co = coroutine.wrap(function() while true do coroutine.yield() end \
                     end) while true do co() end",
                )
            },
        },
        Scenario {
            name: "storm: interrupts stop a loop that pcalls the stop away",
            run: || storm("while true do pcall(function() while true do end end) end"),
        },
        Scenario {
            name: "storm: interrupts stop a loop inside a coroutine",
            run: || storm("coroutine.wrap(function() while true do end end)()"),
        },
        Scenario {
            name: "storm: two interrupters against 5 ms time limits",
            run: two_interrupters_against_short_time_limits,
        },
    ]
}

/// A state `interrupt()` works on (LuaJIT: a limit switches the JIT compiler off).
fn interruptible() -> Arc<State> {
    let options = Options {
        call_limits: CallLimits {
            time: cfg!(feature = "luajit").then(|| Duration::from_secs(3600)),
            instructions: None,
        },
        ..Options::default()
    };
    State::new(&options).expect("state")
}

/// Runs `code` 3 times while a storm of interrupts runs; each run must stop with
/// `Interrupted` within 10 seconds.
fn storm(code: &'static str) -> Result<(), String> {
    let state = interruptible();
    let calm = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let stormer = {
        let (state, calm, sent) = (Arc::clone(&state), Arc::clone(&calm), Arc::clone(&sent));
        thread::spawn(move || {
            while !calm.load(Ordering::Relaxed) {
                state.interrupt().expect("interruptible");
                sent.fetch_add(1, Ordering::Relaxed);
                thread::yield_now();
            }
        })
    };
    let mut outcome = Ok(());
    for run in 0..3 {
        let (done, result) = mpsc::channel();
        let runner = Arc::clone(&state);
        thread::spawn(move || {
            let _ = done.send(runner.exec(code.as_bytes(), None));
        });
        match result.recv_timeout(Duration::from_secs(10)) {
            Ok(Err(err)) if err.kind == ErrorKind::Interrupted => {}
            Ok(other) => {
                outcome = Err(format!("run {run}: {other:?}"));
                break;
            }
            Err(_) => {
                // The runaway thread keeps running; the child process exits anyway.
                outcome = Err(format!(
                    "run {run}: not stopped within 10 s ({} interrupts sent)",
                    sent.load(Ordering::Relaxed)
                ));
                break;
            }
        }
    }
    calm.store(true, Ordering::Relaxed);
    if outcome.is_ok() {
        stormer
            .join()
            .map_err(|_| "the interrupting thread panicked")?;
    }
    outcome
}

/// Issue 19 item 11 (seen on LuaJIT): two threads interrupting back to back while the
/// state runs `while true do end` again and again under a 5 ms time limit. After 6 to
/// 69 370 interrupts one call never returned, and the state's limits were gone for
/// good. Every call must return, and afterwards the time limit must still stop a loop.
fn two_interrupters_against_short_time_limits() -> Result<(), String> {
    const STORM: Duration = Duration::from_secs(5);
    let state = State::new(&Options {
        call_limits: CallLimits {
            time: Some(Duration::from_millis(5)),
            instructions: None,
        },
        ..Options::default()
    })
    .map_err(|e| e.message)?;
    let calm = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let stormers: Vec<_> = (0..2)
        .map(|_| {
            let (state, calm, sent) = (Arc::clone(&state), Arc::clone(&calm), Arc::clone(&sent));
            thread::spawn(move || {
                while !calm.load(Ordering::Relaxed) {
                    state.interrupt().expect("interruptible");
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let (done, results) = mpsc::channel();
    let runner = Arc::clone(&state);
    let runner_calm = Arc::clone(&calm);
    thread::spawn(move || {
        while !runner_calm.load(Ordering::Relaxed) {
            if done.send(runner.exec(b"while true do end", None)).is_err() {
                break;
            }
        }
    });
    let started = std::time::Instant::now();
    let mut calls = 0u64;
    let mut outcome = Ok(());
    while started.elapsed() < STORM {
        match results.recv_timeout(Duration::from_secs(10)) {
            Ok(Err(err)) if err.kind == ErrorKind::Interrupted => calls += 1,
            Ok(other) => {
                outcome = Err(format!("call {calls}: {other:?}"));
                break;
            }
            Err(_) => {
                outcome = Err(format!(
                    "call {calls} did not return within 10 s ({} interrupts sent)",
                    sent.load(Ordering::Relaxed)
                ));
                break;
            }
        }
    }
    calm.store(true, Ordering::Relaxed);
    outcome?;
    for stormer in stormers {
        stormer
            .join()
            .map_err(|_| "an interrupting thread panicked")?;
    }
    // The runner's last call, then one more with no storm: the limit still holds.
    let _ = results.recv_timeout(Duration::from_secs(10));
    let (done, result) = mpsc::channel();
    thread::spawn(move || {
        // A pending interrupt may fail the first call at once; the second must time out.
        let _ = state.exec(b"", None);
        let _ = done.send(state.exec(b"while true do end", None));
    });
    match result.recv_timeout(Duration::from_secs(10)) {
        Ok(Err(err)) if err.message.contains("time limit") => {
            println!(
                "{calls} calls stopped, {} interrupts",
                sent.load(Ordering::Relaxed)
            );
            Ok(())
        }
        Ok(other) => Err(format!("after the storm: {other:?}")),
        Err(_) => Err(format!(
            "after the storm ({calls} calls, {} interrupts), the time limit no longer \
             stops a loop",
            sent.load(Ordering::Relaxed)
        )),
    }
}
