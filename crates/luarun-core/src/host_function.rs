//! Host functions as Lua sees them: a C closure around the mlua function that runs the
//! host's code, raising the host's failures as ordinary Lua errors.
//!
//! mlua reports a callback's `Err` as its own error userdata, which a script's `pcall`
//! would receive instead of a message it can match on. So the mlua function returns
//! `luarun_pattern::c_shell::failure` values on failure, and the shell raises them as
//! `error(value, 2)` would: a string gets the caller's position, anything else is
//! raised unchanged. The shell runs the mlua function in its own frame (see `c_shell`),
//! so the host function is one C frame, as a C function of Lua's is, and a new state
//! compiles no Lua source for it (it used to be a Lua wrapper in the prelude).

use std::ffi::c_int;

use luarun_pattern::c_shell;
use mlua::{ffi, Function, Lua, MultiValue, Value};

/// What the host's mlua function returns to raise `value` as `error(value, 2)`.
pub(crate) fn failure(value: Value) -> MultiValue {
    c_shell::failure(value, c_shell::Raise::AtCaller)
}

/// `raw` (an mlua function returning [`failure`] on failure) as the function scripts
/// call.
pub(crate) fn wrap(lua: &Lua, raw: Function) -> mlua::Result<Function> {
    // SAFETY: runs on a valid state with `raw` pushed, which c_shell turns into the
    // closure `shell` expects.
    unsafe {
        lua.exec_raw(raw, |state| {
            c_shell::push_closure(state, shell, 0);
        })
    }
}

/// Runs the host's mlua function with the arguments and returns its results, or raises
/// its failure.
///
/// # Safety
/// A `lua_CFunction` made by [`wrap`].
unsafe extern "C-unwind" fn shell(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: a C closure made by `wrap` (through c_shell), on the state Lua called it
    // with; nothing here owns memory should the function or `finish` raise.
    unsafe {
        let results = c_shell::call(state);
        c_shell::finish(state, results)
    }
}
