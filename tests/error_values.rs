//! Error values across the C API: `luarun_frame_pcall` hands back what `error()` was
//! called with, `luarun_callback_set_error_value` raises a value Lua's `pcall` receives
//! unchanged; tracebacks leave out luarun's own frames. Also the memory-limit and
//! garbage-collector entry points.

#[path = "c_api_support/mod.rs"]
mod c_api_support;

use std::ffi::{c_int, c_void};
use std::ptr;

use c_api_support::{last_error, Lua};
use luarun::ffi::frame::*;
use luarun::ffi::function::*;
use luarun::ffi::luarun_status::{self, *};
use luarun::ffi::memory::*;
use luarun::ffi::state::*;
use luarun::ffi::table::luarun_table_get;
use luarun::ffi::value::*;

/// Calls `function` through `luarun_frame_pcall` with no arguments; returns the status
/// and the values left in the frame.
fn pcall(function: &luarun_value) -> (luarun_status, Vec<luarun_value>) {
    let mut values = vec![luarun_value::NIL; 4];
    let mut frame = luarun_frame {
        struct_size: std::mem::size_of::<luarun_frame>() as u32,
        target: function,
        values: values.as_mut_ptr(),
        values_cap: values.len(),
        nargs: 0,
        nresults: 99,
        strings: ptr::null_mut(),
        strings_cap: 0,
    };
    // SAFETY: the frame's arrays are as it says.
    let status = unsafe { luarun_frame_pcall(&mut frame) };
    let count = frame.nresults.min(values.len());
    values.truncate(count);
    (status, values)
}

fn free(mut value: luarun_value) {
    // SAFETY: an owned value from the library.
    unsafe { luarun_value_free(&mut value) };
}

fn field(table: &luarun_value, name: &str) -> luarun_value {
    let key = luarun_value {
        kind: LUARUN_STRING,
        string: name.as_ptr().cast(),
        string_len: name.len(),
        ..luarun_value::NIL
    };
    let mut out = luarun_value::NIL;
    assert_eq!(
        // SAFETY: a table value and a string key that outlive the call.
        unsafe { luarun_table_get(table, &key, &mut out) },
        LUARUN_OK
    );
    out
}

#[test]
fn a_table_raised_by_error_comes_back_as_the_error_value() {
    let lua = Lua::new();
    let function = lua.eval("function() error({code = 42}) end");
    let (status, values) = pcall(&function);
    assert_eq!(status, LUARUN_ERR_RUNTIME);
    assert_eq!(values.len(), 1);
    assert_eq!(values[0].kind, LUARUN_TABLE);
    let code = field(&values[0], "code");
    assert_eq!((code.kind, code.integer), (LUARUN_INTEGER, 42));
    let message = last_error();
    assert!(
        message.starts_with("(error object is a table value)"),
        "{message}"
    );
    assert!(message.contains("stack traceback:"), "{message}");
    for value in values {
        free(value);
    }
    free(function);
}

#[test]
fn a_string_error_value_is_the_message_without_its_traceback() {
    let lua = Lua::new();
    let function = lua.eval("function() error('plain', 0) end");
    let (status, values) = pcall(&function);
    assert_eq!(status, LUARUN_ERR_RUNTIME);
    assert_eq!(values[0].kind, LUARUN_STRING);
    // SAFETY: a string value from the library holds string_len bytes.
    let text =
        unsafe { std::slice::from_raw_parts(values[0].string.cast::<u8>(), values[0].string_len) };
    assert_eq!(text, b"plain");
    for value in values {
        free(value);
    }
    free(function);
}

#[test]
fn a_stop_has_no_error_value() {
    let mut options = std::mem::MaybeUninit::<luarun_options>::uninit();
    // SAFETY: luarun_options_default fills the whole struct.
    let mut options = unsafe {
        luarun_options_default(options.as_mut_ptr());
        options.assume_init()
    };
    options.instruction_limit = 10_000;
    let mut state = ptr::null_mut();
    // SAFETY: valid options and out pointer.
    assert_eq!(unsafe { luarun_state_new(&options, &mut state) }, LUARUN_OK);
    let lua = Lua(state);
    let function = lua.eval("function() while true do end end");
    let (status, values) = pcall(&function);
    assert_eq!(status, LUARUN_ERR_INTERRUPTED);
    assert!(values.is_empty());
    free(function);
}

#[test]
fn tracebacks_leave_out_luarun_frames() {
    let lua = Lua::new();
    let function =
        lua.eval("function() local f = coroutine.wrap(function() string.rep() end) f() end");
    let (status, values) = pcall(&function);
    assert_eq!(status, LUARUN_ERR_RUNTIME);
    let message = last_error();
    assert!(message.contains("bad argument"), "{message}");
    for internal in ["luarun prelude", "luarun patterns", "in hook", "[C]: in ?"] {
        assert!(!message.contains(internal), "{internal} in {message}");
    }
    for value in values {
        free(value);
    }
    free(function);
}

