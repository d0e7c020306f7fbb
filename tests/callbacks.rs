//! Host callbacks through the C ABI: re-entrancy, runaway mutual recursion, errors.

use std::ffi::{c_int, c_void};
use std::ptr;

use luarun::ffi::function::{
    luarun_call_global, luarun_callback_context, luarun_register_function,
};
use luarun::ffi::luarun_status;
use luarun::ffi::state::{luarun_exec, luarun_state, luarun_state_free, luarun_state_new};
use luarun::ffi::value::luarun_value;

unsafe extern "C" fn call_lua_back(
    user_data: *mut c_void,
    _args: *const luarun_value,
    _nargs: usize,
    _context: *mut luarun_callback_context,
) -> c_int {
    // Re-enters the same state on the same thread: Lua -> host -> Lua -> host ...
    let state = user_data.cast::<luarun_state>();
    luarun_call_global(
        state,
        c"recurse".as_ptr(),
        ptr::null(),
        0,
        ptr::null_mut(),
        0,
        ptr::null_mut(),
    ) as c_int
}

fn exec(state: *mut luarun_state, code: &str) -> luarun_status {
    // SAFETY: a live state and a valid code buffer.
    unsafe { luarun_exec(state, code.as_ptr().cast(), code.len()) }
}

#[test]
fn unbounded_lua_host_recursion_is_an_error_not_a_crash() {
    // Run on a thread with a small stack, as embedders' worker threads often have.
    let worker = std::thread::Builder::new()
        .stack_size(1 << 20)
        // SAFETY: one state, created, used and freed once on this thread; every pointer
        // passed is a local or a static string.
        .spawn(|| unsafe {
            let mut state = ptr::null_mut();
            assert_eq!(
                luarun_state_new(ptr::null(), &mut state),
                luarun_status::LUARUN_OK
            );
            let status = luarun_register_function(
                state,
                c"host".as_ptr(),
                Some(call_lua_back),
                state.cast(),
                None,
            );
            assert_eq!(status, luarun_status::LUARUN_OK);
            assert_eq!(
                exec(state, "function recurse() host() end"),
                luarun_status::LUARUN_OK
            );
            let status = exec(state, "recurse()");
            assert_eq!(status, luarun_status::LUARUN_ERR_RUNTIME);
            let message = std::ffi::CStr::from_ptr(luarun::ffi::luarun_last_error());
            assert!(
                message.to_string_lossy().contains("stack overflow"),
                "{message:?}"
            );
            // And the state is still usable.
            assert_eq!(exec(state, "x = 1"), luarun_status::LUARUN_OK);
            luarun_state_free(state);
        })
        .unwrap();
    worker.join().expect("no crash");
}
