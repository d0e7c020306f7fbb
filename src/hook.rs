//! The count hook that enforces [`LimitGuard`]s, as a raw Lua hook.
//!
//! Any count hook makes Lua 5.4 take its slow path on every instruction (about 1.5x on
//! tight loops), so it is only installed while it is needed:
//! - states with an instruction limit keep it on for good (it counts instructions);
//! - other states run without it; [`arm`] installs it from the interrupting thread (or
//!   the watchdog, when a time limit passes)
//!   (`lua_sethook` is async-safe by Lua's design) on the main thread and on the
//!   coroutine running at that moment, and [`disarm`] removes it after the call.
//!
//! The running coroutine is known because the prelude's `coroutine.resume` and
//! `coroutine.wrap` go through [`tracked_resume`], which records it for exactly as long
//! as it runs.
//! The same function bounds how deeply coroutines may nest, which LuaJIT leaves to the
//! host's C stack. On Lua 5.4 the hook finds its guard through the thread's extra space
//! (`lua_getextraspace`, copied into every coroutine created from the main thread); on
//! LuaJIT, which has no extra space but whose hooks are global to all coroutines, through
//! the registry.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::Arc;

use mlua::ffi;
use parking_lot::Mutex;

use crate::limits::LimitGuard;

/// VM instructions between two checks when no instruction limit asks for finer steps:
/// tens of microseconds of Lua work, so a stop lands well within a millisecond.
pub const DEFAULT_HOOK_INTERVAL: u32 = 10_000;

/// The check interval for a state whose instruction limit is `limit`.
pub fn hook_interval(limit: Option<u64>) -> u32 {
    let interval = limit.map_or(u64::from(DEFAULT_HOOK_INTERVAL), |n| {
        n.clamp(1, u64::from(DEFAULT_HOOK_INTERVAL))
    });
    interval as u32
}

/// The Lua threads that may be executing: the main thread and the innermost running
/// coroutine (null when the main thread runs). A coroutine recorded here cannot be
/// collected: it is running, so the stack that resumed it references it.
#[derive(Debug)]
pub struct RunningThreads {
    main: *mut ffi::lua_State,
    current: *mut ffi::lua_State,
    interval: c_int,
    /// Coroutines resumed inside each other right now.
    nesting: u32,
}

/// Most coroutines running inside each other. Each level uses host C stack (LuaJIT does
/// not bound it at all; Lua 5.4 stops near 200 C levels): this keeps it far from 1 MiB.
pub const MAX_COROUTINE_NESTING: u32 = 100;

// SAFETY: the pointers are only dereferenced by lua_sethook, which Lua allows from any
// thread, and only while the mutex guarantees they are alive (see above).
unsafe impl Send for RunningThreads {}

impl RunningThreads {
    /// Nothing recorded yet; [`install`] fills in the main thread.
    pub const fn empty() -> Self {
        RunningThreads {
            main: ptr::null_mut(),
            current: ptr::null_mut(),
            interval: DEFAULT_HOOK_INTERVAL as c_int,
            nesting: 0,
        }
    }
}

unsafe extern "C-unwind" fn limit_hook(state: *mut ffi::lua_State, _debug: *mut ffi::lua_Debug) {
    let guard = guard_of(state);
    if guard.is_null() {
        return;
    }
    if let Err(reason) = (*guard).check() {
        let message = (*guard).describe(reason);
        ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len());
        // lua_error does not return: drop everything that owns memory first.
        drop(message);
        ffi::lua_error(state);
    }
}

#[cfg(feature = "lua54")]
unsafe fn guard_of(state: *mut ffi::lua_State) -> *const LimitGuard {
    *(ffi::lua_getextraspace(state) as *const *const LimitGuard)
}

#[cfg(feature = "lua54")]
unsafe fn store_guard(main: *mut ffi::lua_State, guard: *const LimitGuard) {
    *(ffi::lua_getextraspace(main) as *mut *const c_void) = guard.cast();
}

#[cfg(feature = "lua54")]
unsafe fn main_thread(state: *mut ffi::lua_State) -> *mut ffi::lua_State {
    ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, ffi::LUA_RIDX_MAINTHREAD);
    let main = ffi::lua_tothread(state, -1);
    ffi::lua_pop(state, 1);
    main
}

/// Registry key of the guard pointer on LuaJIT: the address of this static.
#[cfg(feature = "luajit")]
static GUARD_KEY: u8 = 0;

#[cfg(feature = "luajit")]
unsafe fn guard_of(state: *mut ffi::lua_State) -> *const LimitGuard {
    ffi::lua_pushlightuserdata(state, &GUARD_KEY as *const u8 as *mut c_void);
    ffi::lua_rawget(state, ffi::LUA_REGISTRYINDEX);
    let guard = ffi::lua_touserdata(state, -1);
    ffi::lua_pop(state, 1);
    guard as *const LimitGuard
}

#[cfg(feature = "luajit")]
unsafe fn store_guard(main: *mut ffi::lua_State, guard: *const LimitGuard) {
    ffi::lua_pushlightuserdata(main, &GUARD_KEY as *const u8 as *mut c_void);
    ffi::lua_pushlightuserdata(main, guard as *mut c_void);
    ffi::lua_rawset(main, ffi::LUA_REGISTRYINDEX);
}

#[cfg(feature = "luajit")]
unsafe fn main_thread(state: *mut ffi::lua_State) -> *mut ffi::lua_State {
    // mlua runs setup code on the main thread; LuaJIT hooks are global anyway.
    state
}