/// A host function that fails by raising its first argument.
unsafe extern "C" fn raise_first_argument(
    _user_data: *mut c_void,
    args: *const luarun_value,
    nargs: usize,
    context: *mut luarun_callback_context,
) -> c_int {
    assert_eq!(nargs, 1);
    assert_eq!(luarun_callback_set_error_value(context, args), LUARUN_OK);
    LUARUN_ERR_RUNTIME as c_int
}

#[test]
fn a_callback_raises_a_value_that_pcall_receives_unchanged() {
    let lua = Lua::new();
    let mut raise = luarun_value::NIL;
    // SAFETY: a live state, a valid callback and out pointer.
    let status = unsafe {
        luarun_function_new(
            lua.0,
            Some(raise_first_argument),
            ptr::null_mut(),
            None,
            &mut raise,
        )
    };
    assert_eq!(status, LUARUN_OK);
    let check = lua.eval(
        "function(raise) local t = {} local ok, e = pcall(raise, t) \
         return not ok and rawequal(e, t) end",
    );
    let mut values = [raise, luarun_value::NIL];
    let mut frame = luarun_frame {
        struct_size: std::mem::size_of::<luarun_frame>() as u32,
        target: &check,
        values: values.as_mut_ptr(),
        values_cap: values.len(),
        nargs: 1,
        nresults: 0,
        strings: ptr::null_mut(),
        strings_cap: 0,
    };
    assert_eq!(
        // SAFETY: the frame's arrays are as it says.
        unsafe { luarun_frame_pcall(&mut frame) },
        LUARUN_OK,
        "{}",
        last_error()
    );
    assert_eq!((values[0].kind, values[0].boolean), (LUARUN_BOOLEAN, true));
    free(raise);
    free(check);
}

#[test]
fn set_error_value_refuses_null() {
    // SAFETY: NULL context and value are refused before use.
    let status = unsafe { luarun_callback_set_error_value(ptr::null_mut(), ptr::null()) };
    assert_eq!(status, LUARUN_ERR_INVALID_ARGUMENT);
}

#[test]
fn the_memory_limit_can_be_set_read_and_lifted() {
    let lua = Lua::new();
    let mut limit = 7u64;
    // SAFETY: a live state and valid out pointers throughout.
    unsafe {
        assert_eq!(luarun_state_memory_limit(lua.0, &mut limit), LUARUN_OK);
        assert_eq!(limit, 0);
        assert_eq!(
            luarun_state_set_memory_limit(lua.0, 1),
            LUARUN_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("holds now"), "{}", last_error());
        let mut used = 0usize;
        assert_eq!(luarun_state_memory_used(lua.0, &mut used), LUARUN_OK);
        let limit_bytes = used as u64 + 200_000;
        assert_eq!(luarun_state_set_memory_limit(lua.0, limit_bytes), LUARUN_OK);
        assert_eq!(luarun_state_memory_limit(lua.0, &mut limit), LUARUN_OK);
        assert_eq!(limit, limit_bytes);
    }
    assert_eq!(
        lua.exec("local t = {} for i = 1, 1e7 do t[i] = i end"),
        LUARUN_ERR_MEMORY
    );
    // SAFETY: as above.
    unsafe {
        assert_eq!(luarun_state_gc(lua.0, LUARUN_GC_COLLECT), LUARUN_OK);
        assert_eq!(luarun_state_set_memory_limit(lua.0, 0), LUARUN_OK);
    }
    assert_eq!(
        lua.exec("local t = {} for i = 1, 1e6 do t[i] = i end"),
        LUARUN_OK
    );
}

#[test]
fn garbage_collection_operations() {
    let lua = Lua::new();
    assert_eq!(
        lua.exec("junk = {} for i = 1, 1e5 do junk[i] = {} end junk = nil"),
        LUARUN_OK
    );
    let used = |lua: &Lua| {
        let mut bytes = 0usize;
        assert_eq!(
            // SAFETY: a live state and a valid out pointer.
            unsafe { luarun_state_memory_used(lua.0, &mut bytes) },
            LUARUN_OK
        );
        bytes
    };
    let before = used(&lua);
    // SAFETY: a live state; the operations are checked.
    unsafe {
        assert_eq!(luarun_state_gc(lua.0, LUARUN_GC_COLLECT), LUARUN_OK);
        assert!(used(&lua) < before);
        assert_eq!(luarun_state_gc(lua.0, LUARUN_GC_STOP), LUARUN_OK);
        assert_eq!(lua.exec("for i = 1, 1e5 do local t = {} end"), LUARUN_OK);
        assert_eq!(luarun_state_gc(lua.0, LUARUN_GC_RESTART), LUARUN_OK);
        assert_eq!(luarun_state_gc(lua.0, 3), LUARUN_ERR_INVALID_ARGUMENT);
        assert_eq!(
            luarun_state_gc(ptr::null_mut(), LUARUN_GC_COLLECT),
            LUARUN_ERR_INVALID_ARGUMENT
        );
    }
}
