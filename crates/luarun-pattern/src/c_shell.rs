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
//! The mlua function reports failure by returning [`failure`]'s values, which
//! [`finish`] raises the way Lua's C functions raise errors (mlua would turn a
//! callback's `Err` into its own error userdata).
//!
//! Should an mlua function ever not have that shape (another mlua version), the shell
//! falls back to calling it with `lua_call`, which is correct and only shows the extra
//! frame.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

use mlua::{ffi, LightUserData, MultiValue, Value};

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
        // [extra..., function] -> [extra..., upvalue, C function], or for another shape
        // [extra..., function, nil].
        match mlua_shape(state) {
            Some(c_function) => {
                ffi::lua_getupvalue(state, -1, 1);
                ffi::lua_replace(state, -2);
                ffi::lua_pushlightuserdata(state, c_function as *mut c_void);
                MLUA_C_FUNCTION.store(c_function as *mut c_void, Ordering::Relaxed);
                INLINE.store(true, Ordering::Relaxed);
            }
            None => ffi::lua_pushnil(state),
        }
        ffi::lua_rotate(state, -(extra + 2), 2);
        ffi::lua_pushcclosure(state, shell, 2 + extra);
    }
}

/// The C function of the function on top if it has mlua's shape: a C closure with
/// exactly one upvalue.
///
/// # Safety
/// A valid state with a function on top and 2 free slots.
unsafe fn mlua_shape(state: *mut ffi::lua_State) -> Option<ffi::lua_CFunction> {
    // SAFETY: as our caller guarantees; each lua_getupvalue that returns non-NULL
    // pushed a value, popped again.
    unsafe {
        let c_function = ffi::lua_tocfunction(state, -1)?;
        if ffi::lua_getupvalue(state, -1, 1).is_null() {
            return None;
        }
        ffi::lua_pop(state, 1);
        if !ffi::lua_getupvalue(state, -1, 2).is_null() {
            ffi::lua_pop(state, 1);
            return None;
        }
        Some(c_function)
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

/// Tags a failure an mlua function returns to its shell; its address is unique to this
/// crate, so no script can forge it.
static FAILURE_MARKER: u8 = 0;

fn failure_marker() -> LightUserData {
    LightUserData(&FAILURE_MARKER as *const u8 as *mut c_void)
}

/// How [`finish`] raises a failure's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raise {
    /// As `error(value, 2)`: a string gets the position of the shell's caller (as
    /// `luaL_error` gives it), anything else is raised unchanged.
    AtCaller,
    /// As `error(value, 0)`: unchanged.
    AsItIs,
}

/// The failure level that tells the shell to raise the pending message.
const PENDING_LEVEL: i64 = -1;

thread_local! {
    /// A Lua error message for the shell to push and raise: set just before the mlua
    /// function returns the failure, taken by the shell right after, on this thread.
    static PENDING_MESSAGE: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
}

/// What an mlua function behind a shell returns to make the shell raise `value`.
pub fn failure(value: Value, raise: Raise) -> MultiValue {
    let level = match raise {
        Raise::AtCaller => 2,
        Raise::AsItIs => 0,
    };
    MultiValue::from_vec(vec![
        Value::LightUserData(failure_marker()),
        value,
        Value::Integer(level),
    ])
}

/// [`failure`] for a message the shell itself pushes as a Lua string: for when making
/// that string in Rust could fail the way the error being reported did (mlua creates
/// strings in a protected call, one more C level).
pub fn pending_failure(message: String) -> MultiValue {
    PENDING_MESSAGE.with(|slot| *slot.borrow_mut() = Some(message));
    MultiValue::from_vec(vec![
        Value::LightUserData(failure_marker()),
        Value::Nil,
        Value::Integer(PENDING_LEVEL),
    ])
}

/// After [`call`] left the mlua function's `results` on top: returns them, or raises
/// its failure ([`failure`], [`pending_failure`]) as Lua's C functions raise errors.
///
/// # Safety
/// Inside a shell, on a valid state with `results` results on top.
pub unsafe fn finish(state: *mut ffi::lua_State, results: c_int) -> c_int {
    // SAFETY: every index used is on the stack: the results from `first` up, of which
    // a failure has 3; raising is allowed in the C function this runs in.
    unsafe {
        let first = ffi::lua_gettop(state) - results + 1;
        if results >= 3
            && ffi::lua_type(state, first) == ffi::LUA_TLIGHTUSERDATA
            && ffi::lua_touserdata(state, first) == failure_marker().0
        {
            let level = ffi::lua_tointeger(state, first + 2);
            ffi::lua_settop(state, first + 1);
            if level == PENDING_LEVEL {
                let message = PENDING_MESSAGE.with(|slot| slot.borrow_mut().take());
                let message = message.unwrap_or_default();
                ffi::lua_settop(state, 0);
                ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len());
                // The Rust string must not outlive the raise (lua_error never returns).
                drop(message);
                ffi::lua_error(state);
            }
            if level > 0 && ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
                // Level 1 is whoever called the shell.
                ffi::luaL_where(state, 1);
                ffi::lua_insert(state, -2);
                ffi::lua_concat(state, 2);
            }
            ffi::lua_error(state);
        }
        results
    }
}