/// Installs the count hook on `thread`, unless it is installed already: setting a hook
/// restarts its count, so re-arming an armed hook (each resume of a coroutine, each of
/// a storm of interrupts) could keep the count from ever reaching `interval`. On LuaJIT
/// the count is shared by all coroutines, where a loop of short resumes never let the
/// hook fire.
#[allow(clippy::let_unit_value)] // lua_sethook returns int on LuaJIT, nothing on Lua 5.4
unsafe fn set_hook(thread: *mut ffi::lua_State, interval: c_int) {
    let installed = ffi::lua_gethook(thread).is_some_and(|hook| {
        std::ptr::fn_addr_eq(hook, limit_hook as unsafe extern "C-unwind" fn(_, _))
    }) && ffi::lua_gethookmask(thread) == ffi::LUA_MASKCOUNT
        && ffi::lua_gethookcount(thread) == interval;
    if !installed {
        let _ = ffi::lua_sethook(thread, Some(limit_hook), ffi::LUA_MASKCOUNT, interval);
    }
}

/// Records the guard in the main thread's extra space and, for states with limits,
/// installs the hook for good. The guard must outlive the Lua state: `State` declares
/// its `Lua` before its guard, so the state closes first.
pub fn install(lua: &mlua::Lua, guard: &Arc<LimitGuard>) -> mlua::Result<()> {
    let interval = hook_interval(guard.limits().instructions) as c_int;
    let permanent = guard.hook_is_permanent();
    let guard_ptr = Arc::as_ptr(guard);
    // SAFETY: runs with mlua's lock held on a valid state; the stack is balanced.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            let main = main_thread(state);
            store_guard(main, guard_ptr);
            if main != state {
                store_guard(state, guard_ptr);
            }
            if permanent {
                set_hook(main, interval);
                set_hook(state, interval);
            }
            let mut running = guard.running().lock();
            running.main = main;
            running.interval = interval;
        })
    }
}

/// Installs the hook on the threads that may be running. Any thread, any time.
pub fn arm(guard: &LimitGuard) {
    let running = guard.running().lock();
    for thread in [running.main, running.current] {
        if !thread.is_null() {
            // SAFETY: alive while recorded (see RunningThreads); lua_sethook is async-safe.
            unsafe { set_hook(thread, running.interval) };
        }
    }
}

/// Removes the hook from the main thread after a call of a state without limits, so the
/// next call runs at full speed. Coroutines created while it was armed keep theirs (it
/// only costs them speed).
pub fn disarm(guard: &LimitGuard) {
    let running = guard.running().lock();
    if !running.main.is_null() {
        // SAFETY: the main thread lives as long as the state.
        #[allow(clippy::let_unit_value)]
        let _ = unsafe { ffi::lua_sethook(running.main, None, 0, 0) };
    }
}

/// `coroutine.resume(co, ...)` that records `co` as the running coroutine for exactly
/// as long as it runs (Lua 5.4's `auxresume`, with the bookkeeping around `lua_resume`).
/// Recording and restoring happen in this one C function with no Lua error possible in
/// between, so the record can never outlive the coroutine's run: a stale pointer could
/// otherwise reach `lua_sethook` after the coroutine was collected.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state whose extra space holds a guard.
pub unsafe extern "C-unwind" fn tracked_resume(state: *mut ffi::lua_State) -> c_int {
    // Raises "bad argument #1 (thread expected)" before anything is recorded.
    ffi::luaL_checktype(state, 1, ffi::LUA_TTHREAD);
    let co = ffi::lua_tothread(state, 1);
    // Lua 5.4's lua_resume says this itself; LuaJIT's C API would try to call nil.
    let status = ffi::lua_status(co);
    if (status == ffi::LUA_OK && ffi::lua_gettop(co) == 0) || status > ffi::LUA_YIELD {
        return resume_failed(state, c"cannot resume dead coroutine");
    }
    let narg = ffi::lua_gettop(state) - 1;
    if ffi::lua_checkstack(co, narg) == 0 {
        return resume_failed(state, c"too many arguments to resume");
    }
    // Each resume nests on the host stack (see cstack.rs).
    if crate::cstack::exceeded() {
        return resume_failed(
            state,
            c"C stack overflow: nested calls use too much of the host stack",
        );
    }
    let guard = guard_of(state);
    let previous = if guard.is_null() {
        ptr::null_mut()
    } else {
        let mut running = (*guard).running().lock();
        if running.nesting >= MAX_COROUTINE_NESTING {
            drop(running);
            return resume_failed(state, c"C stack overflow: too many nested coroutines");
        }
        running.nesting += 1;
        let previous = running.current;
        running.current = co;
        if (*guard).stop_pending() {
            set_hook(co, running.interval);
        }
        previous
    };
    ffi::lua_xmove(state, co, narg);
    let mut nres: c_int = 0;
    let status = ffi::lua_resume(co, state, narg, &mut nres);
    if !guard.is_null() {
        let mut running = (*guard).running().lock();
        running.current = previous;
        running.nesting -= 1;
    }
    if status == ffi::LUA_OK || status == ffi::LUA_YIELD {
        if ffi::lua_checkstack(state, nres + 1) == 0 {
            ffi::lua_pop(co, nres);
            return resume_failed(state, c"too many results to resume");
        }
        ffi::lua_xmove(co, state, nres);
        ffi::lua_pushboolean(state, 1);
        ffi::lua_insert(state, -(nres + 1));
        nres + 1
    } else {
        // The error value; then `false, error`, as coroutine.resume returns it.
        ffi::lua_xmove(co, state, 1);
        ffi::lua_pushboolean(state, 0);
        ffi::lua_insert(state, -2);
        2
    }
}

unsafe fn resume_failed(state: *mut ffi::lua_State, message: &'static std::ffi::CStr) -> c_int {
    ffi::lua_pushboolean(state, 0);
    ffi::lua_pushliteral(state, message);
    2
}

/// The lock type guarding [`RunningThreads`].
pub type RunningLock = Mutex<RunningThreads>;
