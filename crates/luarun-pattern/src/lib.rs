//! Lua 5.4's pattern functions (`string.find`, `match`, `gmatch`, `gsub`) and
//! `string.rep`, ported to Rust so that limits can stop them.
//!
//! The C versions run a whole match, however long, without executing one VM instruction,
//! so the count hook that enforces limits never fires inside them: a backtracking pattern
//! such as `("a"):rep(1e5):find(".-.-.-.-b")` runs for minutes. The port counts its work
//! in steps (`steps.rs`) and asks the host's [`Budget`] every few thousand steps; luarun's
//! core answers with its limits, which stops the port like its count hook stops Lua code:
//! same message, same status, and the stop cannot be caught by `pcall` because the
//! core's guard stays tripped.
//!
//! The crate knows nothing of luarun's states: a host supplies a [`Budget`] and calls
//! [`install`], so the port can be used, tested and fuzzed on its own.
//!
//! Each function is an mlua function behind a C closure (`shell`): mlua raises a
//! callback's errors as userdata, but Lua's own functions raise plain strings (and
//! re-raise a replacement function's error value unchanged), so the Rust side returns
//! failures as `(marker, value, level)` and the C closure raises `value` itself, with
//! the position `luaL_error` would give. Scripts see C functions, as in plain Lua: the
//! same names, hook events and error positions (`gmatch`'s iterator is a C closure too).
//!
//! Installed in Lua 5.4 states only: LuaJIT's string functions follow Lua 5.1 rules and
//! keep their C implementations (see README, "Running untrusted code").

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod args;
pub mod c_shell;
pub mod ctype;
mod gsub;
mod library;
pub mod matcher;
mod rep;
pub mod search;
pub mod steps;

use std::ffi::c_int;
use std::sync::Arc;

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};

use matcher::MatchError;
use steps::StepMeter;

/// What a host lends the pattern functions: a step budget, memory accounting and a
/// stack check. Every method may be called from the thread running the state.
pub trait Budget: Send + Sync {
    /// Steps between two calls of [`Budget::check`].
    fn interval(&self) -> u32;
    /// Charges [`Budget::interval`] steps; `Err` with the message to raise when the call
    /// must stop.
    fn check(&self) -> Result<(), Stop>;
    /// Bytes the state may still allocate before its memory limit; `None` = no limit.
    fn memory_room(&self) -> Option<usize>;
    /// Records that a result of `bytes` could not be built: refused by the memory limit
    /// (`by_limit`) or by the system.
    fn note_refusal(&self, bytes: usize, by_limit: bool);
    /// The message to raise when the host stack is too deep to enter Lua again (`gsub`
    /// calls a replacement function for each match); `None` while there is room.
    fn stack_exhausted(&self) -> Option<&'static str>;
}

