//! Per-call execution limits: instruction budget, wall-time deadline and interrupts.
//!
//! A Lua count hook ([`hook`]) calls [`LimitGuard::check`] every few thousand VM
//! instructions and the [`watchdog`] thread trips deadlines; the pattern functions, which
//! run without VM instructions, call `check` every few thousand matcher steps (through
//! `crate::string_patterns`).
//! Once a limit trips, the guard stays tripped until the outermost call returns, so every
//! later check fails too and the sandbox prelude re-raises the error out of `pcall`,
//! `xpcall` and `coroutine.resume`: Lua code cannot swallow it.

pub mod hook;
pub(crate) mod script_hook;
pub mod watchdog;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a call was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `interrupt()` was called from some thread.
    Interrupted,
    /// The per-call instruction limit was used up.
    InstructionLimit,
    /// The per-call wall-time limit passed.
    TimeLimit,
    /// The state is being closed; nothing may run any more.
    Closing,
}

impl StopReason {
    fn code(self) -> u8 {
        match self {
            StopReason::Interrupted => 1,
            StopReason::InstructionLimit => 2,
            StopReason::TimeLimit => 3,
            StopReason::Closing => 4,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(StopReason::Interrupted),
            2 => Some(StopReason::InstructionLimit),
            3 => Some(StopReason::TimeLimit),
            4 => Some(StopReason::Closing),
            _ => None,
        }
    }
}

/// The limits a state applies to each top-level call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallLimits {
    /// VM instructions one call may run; `None` = unlimited. Checked every
    /// `min(limit, 10000)` instructions, so a call may overshoot by less than that.
    pub instructions: Option<u64>,
    /// Wall time one call may take; `None` = unlimited.
    pub time: Option<Duration>,
}

/// Shared between a state, its count hook and any thread that wants to interrupt it.
#[derive(Debug)]
pub struct LimitGuard {
    limits: CallLimits,
    /// Instructions between two calls of [`LimitGuard::check`].
    interval: u64,
    instructions_used: AtomicU64,
    interrupt_requested: AtomicBool,
    /// A [`StopReason`] code once the running call has been stopped; 0 otherwise.
    tripped: AtomicU8,
    /// Which Lua threads the hook must be armed on (see `hook.rs`).
    running: crate::limits::hook::RunningLock,
    /// Set by the watchdog when the running call's time limit passed.
    time_expired: AtomicBool,
    /// The running call's deadline registered with the watchdog.
    timer: parking_lot::Mutex<Option<crate::limits::watchdog::TimerId>>,
    /// A script has set a hook of its own (`debug.sethook`) at some point: the hook
    /// then looks for script hooks (see `script_hook.rs`).
    script_hooks: AtomicBool,
}

impl LimitGuard {
    /// Creates a guard enforcing `limits` on every top-level call.
    pub fn new(limits: CallLimits) -> Self {
        LimitGuard {
            limits,
            interval: u64::from(crate::limits::hook::hook_interval(limits.instructions)),
            instructions_used: AtomicU64::new(0),
            interrupt_requested: AtomicBool::new(false),
            tripped: AtomicU8::new(0),
            running: parking_lot::Mutex::new(crate::limits::hook::RunningThreads::empty()),
            time_expired: AtomicBool::new(false),
            timer: parking_lot::Mutex::new(None),
            script_hooks: AtomicBool::new(false),
        }
    }

    /// The limits this guard enforces.
    pub fn limits(&self) -> CallLimits {
        self.limits
    }

    /// Asks the running call (or, if none runs, the next one) to stop. Any thread, any time.
    pub fn request_interrupt(&self) {
        self.interrupt_requested.store(true, Ordering::SeqCst);
        crate::limits::hook::arm(self);
    }

    /// The Lua threads the hook must be armed on.
    pub fn running(&self) -> &crate::limits::hook::RunningLock {
        &self.running
    }

    /// Whether a stop is pending or in force, so new coroutines must be armed too.
    pub fn stop_pending(&self) -> bool {
        self.interrupt_requested.load(Ordering::SeqCst)
            || self.time_expired.load(Ordering::SeqCst)
            || self.tripped().is_some()
    }

    /// Instructions between two calls of [`LimitGuard::check`] while no stop is pending.
    pub fn interval(&self) -> u64 {
        self.interval
    }

    /// Whether the hook stays installed between calls: only instruction limits need
    /// counting; time limits are armed by the watchdog when they pass.
    pub fn hook_is_permanent(&self) -> bool {
        self.limits.instructions.is_some()
    }

    /// Called by the watchdog when the running call's deadline passed.
    pub fn expire(&self) {
        self.time_expired.store(true, Ordering::SeqCst);
        crate::limits::hook::arm(self);
    }

    /// Starts the budget of a top-level call. Fails at once when an interrupt is pending,
    /// so an interrupt sent just before a call starts is not lost.
    pub fn begin_call(self: &Arc<Self>) -> Result<(), StopReason> {
        if self.tripped.load(Ordering::SeqCst) == StopReason::Closing.code() {
            return Err(StopReason::Closing);
        }
        self.tripped.store(0, Ordering::SeqCst);
        self.instructions_used.store(0, Ordering::Relaxed);
        self.time_expired.store(false, Ordering::SeqCst);
        if let Some(limit) = self.limits.time {
            let timer = crate::limits::watchdog::watchdog().schedule(Instant::now() + limit, self);
            *self.timer.lock() = Some(timer);
        }
        if self.interrupt_requested.swap(false, Ordering::SeqCst) {
            return Err(StopReason::Interrupted);
        }
        Ok(())
    }

