//! `debug.sethook` and `debug.gethook` for states with the debug library: a script's
//! hook runs alongside luarun's count hook instead of replacing it, so limits keep
//! holding, and `debug.gethook` shows the script's own hook, never luarun's.
//!
//! Lua has one hook per thread (LuaJIT: one per state). luarun installs a single C hook
//! (`hook::dispatch`) with the union of what it needs (counting, for limits and stops)
//! and what the script asked for; the dispatcher calls the script's function for the
//! events the script asked for, exactly as the debug library's own `hookf` does (event
//! name and line as arguments, in the hooked function's context, hooks off meanwhile).
//! When both count, the hook's count is the smaller of luarun's interval and what is
//! left of the script's count, so both see exactly the instructions they asked for.
//!
//! Script hooks are kept by thread (LuaJIT: under one key for the state) in two
//! registry tables with weak keys: the functions in `_HOOKKEY`, as the debug library
//! keeps them, and luarun's `{mask, count, remaining}` in one of its own.
//!
//! As in Lua, the script's hook function runs with hooks off: no limit can stop a hook
//! function that never returns. The debug library is outside the sandbox anyway (see
//! the options' documentation).

use std::ffi::{c_char, c_int, c_void, CStr};

use mlua::ffi;

use crate::limits::hook::{apply_script_hook, guard_of};

/// Registry key of the table of hook records: this static's address.
static RECORDS_KEY: u8 = 0;

/// Key of the LuaJIT state's one script hook in those tables (hooks are global there).
#[cfg(feature = "luajit")]
static GLOBAL_HOOK_KEY: u8 = 0;

/// The hook a script set on a thread (LuaJIT: on the state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScriptHook {
    /// The events it asked for (`LUA_MASK*`; `LUA_MASKCOUNT` when its count is > 0).
    pub mask: c_int,
    /// Instructions between two count events it asked for.
    pub count: c_int,
    /// Instructions left until its next count event.
    pub remaining: c_int,
}

/// The slots of a hook's record table.
const MASK: ffi::lua_Integer = 1;
const COUNT: ffi::lua_Integer = 2;
const REMAINING: ffi::lua_Integer = 3;

/// Which of the two tables.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    /// `_HOOKKEY`: the hook functions.
    Functions,
    /// luarun's records.
    Records,
}

/// Pushes the table's key in the registry.
///
/// # Safety
/// A valid state with a free slot.
unsafe fn push_registry_key(state: *mut ffi::lua_State, table: Table) {
    // SAFETY: a valid state with a free slot (our caller's guarantee); a literal key
    // is an interned short string, which Lua may allocate (then it raises).
    unsafe {
        match table {
            Table::Functions => {
                ffi::lua_pushstring(state, c"_HOOKKEY".as_ptr());
            }
            Table::Records => {
                ffi::lua_pushlightuserdata(state, &RECORDS_KEY as *const u8 as *mut c_void)
            }
        }
    }
}

/// Pushes `table`, creating it (with weak keys) if `create`; false (nothing pushed)
/// when it does not exist and `create` is false.
///
/// # Safety
/// A valid state with 3 free slots; may raise (out of memory).
unsafe fn push_table(state: *mut ffi::lua_State, table: Table, create: bool) -> bool {
    // SAFETY: a valid state with free slots (our caller's guarantee); raw accesses of
    // the registry never raise; creating the table and its metatable may.
    unsafe {
        push_registry_key(state, table);
        if ffi::lua_rawget(state, ffi::LUA_REGISTRYINDEX) == ffi::LUA_TTABLE {
            return true;
        }
        ffi::lua_pop(state, 1);
        if !create {
            return false;
        }
        ffi::lua_createtable(state, 0, 1);
        // As the debug library's: the table is its own metatable, with weak keys.
        ffi::lua_pushstring(state, c"k".as_ptr());
        ffi::lua_setfield(state, -2, c"__mode".as_ptr());
        ffi::lua_pushvalue(state, -1);
        ffi::lua_setmetatable(state, -2);
        push_registry_key(state, table);
        ffi::lua_pushvalue(state, -2);
        ffi::lua_rawset(state, ffi::LUA_REGISTRYINDEX);
        true
    }
}

