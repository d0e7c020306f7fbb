//! `luarun_table_*`: creating, reading, writing and iterating Lua tables through handles.

use std::sync::Arc;

use super::state::{arg_state, luarun_state};
use super::value::{arg_handle, from_c, luarun_value, to_c, LUARUN_TABLE};
use super::{arg_ref, boundary, check_out, luarun_status};
use luarun_core::error::{Error, Result};
use luarun_core::state::State;

/// The table behind a table argument and its state (`LUARUN_ERR_TYPE` if it holds
/// anything else).
///
/// # Safety
/// `table` must be NULL or point to a valid `luarun_value`.
unsafe fn arg_table(table: *const luarun_value) -> Result<(Arc<State>, mlua::Table)> {
    // SAFETY: our caller guarantees `table` is NULL or a valid `luarun_value`.
    let handle = unsafe { arg_handle(table, "table", LUARUN_TABLE)? };
    match handle.value {
        mlua::Value::Table(table) => Ok((handle.state, table)),
        _ => Err(Error::type_error("table holds no table")),
    }
}

/// Creates an empty table with room for `array_size` sequence items and `hash_size`
/// other keys (hints; 0 is fine). Free `*table_out` with `luarun_value_free`.
///
/// # Safety
/// `state` valid; `table_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_table_new(
    state: *mut luarun_state,
    array_size: usize,
    hash_size: usize,
    table_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        check_out(table_out, "table_out")?;
        let table = state.run(|lua| lua.create_table_with_capacity(array_size, hash_size))?;
        // SAFETY: `table_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { table_out.write(to_c(state, mlua::Value::Table(table))) };
        Ok(())
    })
}

/// `*value_out = table[key]`, honouring `__index`. Free the result with
/// `luarun_value_free`.
///
/// # Safety
/// `table` and `key` valid values; `value_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_table_get(
    table: *const luarun_value,
    key: *const luarun_value,
    value_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `table` is NULL or a valid value.
        let (state, table) = unsafe { arg_table(table)? };
        check_out(value_out, "value_out")?;
        let state = &state;
        // SAFETY: the caller guarantees `key` is NULL or a valid value.
        let key = unsafe { from_c(state, arg_ref(key, "key")?)? };
        let value: mlua::Value = state.run(|_| table.get(key))?;
        // SAFETY: `value_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { value_out.write(to_c(state, value)) };
        Ok(())
    })
}

/// `table[key] = value`, honouring `__newindex`. A nil or NaN key is a
/// `LUARUN_ERR_RUNTIME` error, as in Lua.
///
/// # Safety
/// `table`, `key` and `value` valid values.
#[no_mangle]
pub unsafe extern "C" fn luarun_table_set(
    table: *const luarun_value,
    key: *const luarun_value,
    value: *const luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `table` is NULL or a valid value.
        let (state, table) = unsafe { arg_table(table)? };
        // SAFETY: the caller guarantees `key` is NULL or a valid value.
        let key = unsafe { from_c(&state, arg_ref(key, "key")?)? };
        // SAFETY: the caller guarantees `value` is NULL or a valid value.
        let value = unsafe { from_c(&state, arg_ref(value, "value")?)? };
        state.run(|_| table.set(key, value))
    })
}

/// `*length_out = #table`, honouring `__len` (which must return a non-negative integer).
///
/// # Safety
/// `table` valid; `length_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_table_length(
    table: *const luarun_value,
    length_out: *mut usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `table` is NULL or a valid value.
        let (state, table) = unsafe { arg_table(table)? };
        check_out(length_out, "length_out")?;
        let length = state.run(|_| table.len())?;
        let length = usize::try_from(length)
            .map_err(|_| Error::type_error(format!("__len returned {length}, not a length")))?;
        // SAFETY: `length_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { length_out.write(length) };
        Ok(())
    })
}

/// Iteration step, like Lua's `next`: given `key` (nil to start), writes the next key to
/// `*next_key_out` and its value to `*value_out`. After the last pair `*next_key_out` is
/// nil. Free both outputs each step. Order is unspecified; assigning to a key that is not
/// already in the table during iteration is an error, as in Lua.
///
/// ```c
/// luarun_value key = {0}, next, value;
/// while (luarun_table_next(&t, &key, &next, &value) == LUARUN_OK && next.kind != LUARUN_NIL) {
///   // use next and value
///   luarun_value_free(&key); luarun_value_free(&value);
///   key = next;
/// }
/// luarun_value_free(&key);
/// ```
///
/// # Safety
/// `table`, `key` valid values; outputs writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_table_next(
    table: *const luarun_value,
    key: *const luarun_value,
    next_key_out: *mut luarun_value,
    value_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `table` is NULL or a valid value.
        let (state, table) = unsafe { arg_table(table)? };
        check_out(next_key_out, "next_key_out")?;
        check_out(value_out, "value_out")?;
        let state = &state;
        // SAFETY: the caller guarantees `key` is NULL or a valid value.
        let key = unsafe { from_c(state, arg_ref(key, "key")?)? };
        let pair = state.next(&table, key)?;
        let (next_key, value) = pair.unwrap_or((mlua::Value::Nil, mlua::Value::Nil));
        // SAFETY: both outputs are not NULL (checked), so writable: the caller's guarantee.
        unsafe {
            next_key_out.write(to_c(state, next_key));
            value_out.write(to_c(state, value));
        }
        Ok(())
    })
}
