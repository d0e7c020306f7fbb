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
///
/// # Safety
/// `state` is a valid thread with a free stack slot, run by the calling thread, and
/// `co` a live coroutine of the same state, kept alive (referenced) until this returns.
unsafe fn while_running<R>(
    state: *mut ffi::lua_State,
    co: *mut ffi::lua_State,
    work: impl FnOnce() -> R,
) -> Result<R, ()> {
    // SAFETY: `state` is valid with a free slot (our caller's guarantee).
    let guard = unsafe { guard_of(state) };
    if guard.is_null() {
        return Ok(work());
    }
    // SAFETY: a recorded guard outlives its Lua state, which is running this.
    let guard = unsafe { &*guard };
    let previous = {
        let mut running = guard.running().lock();
        let previous = running.enter(co).ok_or(())?;
        if guard.stop_pending() {
            // SAFETY: `co` is a live coroutine of the state `guard` belongs to, about to
            // run on this thread (our caller's guarantee).
            unsafe { arm_here(co) };
        }
        previous
    };
    let result = work();
    guard.running().lock().leave(previous);
    Ok(result)
}

/// Lua 5.4's `auxresume` with the bookkeeping around `lua_resume`: resumes `co` with
/// the top `narg` values of `state`. Returns the number of results moved onto `state`,
/// or -1 with the error value on top. It also bounds how deeply coroutines may nest,
/// which LuaJIT leaves to the host's C stack.
///
/// # Safety
/// Inside a C function on `state` (valid, run by this thread) with at least `narg`
/// values above its first slot, which holds `co`, a coroutine of the same state.
unsafe fn aux_resume(state: *mut ffi::lua_State, co: *mut ffi::lua_State, narg: c_int) -> c_int {
    // Lua 5.4's lua_resume says this itself; LuaJIT's C API would try to call nil.
    // SAFETY: `co` is a valid thread, kept alive by `state`'s slot 1.
    let status = unsafe { ffi::lua_status(co) };
    // SAFETY: as above.
    if (status == ffi::LUA_OK && unsafe { ffi::lua_gettop(co) } == 0) || status > ffi::LUA_YIELD {
        // SAFETY: a C function's state has LUA_MINSTACK free slots.
        return unsafe { aux_failed(state, c"cannot resume dead coroutine") };
    }
    // SAFETY: `co` is a valid thread.
    if unsafe { ffi::lua_checkstack(co, narg) } == 0 {
        // SAFETY: a C function's state has free slots.
        return unsafe { aux_failed(state, c"too many arguments to resume") };
    }
    // Each resume nests on the host stack (see cstack.rs).
    if crate::cstack::exceeded() {
        // SAFETY: a C function's state has free slots.
        return unsafe {
            aux_failed(
                state,
                c"C stack overflow: nested calls use too much of the host stack",
            )
        };
    }
    // SAFETY: `state` has the `narg` values (our caller's guarantee) and `co` room for
    // them (checked); both are threads of the same state.
    unsafe { ffi::lua_xmove(state, co, narg) };
    let mut nres: c_int = 0;
    // SAFETY: `co` holds its function or yield point and the `narg` arguments; it is
    // kept alive by slot 1 of `state` while it runs, as while_running needs, and
    // lua_resume runs it protected, so `work` does not raise.
    let Ok(status) =
        (unsafe { while_running(state, co, || ffi::lua_resume(co, state, narg, &mut nres)) })
    else {
        // SAFETY: nothing ran: the `narg` arguments are still on `co`; `state` has
        // free slots for the message.
        unsafe {
            ffi::lua_pop(co, narg);
            return aux_failed(state, c"C stack overflow: too many nested coroutines");
        }
    };
    if status == ffi::LUA_OK || status == ffi::LUA_YIELD {
        // SAFETY: `state` is valid.
        if unsafe { ffi::lua_checkstack(state, nres + 1) } == 0 {
            // SAFETY: lua_resume left `nres` results on `co`; `state` keeps the
            // LUA_MINSTACK slots it had.
            unsafe {
                ffi::lua_pop(co, nres);
                return aux_failed(state, c"too many results to resume");
            }
        }
        // SAFETY: `co` has `nres` results and `state` room for them (checked).
        unsafe { ffi::lua_xmove(co, state, nres) };
        nres
    } else {
        // SAFETY: a failed resume leaves its error value on top of `co`; `state` has a
        // free slot.
        unsafe { ffi::lua_xmove(co, state, 1) };
        -1
    }
}

