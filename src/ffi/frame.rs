//! `luarun_frame_*`: calls and table access through one reusable frame, for bindings
//! whose every foreign call and every allocation costs (ctypes, koffi).
//!
//! A binding keeps one `luarun_frame` per thread with a values array and a string buffer
//! it owns. Each operation takes only the frame pointer, reads its arguments from
//! `values`, and writes its results back into `values`; result strings are copied into
//! `strings` when they fit, so they come back without a handle to free. Nothing is
//! allocated per call on the binding's side.

use std::ffi::c_char;
use std::sync::Arc;

use super::value::{arg_handle, from_c, luarun_handle, luarun_value, to_c};
use super::value::{LUARUN_FUNCTION, LUARUN_STRING, LUARUN_TABLE};
use super::{boundary, luarun_status};
use luarun_core::error::{Error, Result};
use luarun_core::state::State;

/// A reusable frame for `luarun_frame_call`, `_get`, `_set` and `_next`.
///
/// Fill `struct_size` (`sizeof(luarun_frame)`), `values` / `values_cap` and, optionally,
/// `strings` / `strings_cap` once; per operation set `target` and `nargs` and put the
/// arguments in `values[0 .. nargs]`. On success `nresults` says how many results the
/// operation produced and the first `min(nresults, values_cap)` of them are in
/// `values[0 ..]`, owned by the caller as every returned value is (free each with
/// `luarun_value_free`). A string result that fits in what is left of `strings`
/// (its bytes plus a NUL) is copied there and has a NULL `handle` (nothing to free; it
/// is valid until the next operation on the frame); others keep their handle. On
/// failure `values` may have been partly overwritten and nothing in it is owned.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct luarun_frame {
    /// `sizeof(luarun_frame)`.
    pub struct_size: u32,
    /// The function (`luarun_frame_call`) or table (`_get`, `_set`, `_next`) operated on:
    /// a value luarun returned.
    pub target: *const luarun_value,
    /// The arguments in, the results out.
    pub values: *mut luarun_value,
    /// How many values `values` has room for.
    pub values_cap: usize,
    /// In: how many arguments `values` holds.
    pub nargs: usize,
    /// Out: how many results the operation produced (may exceed `values_cap`: the rest
    /// were dropped).
    pub nresults: usize,
    /// Optional (may be NULL): where result strings are copied.
    pub strings: *mut c_char,
    /// Bytes at `strings`.
    pub strings_cap: usize,
}

/// The frame, checked: its size, its values array against `nargs`.
///
/// # Safety
/// `frame` must be NULL or point to a `luarun_frame` whose arrays are as described.
unsafe fn arg_frame<'a>(frame: *mut luarun_frame) -> Result<&'a mut luarun_frame> {
    // SAFETY: our caller guarantees `frame` is NULL or a valid `luarun_frame`, which
    // nothing else uses during the call.
    let frame = unsafe { frame.as_mut() }
        .ok_or_else(|| Error::invalid_argument("frame must not be NULL"))?;
    let ours = std::mem::size_of::<luarun_frame>();
    if frame.struct_size as usize != ours {
        return Err(Error::invalid_argument(format!(
            "frame.struct_size is {}; set it to sizeof(luarun_frame) ({ours})",
            frame.struct_size
        )));
    }
    if frame.values.is_null() && (frame.values_cap != 0 || frame.nargs != 0) {
        return Err(Error::invalid_argument(
            "frame.values is NULL but values_cap or nargs is not 0",
        ));
    }
    if frame.nargs > frame.values_cap {
        return Err(Error::invalid_argument(format!(
            "frame.nargs is {} but values_cap is {}",
            frame.nargs, frame.values_cap
        )));
    }
    if frame.strings.is_null() && frame.strings_cap != 0 {
        return Err(Error::invalid_argument(
            "frame.strings is NULL but strings_cap is not 0",
        ));
    }
    Ok(frame)
}

/// The frame's arguments as Lua values of `state`, checking that there are `expected`
/// of them when given.
///
/// # Safety
/// `frame` was checked by [`arg_frame`], and `values[0 .. nargs]` are valid values.
unsafe fn frame_args(
    state: &State,
    frame: &luarun_frame,
    expected: Option<usize>,
) -> Result<Vec<mlua::Value>> {
    if let Some(expected) = expected {
        if frame.nargs != expected {
            return Err(Error::invalid_argument(format!(
                "frame.nargs is {}; this operation takes {expected}",
                frame.nargs
            )));
        }
    }
    (0..frame.nargs)
        // SAFETY: `i < nargs <= values_cap` and `values` is not NULL when `nargs` is not 0
        // (both checked by `arg_frame`); our caller guarantees the first `nargs` are valid.
        .map(|i| unsafe { from_c(state, &*frame.values.add(i)) })
        .collect()
}

