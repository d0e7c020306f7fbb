//! `luarun_state_set_memory_limit`, `luarun_state_memory_limit`, `luarun_state_gc`: a
//! state's memory after creation (the limit is also an option of `luarun_state_new`).

use super::state::{arg_state, luarun_state, memory_limit_from_c};
use super::{boundary, check_out, luarun_status};
use luarun_core::error::{Error, Result};

/// What `luarun_state_gc` does.
pub type luarun_gc_operation = u32;
/// A full garbage collection (Lua's `collectgarbage("collect")`).
pub const LUARUN_GC_COLLECT: luarun_gc_operation = 0;
/// Stops the automatic collector until `LUARUN_GC_RESTART` (`collectgarbage("stop")`);
/// the memory limit still holds.
pub const LUARUN_GC_STOP: luarun_gc_operation = 1;
/// Restarts the automatic collector (`collectgarbage("restart")`).
pub const LUARUN_GC_RESTART: luarun_gc_operation = 2;

/// Sets the most bytes the state may hold from now on (0: no limit). A limit below what
/// the state holds now is refused with `LUARUN_ERR_INVALID_ARGUMENT` (the message says
/// how much it holds); collect garbage first (`luarun_state_gc`) to lower it further.
///
/// # Safety
/// `state` must be a live state.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_set_memory_limit(
    state: *mut luarun_state,
    bytes: u64,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        state.set_memory_limit(memory_limit_from_c(bytes))
    })
}

/// Writes the state's memory limit in bytes to `*bytes_out` (0: no limit).
///
/// # Safety
/// `state` must be valid; `bytes_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_memory_limit(
    state: *mut luarun_state,
    bytes_out: *mut u64,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        check_out(bytes_out, "bytes_out")?;
        let limit = state.memory_limit().map_or(0, |limit| limit as u64);
        // SAFETY: `bytes_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { bytes_out.write(limit) };
        Ok(())
    })
}

/// Runs a garbage-collector `operation` (`LUARUN_GC_*`) on the state. A collection may
/// run finalizers (in states that allow them), under the state's limits, like a call.
///
/// # Safety
/// `state` must be a live state.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_gc(
    state: *mut luarun_state,
    operation: luarun_gc_operation,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        let operation = gc_operation(operation)?;
        state.collect_garbage(operation)
    })
}

fn gc_operation(operation: luarun_gc_operation) -> Result<luarun_core::state::GcOperation> {
    use luarun_core::state::GcOperation;
    Ok(match operation {
        LUARUN_GC_COLLECT => GcOperation::Collect,
        LUARUN_GC_STOP => GcOperation::Stop,
        LUARUN_GC_RESTART => GcOperation::Restart,
        other => {
            return Err(Error::invalid_argument(format!(
                "operation is {other}; use LUARUN_GC_COLLECT (0), LUARUN_GC_STOP (1) or \
                 LUARUN_GC_RESTART (2)"
            )))
        }
    })
}
