//! `luarun_state_set_print`: where a state's `print` writes.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use super::state::{arg_state, luarun_state};
use super::user_data::UserData;
use super::{boundary, luarun_status};

/// Receives what one `print` call writes: its arguments converted as `tostring` does,
/// separated by tabs, ending in a newline (`len` bytes at `text`, which may hold any
/// bytes and is valid only during the call). Return `LUARUN_OK` (0); any other value
/// makes that `print` raise a Lua error ("print: the host's print callback returned N").
///
/// It runs on whichever thread is calling into the state, inside that call, and may
/// call luarun functions on the same state. It must not let a C++ exception or a
/// longjmp escape.
pub type luarun_print_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, text: *const c_char, len: usize) -> c_int>;

/// The host's callback and its pointer, which the host promised are usable from any
/// thread that calls into the state.
struct HostWriter {
    print: unsafe extern "C" fn(*mut c_void, *const c_char, usize) -> c_int,
    user_data: UserData,
}

impl HostWriter {
    fn write(&self, line: &[u8]) -> Result<(), String> {
        // SAFETY: the caller of luarun_state_set_print vouched for the callback.
        let status =
            unsafe { (self.print)(self.user_data.get(), line.as_ptr().cast(), line.len()) };
        if status == 0 {
            Ok(())
        } else {
            Err(format!(
                "print: the host's print callback returned {status}"
            ))
        }
    }
}

/// Routes the state's `print` to `print(user_data, text, len)`, one call per Lua
/// `print` call; `print` NULL restores the default, stdout (as plain Lua writes it).
/// Takes effect for the next `print`, also inside a running call. `user_data` is
/// not freed by luarun: keep it valid until the state is freed or the callback is
/// replaced. Lua's `print` in luarun states shows no addresses (see "Running untrusted
/// code" in the README): tables, functions and the like print as
/// `table: 0x<hidden>`, a keyed permutation of the address.
///
/// # Safety
/// `state` must be valid; `print` and `user_data` usable from any thread that calls
/// into the state.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_set_print(
    state: *mut luarun_state,
    print: luarun_print_callback,
    user_data: *mut c_void,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = unsafe { arg_state(state)? };
        let writer = print.map(|print| {
            let host = HostWriter {
                print,
                user_data: UserData::new(user_data),
            };
            Arc::new(move |line: &[u8]| host.write(line)) as luarun_core::print::PrintWriter
        });
        state.set_print(writer);
        Ok(())
    })
}
