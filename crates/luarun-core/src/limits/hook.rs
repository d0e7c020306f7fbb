//! The hook that enforces [`LimitGuard`]s, as a raw Lua hook ([`dispatch`]). It is the
//! state's only hook: a script's own `debug.sethook` hook runs through it too (see
//! `script_hook.rs`), so the hook a thread runs is always the union of what the limits
//! and the script need ([`wanted`]).
//!
//! Any count hook makes Lua 5.4 take its slow path on every instruction (about 1.5x on
//! tight loops), so it is only installed while it is needed:
//! - states with an instruction limit keep it on for good (it counts instructions);
//! - other states run without it; [`arm`] installs it from the interrupting thread (or
//!   the watchdog, when a time limit passes)
//!   (`lua_sethook` is async-safe by Lua's design) on the main thread and on the
//!   coroutine running at that moment, and [`rest`] removes it after the call.
//!
//! Once a stop is pending (an interrupt, a passed deadline, a closing state) the hook
//! fires on every instruction (`STOP_INTERVAL`): waiting for the normal interval let
//! loops of costly C calls (`table.sort` of 1e5 items, `utf8.len` of 16 MB) run on for
//! seconds. After the call the hook goes back to its interval ([`rest`]), and a hook that
//! finds itself counting single instructions with no stop pending (a coroutine armed in
//! an earlier call) goes back by itself. Each count event charges the instructions it
//! stands for (the hook's count), whatever count it was set to.
//!
//! LuaJIT keeps one hook for all coroutines, and `lua_sethook` there rewrites the flag
//! word that also marks a hook as running: changed from another thread while the hook
//! runs, that flag could stay set and no hook would ever run again. So on LuaJIT another
//! thread only installs the hook where none is installed (then none is running); an
//! installed counting hook (instruction limits) switches itself to stop mode the next
//! time it fires.
//!
//! The running coroutine is known because `coroutine.resume`, `coroutine.wrap` and
//! `coroutine.close` (LuaJIT: the prelude's resume) go through `coroutines.rs`, which records it
//! ([`RunningThreads::enter`]) for exactly as long as it runs. On Lua 5.4 the hook
//! finds its guard through the thread's extra space (`lua_getextraspace`, copied into
//! every coroutine created from the main thread); on
//! LuaJIT, which has no extra space but whose hooks are global to all coroutines, through
//! the registry.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::Arc;

use mlua::ffi;
use parking_lot::Mutex;

use crate::limits::script_hook::{self, ScriptHook};
use crate::limits::LimitGuard;

/// VM instructions between two checks when no instruction limit asks for finer steps:
/// tens of microseconds of Lua work, so a stop lands well within a millisecond.
pub const DEFAULT_HOOK_INTERVAL: u32 = 10_000;

/// The count of a hook armed for a pending stop: every instruction.
const STOP_INTERVAL: c_int = 1;

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
    /// Coroutines resumed inside each other right now.
    nesting: u32,
    /// When another thread last set the hook (Lua 5.4, see [`arm`]); None: never.
    last_remote_arm: Option<std::time::Instant>,
}

/// Most coroutines running inside each other. Each level uses host C stack (LuaJIT does
/// not bound it at all): this keeps it far from 1 MiB. Lua 5.4 stops near 200 C levels
/// itself ("C stack overflow"), which this bound leaves to it.
#[cfg(feature = "luajit")]
pub const MAX_COROUTINE_NESTING: u32 = 100;
/// Most coroutines running inside each other: above Lua 5.4's own bound of about 200
/// C levels, which stops them first, as in plain Lua.
#[cfg(not(feature = "luajit"))]
pub const MAX_COROUTINE_NESTING: u32 = 256;

// SAFETY: the pointers are only dereferenced by lua_sethook, which Lua allows from any
// thread, and only while the mutex guarantees they are alive (see above).
unsafe impl Send for RunningThreads {}

impl RunningThreads {
    /// Nothing recorded yet; [`install`] fills in the main thread.
    pub const fn empty() -> Self {
        RunningThreads {
            main: ptr::null_mut(),
            current: ptr::null_mut(),
            nesting: 0,
            last_remote_arm: None,
        }
    }

    /// Records `co` as the running coroutine and returns the one it replaces; `None`
    /// (and nothing recorded) when [`MAX_COROUTINE_NESTING`] coroutines already run.
    /// Every `Some` must be followed by [`RunningThreads::leave`] with what it returned,
    /// before `co` can be collected.
    pub fn enter(&mut self, co: *mut ffi::lua_State) -> Option<*mut ffi::lua_State> {
        if self.nesting >= MAX_COROUTINE_NESTING {
            return None;
        }
        self.nesting += 1;
        Some(std::mem::replace(&mut self.current, co))
    }