/// Pushes `message` onto `state` and returns -1 (a failed [`aux_resume`]).
///
/// # Safety
/// `state` is a valid thread with a free stack slot.
unsafe fn aux_failed(state: *mut ffi::lua_State, message: &'static CStr) -> c_int {
    // SAFETY: valid, with a free slot (our caller's guarantee); `message` is a C string.
    unsafe { ffi::lua_pushstring(state, message.as_ptr()) };
    -1
}

/// Whether the call running on `state` has been stopped: its errors must not be
/// caught (see `guards.rs`).
///
/// # Safety
/// `state` is a valid thread with a free stack slot.
pub(crate) unsafe fn stopped(state: *mut ffi::lua_State) -> bool {
    // SAFETY: valid, with a free slot (our caller's guarantee).
    let guard = unsafe { guard_of(state) };
    // SAFETY: a recorded guard outlives its Lua state, which is running this.
    !guard.is_null() && unsafe { (*guard).tripped() }.is_some()
}

/// The coroutine argument 1 (Lua 5.4's `getco`).
///
/// # Safety
/// Inside a C function on the valid `state` (it may raise).
unsafe fn check_coroutine(state: *mut ffi::lua_State) -> *mut ffi::lua_State {
    // SAFETY: valid state; slot 1 is an acceptable index (NULL when absent).
    let co = unsafe { ffi::lua_tothread(state, 1) };
    if co.is_null() {
        // SAFETY: raises the argument error, which a C function may do.
        unsafe { ffi::luaL_checktype(state, 1, ffi::LUA_TTHREAD) };
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
    // SAFETY: Lua calls this C function with a valid state.
    let co = unsafe { check_coroutine(state) };
    // SAFETY: slot 1 holds `co` (checked), the other gettop - 1 slots are arguments.
    let nres = unsafe { aux_resume(state, co, ffi::lua_gettop(state) - 1) };
    if nres < 0 {
        // SAFETY: the error value is on top; a C function may raise it, and has
        // free slots for `stopped`'s lookup.
        unsafe {
            if cfg!(feature = "lua54") && stopped(state) {
                ffi::lua_error(state);
            }
        }
        // SAFETY: aux_resume checked or kept room; -2 is the error value below.
        unsafe {
            ffi::lua_pushboolean(state, 0);
            ffi::lua_insert(state, -2);
        }
        2
    } else {
        // SAFETY: aux_resume checked room for `nres + 1` slots; the `nres` results are
        // on top.
        unsafe {
            ffi::lua_pushboolean(state, 1);
            ffi::lua_insert(state, -(nres + 1));
        }
        nres + 1
    }
}

/// `coroutine.wrap(f)` (Lua 5.4's `luaB_cowrap`): a C closure over a new coroutine.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state whose hook guard is installed.
#[cfg(feature = "lua54")]
pub unsafe extern "C-unwind" fn wrap(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state with LUA_MINSTACK free slots; luaL_checktype
    // raises unless slot 1 is a function; the new thread, on top, becomes the closure's
    // one upvalue, and lua_xmove moves between threads of the same state.
    unsafe {
        ffi::luaL_checktype(state, 1, ffi::LUA_TFUNCTION);
        let co = ffi::lua_newthread(state);
        ffi::lua_pushvalue(state, 1);
        ffi::lua_xmove(state, co, 1);
        ffi::lua_pushcclosure(state, wrapped, 1);
    }
    1
}

/// The function `coroutine.wrap` returns (Lua 5.4's `auxwrap`): a coroutine that failed
/// has its to-be-closed variables closed (an error in a `__close` handler replaces the
/// original error) and a string error gets the caller's position, except a memory
/// error's; a stopped call's error is raised unchanged.
///
/// # Safety
/// A `lua_CFunction` whose upvalue 1 is its coroutine, as [`wrap`] makes it.
#[cfg(feature = "lua54")]
unsafe extern "C-unwind" fn wrapped(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; upvalue 1 is the coroutine (made by `wrap`),
    // which the closure keeps alive.
    let co = unsafe { ffi::lua_tothread(state, ffi::lua_upvalueindex(1)) };
    // SAFETY: `co` is a coroutine of this state, kept alive by the upvalue (in place of
    // slot 1); every slot of this call is an argument.
    let nres = unsafe { aux_resume(state, co, ffi::lua_gettop(state)) };
    if nres >= 0 {
        return nres;
    }
    // SAFETY: `co` is alive (the upvalue).
    let mut status = unsafe { ffi::lua_status(co) };
    if status != ffi::LUA_OK && status != ffi::LUA_YIELD {
        // After a stop too, so that no error is left in it for a later call to find;
        // its handlers then stop at their first instruction (while_running arms co).
        // SAFETY: the error value aux_resume left is on top.
        unsafe { ffi::lua_pop(state, 1) };
        // SAFETY: `co` is alive (the upvalue); lua_closethread runs the handlers
        // protected, so `work` does not raise.
        let closed = unsafe { while_running(state, co, || ffi::lua_closethread(co, state)) };
        status = match closed {
            Ok(status) => {
                // SAFETY: lua_closethread leaves the error (or nil) on top of `co`, and
                // `state` has the slot the popped error used.
                unsafe { ffi::lua_xmove(co, state, 1) };
                status
            }
            Err(()) => {
                // SAFETY: `state` has the slot the popped error used.
                unsafe {
                    ffi::lua_pushliteral(state, c"C stack overflow: too many nested coroutines")
                };
                ffi::LUA_ERRRUN
            }
        };
    }
    // SAFETY: the error value is on top (-1); luaL_where pushes the caller's position
    // (level 1), inserted below it and joined; a C function may raise (concat's memory).
    unsafe {
        if !stopped(state)
            && status != ffi::LUA_ERRMEM
            && ffi::lua_type(state, -1) == ffi::LUA_TSTRING
        {
            ffi::luaL_where(state, 1);
            ffi::lua_insert(state, -2);
            ffi::lua_concat(state, 2);
        }
    }
    // SAFETY: a C function may raise; the error value is on top and nothing here owns
    // memory.
    unsafe { ffi::lua_error(state) }
}

/// `coroutine.close(co)` (Lua 5.4's `luaB_close`): its `__close` handlers run on `co`,
/// which must be recorded as running for limits and interrupts to reach them.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state whose hook guard is installed.
#[cfg(feature = "lua54")]
pub unsafe extern "C-unwind" fn tracked_close(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls this C function with a valid state.
    let co = unsafe { check_coroutine(state) };
    // SAFETY: `co` is a thread of this state, kept alive by slot 1.
    if let Some(refusal) = unsafe { close_refusal(state, co) } {
        // SAFETY: a C function has free slots and may raise; nothing here owns memory.
        unsafe {
            ffi::luaL_where(state, 1);
            ffi::lua_pushstring(state, refusal.as_ptr());
            ffi::lua_concat(state, 2);
            ffi::lua_error(state)
        }
    }
    // Closing runs handlers on co's own stack, nested on this host stack.
    if crate::cstack::exceeded() {
        // SAFETY: as above.
        unsafe {
            ffi::lua_pushliteral(
                state,
                c"C stack overflow: nested calls use too much of the host stack",
            );
            ffi::lua_error(state)
        }
    }
    // lua_closethread runs the handlers protected: it never raises.
    // SAFETY: `co` is kept alive by slot 1 and not running (close_refusal), and `work`
    // never raises (above).
    let Ok(status) = (unsafe { while_running(state, co, || ffi::lua_closethread(co, state)) })
    else {
        // SAFETY: as above.
        unsafe {
            ffi::lua_pushliteral(state, c"C stack overflow: too many nested coroutines");
            ffi::lua_error(state)
        }
    };
    if status == ffi::LUA_OK {
        // SAFETY: a C function has a free slot.
        unsafe { ffi::lua_pushboolean(state, 1) };
        1
    } else {
        // SAFETY: a failed close leaves the error value on top of `co`; `state` has
        // free slots and, as a C function, may raise it.
        unsafe {
            ffi::lua_xmove(co, state, 1);
            // A stopped call's error is raised again, not returned.
            if stopped(state) {
                ffi::lua_error(state);
            }
            ffi::lua_pushboolean(state, 0);
            ffi::lua_insert(state, -2);
        }
        2
    }
}

/// Why `co` cannot be closed from `state` (Lua 5.4's `auxstatus`): it is running, or
/// it resumed another coroutine ("normal"). Dead and suspended coroutines can be.
///
/// # Safety
/// `co` must be a valid (alive) Lua thread.
#[cfg(feature = "lua54")]
unsafe fn close_refusal(
    state: *mut ffi::lua_State,
    co: *mut ffi::lua_State,
) -> Option<&'static CStr> {
    if co == state {
        return Some(c"cannot close a running coroutine");
    }
    // SAFETY: `co` is alive (our caller's guarantee).
    if unsafe { ffi::lua_status(co) } != ffi::LUA_OK {
        return None; // suspended in a yield, or dead by an error
    }
    // SAFETY: lua_Debug is plain data that lua_getstack fills in.
    let mut debug: ffi::lua_Debug = unsafe { std::mem::zeroed() };
    // SAFETY: `co` is alive; `debug` is ours to fill.
    if unsafe { ffi::lua_getstack(co, 0, std::ptr::addr_of_mut!(debug)) } != 0 {
        return Some(c"cannot close a normal coroutine");
    }
    None
}
