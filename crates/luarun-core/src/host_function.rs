//! Host functions as Lua sees them: a C closure around the mlua function that runs the
//! host's code, raising the host's failures as ordinary Lua errors.
//!
//! mlua reports a callback's `Err` as its own error userdata, which a script's `pcall`
//! would receive instead of a message it can match on. So the mlua function returns
//! `(marker, value)` on failure, and [`shell`] raises `value` as `error(value, 2)`
//! would: a string gets the caller's position, anything else is raised unchanged. The
//! shell is a C function that runs the mlua function in its own frame
//! (`luarun_pattern::c_shell`), so the host function is one C frame, as a C function
//! of Lua's is, and a new state compiles no Lua source for it (it used to be a Lua
//! wrapper in the prelude).

use std::ffi::{c_int, c_void};

use mlua::{ffi, Function, LightUserData, Lua};

/// The marker a host function's mlua function returns first to signal failure. Its
/// address is unique to this crate, which makes it unforgeable from Lua.
static FAILURE_MARKER: u8 = 0;

/// The marker as a Lua value, for the mlua function to return.
pub(crate) fn failure_marker() -> LightUserData {
    LightUserData(&FAILURE_MARKER as *const u8 as *mut c_void)
}

/// `raw` (an mlua function following the marker convention) as the function scripts
/// call.
pub(crate) fn wrap(lua: &Lua, raw: Function) -> mlua::Result<Function> {
    // SAFETY: runs on a valid state with `raw` pushed, which c_shell turns into the
    // closure `shell` expects.
    unsafe {
        lua.exec_raw(raw, |state| {
            luarun_pattern::c_shell::push_closure(state, shell, 0);
        })
    }
}

/// Runs the host's mlua function with the arguments and returns its results, or raises
/// its failure.
///
/// # Safety
/// A `lua_CFunction` made by [`wrap`].
unsafe extern "C-unwind" fn shell(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: a C closure made by `wrap`; c_shell leaves the results on top, from
    // `first` up; raising (the function's, lua_error) is allowed in a C function, and
    // nothing here owns memory.
    unsafe {
        let results = luarun_pattern::c_shell::call(state);
        let first = ffi::lua_gettop(state) - results + 1;
        if results >= 1
            && ffi::lua_type(state, first) == ffi::LUA_TLIGHTUSERDATA
            && ffi::lua_touserdata(state, first) == failure_marker().0
        {
            ffi::luaL_checkstack(state, 2, c"too many results".as_ptr());
            ffi::lua_settop(state, first + 1);
            // As error(value, 2): level 1 here is whoever called this function.
            if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
                ffi::luaL_where(state, 1);
                ffi::lua_insert(state, -2);
                ffi::lua_concat(state, 2);
            }
            ffi::lua_error(state);
        }
        results
    }
}
