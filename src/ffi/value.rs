//! `luarun_value`: the tagged value exchanged with C, and `luarun_handle`, the owned
//! reference behind strings, tables, functions and other Lua objects.

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::Arc;

use super::state::luarun_state;
use super::{arg_ref, boundary, boundary_or, check_out, luarun_status};
use luarun_core::error::{Error, Result};
use luarun_core::state::State;

/// The type of a `luarun_value` (`luarun_value.kind`).
pub type luarun_type = u32;
/// `nil`.
pub const LUARUN_NIL: luarun_type = 0;
/// A boolean: `boolean` holds it.
pub const LUARUN_BOOLEAN: luarun_type = 1;
/// A Lua integer: `integer` holds it, and `number` holds it as a double.
pub const LUARUN_INTEGER: luarun_type = 2;
/// A Lua float: `number` holds it.
pub const LUARUN_NUMBER: luarun_type = 3;
/// A byte string: `string` and `string_len` (any bytes, NUL included).
pub const LUARUN_STRING: luarun_type = 4;
/// A table: `handle` refers to it.
pub const LUARUN_TABLE: luarun_type = 5;
/// A function: `handle` refers to it.
pub const LUARUN_FUNCTION: luarun_type = 6;
/// A full or light userdata: `handle` refers to it.
pub const LUARUN_USERDATA: luarun_type = 7;
/// A coroutine: `handle` refers to it.
pub const LUARUN_THREAD: luarun_type = 8;

/// An owned reference to a Lua object. It keeps the object (and its state) alive until
/// the value holding it is freed with `luarun_value_free`, even after Lua code dropped
/// its own references and even after `luarun_state_free`.
pub struct luarun_handle {
    pub(crate) state: Arc<State>,
    pub(crate) value: mlua::Value,
}

/// A Lua value.
///
/// Values that luarun returns are owned by the caller and must be released with
/// `luarun_value_free` (a no-op for nil, booleans and numbers). Values the caller builds
/// as arguments are only read: zero-initialize them (`luarun_value v = {0};`), set `kind`
/// and the matching field, and leave `handle` NULL unless passing back a table, function,
/// userdata or thread received from luarun.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct luarun_value {
    /// Which of the fields below is meaningful: one of the `LUARUN_NIL` ... constants.
    pub kind: luarun_type,
    /// For `LUARUN_BOOLEAN`.
    pub boolean: bool,
    /// For `LUARUN_INTEGER`.
    pub integer: i64,
    /// For `LUARUN_NUMBER`; for `LUARUN_INTEGER` the same value as a double.
    pub number: f64,
    /// For `LUARUN_STRING`: the bytes. In returned values it points into the Lua string
    /// itself (no copy), is followed by a NUL byte, and stays valid until the value is
    /// freed.
    pub string: *const c_char,
    /// For `LUARUN_STRING`: the number of bytes, not counting the trailing NUL.
    pub string_len: usize,
    /// For strings, tables, functions, userdata and threads returned by luarun: the owned
    /// reference that keeps the object alive. NULL in values the caller builds, except
    /// when passing back a table, function, userdata or thread.
    pub handle: *mut luarun_handle,
}

impl luarun_value {
    /// The nil value.
    pub const NIL: luarun_value = luarun_value {
        kind: LUARUN_NIL,
        boolean: false,
        integer: 0,
        number: 0.0,
        string: ptr::null(),
        string_len: 0,
        handle: ptr::null_mut(),
    };

    fn with_handle(kind: luarun_type, state: &Arc<State>, value: mlua::Value) -> Self {
        let handle = Box::into_raw(Box::new(luarun_handle {
            state: Arc::clone(state),
            value,
        }));
        luarun_value {
            kind,
            handle,
            ..Self::NIL
        }
    }
}

fn kind_cname(kind: luarun_type) -> &'static CStr {
    match kind {
        LUARUN_NIL => c"nil",
        LUARUN_BOOLEAN => c"boolean",
        LUARUN_INTEGER => c"integer",
        LUARUN_NUMBER => c"number",
        LUARUN_STRING => c"string",
        LUARUN_TABLE => c"table",
        LUARUN_FUNCTION => c"function",
        LUARUN_USERDATA => c"userdata",
        LUARUN_THREAD => c"thread",
        _ => c"unknown",
    }
}

/// The name of a value kind, for error messages.
pub(crate) fn kind_name(kind: luarun_type) -> &'static str {
    kind_cname(kind).to_str().unwrap_or("unknown")
}