/// Pushes the key of a thread's hook: the thread at stack slot `thread_slot`, or (0) the
/// running thread itself. LuaJIT: the state's one key.
///
/// # Safety
/// A valid state with a free slot; `thread_slot` is 0 or holds a thread.
unsafe fn push_key(state: *mut ffi::lua_State, thread_slot: c_int) {
    // SAFETY: a valid state with a free slot (our caller's guarantee).
    unsafe {
        #[cfg(feature = "luajit")]
        {
            let _ = thread_slot;
            ffi::lua_pushlightuserdata(state, &GLOBAL_HOOK_KEY as *const u8 as *mut c_void);
        }
        #[cfg(not(feature = "luajit"))]
        if thread_slot == 0 {
            ffi::lua_pushthread(state);
        } else {
            ffi::lua_pushvalue(state, thread_slot);
        }
    }
}

/// Reads the integer at `slot` of the table on top.
///
/// # Safety
/// A valid state with a table on top and a free slot.
unsafe fn read_int(state: *mut ffi::lua_State, slot: ffi::lua_Integer) -> c_int {
    // SAFETY: as our caller guarantees; a raw get never raises; the pop rebalances.
    unsafe {
        ffi::lua_rawgeti(state, -1, slot);
        let value = ffi::lua_tointeger(state, -1) as c_int;
        ffi::lua_pop(state, 1);
        value
    }
}

/// Pushes the record of the running thread's script hook; false (nothing pushed) when
/// it has none.
///
/// # Safety
/// A valid state (the running thread, or one not running) with 4 free slots.
unsafe fn push_record(state: *mut ffi::lua_State) -> bool {
    // SAFETY: a valid state with free slots; raw gets never raise; the removal leaves
    // only the record.
    unsafe {
        if !push_table(state, Table::Records, false) {
            return false;
        }
        push_key(state, 0);
        if ffi::lua_rawget(state, -2) != ffi::LUA_TTABLE {
            ffi::lua_pop(state, 2);
            return false;
        }
        ffi::lua_remove(state, -2);
        true
    }
}

/// Reads the record on top.
///
/// # Safety
/// A valid state with a hook record on top and a free slot.
unsafe fn read_record(state: *mut ffi::lua_State) -> ScriptHook {
    // SAFETY: as our caller guarantees.
    unsafe {
        ScriptHook {
            mask: read_int(state, MASK),
            count: read_int(state, COUNT),
            remaining: read_int(state, REMAINING),
        }
    }
}

/// The script hook of `state`'s running thread (LuaJIT: of the state), if any.
///
/// # Safety
/// A valid state (running on the calling thread, or not running) with 5 free slots.
pub(crate) unsafe fn of_thread(state: *mut ffi::lua_State) -> Option<ScriptHook> {
    // SAFETY: as our caller guarantees; the pop removes the record.
    unsafe {
        if !push_record(state) {
            return None;
        }
        let hook = read_record(state);
        ffi::lua_pop(state, 1);
        Some(hook)
    }
}

/// The names `hookf` passes, by event (Lua 5.4; LuaJIT says "tail return").
#[cfg(not(feature = "luajit"))]
const EVENT_NAMES: [&CStr; 5] = [c"call", c"return", c"line", c"count", c"tail call"];
#[cfg(feature = "luajit")]
const EVENT_NAMES: [&CStr; 5] = [c"call", c"return", c"line", c"count", c"tail return"];

