//! Interrupt storms: another thread calls `interrupt()` as fast as it can while the
//! state runs runaway code. Each interrupt used to re-arm the count hook, which restarts
//! its count, so a fast enough storm kept the hook from ever firing and the call never
//! stopped. Every call must stop within seconds however many interrupts arrive.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use luarun::error::ErrorKind;
use luarun::limits::CallLimits;
use luarun::state::{Options, State};

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