/// The `luarun_type` that [`to_c`] gives `value`.
fn kind_of(value: &mlua::Value) -> luarun_type {
    use mlua::Value as V;
    match value {
        V::Nil => LUARUN_NIL,
        V::Boolean(_) => LUARUN_BOOLEAN,
        V::Integer(_) => LUARUN_INTEGER,
        V::Number(_) => LUARUN_NUMBER,
        V::String(_) => LUARUN_STRING,
        V::Table(_) => LUARUN_TABLE,
        V::Function(_) => LUARUN_FUNCTION,
        V::Thread(_) => LUARUN_THREAD,
        _ => LUARUN_USERDATA,
    }
}

/// Fails with `LUARUN_ERR_TYPE` unless `handle` really holds a value of `kind`: a
/// caller may pair a handle with another value's `kind` (or change `kind`), and every
/// function taking a handle must see what the handle holds, not what `kind` claims.
fn check_handle_kind(handle: &luarun_handle, kind: luarun_type, name: &str) -> Result<()> {
    let real = kind_of(&handle.value);
    if real == kind {
        return Ok(());
    }
    Err(Error::type_error(format!(
        "{name}.kind says {}, but its handle holds a {}; pass values back as luarun \
         returned them",
        kind_name(kind),
        kind_name(real)
    )))
}

/// Converts a Lua value into an owned C value.
pub(crate) fn to_c(state: &Arc<State>, value: mlua::Value) -> luarun_value {
    use mlua::Value as V;
    match value {
        V::Nil => luarun_value::NIL,
        V::Boolean(b) => luarun_value {
            kind: LUARUN_BOOLEAN,
            boolean: b,
            ..luarun_value::NIL
        },
        V::Integer(i) => luarun_value {
            kind: LUARUN_INTEGER,
            integer: i,
            number: i as f64,
            ..luarun_value::NIL
        },
        V::Number(n) => luarun_value {
            kind: LUARUN_NUMBER,
            number: n,
            ..luarun_value::NIL
        },
        V::String(s) => {
            // Lua strings never move and end with a NUL: point straight at the bytes; the
            // handle keeps the string alive.
            let (string, string_len) = {
                let bytes = s.as_bytes();
                (bytes.as_ptr().cast::<c_char>(), bytes.len())
            };
            luarun_value {
                string,
                string_len,
                ..luarun_value::with_handle(LUARUN_STRING, state, V::String(s))
            }
        }
        V::Table(_) => luarun_value::with_handle(LUARUN_TABLE, state, value),
        V::Function(_) => luarun_value::with_handle(LUARUN_FUNCTION, state, value),
        V::Thread(_) => luarun_value::with_handle(LUARUN_THREAD, state, value),
        other => luarun_value::with_handle(LUARUN_USERDATA, state, other),
    }
}

/// Converts a caller's C value into a Lua value of `state`.
///
/// # Safety
/// `value.string` must point to `value.string_len` bytes when the kind is a string, and
/// `value.handle` must be NULL or a live handle from luarun.
pub(crate) unsafe fn from_c(state: &State, value: &luarun_value) -> Result<mlua::Value> {
    use mlua::Value as V;
    Ok(match value.kind {
        LUARUN_NIL => V::Nil,
        LUARUN_BOOLEAN => V::Boolean(value.boolean),
        LUARUN_INTEGER => V::Integer(value.integer),
        LUARUN_NUMBER => V::Number(value.number),
        // SAFETY: our caller guarantees `value.handle` is NULL or a live handle.
        LUARUN_STRING => match unsafe { value.handle.as_ref() } {
            // A string luarun returned, passed back: reuse the Lua string, no copy.
            Some(handle) => {
                check_handle_kind(handle, LUARUN_STRING, "value")?;
                handle_value(state, handle)?
            }
            None => {
                // SAFETY: our caller guarantees a string value's `string` points to
                // `string_len` bytes.
                let bytes =
                    unsafe { super::arg_bytes(value.string, value.string_len, "value.string")? };
                V::String(state.run(|lua| lua.create_string(bytes))?)
            }
        },
        LUARUN_TABLE | LUARUN_FUNCTION | LUARUN_USERDATA | LUARUN_THREAD => {
            // SAFETY: our caller guarantees `value.handle` is NULL or a live handle.
            let handle = unsafe { value.handle.as_ref() }.ok_or_else(|| {
                Error::invalid_argument(format!(
                    "a {} value needs the handle luarun returned with it; handle is NULL",
                    kind_name(value.kind)
                ))
            })?;
            check_handle_kind(handle, value.kind, "value")?;
            handle_value(state, handle)?
        }
        other => {
            return Err(Error::invalid_argument(format!(
                "value.kind is {other}, which is not a luarun_type constant"
            )))
        }
    })
}