    /// Ends a top-level call: the next call starts with a fresh budget.
    pub fn end_call(&self) {
        if let Some(timer) = self.timer.lock().take() {
            crate::limits::watchdog::watchdog().cancel(timer);
        }
        // After the cancel: a late expiry cannot leak into the next call.
        self.time_expired.store(false, Ordering::SeqCst);
        // A pending interrupt keeps the hook armed for the next call, which it fails.
        if self.hook_is_permanent() || !self.interrupt_requested.load(Ordering::SeqCst) {
            crate::limits::hook::rest(self);
        }
        if self.tripped.load(Ordering::SeqCst) != StopReason::Closing.code() {
            self.tripped.store(0, Ordering::SeqCst);
        }
    }

    /// Marks the state as closing: every later check fails, so code run while the state
    /// is torn down cannot loop forever.
    pub fn close(&self) {
        self.tripped
            .store(StopReason::Closing.code(), Ordering::SeqCst);
        crate::limits::hook::arm(self);
    }

    /// Why the current call was stopped, if it was.
    pub fn tripped(&self) -> Option<StopReason> {
        StopReason::from_code(self.tripped.load(Ordering::SeqCst))
    }

    /// Whether a script has ever set a hook of its own in this state.
    pub(crate) fn has_script_hooks(&self) -> bool {
        self.script_hooks.load(Ordering::Relaxed)
    }

    /// Records that a script set a hook of its own.
    pub(crate) fn note_script_hooks(&self) {
        self.script_hooks.store(true, Ordering::Relaxed);
    }

    /// Called by the pattern functions every `hook::hook_interval(limit)` steps, which
    /// count as that many instructions.
    pub fn check(&self) -> Result<(), StopReason> {
        self.check_elapsed(self.interval)
    }

    /// Called from the count hook: `elapsed` instructions ran since its last call.
    pub fn check_elapsed(&self, elapsed: u64) -> Result<(), StopReason> {
        if let Some(reason) = self.tripped() {
            return Err(reason);
        }
        let reason = self.exceeded(elapsed);
        if let Some(reason) = reason {
            self.tripped.store(reason.code(), Ordering::SeqCst);
            return Err(reason);
        }
        Ok(())
    }

    /// [`LimitGuard::check`] without charging instructions: whether the call was stopped
    /// or must stop now (interrupt, passed deadline). For hook events that are not
    /// counts, and for the parser's reader (`compile.rs`).
    pub fn check_stop(&self) -> Result<(), StopReason> {
        if let Some(reason) = self.tripped() {
            return Err(reason);
        }
        let reason = self.stop_requested();
        if let Some(reason) = reason {
            self.tripped.store(reason.code(), Ordering::SeqCst);
            return Err(reason);
        }
        Ok(())
    }

    /// An interrupt or a passed deadline, consuming the interrupt.
    fn stop_requested(&self) -> Option<StopReason> {
        if self.interrupt_requested.swap(false, Ordering::SeqCst) {
            return Some(StopReason::Interrupted);
        }
        // The watchdog sets this at the deadline (and arms the hook if it is off).
        if self.time_expired.load(Ordering::SeqCst) {
            return Some(StopReason::TimeLimit);
        }
        None
    }

    fn exceeded(&self, elapsed: u64) -> Option<StopReason> {
        if self.interrupt_requested.swap(false, Ordering::SeqCst) {
            return Some(StopReason::Interrupted);
        }
        if let Some(max) = self.limits.instructions {
            let used = self
                .instructions_used
                .fetch_add(elapsed, Ordering::Relaxed)
                .saturating_add(elapsed);
            if used > max {
                return Some(StopReason::InstructionLimit);
            }
        }
        // The watchdog sets this at the deadline (and arms the hook if it is off).
        if self.time_expired.load(Ordering::SeqCst) {
            return Some(StopReason::TimeLimit);
        }
        None
    }

    /// A sentence describing why the call stopped, for error messages.
    pub fn describe(&self, reason: StopReason) -> String {
        match reason {
            StopReason::Interrupted => "interrupted: the host interrupted the call".into(),
            StopReason::InstructionLimit => format!(
                "interrupted: instruction limit of {} per call exceeded",
                self.limits.instructions.unwrap_or(0)
            ),
            StopReason::TimeLimit => format!(
                "interrupted: time limit of {} ms per call exceeded",
                self.limits.time.unwrap_or_default().as_millis()
            ),
            StopReason::Closing => "interrupted: the state is closing".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_interrupt_fails_the_next_call_once() {
        let guard = Arc::new(LimitGuard::new(CallLimits::default()));
        guard.request_interrupt();
        assert_eq!(guard.begin_call(), Err(StopReason::Interrupted));
        guard.end_call();
        assert_eq!(guard.begin_call(), Ok(()));
        assert_eq!(guard.check(), Ok(()));
    }

    #[test]
    fn instruction_budget_trips_and_stays_tripped_until_the_call_ends() {
        let guard = Arc::new(LimitGuard::new(CallLimits {
            instructions: Some(25_000),
            time: None,
        }));
        guard.begin_call().unwrap();
        assert!(guard.check().is_ok());
        assert!(guard.check().is_ok());
        assert_eq!(guard.check(), Err(StopReason::InstructionLimit));
        assert_eq!(guard.check(), Err(StopReason::InstructionLimit));
        guard.end_call();
        guard.begin_call().unwrap();
        assert!(guard.check().is_ok());
    }

    #[test]
    fn closing_is_permanent() {
        let guard = Arc::new(LimitGuard::new(CallLimits::default()));
        guard.close();
        assert_eq!(guard.begin_call(), Err(StopReason::Closing));
        guard.end_call();
        assert_eq!(guard.check(), Err(StopReason::Closing));
    }
}
