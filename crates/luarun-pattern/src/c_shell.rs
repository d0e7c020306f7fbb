//! C closures that run an mlua function in their own frame.
//!
//! luarun puts Rust functions (the pattern port here, host callbacks in luarun-core)
//! behind small C closures, "shells", that turn the marker results the Rust side
//! returns on failure into Lua errors raised the way Lua's C functions raise them. A
//! shell that called the mlua function with `lua_call` would add a second C frame: an
//! extra `[C]: in ?` line in tracebacks taken inside callbacks, and an extra pair of
//! call and return events for a script's hook, which Lua's own C functions do not
//! cause. So a shell runs the mlua function's C function directly, in the shell's own
//! frame: an mlua function is a C closure whose behaviour depends only on its one
//! upvalue, which the shell carries as its own upvalue 1.
//!
//! Should an mlua function ever not have that shape (another mlua version), the shell
//! falls back to calling it with `lua_call`, which is correct and only shows the extra
//! frame.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

use mlua::ffi;

/// Set once a shell was made that runs its mlua function in its own frame (all mlua
/// functions share one shape, so then all do).
static INLINE: AtomicBool = AtomicBool::new(false);

/// mlua's C function behind its functions, once a shell found it (null before).
static MLUA_C_FUNCTION: std::sync::atomic::AtomicPtr<c_void> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// Whether shells run their mlua functions in their own frame: then, inside the mlua
/// function, stack level 0 is the shell the script called (else level 1).
pub fn runs_inline() -> bool {
    INLINE.load(Ordering::Relaxed)
}

/// The upvalue of a shell holding the mlua function's C function (light userdata), or
/// nil when the shell calls the function itself (then held as upvalue 1).
const C_FUNCTION_UPVALUE: c_int = 2;

/// The first of the shell's own upvalues (`extra` in [`push_closure`]).
pub const FIRST_EXTRA_UPVALUE: c_int = 3;

/// Replaces the `extra` values and the mlua function above them on top of `state` with
/// a C closure `shell` (which must run [`call`]). The closure's upvalues
/// [`FIRST_EXTRA_UPVALUE`] and on are the `extra` values, in their order.
///
/// # Safety
/// A valid state with the function on top, `extra` values below it, and 2 free slots;
/// may raise (out of memory, when creating the closure).
pub unsafe fn push_closure(state: *mut ffi::lua_State, shell: ffi::lua_CFunction, extra: c_int) {
    // SAFETY: a valid state with the function at -1 and free slots (our caller's
    // guarantee); lua_getupvalue pushes a value only when it returns non-NULL; the
    // rotation moves the two shell upvalues below the `extra` values.
    unsafe {
        let c_function = ffi::lua_tocfunction(state, -1);
        let one_upvalue = c_function.is_some() && !ffi::lua_getupvalue(state, -1, 1).is_null() && {
            let second = !ffi::lua_getupvalue(state, -2, 2).is_null();
            if second {
                ffi::lua_pop(state, 2);
            }
            !second
        };
        match (c_function, one_upvalue) {
            (Some(c_function), true) => {
                // [extra..., function, upvalue] -> [extra..., upvalue, C function]
                ffi::lua_replace(state, -2);
                ffi::lua_pushlightuserdata(state, c_function as *mut c_void);
                MLUA_C_FUNCTION.store(c_function as *mut c_void, Ordering::Relaxed);
                INLINE.store(true, Ordering::Relaxed);
            }
            _ => ffi::lua_pushnil(state),
        }
        ffi::lua_rotate(state, -(extra + 2), 2);
        ffi::lua_pushcclosure(state, shell, 2 + extra);
    }
}

/// Inside a shell made by [`push_closure`]: runs the mlua function with every value on
/// the stack as its arguments; returns how many results it left on top (the arguments
/// may stay below them).
///
/// # Safety
/// Inside a shell made by [`push_closure`], on the valid state Lua called it with. The
/// function may raise through the caller: nothing the caller holds may need dropping.
pub unsafe fn call(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: upvalue 2 is the light userdata `push_closure` stored, made from a
    // `lua_CFunction`, or nil; the C function reads only upvalue 1, which is its own
    // upvalue, and the stack, as when Lua calls it; the fallback calls the function
    // (upvalue 1) with all n arguments, which leaves only its results.
    unsafe {
        let c_function = ffi::lua_touserdata(state, ffi::lua_upvalueindex(C_FUNCTION_UPVALUE));
        if !c_function.is_null() {
            let c_function = std::mem::transmute::<*mut c_void, ffi::lua_CFunction>(c_function);
            return c_function(state);
        }
        let n = ffi::lua_gettop(state);
        ffi::luaL_checkstack(state, 1, c"too many arguments".as_ptr());
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        ffi::lua_insert(state, 1);
        ffi::lua_call(state, n, ffi::LUA_MULTRET);
        ffi::lua_gettop(state)
    }
}

/// Whether the value at `index` is a shell made by [`push_closure`] that runs its mlua
/// function in its own frame.
///
/// # Safety
/// A valid state with a free slot; `index` an acceptable index.
pub unsafe fn is_shell(state: *mut ffi::lua_State, index: c_int) -> bool {
    let mlua = MLUA_C_FUNCTION.load(Ordering::Relaxed);
    if mlua.is_null() {
        return false;
    }
    // SAFETY: a valid state with a free slot (our caller's guarantee); lua_getupvalue
    // pushes a value only when it returns non-NULL, popped again.
    unsafe {
        if ffi::lua_tocfunction(state, index).is_none() {
            return false;
        }
        let index = ffi::lua_absindex(state, index);
        if ffi::lua_getupvalue(state, index, C_FUNCTION_UPVALUE).is_null() {
            return false;
        }
        let ours = ffi::lua_type(state, -1) == ffi::LUA_TLIGHTUSERDATA
            && ffi::lua_touserdata(state, -1) == mlua;
        ffi::lua_pop(state, 1);
        ours
    }
}

/// Inside a hook at a call or return event: whether the C function it is about runs
/// on behalf of a shell (mlua's own protected calls, the `pcall` the port calls
/// replacement functions through) rather than for the script: no Lua function lies
/// between it and a shell below it on the stack. Lua's own C functions cause no such
/// events, so a script's hook is not shown them.
///
/// # Safety
/// Inside a Lua hook on `state` (free slots).
pub unsafe fn event_is_inside_a_shell(state: *mut ffi::lua_State) -> bool {
    if MLUA_C_FUNCTION.load(Ordering::Relaxed).is_null() {
        return false;
    }
    // SAFETY: a valid state inside a hook (our caller's guarantee); lua_getinfo with
    // "f" pushes the frame's function, popped again; `debug` is a plain C struct for
    // which all zeroes is a valid value.
    unsafe {
        let mut debug: ffi::lua_Debug = std::mem::zeroed();
        if ffi::lua_getstack(state, 0, &mut debug) == 0 {
            return false;
        }
        ffi::lua_getinfo(state, c"S".as_ptr(), &mut debug);
        if *debug.what != b'C' as std::ffi::c_char {
            return false;
        }
        let mut level = 1;
        while ffi::lua_getstack(state, level, &mut debug) != 0 {
            ffi::lua_getinfo(state, c"Sf".as_ptr(), &mut debug);
            let shell = is_shell(state, -1);
            ffi::lua_pop(state, 1);
            if shell {
                return true;
            }
            if *debug.what != b'C' as std::ffi::c_char {
                return false;
            }
            level += 1;
        }
        false
    }
}
