//! `coroutine.resume` and (Lua 5.4) `coroutine.close` as the prelude installs them: C
//! functions that record the coroutine they run as the state's running coroutine for
//! exactly as long as it runs, so that an interrupt or a passed deadline can arm the
//! limit hook on it (see `hook.rs`). `coroutine.wrap` is built on both in the prelude.
//!
//! Recording and restoring happen in one C function with no Lua error possible in
//! between, so a record can never outlive the coroutine's run: a stale pointer could
//! otherwise reach `lua_sethook` after the coroutine was collected.

use std::ffi::{c_int, CStr};

use mlua::ffi;

use crate::limits::hook::{arm_here, guard_of};

/// Runs `work` with `co` recorded as the running coroutine (armed at once when a stop
/// is pending). `Err` (nothing run) when too many coroutines already run inside each
/// other. `work` must not raise a Lua error: nothing would restore the record.
unsafe fn while_running<R>(
    state: *mut ffi::lua_State,
    co: *mut ffi::lua_State,
    work: impl FnOnce() -> R,
) -> Result<R, ()> {
    let guard = guard_of(state);
    if guard.is_null() {
        return Ok(work());
    }
    let previous = {
        let mut running = (*guard).running().lock();
        let previous = running.enter(co).ok_or(())?;
        if (*guard).stop_pending() {
            arm_here(co);
        }
        previous
    };
    let result = work();
    (*guard).running().lock().leave(previous);
    Ok(result)
}

/// Lua 5.4's `auxresume` with the bookkeeping around `lua_resume`: resumes `co` with
/// the top `narg` values of `state`. Returns the number of results moved onto `state`,
/// or -1 with the error value on top. It also bounds how deeply coroutines may nest,
/// which LuaJIT leaves to the host's C stack.
unsafe fn aux_resume(state: *mut ffi::lua_State, co: *mut ffi::lua_State, narg: c_int) -> c_int {
    // Lua 5.4's lua_resume says this itself; LuaJIT's C API would try to call nil.
    let status = ffi::lua_status(co);
    if (status == ffi::LUA_OK && ffi::lua_gettop(co) == 0) || status > ffi::LUA_YIELD {
        return aux_failed(state, c"cannot resume dead coroutine");
    }
    if ffi::lua_checkstack(co, narg) == 0 {
        return aux_failed(state, c"too many arguments to resume");
    }
    // Each resume nests on the host stack (see cstack.rs).
    if crate::cstack::exceeded() {
        return aux_failed(
            state,
            c"C stack overflow: nested calls use too much of the host stack",
        );
    }
    ffi::lua_xmove(state, co, narg);
    let mut nres: c_int = 0;
    let Ok(status) = while_running(state, co, || ffi::lua_resume(co, state, narg, &mut nres))
    else {
        ffi::lua_pop(co, narg);
        return aux_failed(state, c"C stack overflow: too many nested coroutines");
    };
    if status == ffi::LUA_OK || status == ffi::LUA_YIELD {
        if ffi::lua_checkstack(state, nres + 1) == 0 {
            ffi::lua_pop(co, nres);
            return aux_failed(state, c"too many results to resume");
        }
        ffi::lua_xmove(co, state, nres);
        nres
    } else {
        ffi::lua_xmove(co, state, 1);
        -1
    }
}

unsafe fn aux_failed(state: *mut ffi::lua_State, message: &'static CStr) -> c_int {
    ffi::lua_pushstring(state, message.as_ptr());
    -1
}

/// Whether the call running on `state` has been stopped: its errors must not be
/// caught (see `guards.rs`).
pub(crate) unsafe fn stopped(state: *mut ffi::lua_State) -> bool {
    let guard = guard_of(state);
    !guard.is_null() && (*guard).tripped().is_some()
}

/// The coroutine argument 1 (Lua 5.4's `getco`).
unsafe fn check_coroutine(state: *mut ffi::lua_State) -> *mut ffi::lua_State {
    let co = ffi::lua_tothread(state, 1);
    if co.is_null() {
        ffi::luaL_checktype(state, 1, ffi::LUA_TTHREAD);
    }
    co
}

/// `coroutine.resume(co, ...)`: Lua's, with the coroutine recorded while it runs. A
/// stopped call's error is raised again rather than returned (Lua 5.4; the LuaJIT
/// prelude does that in Lua).
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state whose hook guard is installed.
pub unsafe extern "C-unwind" fn tracked_resume(state: *mut ffi::lua_State) -> c_int {
    let co = check_coroutine(state);
    let nres = aux_resume(state, co, ffi::lua_gettop(state) - 1);
    if nres < 0 {
        if cfg!(feature = "lua54") && stopped(state) {
            ffi::lua_error(state);
        }
        ffi::lua_pushboolean(state, 0);
        ffi::lua_insert(state, -2);
        2
    } else {
        ffi::lua_pushboolean(state, 1);
        ffi::lua_insert(state, -(nres + 1));
        nres + 1
    }
}