fn handle_value(state: &State, handle: &luarun_handle) -> Result<mlua::Value> {
    if !ptr::eq(Arc::as_ptr(&handle.state), state) {
        return Err(Error::invalid_argument(
            "the value belongs to a different luarun state; values cannot move between states",
        ));
    }
    Ok(handle.value.clone())
}

/// Reads the handle of a table/function value argument, checking its kind and what the
/// handle really holds (`LUARUN_ERR_TYPE` when either is not `expected`). Returns the
/// call's own copy of the reference: a host callback may free the value (and with it
/// the caller's handle) while the call runs.
///
/// # Safety
/// `value` must be NULL or point to a valid `luarun_value`.
pub(crate) unsafe fn arg_handle(
    value: *const luarun_value,
    name: &str,
    expected: luarun_type,
) -> Result<luarun_handle> {
    // SAFETY: our caller guarantees `value` is NULL or a valid `luarun_value`.
    let value = unsafe { arg_ref(value, name)? };
    if value.kind != expected {
        return Err(Error::type_error(format!(
            "{name} is a {}, expected a {}",
            kind_name(value.kind),
            kind_name(expected)
        )));
    }
    // SAFETY: a valid `luarun_value` has a NULL or live `handle`.
    let handle = unsafe { value.handle.as_ref() }.ok_or_else(|| {
        Error::invalid_argument(format!(
            "{name} has no handle (it was not returned by luarun)"
        ))
    })?;
    check_handle_kind(handle, expected, name)?;
    Ok(luarun_handle {
        state: Arc::clone(&handle.state),
        value: handle.value.clone(),
    })
}

/// Releases what a value returned by luarun owns and resets it to nil. NULL, nil,
/// booleans and numbers are fine; freeing a value twice is fine (the first free resets
/// it). Do not free values you built yourself with a borrowed `handle`.
///
/// # Safety
/// `value` must be NULL or point to a `luarun_value` whose `handle` is NULL or owned.
#[no_mangle]
pub unsafe extern "C" fn luarun_value_free(value: *mut luarun_value) {
    boundary_or((), || {
        // SAFETY: the caller guarantees `value` is NULL or a valid `luarun_value` that
        // nothing else uses during the call.
        if let Some(value) = unsafe { value.as_mut() } {
            if !value.handle.is_null() {
                // SAFETY: the caller guarantees a non-NULL `handle` is owned: it came from
                // `Box::into_raw` in `with_handle` and no other value frees it (a freed
                // value was reset to nil below, so freeing twice finds no handle).
                drop(unsafe { Box::from_raw(value.handle) });
            }
            *value = luarun_value::NIL;
        }
    })
}

/// Makes an independent owned copy of `value` in `*copy_out` (for example to keep a
/// callback argument after the callback returns). Free both with `luarun_value_free`.
/// Copying a string or object shares the Lua object; it does not duplicate it.
///
/// # Safety
/// `value` must point to a valid `luarun_value`; `copy_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_value_copy(
    value: *const luarun_value,
    copy_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `value` is NULL or a valid `luarun_value`.
        let value = unsafe { arg_ref(value, "value")? };
        check_out(copy_out, "copy_out")?;
        // A caller-built value owns nothing: its copy is the same plain struct.
        // SAFETY: a valid `luarun_value` has a NULL or live `handle`.
        let copy = match unsafe { value.handle.as_ref() } {
            Some(handle) => to_c(&handle.state, handle.value.clone()),
            None => *value,
        };
        // SAFETY: `copy_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { copy_out.write(copy) };
        Ok(())
    })
}

/// Converts any value to a string the way Lua's `tostring` does (honouring
/// `__tostring`). `*string_out` is a `LUARUN_STRING` value to free with
/// `luarun_value_free`.
///
/// # Safety
/// `state` and `value` must be valid; `string_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_value_tostring(
    state: *mut luarun_state,
    value: *const luarun_value,
    string_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { super::state::arg_state(state)? };
        // SAFETY: the caller guarantees `value` is NULL or a valid `luarun_value`.
        let value = unsafe { arg_ref(value, "value")? };
        check_out(string_out, "string_out")?;
        // SAFETY: a valid `luarun_value` has a valid string or handle for its kind.
        let lua_value = unsafe { from_c(state, value)? };
        let text = state.to_string(lua_value)?;
        // SAFETY: `string_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { string_out.write(to_c(state, mlua::Value::String(text))) };
        Ok(())
    })
}

/// The name of a value kind ("nil", "table", ...; "unknown" for other numbers).
/// Static storage, never NULL.
#[no_mangle]
pub extern "C" fn luarun_type_name(kind: luarun_type) -> *const c_char {
    boundary_or(c"unknown".as_ptr(), || kind_cname(kind).as_ptr())
}
