//! `luarun_map` and `luarun_pool_map`: a Lua function over every element of a numeric
//! buffer, in one crossing (see `luarun_core::map`).

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::pool::luarun_pool;
use super::value::{arg_handle, luarun_value, LUARUN_FUNCTION};
use super::{arg_name, arg_ref, boundary, luarun_status};
use luarun_core::error::{Error, Result};
use luarun_core::map::{ElementType, Input, Output};

/// The numeric type of a `luarun_map` buffer's elements (native endianness).
pub type luarun_element_type = u32;
/// `double`.
pub const LUARUN_ELEMENT_F64: luarun_element_type = 0;
/// `float`.
pub const LUARUN_ELEMENT_F32: luarun_element_type = 1;
/// `int64_t`.
pub const LUARUN_ELEMENT_I64: luarun_element_type = 2;
/// `int32_t`.
pub const LUARUN_ELEMENT_I32: luarun_element_type = 3;
/// `int16_t`.
pub const LUARUN_ELEMENT_I16: luarun_element_type = 4;
/// `int8_t`.
pub const LUARUN_ELEMENT_I8: luarun_element_type = 5;
/// `uint64_t`.
pub const LUARUN_ELEMENT_U64: luarun_element_type = 6;
/// `uint32_t`.
pub const LUARUN_ELEMENT_U32: luarun_element_type = 7;
/// `uint16_t`.
pub const LUARUN_ELEMENT_U16: luarun_element_type = 8;
/// `uint8_t`.
pub const LUARUN_ELEMENT_U8: luarun_element_type = 9;

fn element_type(kind: luarun_element_type, name: &str) -> Result<ElementType> {
    Ok(match kind {
        LUARUN_ELEMENT_F64 => ElementType::F64,
        LUARUN_ELEMENT_F32 => ElementType::F32,
        LUARUN_ELEMENT_I64 => ElementType::I64,
        LUARUN_ELEMENT_I32 => ElementType::I32,
        LUARUN_ELEMENT_I16 => ElementType::I16,
        LUARUN_ELEMENT_I8 => ElementType::I8,
        LUARUN_ELEMENT_U64 => ElementType::U64,
        LUARUN_ELEMENT_U32 => ElementType::U32,
        LUARUN_ELEMENT_U16 => ElementType::U16,
        LUARUN_ELEMENT_U8 => ElementType::U8,
        other => {
            return Err(Error::invalid_argument(format!(
                "{name} is {other}, which is not a LUARUN_ELEMENT_* constant"
            )))
        }
    })
}

/// The caller's buffers, checked: input length a whole number of elements, output
/// large enough for as many.
///
/// # Safety
/// Each pointer must be NULL or point to its length in bytes (output writable), and the
/// buffers must not overlap.
unsafe fn buffers<'a>(
    input: *const c_void,
    input_len: usize,
    input_type: luarun_element_type,
    output: *mut c_void,
    output_len: usize,
    output_type: luarun_element_type,
) -> Result<(Input<'a>, Output)> {
    let input_type = element_type(input_type, "input_type")?;
    let output_type = element_type(output_type, "output_type")?;
    // SAFETY: our caller guarantees `input` is NULL or `input_len` readable bytes.
    let input_bytes = unsafe { super::arg_bytes(input.cast::<c_char>(), input_len, "input")? };
    let input = Input::new(input_bytes, input_type)?;
    if output.is_null() && output_len != 0 {
        return Err(Error::invalid_argument(format!(
            "output is NULL but output_len is {output_len}"
        )));
    }
    let output_bytes: &mut [u8] = if output.is_null() {
        &mut []
    } else {
        // SAFETY: not NULL, so our caller guarantees `output_len` writable bytes, not
        // overlapping `input`; `u8` needs no alignment.
        unsafe { std::slice::from_raw_parts_mut(output.cast::<u8>(), output_len) }
    };
    let output = Output::new(output_bytes, output_type, input.len())?;
    Ok((input, output))
}

/// Calls the Lua `function` once per element of `input` (`input_len` bytes of
/// `input_type` elements) and stores each result, converted to `output_type`, at the
/// same index of `output` (at least as many elements as `input`; `output_len` in bytes,
/// else `LUARUN_ERR_BUFFER_TOO_SMALL`). Integers go in as Lua integers, floats as
/// floats. A result must be a number; integer outputs take only integral values within
/// their range (`LUARUN_ERR_TYPE` otherwise). The whole map is one call on the
/// function's state, under its limits; the first error stops it and its message names
/// the element index (`output` is then partly written).
///
/// # Safety
/// `function` a valid function value; `input` `input_len` readable bytes; `output`
/// `output_len` writable bytes not overlapping `input`.
#[no_mangle]
pub unsafe extern "C" fn luarun_map(
    function: *const luarun_value,
    input: *const c_void,
    input_len: usize,
    input_type: luarun_element_type,
    output: *mut c_void,
    output_len: usize,
    output_type: luarun_element_type,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `function` is NULL or a valid value.
        let handle = unsafe { arg_handle(function, "function", LUARUN_FUNCTION)? };
        let mlua::Value::Function(callee) = &handle.value else {
            return Err(Error::type_error("function handle holds no function"));
        };
        // SAFETY: the caller guarantees both buffers as `buffers` needs them (`# Safety`).
        let (input, output) = unsafe {
            buffers(
                input,
                input_len,
                input_type,
                output,
                output_len,
                output_type,
            )?
        };
        handle.state.map(callee, input, &output)
    })
}

/// `luarun_map` on every state of `pool` in parallel, with the global `function` of
/// each state (define it with `luarun_pool_exec`). Chunks of elements are handed out
/// dynamically; each state's share is one call on it, under its limits. The first
/// error stops every state; its message names the state and the element index.
///
/// # Safety
/// `pool` valid; `function` NUL-terminated; buffers as for `luarun_map`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn luarun_pool_map(
    pool: *mut luarun_pool,
    function: *const c_char,
    input: *const c_void,
    input_len: usize,
    input_type: luarun_element_type,
    output: *mut c_void,
    output_len: usize,
    output_type: luarun_element_type,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `pool` is NULL or a live pool (`# Safety`).
        let pool = Arc::clone(&unsafe { arg_ref(pool, "pool")? }.inner);
        // SAFETY: the caller guarantees `function` is NULL or NUL-terminated.
        let function = unsafe { arg_name(function, "function")? };
        // SAFETY: the caller guarantees both buffers as `buffers` needs them (`# Safety`).
        let (input, output) = unsafe {
            buffers(
                input,
                input_len,
                input_type,
                output,
                output_len,
                output_type,
            )?
        };
        pool.map(function, input, &output)
    })
}
