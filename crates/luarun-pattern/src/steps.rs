//! Step counting: how the matcher, which never runs a VM instruction, still answers to the
//! host's limits.
//!
//! Every unit of matcher work (one call of the recursive `match`, one iteration of a
//! repetition or balance loop) is one step; bulk byte work (searching, comparing,
//! copying) is one step per [`BYTES_PER_STEP`] bytes, done in chunks of at most
//! [`CHUNK_BYTES`]. Every [`Budget::interval`] steps the meter calls [`Budget::check`].
//! luarun's core charges that interval to the instruction budget with the interval its
//! count hook uses, so **one step costs one VM instruction**: a step takes a few
//! nanoseconds, like an instruction, so an instruction limit buys about as much time spent
//! matching as spent running Lua, and a check lands every few tens of microseconds.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::{Budget, Stop};

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
    budget: Arc<dyn Budget>,
    interval: u32,
    left: AtomicU32,
}

impl std::fmt::Debug for dyn Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Budget")
    }
}

impl StepMeter {
    /// A meter reporting to `budget` every `budget.interval()` steps (at least 1).
    pub fn new(budget: Arc<dyn Budget>) -> Self {
        let interval = budget.interval().max(1);
        StepMeter {
            budget,
            interval,
            left: AtomicU32::new(interval),
        }
    }

    /// The budget this meter reports to.
    pub fn budget(&self) -> &dyn Budget {
        &*self.budget
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
    /// Counts one step; every `interval` steps asks the budget whether to stop.
    #[inline(always)]
    pub fn tick(&mut self) -> Result<(), Stop> {
        if self.left > 1 {
            self.left -= 1;
            Ok(())
        } else {
            self.check()
        }
    }

    /// Counts `bytes` bytes of bulk work (at most [`CHUNK_BYTES`] at a time).
    #[inline]
    pub fn bytes(&mut self, bytes: usize) -> Result<(), Stop> {
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
    fn check(&mut self) -> Result<(), Stop> {
        self.left = self.meter.interval;
        self.meter.budget.check()
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
    use std::sync::atomic::AtomicU64;

    /// A budget of `max` steps, checked every `interval`.
    struct Countdown {
        interval: u32,
        max: u64,
        used: AtomicU64,
    }

    impl Budget for Countdown {
        fn interval(&self) -> u32 {
            self.interval
        }
        fn check(&self) -> Result<(), Stop> {
            let used = self
                .used
                .fetch_add(u64::from(self.interval), Ordering::Relaxed);
            if used + u64::from(self.interval) > self.max {
                return Err(Stop("out of steps".into()));
            }
            Ok(())
        }
        fn memory_room(&self) -> Option<usize> {
            None
        }
        fn note_refusal(&self, _bytes: usize, _by_limit: bool) {}
        fn stack_exhausted(&self) -> Option<&'static str> {
            None
        }
    }

    fn meter(max: u64) -> StepMeter {
        StepMeter::new(Arc::new(Countdown {
            interval: 10_000,
            max,
            used: AtomicU64::new(0),
        }))
    }

    #[test]
    fn steps_are_charged_to_the_budget_one_to_one() {
        let meter = meter(50_000);
        let mut steps = meter.start();
        let mut counted = 0u64;
        while steps.tick().is_ok() {
            counted += 1;
            assert!(counted < 1_000_000, "the budget never ran out");
        }
        // The budget says stop on the first check past 50 000 steps.
        assert!((50_000..=60_000).contains(&counted), "{counted}");
    }

    #[test]
    fn bulk_bytes_count_one_step_per_64() {
        let meter = meter(10_000);
        let mut steps = meter.start();
        assert!(steps.bytes(BYTES_PER_STEP * 9_000).is_ok());
        assert!(steps.bytes(BYTES_PER_STEP * 9_000).is_ok(), "first check");
        assert_eq!(
            steps.bytes(BYTES_PER_STEP * 9_000),
            Err(Stop("out of steps".into()))
        );
    }

    #[test]
    fn the_count_left_carries_over_between_calls() {
        let meter = meter(u64::MAX);
        {
            let mut steps = meter.start();
            for _ in 0..2_500 {
                steps.tick().unwrap();
            }
        }
        assert_eq!(meter.start().left, 7_500);
    }
}
