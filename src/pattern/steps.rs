//! Step counting: how the matcher, which never runs a VM instruction, still answers to the
//! state's limits.
//!
//! Every unit of matcher work (one call of the recursive `match`, one iteration of a
//! repetition or balance loop) is one step; bulk byte work (searching, comparing,
//! copying) is one step per [`BYTES_PER_STEP`] bytes, done in chunks of at most
//! [`CHUNK_BYTES`]. Every `interval` steps the meter calls [`LimitGuard::check`], with the
//! same interval the count hook uses (`hook::hook_interval`, at most 10 000). `check`
//! charges that interval to the instruction budget, so **one step costs one VM
//! instruction**: a step takes a few nanoseconds, like an instruction, so an instruction
//! limit buys about as much time spent matching as spent running Lua, and a check lands
//! every few tens of microseconds.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::limits::{LimitGuard, StopReason};

/// Bytes of bulk work (memchr, memcmp, memcpy: several GB/s) that count as one step.
pub const BYTES_PER_STEP: usize = 64;

/// Most bytes of bulk work done between two step charges, so a check comes at least
/// every few tens of microseconds even inside one search or copy.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The per-state step counter, shared by every pattern function of the state. Steps left
/// before the next check carry over from call to call, so many short calls add up to
/// checks (and instruction charges) like one long one.
#[derive(Debug)]
pub struct StepMeter {
    guard: Arc<LimitGuard>,
    interval: u32,
    left: AtomicU32,
}

impl StepMeter {
    /// A meter reporting to `guard` every `hook::hook_interval(limit)` steps.
    pub fn new(guard: Arc<LimitGuard>) -> Self {
        let interval = crate::hook::hook_interval(guard.limits().instructions);
        StepMeter {
            guard,
            interval,
            left: AtomicU32::new(interval),
        }
    }

    /// The guard this meter reports to.
    pub fn guard(&self) -> &LimitGuard {
        &self.guard
    }

    /// Starts counting for one library call; the count goes back to the meter on drop.
    pub fn start(&self) -> Steps<'_> {
        Steps {
            meter: self,
            left: self.left.load(Ordering::Relaxed).clamp(1, self.interval),
        }
    }
}

/// The step count of one running library call (a local copy: no atomics on the hot path).
#[derive(Debug)]
pub struct Steps<'m> {
    meter: &'m StepMeter,
    left: u32,
}

impl Steps<'_> {
    /// Counts one step; every `interval` steps asks the guard whether to stop.
    #[inline(always)]
    pub fn tick(&mut self) -> Result<(), StopReason> {
        if self.left > 1 {
            self.left -= 1;
            Ok(())
        } else {
            self.check()
        }
    }

    /// Counts `bytes` bytes of bulk work (at most [`CHUNK_BYTES`] at a time).
    #[inline]
    pub fn bytes(&mut self, bytes: usize) -> Result<(), StopReason> {
        let mut steps = (bytes / BYTES_PER_STEP) as u64;
        while steps >= u64::from(self.left) {
            steps -= u64::from(self.left);
            self.check()?;
        }
        self.left -= steps as u32;
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn check(&mut self) -> Result<(), StopReason> {
        self.left = self.meter.interval;
        self.meter.guard.check()
    }

    /// The guard, for describing a stop.
    pub fn guard(&self) -> &LimitGuard {
        self.meter.guard()
    }
}

impl Drop for Steps<'_> {
    fn drop(&mut self) {
        self.meter.left.store(self.left, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::CallLimits;

    #[test]
    fn steps_are_charged_to_the_instruction_budget_one_to_one() {
        let guard = Arc::new(LimitGuard::new(CallLimits {
            instructions: Some(50_000),
            time: None,
        }));
        guard.begin_call().unwrap();
        let meter = StepMeter::new(Arc::clone(&guard));
        let mut steps = meter.start();
        let mut counted = 0u64;
        while steps.tick().is_ok() {
            counted += 1;
            assert!(counted < 1_000_000, "the budget never ran out");
        }
        // The guard trips on the first check past 50 000 instructions.
        assert!((50_000..=60_000).contains(&counted), "{counted}");
        assert_eq!(guard.tripped(), Some(StopReason::InstructionLimit));
    }

    #[test]
    fn bulk_bytes_count_one_step_per_64() {
        let guard = Arc::new(LimitGuard::new(CallLimits {
            instructions: Some(10_000),
            time: None,
        }));
        guard.begin_call().unwrap();
        let meter = StepMeter::new(Arc::clone(&guard));
        let mut steps = meter.start();
        assert!(steps.bytes(BYTES_PER_STEP * 9_000).is_ok());
        assert!(steps.bytes(BYTES_PER_STEP * 9_000).is_ok(), "first check");
        assert_eq!(
            steps.bytes(BYTES_PER_STEP * 9_000),
            Err(StopReason::InstructionLimit)
        );
    }
}