/// The script's part of a hook event on the running thread: counts down its count and
/// calls its function when the event is one it asked for, as the debug library's hook
/// does. `elapsed`: the instructions a count event stands for. Returns the thread's
/// script hook as it is afterwards (the function may have changed it).
///
/// # Safety
/// Inside a Lua hook on `state` (LUA_MINSTACK free slots), with `debug` the event Lua
/// passed. The script's function may raise through the caller: nothing the caller
/// holds may need dropping.
pub(crate) unsafe fn run(
    state: *mut ffi::lua_State,
    debug: *mut ffi::lua_Debug,
    elapsed: c_int,
) -> Option<ScriptHook> {
    // SAFETY: inside a hook (our caller's guarantee): a valid state with free slots and
    // a valid `debug`; the record stays on the stack while used, and the call (which may
    // raise, as hookf's does) leaves it balanced.
    unsafe {
        if !push_record(state) {
            return None;
        }
        let mut hook = read_record(state);
        let event = (*debug).event;
        let fire = if event == ffi::LUA_HOOKCOUNT {
            if hook.mask & ffi::LUA_MASKCOUNT == 0 {
                false
            } else {
                hook.remaining -= elapsed;
                let due = hook.remaining <= 0;
                if due {
                    hook.remaining = hook.count;
                }
                ffi::lua_pushinteger(state, hook.remaining.into());
                ffi::lua_rawseti(state, -2, REMAINING);
                due
            }
        } else {
            // Event 4 is Lua 5.4's tail call (asked for with "c") and LuaJIT's tail
            // return (asked for with "r").
            let bit = match event {
                ffi::LUA_HOOKCALL | ffi::LUA_HOOKRET | ffi::LUA_HOOKLINE => 1 << event,
                _ if cfg!(feature = "luajit") => ffi::LUA_MASKRET,
                _ => ffi::LUA_MASKCALL,
            };
            // Not for the C functions mlua and the pattern port run inside luarun's
            // C functions: Lua's own cause no such events.
            hook.mask & bit != 0 && !luarun_pattern::c_shell::event_is_inside_a_shell(state)
        };
        if !fire {
            ffi::lua_pop(state, 1);
            return Some(hook);
        }
        ffi::lua_pop(state, 1);
        if !push_table(state, Table::Functions, false) {
            return Some(hook);
        }
        push_key(state, 0);
        if ffi::lua_rawget(state, -2) != ffi::LUA_TFUNCTION {
            // As hookf: no function, no call.
            ffi::lua_pop(state, 2);
            return Some(hook);
        }
        ffi::lua_remove(state, -2);
        let name = EVENT_NAMES.get(event as usize).copied().unwrap_or(c"?");
        ffi::lua_pushstring(state, name.as_ptr());
        let line = (*debug).currentline;
        if line >= 0 {
            ffi::lua_pushinteger(state, line.into());
        } else {
            ffi::lua_pushnil(state);
        }
        ffi::lua_call(state, 2, 0);
        of_thread(state)
    }
}

/// `makemask`: the events a mask string and count ask for.
fn make_mask(events: &[u8], count: c_int) -> c_int {
    let mut mask = 0;
    for (letter, bit) in [
        (b'c', ffi::LUA_MASKCALL),
        (b'r', ffi::LUA_MASKRET),
        (b'l', ffi::LUA_MASKLINE),
    ] {
        if events.contains(&letter) {
            mask |= bit;
        }
    }
    if count > 0 {
        mask |= ffi::LUA_MASKCOUNT;
    }
    mask
}

/// `unmakemask`: the mask string of a mask.
fn mask_string(mask: c_int) -> Vec<u8> {
    [
        (b'c', ffi::LUA_MASKCALL),
        (b'r', ffi::LUA_MASKRET),
        (b'l', ffi::LUA_MASKLINE),
    ]
    .iter()
    .filter(|(_, bit)| mask & bit != 0)
    .map(|(letter, _)| *letter)
    .collect()
}

/// The thread argument of sethook/gethook, as `getthread`: 1 when the first argument
/// is a thread (the other arguments follow it), else 0.
///
/// # Safety
/// A valid state inside a C function.
unsafe fn thread_argument(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: slot 1 is an acceptable index.
    c_int::from(unsafe { ffi::lua_type(state, 1) } == ffi::LUA_TTHREAD)
}