    /// Ends what [`RunningThreads::enter`] began: `previous` runs again.
    pub fn leave(&mut self, previous: *mut ffi::lua_State) {
        self.current = previous;
        self.nesting -= 1;
    }
}

/// The state's one hook: luarun's count checks, then the script's own hook (see
/// `script_hook.rs`), then the hook set to what both need next.
///
/// # Safety
/// A `lua_Hook`: Lua calls it with a valid state, of a state whose guard (if any) was
/// recorded by [`install`], and a valid `debug`.
pub(crate) unsafe extern "C-unwind" fn dispatch(
    state: *mut ffi::lua_State,
    debug: *mut ffi::lua_Debug,
) {
    // SAFETY: Lua passes a valid state, with a free slot for LuaJIT's registry lookup
    // (LUA_MINSTACK is guaranteed to a hook).
    let guard = unsafe { guard_of(state) };
    if guard.is_null() {
        return;
    }
    // SAFETY: a recorded guard outlives its Lua state, so it is alive while the state
    // runs this hook; Lua passes a valid `debug`.
    let (guard, event) = unsafe { (&*guard, (*debug).event) };
    // SAFETY: a valid state (Lua passes it).
    let elapsed = unsafe { ffi::lua_gethookcount(state) };
    let checked = if event == ffi::LUA_HOOKCOUNT {
        // The instructions since the last count event: the hook's count.
        guard.check_elapsed(elapsed.max(1) as u64)
    } else if guard.stop_pending() {
        // A stop met at an event the script asked for counts as at a count event.
        guard.check_stop()
    } else {
        Ok(())
    };
    if let Err(reason) = checked {
        // Every later instruction of this thread fails too, at once.
        // SAFETY: a valid state, on the thread that runs it (inside its hook).
        unsafe { arm_here(state) };
        let message = guard.describe(reason);
        // SAFETY: a valid state with free slots (a hook gets LUA_MINSTACK); Lua
        // copies the `message.len()` bytes.
        unsafe { ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len()) };
        // lua_error does not return: drop everything that owns memory first.
        drop(message);
        // SAFETY: a hook may raise; the message is on top and nothing owns memory.
        unsafe { ffi::lua_error(state) };
    }
    let script = if guard.has_script_hooks() {
        // SAFETY: inside the hook on `state`; nothing here owns memory should the
        // script's function raise.
        unsafe { script_hook::run(state, debug, elapsed) }
    } else {
        None
    };
    let wanted = wanted(guard, script, false);
    // SAFETY: a valid state, run by this thread.
    if unsafe { current(state) } != wanted {
        // Under the lock, as `arm` sets hooks: a stop armed meanwhile is kept.
        let _running = guard.running().lock();
        let wanted = self::wanted(guard, script, guard.stop_pending());
        // SAFETY: as above; inside the hook.
        unsafe { apply(state, wanted, true) };
    }
}

/// The hook `thread` should run (mask, count; mask 0: none) for luarun's limits and a
/// script's hook: luarun counts for an instruction limit and while a stop is pending
/// (`stop`: every instruction), and on LuaJIT whenever a script hook is set (another
/// thread cannot set a LuaJIT hook that is installed, so the hook must come by to see
/// a stop); when both count, the hook fires at the nearer of the two.
///
/// An instruction limit with a script's call, return or line hook counts every
/// instruction. Lua keeps counting down while the script's hook function runs, but
/// calls no hook there: a count running out inside the hook function is lost, with all
/// the script's instructions it stood for. A line hook on a tight loop can make that
/// happen at every count (the loop and the hook function alternate in step with the
/// interval), and the limit would never be reached. Counting each instruction loses
/// nothing (a lost count then stands for a hook-function instruction only), at the
/// price of a C call per instruction, only where a script set such a hook.
fn wanted(guard: &LimitGuard, script: Option<ScriptHook>, stop: bool) -> (c_int, c_int) {
    let limits_count =
        stop || guard.hook_is_permanent() || (cfg!(feature = "luajit") && script.is_some());
    let mut mask = script.map_or(0, |hook| hook.mask);
    let exact = guard.hook_is_permanent() && mask & !ffi::LUA_MASKCOUNT != 0;
    let mut count = 0;
    if limits_count {
        mask |= ffi::LUA_MASKCOUNT;
        count = if stop || exact {
            STOP_INTERVAL
        } else {
            guard.interval() as c_int
        };
    }
    if let Some(hook) = script.filter(|hook| hook.mask & ffi::LUA_MASKCOUNT != 0) {
        let left = hook.remaining.max(1);
        count = if limits_count { count.min(left) } else { left };
    }
    (mask, count)
}