/// `coroutine.wrap(f)` (Lua 5.4's `luaB_cowrap`): a C closure over a new coroutine.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state whose hook guard is installed.
#[cfg(feature = "lua54")]
pub unsafe extern "C-unwind" fn wrap(state: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(state, 1, ffi::LUA_TFUNCTION);
    let co = ffi::lua_newthread(state);
    ffi::lua_pushvalue(state, 1);
    ffi::lua_xmove(state, co, 1);
    ffi::lua_pushcclosure(state, wrapped, 1);
    1
}

/// The function `coroutine.wrap` returns (Lua 5.4's `auxwrap`): a coroutine that failed
/// has its to-be-closed variables closed (an error in a `__close` handler replaces the
/// original error) and a string error gets the caller's position, except a memory
/// error's; a stopped call's error is raised unchanged.
#[cfg(feature = "lua54")]
unsafe extern "C-unwind" fn wrapped(state: *mut ffi::lua_State) -> c_int {
    let co = ffi::lua_tothread(state, ffi::lua_upvalueindex(1));
    let nres = aux_resume(state, co, ffi::lua_gettop(state));
    if nres >= 0 {
        return nres;
    }
    let mut status = ffi::lua_status(co);
    if status != ffi::LUA_OK && status != ffi::LUA_YIELD {
        // After a stop too, so that no error is left in it for a later call to find;
        // its handlers then stop at their first instruction (while_running arms co).
        ffi::lua_pop(state, 1);
        status = match while_running(state, co, || ffi::lua_closethread(co, state)) {
            Ok(status) => {
                ffi::lua_xmove(co, state, 1);
                status
            }
            Err(()) => {
                ffi::lua_pushliteral(state, c"C stack overflow: too many nested coroutines");
                ffi::LUA_ERRRUN
            }
        };
    }
    if !stopped(state) && status != ffi::LUA_ERRMEM && ffi::lua_type(state, -1) == ffi::LUA_TSTRING
    {
        ffi::luaL_where(state, 1);
        ffi::lua_insert(state, -2);
        ffi::lua_concat(state, 2);
    }
    ffi::lua_error(state)
}

/// `coroutine.close(co)` (Lua 5.4's `luaB_close`): its `__close` handlers run on `co`,
/// which must be recorded as running for limits and interrupts to reach them.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state whose hook guard is installed.
#[cfg(feature = "lua54")]
pub unsafe extern "C-unwind" fn tracked_close(state: *mut ffi::lua_State) -> c_int {
    let co = check_coroutine(state);
    if let Some(refusal) = close_refusal(state, co) {
        ffi::luaL_where(state, 1);
        ffi::lua_pushstring(state, refusal.as_ptr());
        ffi::lua_concat(state, 2);
        ffi::lua_error(state)
    }
    // Closing runs handlers on co's own stack, nested on this host stack.
    if crate::cstack::exceeded() {
        ffi::lua_pushliteral(
            state,
            c"C stack overflow: nested calls use too much of the host stack",
        );
        ffi::lua_error(state)
    }
    // lua_closethread runs the handlers protected: it never raises.
    let Ok(status) = while_running(state, co, || ffi::lua_closethread(co, state)) else {
        ffi::lua_pushliteral(state, c"C stack overflow: too many nested coroutines");
        ffi::lua_error(state)
    };
    if status == ffi::LUA_OK {
        ffi::lua_pushboolean(state, 1);
        1
    } else {
        ffi::lua_xmove(co, state, 1);
        // A stopped call's error is raised again, not returned.
        if stopped(state) {
            ffi::lua_error(state);
        }
        ffi::lua_pushboolean(state, 0);
        ffi::lua_insert(state, -2);
        2
    }
}

/// Why `co` cannot be closed from `state` (Lua 5.4's `auxstatus`): it is running, or
/// it resumed another coroutine ("normal"). Dead and suspended coroutines can be.
#[cfg(feature = "lua54")]
unsafe fn close_refusal(
    state: *mut ffi::lua_State,
    co: *mut ffi::lua_State,
) -> Option<&'static CStr> {
    if co == state {
        return Some(c"cannot close a running coroutine");
    }
    if ffi::lua_status(co) != ffi::LUA_OK {
        return None; // suspended in a yield, or dead by an error
    }
    // SAFETY: lua_Debug is plain data that lua_getstack fills in.
    let mut debug: ffi::lua_Debug = std::mem::zeroed();
    if ffi::lua_getstack(co, 0, std::ptr::addr_of_mut!(debug)) != 0 {
        return Some(c"cannot close a normal coroutine");
    }
    None
}
