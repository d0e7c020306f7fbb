//! A pool of Lua states driven in parallel over an index range.
//!
//! Each state gets its own worker thread for the duration of a [`Pool::run`]. Indexes are
//! handed out one at a time from an atomic counter, so any range works with any pool size
//! and a slow index never holds up the others. Every call of the Lua function is one
//! top-level call on its state, with that state's limits; its result (a string) goes
//! straight to the caller's sink.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use mlua::{Function, Lua, MultiValue};
use parking_lot::Mutex;

use crate::error::{Error, ErrorKind, Result};
use crate::progress::Progress;
use crate::state::{Options, State};

/// Largest number of states a pool may hold.
pub const MAX_POOL_SIZE: usize = 1024;

/// Resolves a requested thread count: 0 means every core.
pub fn resolve_threads(requested: u32) -> u32 {
    if requested != 0 {
        return requested;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// Builds the extra arguments passed after the index, once per state and run.
pub type ArgsBuilder<'a> = dyn Fn(&Lua) -> mlua::Result<MultiValue> + Sync + 'a;

/// N independent Lua states, created with the same options.
pub struct Pool {
    states: Vec<Arc<State>>,
}

impl Pool {
    /// A pool of states built elsewhere (the C API builds them from its options struct).
    pub fn from_states(states: Vec<Arc<State>>) -> Result<Pool> {
        if states.is_empty() || states.len() > MAX_POOL_SIZE {
            return Err(Error::invalid_argument(format!(
                "pool size is {}; it must be 1 ..= {MAX_POOL_SIZE}",
                states.len()
            )));
        }
        Ok(Pool { states })
    }

    /// Creates `size` states with `options` (limits and sandbox apply to each).
    pub fn new(size: usize, options: &Options) -> Result<Pool> {
        if size == 0 || size > MAX_POOL_SIZE {
            return Err(Error::invalid_argument(format!(
                "pool size is {size}; it must be 1 ..= {MAX_POOL_SIZE}"
            )));
        }
        let states = (0..size)
            .map(|_| State::new(options))
            .collect::<Result<Vec<_>>>()?;
        Ok(Pool { states })
    }

    /// Number of states (and of worker threads during a run).
    pub fn size(&self) -> usize {
        self.states.len()
    }

    /// The states, for callers that set them up one by one.
    pub fn states(&self) -> &[Arc<State>] {
        &self.states
    }

    /// Runs `code` on every state (for example to define the function [`Pool::run`]
    /// calls). Stops at the first state that fails and names it.
    pub fn exec(&self, code: &[u8], name: Option<&str>) -> Result<()> {
        for (index, state) in self.states.iter().enumerate() {
            state.exec(code, name).map_err(|e| in_state(index, e))?;
        }
        Ok(())
    }

    /// Calls the global Lua function `function(i, args...)` for every `i` in `indexes`,
    /// in parallel on all states, and hands each result string to `sink(i, bytes)`.
    ///
    /// `args` builds the extra arguments once per state. After each index, `after_each`
    /// is called; returning true cancels the run (`ErrorKind::Cancelled`). The first
    /// error (from Lua, from `sink`) stops all workers and is returned.
    pub fn run(
        &self,
        function: &str,
        indexes: Range<i64>,
        args: &ArgsBuilder,
        sink: &(dyn Fn(i64, &[u8]) -> Result<()> + Sync),
        after_each: &(dyn Fn() -> bool + Sync),
    ) -> Result<()> {
        let start = indexes.start;
        let count = range_len(&indexes);
        self.run_indexes(
            function,
            count,
            &|k| start + k as i64,
            args,
            sink,
            after_each,
        )
    }

    /// [`Pool::run`] writing each result into `buf`: the result for index `first + k`
    /// must be exactly `stride` bytes and lands at `buf[k * stride ..]`; `buf` holds
    /// `count` results. `progress(done, count)` is called as indexes finish (about 256
    /// times per run at most, and at the end); returning true cancels the run.
    pub fn run_into(
        &self,
        function: &str,
        first: i64,
        buf: &mut [u8],
        stride: usize,
        progress: Option<&(dyn Fn(u32, u32) -> bool + Sync)>,
    ) -> Result<()> {
        if stride == 0 || buf.is_empty() {
            return Ok(());
        }
        let count = buf.len() / stride;
        let total = u32::try_from(count).map_err(|_| {
            Error::invalid_argument(format!("{count} results are more than a run takes"))
        })?;
        let end = first.checked_add(i64::from(total)).ok_or_else(|| {
            Error::invalid_argument(format!("first ({first}) + count ({count}) overflows"))
        })?;
        // One lock per result: workers finish indexes in any order.
        let slots: Vec<Mutex<&mut [u8]>> = crate::fallible::collect(
            buf.chunks_exact_mut(stride).map(Mutex::new),
            count,
            "the run's result slots",
        )?;
        let sink = |index: i64, bytes: &[u8]| -> Result<()> {
            if bytes.len() != stride {
                return Err(Error::new(
                    ErrorKind::Runtime,
                    format!(
                        "'{function}' returned {} bytes, stride is {stride}",
                        bytes.len()
                    ),
                ));
            }
            slots[(index - first) as usize]
                .lock()
                .copy_from_slice(bytes);
            Ok(())
        };
        let progress = Progress::new(total, progress);
        let after_each = || {
            progress.rows_done(1);
            progress.is_cancelled()
        };
        let no_args = |_: &mlua::Lua| Ok(MultiValue::new());
        self.run(function, first..end, &no_args, &sink, &after_each)
    }

    /// [`Pool::run`] over a list of indexes (in any order), for callers that skip some.
    pub fn run_each(
        &self,
        function: &str,
        indexes: &[i64],
        args: &ArgsBuilder,
        sink: &(dyn Fn(i64, &[u8]) -> Result<()> + Sync),
        after_each: &(dyn Fn() -> bool + Sync),
    ) -> Result<()> {
        self.run_indexes(
            function,
            indexes.len(),
            &|k| indexes[k],
            args,
            sink,
            after_each,
        )
    }

    /// Runs the `count` indexes `index_at(0 .. count)`, handed out one at a time.
    fn run_indexes(
        &self,
        function: &str,
        count: usize,
        index_at: &(dyn Fn(usize) -> i64 + Sync),
        args: &ArgsBuilder,
        sink: &(dyn Fn(i64, &[u8]) -> Result<()> + Sync),
        after_each: &(dyn Fn() -> bool + Sync),
    ) -> Result<()> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        let fail = |error: Error| {
            stop.store(true, Ordering::Relaxed);
            failure.lock().get_or_insert(error);
        };
        let workers = self.states.len().min(count);
        std::thread::scope(|scope| {
            for (number, state) in self.states.iter().take(workers).enumerate() {
                let (next, stop, fail) = (&next, &stop, &fail);
                // A thread the system cannot start (no memory for its stack) fails the
                // run; the workers already started stop at their next index.
                let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                    let setup = state.run(|lua| {
                        let value: mlua::Value = lua.globals().get(function)?;
                        let Some(callee) = value.as_function().cloned() else {
                            return Err(mlua::Error::runtime(format!(
                                "global '{function}' is a {}, not a function; load code \
                                 defining it on the pool first",
                                value.type_name()
                            )));
                        };
                        Ok((callee, args(lua)?))
                    });
                    let (callee, extra) = match setup {
                        Ok(pair) => pair,
                        Err(error) => return fail(in_state(number, error)),
                    };
                    while !stop.load(Ordering::Relaxed) {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= count {
                            break;
                        }
                        let index = index_at(k);
                        if let Err(error) = call_one(state, &callee, index, &extra, sink) {
                            return fail(error);
                        }
                        if after_each() {
                            return fail(Error::new(
                                ErrorKind::Cancelled,
                                "the progress callback cancelled the run",
                            ));
                        }
                    }
                });
                if let Err(error) = spawned {
                    fail(Error::new(
                        ErrorKind::Memory,
                        format!("cannot start pool worker thread {number}: {error}"),
                    ));
                    break;
                }
            }
        });
        match failure.into_inner() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

fn call_one(
    state: &State,
    callee: &Function,
    index: i64,
    extra: &MultiValue,
    sink: &(dyn Fn(i64, &[u8]) -> Result<()> + Sync),
) -> Result<()> {
    let mut call_args = MultiValue::with_capacity(extra.len() + 1);
    call_args.push_back(mlua::Value::Integer(index));
    call_args.extend(extra.iter().cloned());
    state
        .run(|_| {
            let result: mlua::Value = callee.call(call_args)?;
            match result {
                mlua::Value::String(bytes) => {
                    sink(index, &bytes.as_bytes()).map_err(mlua::Error::external)
                }
                other => Err(mlua::Error::runtime(format!(
                    "the function returned a {}, not a string",
                    other.type_name()
                ))),
            }
        })
        .map_err(|error| error.in_context(format_args!("index {index}")))
}

fn in_state(number: usize, error: Error) -> Error {
    error.in_context(format_args!("pool state {number}"))
}

fn range_len(range: &Range<i64>) -> usize {
    usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(0)
}