/// What `thread` runs now, in [`wanted`]'s terms: (mask, count) of our hook; (0, 0)
/// when it runs none (or another one).
///
/// # Safety
/// `thread` must be a valid Lua thread (alive until this returns).
unsafe fn current(thread: *mut ffi::lua_State) -> (c_int, c_int) {
    // SAFETY: `thread` is valid (our caller's guarantee); these only read its hook.
    unsafe {
        let ours = ffi::lua_gethook(thread).is_some_and(|hook| {
            std::ptr::fn_addr_eq(hook, dispatch as unsafe extern "C-unwind" fn(_, _))
        });
        let mask = ffi::lua_gethookmask(thread);
        if !ours || mask == 0 {
            return (0, 0);
        }
        (mask, ffi::lua_gethookcount(thread))
    }
}

/// Sets `thread`'s hook to `wanted` unless it runs that already: setting a hook
/// restarts its count, so re-setting an unchanged one (each resume of a coroutine, each
/// of a storm of interrupts) could keep the count from ever coming round. LuaJIT never
/// removes a hook from inside it (`inside_hook`: see the module comment); it counts at
/// luarun's interval instead.
///
/// # Safety
/// `thread` must be a valid Lua thread (alive until this returns), run by the calling
/// thread or not running.
#[allow(clippy::let_unit_value)] // lua_sethook returns int on LuaJIT, nothing on Lua 5.4
unsafe fn apply(thread: *mut ffi::lua_State, wanted: (c_int, c_int), inside_hook: bool) {
    let (mask, count) = wanted;
    // SAFETY: `thread` is valid (our caller's guarantee).
    let now = unsafe { current(thread) };
    if mask == 0 {
        if now.0 == 0 {
            return;
        }
        if cfg!(feature = "luajit") && inside_hook {
            let interval = DEFAULT_HOOK_INTERVAL as c_int;
            if now != (ffi::LUA_MASKCOUNT, interval) {
                // SAFETY: as above; `dispatch` is a `lua_Hook` for any state.
                let _ = unsafe {
                    ffi::lua_sethook(thread, Some(dispatch), ffi::LUA_MASKCOUNT, interval)
                };
            }
            return;
        }
        // SAFETY: as above; a NULL hook with mask 0 is how Lua turns hooks off.
        let _ = unsafe { ffi::lua_sethook(thread, None, 0, 0) };
    } else if now != wanted {
        // SAFETY: as above; `dispatch` is a `lua_Hook` for any state.
        let _ = unsafe { ffi::lua_sethook(thread, Some(dispatch), mask, count) };
    }
}

/// After `debug.sethook` recorded `script` (None: removed) for `target`: sets the
/// target's hook to what luarun and the script need. Runs on the thread running the
/// state; `target` is the running thread or a coroutine that is not running.
///
/// # Safety
/// `target` must be a live thread of the state `guard` belongs to.
pub(crate) unsafe fn apply_script_hook(
    guard: &LimitGuard,
    target: *mut ffi::lua_State,
    script: Option<ScriptHook>,
) {
    if script.is_some() {
        guard.note_script_hooks();
    }
    // Under the lock, as `arm` sets hooks: a stop armed meanwhile is kept.
    let _running = guard.running().lock();
    let wanted = wanted(guard, script, guard.stop_pending());
    // SAFETY: `target` is live (our caller's guarantee) and run by this thread or not
    // running; not inside a hook (sethook is called from Lua code).
    unsafe { apply(target, wanted, false) };
}

#[cfg(feature = "lua54")]
/// The guard of the state `state` belongs to (null before [`install`]).
///
/// # Safety
/// `state` must be a valid Lua thread (LuaJIT: with a free stack slot).
pub(crate) unsafe fn guard_of(state: *mut ffi::lua_State) -> *const LimitGuard {
    // SAFETY: a valid state's extra space is LUA_EXTRASPACE (pointer-sized, aligned)
    // bytes, zeroed by mlua or holding the pointer `store_guard` wrote.
    unsafe { *(ffi::lua_getextraspace(state) as *const *const LimitGuard) }
}

