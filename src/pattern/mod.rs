//! Lua 5.4's pattern functions (`string.find`, `match`, `gmatch`, `gsub`) and
//! `string.rep`, ported to Rust so that limits can stop them.
//!
//! The C versions run a whole match, however long, without executing one VM instruction,
//! so the count hook that enforces limits never fires inside them: a backtracking pattern
//! such as `("a"):rep(1e5):find(".-.-.-.-b")` runs for minutes. The port counts its work
//! in steps (`steps.rs`) and asks the state's [`LimitGuard`] every few thousand steps,
//! which stops it like the hook stops Lua code: same message, same status, and the stop
//! cannot be caught by `pcall` because the guard stays tripped.
//!
//! Each function is an mlua function behind a two-line Lua wrapper (`lua/patterns.lua`):
//! mlua raises a callback's errors as userdata, but Lua's own functions raise plain
//! strings (and re-raise a replacement function's error value unchanged), so the Rust
//! side returns failures as `(marker, value, level)` and the wrapper raises `value`
//! itself. One difference remains: when a Lua function *tail-calls* a pattern function
//! that raises an error message, Lua's C function prefixes the tail-calling function's
//! line, which a Lua wrapper cannot know (the tail call replaced that frame): the
//! prefix names the caller's caller instead.
//!
//! Installed in Lua 5.4 states only: LuaJIT's string functions follow Lua 5.1 rules and
//! keep their C implementations (see README, "Running untrusted code").

mod args;
pub mod ctype;
mod gsub;
mod library;
pub mod matcher;
mod rep;
pub mod search;
pub mod steps;

use std::ffi::c_void;
use std::sync::Arc;

use mlua::{Function, LightUserData, Lua, MultiValue, Table, Value};

use crate::heap::Heap;
use crate::limits::{LimitGuard, StopReason};
use matcher::MatchError;
use steps::StepMeter;

/// Tags a failure returned to the Lua wrapper; its address is unique to this crate, so
/// no script can forge it.
static FAILURE_MARKER: u8 = 0;

fn failure_marker() -> LightUserData {
    LightUserData(&FAILURE_MARKER as *const u8 as *mut c_void)
}

/// How a library function failed.
pub enum Failure {
    /// An error message, raised like `luaL_error` raises it: prefixed with the position
    /// of the Lua code that called the function.
    Message(Value),
    /// An error value raised unchanged: whatever a replacement function raised, or the
    /// message of a limit stop (which the count hook raises without a position too).
    Rethrow(Value),
    /// An mlua error (memory errors: they keep their kind up to the C API).
    Lua(mlua::Error),
}

impl Failure {
    /// A Lua error with `message` as its value.
    pub fn message(lua: &Lua, message: impl AsRef<[u8]>) -> Failure {
        match lua.create_string(message) {
            Ok(s) => Failure::Message(Value::String(s)),
            Err(e) => Failure::Lua(e),
        }
    }

    /// The failure for a limit stop: the message the count hook would raise.
    pub fn stopped(lua: &Lua, guard: &LimitGuard, reason: StopReason) -> Failure {
        match lua.create_string(guard.describe(reason)) {
            Ok(s) => Failure::Rethrow(Value::String(s)),
            Err(e) => Failure::Lua(e),
        }
    }

    /// The failure for a matcher error.
    pub fn from_match(lua: &Lua, guard: &LimitGuard, error: MatchError) -> Failure {
        match error {
            MatchError::Pattern(message) => Failure::message(lua, message),
            MatchError::Stopped(reason) => Failure::stopped(lua, guard, reason),
        }
    }

    /// The failure for running out of memory, as Lua reports it.
    pub fn out_of_memory() -> Failure {
        Failure::Lua(mlua::Error::MemoryError("not enough memory".into()))
    }
}

impl From<mlua::Error> for Failure {
    fn from(error: mlua::Error) -> Self {
        Failure::Lua(error)
    }
}