/// `debug.sethook([thread,] hook, mask [, count])`.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn sethook(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; the checks raise on bad arguments, as
    // db_sethook's do (nothing here owns memory); the table work is balanced; the
    // target thread is the running one or one held alive by slot 1.
    unsafe {
        let thread_slot = thread_argument(state);
        let arg = thread_slot;
        let hook = if ffi::lua_isnoneornil(state, arg + 1) != 0 {
            ffi::lua_settop(state, arg + 1);
            None
        } else {
            let mut len = 0usize;
            let events = ffi::luaL_checklstring(state, arg + 2, &mut len);
            ffi::luaL_checktype(state, arg + 1, ffi::LUA_TFUNCTION);
            let count = ffi::luaL_optinteger(state, arg + 3, 0) as c_int;
            let events = std::slice::from_raw_parts(events.cast::<u8>(), len);
            // As lua_sethook: no events (an empty mask, a count <= 0) is no hook.
            Some(ScriptHook {
                mask: make_mask(events, count),
                count,
                remaining: count,
            })
            .filter(|hook| hook.mask != 0)
        };
        push_table(state, Table::Functions, true);
        push_key(state, thread_slot);
        ffi::lua_pushvalue(state, arg + 1);
        ffi::lua_rawset(state, -3);
        ffi::lua_pop(state, 1);
        push_table(state, Table::Records, true);
        push_key(state, thread_slot);
        match hook {
            Some(hook) => {
                ffi::lua_createtable(state, 3, 0);
                for (slot, value) in [
                    (MASK, hook.mask),
                    (COUNT, hook.count),
                    (REMAINING, hook.remaining),
                ] {
                    ffi::lua_pushinteger(state, value.into());
                    ffi::lua_rawseti(state, -2, slot);
                }
            }
            None => ffi::lua_pushnil(state),
        }
        ffi::lua_rawset(state, -3);
        ffi::lua_pop(state, 1);
        let target = if thread_slot != 0 {
            ffi::lua_tothread(state, thread_slot)
        } else {
            state
        };
        let guard = guard_of(state);
        if !guard.is_null() {
            // SAFETY: a recorded guard outlives its state, which is running.
            apply_script_hook(&*guard, target, hook);
        }
    }
    0
}

/// `debug.gethook([thread])`: the script's own hook, never luarun's.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn gethook(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state with free slots; raw gets never raise; the
    // results are pushed over the balanced lookup.
    unsafe {
        let thread_slot = thread_argument(state);
        let found = push_table(state, Table::Records, false) && {
            push_key(state, thread_slot);
            ffi::lua_rawget(state, -2) == ffi::LUA_TTABLE
        };
        if !found {
            ffi::lua_pushnil(state);
            return 1;
        }
        let hook = read_record(state);
        if push_table(state, Table::Functions, false) {
            push_key(state, thread_slot);
            ffi::lua_rawget(state, -2);
            ffi::lua_remove(state, -2);
        } else {
            ffi::lua_pushnil(state);
        }
        let events = mask_string(hook.mask);
        ffi::lua_pushlstring(state, events.as_ptr().cast::<c_char>(), events.len());
        drop(events);
        ffi::lua_pushinteger(state, hook.count.into());
        3
    }
}

/// Replaces `debug.sethook` and `debug.gethook` with these, when the debug library is
/// open in `state`.
///
/// # Safety
/// A valid state with 3 free slots, not running Lua code; may raise (out of memory).
pub(crate) unsafe fn install(state: *mut ffi::lua_State) {
    // SAFETY: a valid state with free slots; the gets and sets are balanced.
    unsafe {
        let top = ffi::lua_gettop(state);
        crate::raw::push_globals(state);
        if ffi::lua_getfield(state, -1, c"debug".as_ptr()) == ffi::LUA_TTABLE {
            ffi::lua_pushcfunction(state, sethook);
            ffi::lua_setfield(state, -2, c"sethook".as_ptr());
            ffi::lua_pushcfunction(state, gethook);
            ffi::lua_setfield(state, -2, c"gethook".as_ptr());
        }
        ffi::lua_settop(state, top);
    }
}