/// Records `guard` as the guard of the thread `main` (and of coroutines created later).
///
/// # Safety
/// `main` must be a valid Lua thread (LuaJIT: with two free stack slots).
#[cfg(feature = "lua54")]
unsafe fn store_guard(main: *mut ffi::lua_State, guard: *const LimitGuard) {
    // SAFETY: a valid state's extra space is pointer-sized and aligned, and only this
    // module uses it.
    unsafe { *(ffi::lua_getextraspace(main) as *mut *const c_void) = guard.cast() };
}

/// The main thread of the state `state` belongs to.
///
/// # Safety
/// `state` must be a valid Lua thread with a free stack slot.
#[cfg(feature = "lua54")]
unsafe fn main_thread(state: *mut ffi::lua_State) -> *mut ffi::lua_State {
    // SAFETY: a valid state with a free slot; Lua 5.4's registry always holds the main
    // thread at LUA_RIDX_MAINTHREAD, and the pop restores the stack.
    unsafe {
        ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, ffi::LUA_RIDX_MAINTHREAD);
        let main = ffi::lua_tothread(state, -1);
        ffi::lua_pop(state, 1);
        main
    }
}

/// Registry key of the guard pointer on LuaJIT: the address of this static.
#[cfg(feature = "luajit")]
static GUARD_KEY: u8 = 0;

#[cfg(feature = "luajit")]
/// The guard of the state `state` belongs to (null before [`install`]).
///
/// # Safety
/// `state` must be a valid Lua thread with a free stack slot.
pub(crate) unsafe fn guard_of(state: *mut ffi::lua_State) -> *const LimitGuard {
    // SAFETY: a valid state with a free slot; a raw get on the registry never raises,
    // and the pop restores the stack (nil, if unset, reads as NULL).
    let guard = unsafe {
        ffi::lua_pushlightuserdata(state, &GUARD_KEY as *const u8 as *mut c_void);
        ffi::lua_rawget(state, ffi::LUA_REGISTRYINDEX);
        let guard = ffi::lua_touserdata(state, -1);
        ffi::lua_pop(state, 1);
        guard
    };
    guard as *const LimitGuard
}

/// Records `guard` in the registry of `main`'s state (LuaJIT hooks are global).
///
/// # Safety
/// `main` must be a valid Lua thread with two free stack slots.
#[cfg(feature = "luajit")]
unsafe fn store_guard(main: *mut ffi::lua_State, guard: *const LimitGuard) {
    // SAFETY: a valid state with two free slots; lua_rawset pops both.
    unsafe {
        ffi::lua_pushlightuserdata(main, &GUARD_KEY as *const u8 as *mut c_void);
        ffi::lua_pushlightuserdata(main, guard as *mut c_void);
        ffi::lua_rawset(main, ffi::LUA_REGISTRYINDEX);
    }
}

/// The main thread of the state `state` belongs to.
///
/// # Safety
/// `state` must be a valid Lua thread (as the Lua 5.4 flavor needs; this one only
/// returns it).
#[cfg(feature = "luajit")]
unsafe fn main_thread(state: *mut ffi::lua_State) -> *mut ffi::lua_State {
    // mlua runs setup code on the main thread; LuaJIT hooks are global anyway.
    state
}

/// Whether `thread` runs the hook with any events.
///
/// # Safety
/// `thread` must be a valid Lua thread (alive until this returns).
unsafe fn hooked(thread: *mut ffi::lua_State) -> bool {
    // SAFETY: `thread` is valid (our caller's guarantee).
    unsafe { current(thread).0 != 0 }
}