/// Writes `results` into the frame, strings into its buffer where they fit.
///
/// # Safety
/// `frame` was checked by [`arg_frame`], `values` has `values_cap` writable values and
/// `strings` `strings_cap` writable bytes, none of them read by anything else meanwhile.
unsafe fn write_results(
    state: &Arc<State>,
    frame: &mut luarun_frame,
    results: impl ExactSizeIterator<Item = mlua::Value>,
) {
    frame.nresults = results.len();
    let mut used = 0usize;
    for (i, value) in results.take(frame.values_cap).enumerate() {
        let out = match &value {
            mlua::Value::String(text) => {
                let bytes = text.as_bytes();
                let room = frame.strings_cap - used;
                if bytes.len() < room {
                    // SAFETY: `used + bytes.len() + 1 <= strings_cap` (so `strings` is not
                    // NULL), our caller guarantees `strings_cap` writable bytes there, and
                    // the Lua string's bytes are Lua's own, outside that buffer.
                    let at = unsafe {
                        let at = frame.strings.add(used);
                        std::ptr::copy_nonoverlapping(bytes.as_ptr(), at.cast::<u8>(), bytes.len());
                        at.add(bytes.len()).write(0);
                        at
                    };
                    used += bytes.len() + 1;
                    luarun_value {
                        kind: LUARUN_STRING,
                        string: at,
                        string_len: bytes.len(),
                        ..luarun_value::NIL
                    }
                } else {
                    to_c(state, value.clone())
                }
            }
            _ => to_c(state, value.clone()),
        };
        // SAFETY: `i < values_cap` (so `values` is not NULL, checked by `arg_frame`), and
        // our caller guarantees `values_cap` writable values.
        unsafe { frame.values.add(i).write(out) };
    }
}

/// The state and Lua value of `frame.target`, which must be of `kind`: an owned
/// reference, so freeing the target while the operation runs is safe.
///
/// # Safety
/// `frame.target` must be NULL or point to a valid value.
unsafe fn target(frame: &luarun_frame, kind: u32) -> Result<luarun_handle> {
    // SAFETY: our caller guarantees `frame.target` is NULL or a valid value.
    unsafe { arg_handle(frame.target, "frame.target", kind) }
}

/// The function a `LUARUN_FUNCTION` target holds.
fn target_function(handle: &luarun_handle) -> Result<&mlua::Function> {
    match &handle.value {
        mlua::Value::Function(function) => Ok(function),
        other => Err(Error::type_error(format!(
            "frame.target says function but holds a {}",
            other.type_name()
        ))),
    }
}

/// The checked frame, the state and table of `frame.target` and the frame's `N`
/// arguments: the part every table operation shares (frame, target and arity checks,
/// argument conversion).
///
/// # Safety
/// As `luarun_frame_call`, and `'a` must end before the call does.
unsafe fn table_operands<'a, const N: usize>(
    frame: *mut luarun_frame,
) -> Result<(
    &'a mut luarun_frame,
    Arc<State>,
    mlua::Table,
    [mlua::Value; N],
)> {
    // SAFETY: our caller guarantees `frame` as `luarun_frame_call` requires.
    let frame = unsafe { arg_frame(frame)? };
    // SAFETY: a valid frame's `target` is NULL or a valid value.
    let luarun_handle { state, value } = unsafe { target(frame, LUARUN_TABLE)? };
    let mlua::Value::Table(table) = value else {
        return Err(Error::type_error(format!(
            "frame.target says table but holds a {}",
            value.type_name()
        )));
    };
    // SAFETY: a valid frame's `values[0 .. nargs]` are valid values.
    let args = unsafe { frame_args(&state, frame, Some(N))? };
    let args: [mlua::Value; N] = args
        .try_into()
        .map_err(|_| Error::invalid_argument(format!("frame.nargs must be {N}")))?;
    Ok((frame, state, table, args))
}

/// Calls the function `frame.target` with `values[0 .. nargs]`; its results replace
/// them (see `luarun_frame`). The same call as `luarun_call`, with its limits.
///
/// # Safety
/// `frame` must point to a valid `luarun_frame` whose `values` has `values_cap` values
/// and whose `strings` has `strings_cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn luarun_frame_call(frame: *mut luarun_frame) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `frame` is NULL or a valid frame (`# Safety`).
        let frame = unsafe { arg_frame(frame)? };
        // SAFETY: a valid frame's `target` is NULL or a valid value.
        let handle = unsafe { target(frame, LUARUN_FUNCTION)? };
        let (state, function) = (&handle.state, target_function(&handle)?);
        // SAFETY: a valid frame's `values[0 .. nargs]` are valid values.
        let args = unsafe { frame_args(state, frame, None)? };
        let results = state.call(function, mlua::MultiValue::from_vec(args))?;
        // SAFETY: the caller guarantees `values` and `strings` writable (`# Safety`).
        unsafe { write_results(state, frame, results.into_iter()) };
        Ok(())
    })
}