/// What the pattern functions of one state share.
pub struct Context {
    meter: StepMeter,
    /// The state's heap: its limit bounds the results built in Rust buffers, and
    /// allocations those buffers could not get are recorded there.
    heap: Arc<Heap>,
    /// The original `pcall`: calls replacement functions so their error values survive
    /// unchanged (mlua would turn them into strings).
    raw_pcall: Function,
    /// `function(t, k) return t[k] end`, for replacement tables with metatables.
    index: Function,
}

impl Context {
    /// The guard the step meter reports to.
    pub fn guard(&self) -> &LimitGuard {
        self.meter.guard()
    }

    /// Bytes the state may still allocate before its memory limit; `None` = no limit.
    pub fn memory_room(&self) -> Option<usize> {
        self.heap
            .limit()
            .map(|limit| limit.saturating_sub(self.heap.used()))
    }

    /// The failure for a result that would not fit: past the memory limit, or more than
    /// the system gives a Rust buffer (`by_limit` false).
    pub fn out_of_memory(&self, bytes: usize, by_limit: bool) -> Failure {
        self.heap.note_refusal(bytes, by_limit);
        Failure::out_of_memory()
    }

    /// Makes room for exactly `additional` more bytes in `buffer`, failing like Lua's
    /// own buffers when the system refuses (Rust's growth would abort the process).
    pub fn reserve_exact(&self, buffer: &mut Vec<u8>, additional: usize) -> Result<(), Failure> {
        buffer
            .try_reserve_exact(additional)
            .map_err(|_| self.out_of_memory(buffer.len().saturating_add(additional), false))
    }
}

/// Turns a library result into what the Lua wrapper expects.
fn respond(result: Result<MultiValue, Failure>) -> mlua::Result<MultiValue> {
    match result {
        Ok(values) => Ok(values),
        // The level for Lua's `error`: 2 is the caller of the wrapper, as luaL_error's.
        Err(Failure::Message(value)) => Ok(MultiValue::from_vec(vec![
            Value::LightUserData(failure_marker()),
            value,
            Value::Integer(2),
        ])),
        Err(Failure::Rethrow(value)) => Ok(MultiValue::from_vec(vec![
            Value::LightUserData(failure_marker()),
            value,
            Value::Integer(0),
        ])),
        Err(Failure::Lua(error)) => Err(error),
    }
}

type LibraryFunction = fn(&Arc<Context>, &Lua, MultiValue) -> Result<MultiValue, Failure>;

/// Replaces `string.find`, `match`, `gmatch`, `gsub` and `rep` with the interruptible
/// port. Does nothing when the string library is not open. Must run before the
/// prelude replaces `pcall`.
pub fn install(lua: &Lua, guard: &Arc<LimitGuard>, heap: &Arc<Heap>) -> mlua::Result<()> {
    let globals = lua.globals();
    let Ok(string) = globals.raw_get::<Table>("string") else {
        return Ok(());
    };
    let context = Arc::new(Context {
        meter: StepMeter::new(Arc::clone(guard)),
        heap: Arc::clone(heap),
        raw_pcall: globals.raw_get("pcall")?,
        index: lua.load("local t, k = ... return t[k]").into_function()?,
    });
    let functions: [(&str, LibraryFunction); 5] = [
        ("find", |c, lua, args| library::find(c, lua, args, true)),
        ("match", |c, lua, args| library::find(c, lua, args, false)),
        ("gmatch", library::gmatch),
        ("gsub", gsub::gsub),
        ("rep", rep::rep),
    ];
    let raw = lua.create_table()?;
    for (name, function) in functions {
        let context = Arc::clone(&context);
        raw.raw_set(
            name,
            lua.create_function(move |lua, args| {
                // gsub re-enters Lua for each replacement: bound the host stack that uses.
                if crate::cstack::exceeded() {
                    return respond(Err(Failure::message(lua, crate::cstack::OVERFLOW_MESSAGE)));
                }
                respond(function(&context, lua, args))
            })?,
        )?;
    }
    lua.load(include_str!("../../lua/patterns.lua"))
        .set_name("=luarun patterns")
        .set_mode(mlua::chunk::ChunkMode::Text)
        .call::<()>((string, raw, failure_marker()))
}
