//! One background thread that arms the limit hook of calls whose time limit has passed.
//!
//! A permanent count hook would make every instruction of a time-limited state take
//! Lua's slow path (about 2x on tight loops). Instead each timed call registers its
//! deadline here; the watchdog sleeps until the earliest one and, if that call is still
//! running, marks it expired and arms its hook, which stops it within microseconds.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::limits::LimitGuard;

/// Identifies a registered deadline, to cancel it when the call ends in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerId(u64);

struct Timer {
    deadline: Instant,
    guard: Weak<LimitGuard>,
}

#[derive(Default)]
struct Timers {
    next_id: u64,
    pending: HashMap<TimerId, Timer>,
}

/// The process-wide watchdog.
pub struct Watchdog {
    timers: Mutex<Timers>,
    wake: Condvar,
}

/// The watchdog, started on first use.
pub fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let dog: &'static Watchdog = Box::leak(Box::new(Watchdog {
            timers: Mutex::new(Timers::default()),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("luarun-watchdog".into())
            .spawn(move || dog.run())
            .expect("spawn the luarun watchdog thread");
        dog
    })
}

impl Watchdog {
    /// Calls `guard.expire()` at `deadline` unless cancelled first.
    pub fn schedule(&self, deadline: Instant, guard: &Arc<LimitGuard>) -> TimerId {
        let mut timers = self.timers.lock();
        timers.next_id += 1;
        let id = TimerId(timers.next_id);
        timers.pending.insert(
            id,
            Timer {
                deadline,
                guard: Arc::downgrade(guard),
            },
        );
        self.wake.notify_one();
        id
    }

    /// Forgets a deadline. After this returns, the watchdog will not expire it: expiry
    /// and cancellation both happen under the same lock.
    pub fn cancel(&self, id: TimerId) {
        self.timers.lock().pending.remove(&id);
    }

    fn run(&self) {
        let mut timers = self.timers.lock();
        loop {
            let now = Instant::now();
            let expired: Vec<TimerId> = timers
                .pending
                .iter()
                .filter(|(_, timer)| timer.deadline <= now)
                .map(|(id, _)| *id)
                .collect();
            for id in expired {
                if let Some(guard) = timers.pending.remove(&id).and_then(|t| t.guard.upgrade()) {
                    guard.expire();
                }
            }
            match timers.pending.values().map(|t| t.deadline).min() {
                Some(next) => {
                    self.wake.wait_until(&mut timers, next);
                }
                None => self.wake.wait(&mut timers),
            }
        }
    }
}