/// `luarun_frame_call`, keeping the error's value, as Lua's `pcall` does: when the call
/// fails with a Lua error (`LUARUN_ERR_RUNTIME`), `values[0]` holds the value the error
/// was raised with and `nresults` is 1 — a table given to `error`, a value a host
/// callback raised with `luarun_callback_set_error_value`, or for a string error its
/// message without the traceback. That value is owned by the caller like a result
/// (free it with `luarun_value_free`; a string copied into `strings` needs nothing).
/// `luarun_last_error` still has the message with its traceback. On any other failure
/// (a stop, a memory error, a bad argument) `nresults` is 0 and nothing in `values` is
/// owned. On success the same as `luarun_frame_call`.
///
/// # Safety
/// As `luarun_frame_call`.
#[no_mangle]
pub unsafe extern "C" fn luarun_frame_pcall(frame: *mut luarun_frame) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `frame` is NULL or a valid frame (`# Safety`).
        let frame = unsafe { arg_frame(frame)? };
        frame.nresults = 0;
        // SAFETY: a valid frame's `target` is NULL or a valid value.
        let handle = unsafe { target(frame, LUARUN_FUNCTION)? };
        let (state, function) = (&handle.state, target_function(&handle)?);
        // SAFETY: a valid frame's `values[0 .. nargs]` are valid values.
        let args = unsafe { frame_args(state, frame, None)? };
        match state.call_keeping_error(function, mlua::MultiValue::from_vec(args)) {
            Ok(results) => {
                // SAFETY: the caller guarantees `values` and `strings` writable (`# Safety`).
                unsafe { write_results(state, frame, results.into_iter()) };
                Ok(())
            }
            Err(failure) => {
                if let Some(raised) = failure.value {
                    // SAFETY: as for the results: `values` and `strings` are writable.
                    unsafe { write_results(state, frame, std::iter::once(raised)) };
                }
                Err(failure.error)
            }
        }
    })
}

/// `values[0] = target[values[0]]` for the table `frame.target`, honouring `__index`
/// (`nargs` must be 1; `nresults` becomes 1).
///
/// # Safety
/// As `luarun_frame_call`.
#[no_mangle]
pub unsafe extern "C" fn luarun_frame_get(frame: *mut luarun_frame) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `frame` as `luarun_frame_call` requires.
        let (frame, state, table, [key]) = unsafe { table_operands(frame)? };
        let result: mlua::Value = state.run(|_| table.get(key))?;
        // SAFETY: the caller guarantees `values` and `strings` writable (`# Safety`).
        unsafe { write_results(&state, frame, std::iter::once(result)) };
        Ok(())
    })
}

/// `target[values[0]] = values[1]` for the table `frame.target`, honouring
/// `__newindex` (`nargs` must be 2; `nresults` becomes 0). A nil or NaN key is a
/// `LUARUN_ERR_RUNTIME` error, as in Lua.
///
/// # Safety
/// As `luarun_frame_call`.
#[no_mangle]
pub unsafe extern "C" fn luarun_frame_set(frame: *mut luarun_frame) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `frame` as `luarun_frame_call` requires.
        let (frame, state, table, [key, value]) = unsafe { table_operands(frame)? };
        state.run(|_| table.set(key, value))?;
        frame.nresults = 0;
        Ok(())
    })
}

/// One step of raw iteration (Lua's `next`, ignoring `__pairs`) over the table
/// `frame.target`: `values[0]` is the previous key (nil to start); the results are the
/// next key and its value (`nresults` 2), or none after the last pair (`nresults` 0).
///
/// # Safety
/// As `luarun_frame_call`.
#[no_mangle]
pub unsafe extern "C" fn luarun_frame_next(frame: *mut luarun_frame) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `frame` as `luarun_frame_call` requires.
        let (frame, state, table, [key]) = unsafe { table_operands(frame)? };
        match state.next(&table, key)? {
            // SAFETY: the caller guarantees `values` and `strings` writable (`# Safety`).
            Some((next_key, value)) => unsafe {
                write_results(&state, frame, [next_key, value].into_iter())
            },
            None => frame.nresults = 0,
        }
        Ok(())
    })
}