/// A stop the [`Budget`] asked for: its message is raised unchanged, without a position,
/// as the host's own stops are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop(pub String);

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

    /// The failure for a budget stop: its message, raised unchanged.
    pub fn stopped(lua: &Lua, stop: Stop) -> Failure {
        match lua.create_string(stop.0) {
            Ok(s) => Failure::Rethrow(Value::String(s)),
            Err(e) => Failure::Lua(e),
        }
    }

    /// The failure for a matcher error.
    pub fn from_match(lua: &Lua, error: MatchError) -> Failure {
        match error {
            MatchError::Pattern(message) => Failure::message(lua, message),
            MatchError::Stopped(stop) => Failure::stopped(lua, stop),
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
    /// Counts steps against the host's budget, which also bounds the results built in
    /// Rust buffers and records the allocations those buffers could not get.
    meter: StepMeter,
    /// The original `pcall`: calls replacement functions so their error values survive
    /// unchanged (mlua would turn them into strings).
    raw_pcall: Function,
    /// `t[k]` with metamethods ([`index_table`]), for replacement tables with metatables.
    index: Function,
}

impl Context {
    /// Bytes the state may still allocate before its memory limit; `None` = no limit.
    pub fn memory_room(&self) -> Option<usize> {
        self.meter.budget().memory_room()
    }

    /// The failure for a result that would not fit: past the memory limit, or more than
    /// the system gives a Rust buffer (`by_limit` false).
    pub fn out_of_memory(&self, bytes: usize, by_limit: bool) -> Failure {
        self.meter.budget().note_refusal(bytes, by_limit);
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
        // A message at the caller's line, as luaL_error raises it.
        Err(Failure::Message(value)) => Ok(c_shell::failure(value, c_shell::Raise::AtCaller)),
        Err(Failure::Rethrow(value)) => Ok(c_shell::failure(value, c_shell::Raise::AsItIs)),
        // Lua's own errors met while calling back into Lua (its "C stack overflow")
        // reach a script as Lua's C functions raise them: strings, not mlua's userdata.
        // Building that string here could fail the same way (mlua creates strings in a
        // protected call, one more C level), so the shell pushes it.
        // Memory errors keep their kind up to the C API.
        Err(Failure::Lua(error)) => match lua_message(&error) {
            Some(message) => {
                // Lua's C functions raise the bare message; mlua added a traceback.
                let bare = message
                    .split("\nstack traceback:")
                    .next()
                    .unwrap_or(message);
                Ok(c_shell::pending_failure(bare.to_string()))
            }
            None => Err(error),
        },
    }
}

/// The message of a Lua runtime error that mlua wrapped, if `error` is one.
fn lua_message(error: &mlua::Error) -> Option<&str> {
    match error {
        mlua::Error::RuntimeError(message) => Some(message),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        _ => None,
    }
}

type LibraryFunction = fn(&Arc<Context>, &Lua, MultiValue) -> Result<MultiValue, Failure>;

/// The ported functions, by the number their C closure passes first ([`library_shell`]).
const FUNCTIONS: [(&std::ffi::CStr, LibraryFunction); 5] = [
    (c"find", |c, lua, args| library::find(c, lua, args, true)),
    (c"match", |c, lua, args| library::find(c, lua, args, false)),
    (c"gmatch", library::gmatch),
    (c"gsub", gsub::gsub),
    (c"rep", rep::rep),
];

/// Replaces `string.find`, `match`, `gmatch`, `gsub` and `rep` with the interruptible
/// port answering to `budget`. Does nothing when the string library is not open. Must
/// run while `pcall` is still Lua's own (the port calls replacement functions with it).
pub fn install(lua: &Lua, budget: Arc<dyn Budget>) -> mlua::Result<()> {
    let globals = lua.globals();
    let Ok(string) = globals.raw_get::<Table>("string") else {
        return Ok(());
    };
    let context = Arc::new(Context {
        meter: StepMeter::new(budget),
        raw_pcall: globals.raw_get("pcall")?,
        // SAFETY: `index_table` follows the Lua calling convention.
        index: unsafe { lua.create_c_function(index_table)? },
    });
    // One mlua function serves all five (creating each is what a new state would pay
    // five times): the C closure scripts call passes which one it is first.
    let port = lua.create_function(move |lua, mut args: MultiValue| {
        let function = match args.pop_front() {
            Some(Value::Integer(i)) => FUNCTIONS.get(i as usize).map(|(_, f)| *f),
            _ => None,
        };
        let Some(function) = function else {
            return Err(mlua::Error::runtime(
                "string library port: unknown function",
            ));
        };
        // gsub re-enters Lua for each replacement: bound the host stack that uses.
        if let Some(message) = context.meter.budget().stack_exhausted() {
            return respond(Err(Failure::message(lua, message)));
        }
        respond(function(&context, lua, args))
    })?;
    // SAFETY: runs on a valid state with the string table and the port pushed; each
    // closure gets its number and the port, as `library_shell` expects (see c_shell),
    // and lua_setfield pops it; the stack is balanced.
    unsafe {
        lua.exec_raw::<()>((string, port), |state| {
            for (number, (name, _)) in FUNCTIONS.iter().enumerate() {
                ffi::lua_pushinteger(state, number as ffi::lua_Integer);
                ffi::lua_pushvalue(state, -2);
                let shell: ffi::lua_CFunction = if name == &c"gmatch" {
                    gmatch_shell
                } else {
                    library_shell
                };
                c_shell::push_closure(state, shell, 1);
                ffi::lua_setfield(state, -3, name.as_ptr());
            }
        })
    }
}

/// `t[k]`, metamethods included: what Lua's gsub does with a replacement table. A C
/// function, so no state compiles Lua source for it.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn index_table(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: a valid state; settop makes slots 1 and 2 exist, lua_gettable replaces
    // the key (slot 2) with the value and may raise (a C function may).
    unsafe {
        ffi::lua_settop(state, 2);
        ffi::lua_gettable(state, 1);
    }
    1
}

/// The C function a script calls for one of [`FUNCTIONS`]: runs the port's mlua
/// function (see [`c_shell`]) with the function's number (upvalue
/// [`c_shell::FIRST_EXTRA_UPVALUE`]) first, then the arguments; the results as
/// [`c_shell::finish`] gives them.
unsafe extern "C-unwind" fn library_shell(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls this C closure (made by `install` through c_shell) with a valid
    // state and its upvalues; the number goes below the arguments.
    unsafe {
        ffi::luaL_checkstack(state, 2, c"too many arguments".as_ptr());
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(c_shell::FIRST_EXTRA_UPVALUE));
        ffi::lua_insert(state, 1);
        let results = c_shell::call(state);
        c_shell::finish(state, results)
    }
}

/// The C function a script calls for gmatch's iterator: runs the mlua iterator (see
/// [`c_shell`]) with the same arguments; the results as [`c_shell::finish`] gives them.
unsafe extern "C-unwind" fn shell(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls this C closure (made by `gmatch_shell` through c_shell) with a
    // valid state and its upvalues.
    unsafe {
        let results = c_shell::call(state);
        c_shell::finish(state, results)
    }
}

/// `string.gmatch`: as [`library_shell`], and the iterator it returns is a C closure
/// too ([`shell`]).
unsafe extern "C-unwind" fn gmatch_shell(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: as for `library_shell`, which leaves gmatch's iterator (an mlua function)
    // as the first of its results (a failure raised instead); the iterator becomes the
    // shell's function (see c_shell), the only value returned.
    unsafe {
        let results = library_shell(state);
        let iterator = ffi::lua_gettop(state) - results + 1;
        ffi::lua_settop(state, iterator);
        c_shell::push_closure(state, shell, 0);
    }
    1
}
