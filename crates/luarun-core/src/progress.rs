//! Progress reports and cancellation, shared by the workers of one render.
//!
//! Rows can be slow without limit (a narrow render with `max_iter` near 2^32 spends
//! minutes on one row), so the engines do not wait for rows to finish: every
//! [`POLL_STEPS`] iteration steps a worker [polls](Progress::poll), which stops it once
//! the render is cancelled and calls the callback when it has not been called for
//! [`REPORT_INTERVAL`]. A poll that finds nothing to do is an atomic load and a clock
//! read, a few nanoseconds every few microseconds of work.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::error::{Error, ErrorKind, Result};

/// Iteration steps a worker runs between two polls: tens of microseconds for the
/// native kernels (a step of a vector group takes a few nanoseconds), a few hundred for
/// the Lua kernel on Lua 5.4, so a cancellation lands well within a millisecond.
pub const POLL_STEPS: u32 = 4096;

/// How long the callback may go uncalled while the render runs: rows that finish call
/// it too, but a slow row would otherwise keep it (and a cancel) waiting.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(10);

/// The render was cancelled by its progress callback; the worker stops where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

/// Reports progress and relays cancellation, shared by the workers of one render.
pub struct Progress<'a> {
    total: u32,
    /// Rows finished so far; the lock also serializes the callback.
    done: Mutex<u32>,
    /// Call the callback only every `every` rows (and at the end), so a slow callback
    /// (Python, a GUI) cannot dominate a render of many thin rows.
    every: u32,
    cancelled: AtomicBool,
    callback: Option<&'a (dyn Fn(u32, u32) -> bool + Sync)>,
    /// The clock the report times are measured on.
    start: Instant,
    /// Nanoseconds after `start` when the callback was last called (0: not yet).
    last_report_ns: AtomicU64,
}

impl<'a> Progress<'a> {
    /// Tracks `total` rows; `callback(done, total)` returns true to cancel.
    pub fn new(total: u32, callback: Option<&'a (dyn Fn(u32, u32) -> bool + Sync)>) -> Self {
        Progress {
            total,
            done: Mutex::new(0),
            every: (total / 256).max(1),
            cancelled: AtomicBool::new(false),
            callback,
            start: Instant::now(),
            last_report_ns: AtomicU64::new(0),
        }
    }

    /// Whether a callback asked to stop; workers check it before each row.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Records `rows` more finished rows and calls the callback when due.
    pub fn rows_done(&self, rows: u32) {
        // Nothing new to report (a render whose mirror rows were all computed says 0).
        let (Some(callback), 1..) = (self.callback, rows) else {
            return;
        };
        let mut done = self.done.lock();
        let before = *done;
        *done += rows;
        let due = *done == self.total || *done / self.every != before / self.every;
        if due {
            self.report(callback, *done);
        }
    }

    /// Called by workers every [`POLL_STEPS`] steps inside rows: `Err(Cancelled)` once
    /// the render is cancelled, and a call of the callback (with the rows finished so
    /// far) when it has not been called for [`REPORT_INTERVAL`].
    pub fn poll(&self) -> std::result::Result<(), Cancelled> {
        if self.is_cancelled() {
            return Err(Cancelled);
        }
        let Some(callback) = self.callback else {
            return Ok(());
        };
        if !self.report_due() {
            return Ok(());
        }
        // One call at a time; a worker that finds another one reporting goes back to
        // work instead of waiting for a slow callback.
        if let Some(done) = self.done.try_lock() {
            // Checked again under the lock: another worker may have reported meanwhile.
            if self.report_due() {
                self.report(callback, *done);
            }
        }
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn report_due(&self) -> bool {
        let last = self.last_report_ns.load(Ordering::Relaxed);
        self.now_ns().saturating_sub(last) >= REPORT_INTERVAL.as_nanos() as u64
    }

    /// Calls the callback (the caller holds the `done` lock) unless already cancelled.
    fn report(&self, callback: &(dyn Fn(u32, u32) -> bool + Sync), done: u32) {
        if !self.is_cancelled() && callback(done, self.total) {
            self.cancelled.store(true, Ordering::Relaxed);
        }
        // After the call: a callback slower than the interval leaves the workers a full
        // interval of work before the next periodic call.
        self.last_report_ns.store(self.now_ns(), Ordering::Relaxed);
    }

    /// `Err(Cancelled)` if the callback asked to stop.
    pub fn finish(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::new(
                ErrorKind::Cancelled,
                "the progress callback cancelled the render; the buffer is partly written",
            ))
        } else {
            Ok(())
        }
    }
}

/// The steps a kernel may still run before it polls, kept per worker thread across its
/// tasks, so polls come every [`POLL_STEPS`] steps of work whether the steps are one
/// long orbit or many short ones.
pub struct StepBudget<'p> {
    progress: Option<&'p Progress<'p>>,
    left: u32,
}

impl<'p> StepBudget<'p> {
    /// A budget that polls `progress`.
    pub fn new(progress: &'p Progress<'p>) -> Self {
        StepBudget {
            progress: Some(progress),
            left: POLL_STEPS,
        }
    }

    /// A budget that never stops (for callers outside a render).
    pub fn unlimited() -> Self {
        StepBudget {
            progress: None,
            left: POLL_STEPS,
        }
    }

    /// Steps the kernel may run before its next [`StepBudget::charge`] (at least 1).
    #[inline]
    pub fn left(&self) -> u32 {
        self.left
    }

    /// Records `steps` steps of work (or setup worth as much); polls when the budget is
    /// used up.
    #[inline]
    pub fn charge(&mut self, steps: u32) -> std::result::Result<(), Cancelled> {
        if steps < self.left {
            self.left -= steps;
            return Ok(());
        }
        self.left = POLL_STEPS;
        self.progress.map_or(Ok(()), Progress::poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_polls_every_poll_steps_steps() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let callback = |_: u32, _: u32| {
            calls.fetch_add(1, Ordering::Relaxed);
            true
        };
        let progress = Progress::new(10, Some(&callback));
        let mut budget = StepBudget::new(&progress);
        std::thread::sleep(REPORT_INTERVAL);
        assert_eq!(budget.charge(POLL_STEPS - 1), Ok(()));
        assert_eq!(budget.left(), 1);
        assert_eq!(
            calls.load(Ordering::Relaxed),
            0,
            "no poll before the budget is used"
        );
        // The poll finds a report due (the interval has passed); the callback cancels.
        assert_eq!(budget.charge(1), Err(Cancelled));
        assert_eq!(budget.left(), POLL_STEPS);
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert_eq!(progress.poll(), Err(Cancelled));
        assert_eq!(calls.load(Ordering::Relaxed), 1, "no call once cancelled");
    }

    #[test]
    fn periodic_reports_wait_for_the_interval() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let callback = |done: u32, total: u32| {
            assert_eq!((done, total), (0, 10));
            calls.fetch_add(1, Ordering::Relaxed);
            false
        };
        let progress = Progress::new(10, Some(&callback));
        std::thread::sleep(REPORT_INTERVAL);
        assert_eq!(progress.poll(), Ok(()));
        assert_eq!(progress.poll(), Ok(()));
        // A second call within the interval would need a clock 10 ms too fast.
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        std::thread::sleep(REPORT_INTERVAL);
        assert_eq!(progress.poll(), Ok(()));
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }
}