#[allow(clippy::let_unit_value)] // lua_sethook returns int on LuaJIT, nothing on Lua 5.4
/// Arms `thread` for a pending stop from a thread that may not be the one running it.
/// Lua 5.4: stop mode at once. LuaJIT: only where no hook is installed (see the module
/// comment); an installed one enters stop mode itself when it next fires.
///
/// # Safety
/// `thread` must be a Lua thread that stays alive until this returns.
unsafe fn arm_from_anywhere(thread: *mut ffi::lua_State, rearm_due: bool) -> bool {
    if cfg!(feature = "luajit") {
        // SAFETY: `thread` is alive (our caller's guarantee); with no hook installed,
        // none is running that lua_sethook could disturb (module comment).
        unsafe {
            if !hooked(thread) {
                let _ = ffi::lua_sethook(thread, Some(dispatch), ffi::LUA_MASKCOUNT, STOP_INTERVAL);
                return true;
            }
        }
        return false;
    }
    // Lua 5.4: an armed thread is set again now and then, not at every arm. The VM
    // clears a frame's trap when it finds no hook mask; a hook set from here between
    // that read and that write is installed but never traps that frame, so a later arm
    // must set the traps again (lua_sethook does). At a count of 1 there is no count to
    // restart.
    // SAFETY: `thread` is alive (our caller's guarantee); these read its hook fields.
    let (mask, count) = unsafe { current(thread) };
    let armed = mask & ffi::LUA_MASKCOUNT != 0 && count == STOP_INTERVAL;
    if armed && !rearm_due {
        return false;
    }
    // A script's events stay (its hook function never runs again this call: the
    // dispatcher raises the stop first).
    let mask = mask | ffi::LUA_MASKCOUNT;
    // SAFETY: `thread` is alive (our caller's guarantee), and Lua 5.4's lua_sethook
    // may be called from another thread, even while the hook runs (see `arm` for the
    // race this rate-limits).
    let _ = unsafe { ffi::lua_sethook(thread, Some(dispatch), mask, STOP_INTERVAL) };
    true
}

/// Arms `co`, about to run on the calling thread (or running it, inside its hook), for
/// a pending stop: a count of 1, the script's events kept (any flavor: the caller runs
/// the state, so no other thread's hook is running).
///
/// # Safety
/// `co` must be a live coroutine of the state whose hook runs `guard`.
#[allow(clippy::let_unit_value)] // lua_sethook returns int on LuaJIT, nothing on Lua 5.4
pub unsafe fn arm_here(co: *mut ffi::lua_State) {
    // SAFETY: `co` is a live coroutine (our caller's guarantee), about to run here.
    let now = unsafe { current(co) };
    let armed = (now.0 | ffi::LUA_MASKCOUNT, STOP_INTERVAL);
    if now != armed {
        // SAFETY: as above; `dispatch` is a `lua_Hook` for any state.
        let _ = unsafe { ffi::lua_sethook(co, Some(dispatch), armed.0, armed.1) };
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
                apply(main, (ffi::LUA_MASKCOUNT, interval), false);
                apply(state, (ffi::LUA_MASKCOUNT, interval), false);
            }
            let mut running = guard.running().lock();
            running.main = main;
        })
    }
}

/// Arms the hook for a pending stop on the threads that may be running. Any thread, any
/// time.
pub fn arm(guard: &LimitGuard) {
    let mut running = guard.running().lock();
    // Lua 5.4's lua_sethook walks the thread's CallInfo chain (settraps). From another
    // thread that walk races with the running thread freeing CallInfos (luaE_shrinkCI,
    // after every error and in GC steps): a storm of interrupts turned that into a
    // crash. So another thread sets the hook only where it is not already armed for a
    // stop, and re-sets an armed one at most every REARM_INTERVAL (which still repairs
    // the trap a racing VM may have cleared, see arm_from_anywhere).
    let now = std::time::Instant::now();
    let rearm_due = running
        .last_remote_arm
        .is_none_or(|at| now.duration_since(at) >= REARM_INTERVAL);
    let mut armed_any = false;
    for thread in [running.main, running.current] {
        if !thread.is_null() {
            // SAFETY: alive while recorded (see RunningThreads); the reads of its hook
            // fields and lua_sethook are what Lua allows from signal handlers.
            armed_any |= unsafe { arm_from_anywhere(thread, rearm_due) };
        }
    }
    if armed_any {
        running.last_remote_arm = Some(now);
    }
}

/// How often another thread may set the hook again on a thread already armed for a
/// stop (Lua 5.4; see [`arm`]).
const REARM_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

/// After a call, on the thread that ran it: sets the main thread's hook back to what
/// the state runs with between calls (none without an instruction limit or a script
/// hook, so the next call runs at full speed). Coroutines armed during the call keep
/// their hook until it next fires (it then finds no stop pending and goes back by
/// itself).
pub fn rest(guard: &LimitGuard) {
    let running = guard.running().lock();
    if running.main.is_null() {
        return;
    }
    // SAFETY: the main thread lives as long as the state and runs nothing now (the call
    // ended); the lookup of its script hook needs free slots, checked first.
    unsafe {
        let script = if guard.has_script_hooks() && ffi::lua_checkstack(running.main, 5) != 0 {
            script_hook::of_thread(running.main)
        } else {
            None
        };
        apply(running.main, wanted(guard, script, false), false);
    }
}

/// The lock type guarding [`RunningThreads`].
pub type RunningLock = Mutex<RunningThreads>;
