//! Host functions as Lua sees them: a C closure around the mlua function that runs the
//! host's code, raising the host's failures as ordinary Lua errors.
//!
//! mlua reports a callback's `Err` as its own error userdata, which a script's `pcall`
//! would receive instead of a message it can match on. So the mlua function returns
//! `(marker, value)` on failure, and [`shell`] raises `value` as `error(value, 2)`
//! would: a string gets the caller's position, anything else is raised unchanged. The
//! shell is a C function, so it adds no Lua frame to tracebacks and no Lua source to a
//! new state (it used to be a Lua wrapper in the prelude).

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
    // SAFETY: runs on a valid state with `raw` pushed as the closure's upvalue, as
    // `shell` expects it.
    unsafe {
        lua.exec_raw(raw, |state| {
            ffi::lua_pushcclosure(state, shell, 1);
        })
    }
}

/// Calls upvalue 1 with the arguments and returns its results, or raises its failure.
///
/// # Safety
/// A `lua_CFunction` with one upvalue, as [`wrap`] makes it.
unsafe extern "C-unwind" fn shell(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: a valid state whose upvalue 1 is the mlua function (see `wrap`); the
    // function goes below the n arguments, and lua_call leaves its results from slot 1
    // up; raising (lua_call's, lua_error) is allowed in a C function, and nothing here
    // owns memory.
    unsafe {
        let n = ffi::lua_gettop(state);
        ffi::luaL_checkstack(state, 2, c"too many arguments".as_ptr());
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        ffi::lua_insert(state, 1);
        ffi::lua_call(state, n, ffi::LUA_MULTRET);
        let results = ffi::lua_gettop(state);
        if results >= 1
            && ffi::lua_type(state, 1) == ffi::LUA_TLIGHTUSERDATA
            && ffi::lua_touserdata(state, 1) == failure_marker().0
        {
            ffi::lua_settop(state, 2);
            // As error(value, 2): level 1 here is whoever called this function.
            if ffi::lua_type(state, 2) == ffi::LUA_TSTRING {
                ffi::luaL_where(state, 1);
                ffi::lua_insert(state, 2);
                ffi::lua_concat(state, 2);
            }
            ffi::lua_error(state);
        }
        results
    }
}
