//! A value whose `kind` does not match what its handle holds (a table's kind with a
//! string's handle, ...) is `LUARUN_ERR_TYPE` for every function taking a value, never
//! a caught internal panic and never a silently different value.

use std::ffi::CStr;
use std::ptr;

use luarun::ffi::function::luarun_call;
use luarun::ffi::host_object::{
    luarun_host_object_class_default, luarun_host_object_new, luarun_host_object_user_data,
};
use luarun::ffi::luarun_status::{self, LUARUN_ERR_TYPE, LUARUN_OK};
use luarun::ffi::state::{
    luarun_eval, luarun_set_global, luarun_state, luarun_state_free, luarun_state_new,
};
use luarun::ffi::table::{
    luarun_table_get, luarun_table_length, luarun_table_next, luarun_table_set,
};
use luarun::ffi::value::{
    luarun_type, luarun_value, luarun_value_free, luarun_value_tostring, LUARUN_FUNCTION,
    LUARUN_INTEGER, LUARUN_STRING, LUARUN_TABLE, LUARUN_THREAD, LUARUN_USERDATA,
};

fn last_error() -> String {
    // SAFETY: a NUL-terminated thread-local string.
    unsafe { CStr::from_ptr(luarun::ffi::luarun_last_error()) }
        .to_string_lossy()
        .into_owned()
}

unsafe fn eval(state: *mut luarun_state, expression: &str) -> luarun_value {
    let mut value = luarun_value::NIL;
    let status = luarun_eval(
        state,
        expression.as_ptr().cast(),
        expression.len(),
        &mut value,
    );
    assert_eq!(status, LUARUN_OK, "{expression}: {}", last_error());
    value
}

/// Every function that takes a value, called with `value` in each value position.
unsafe fn uses(
    state: *mut luarun_state,
    value: &luarun_value,
) -> Vec<(&'static str, luarun_status)> {
    let key = luarun_value {
        kind: LUARUN_INTEGER,
        integer: 1,
        ..luarun_value::NIL
    };
    let table = eval(state, "{}");
    let function = eval(state, "function(...) return ... end");
    let mut out = luarun_value::NIL;
    let mut out2 = luarun_value::NIL;
    let mut length = 0usize;
    let mut user_data = ptr::null_mut();
    let mut uses = vec![
        (
            "luarun_table_length",
            luarun_table_length(value, &mut length),
        ),
        ("luarun_table_get", luarun_table_get(value, &key, &mut out)),
        ("luarun_table_set", luarun_table_set(value, &key, &key)),
        (
            "luarun_table_next",
            luarun_table_next(value, &luarun_value::NIL, &mut out, &mut out2),
        ),
        (
            "luarun_call",
            luarun_call(value, ptr::null(), 0, ptr::null_mut(), 0, ptr::null_mut()),
        ),
        (
            "luarun_host_object_user_data",
            luarun_host_object_user_data(value, &mut user_data),
        ),
    ];
    luarun_value_free(&mut out);
    luarun_value_free(&mut out2);
    // As an argument converted into Lua.
    uses.extend([
        (
            "luarun_set_global value",
            luarun_set_global(state, c"v".as_ptr(), value),
        ),
        (
            "luarun_table_set key",
            luarun_table_set(&table, value, &key),
        ),
        (
            "luarun_table_set value",
            luarun_table_set(&table, &key, value),
        ),
        (
            "luarun_table_get key",
            luarun_table_get(&table, value, &mut out),
        ),
        (
            "luarun_call argument",
            luarun_call(&function, value, 1, ptr::null_mut(), 0, ptr::null_mut()),
        ),
        (
            "luarun_value_tostring",
            luarun_value_tostring(state, value, &mut out),
        ),
    ]);
    luarun_value_free(&mut out);
    let mut table = table;
    let mut function = function;
    luarun_value_free(&mut table);
    luarun_value_free(&mut function);
    uses
}

/// A userdata: a host object without callbacks.
unsafe fn host_object(state: *mut luarun_state) -> luarun_value {
    let mut class = std::mem::MaybeUninit::uninit();
    luarun_host_object_class_default(class.as_mut_ptr());
    let mut object = luarun_value::NIL;
    let status = luarun_host_object_new(state, class.as_ptr(), ptr::null_mut(), None, &mut object);
    assert_eq!(status, LUARUN_OK);
    assert_eq!(object.kind, LUARUN_USERDATA);
    object
}

const KINDS: [luarun_type; 5] = [
    LUARUN_STRING,
    LUARUN_TABLE,
    LUARUN_FUNCTION,
    LUARUN_USERDATA,
    LUARUN_THREAD,
];

#[test]
fn a_kind_that_lies_about_its_handle_is_a_type_error_everywhere() {
    // SAFETY: C API use as the header documents it, except for the lying kinds under test, which the library must refuse before using the handle.
    unsafe {
        let mut state = ptr::null_mut();
        assert_eq!(luarun_state_new(ptr::null(), &mut state), LUARUN_OK);
        let originals = [
            eval(state, "'a string'"),
            eval(state, "{1, 2, 3}"),
            eval(state, "print"),
            host_object(state),
            eval(state, "coroutine.create(print)"),
        ];
        let mut lies = 0;
        for original in &originals {
            for &kind in &KINDS {
                if kind == original.kind {
                    continue;
                }
                let mut liar = *original;
                liar.kind = kind;
                for (function, status) in uses(state, &liar) {
                    lies += 1;
                    assert_eq!(
                        status,
                        LUARUN_ERR_TYPE,
                        "{function} with kind {kind} on a handle of kind {}: {}",
                        original.kind,
                        last_error()
                    );
                    assert!(!last_error().contains("internal error"), "{}", last_error());
                }
            }
        }
        assert!(lies > 100, "only {lies} combinations were tried");
        for mut original in originals {
            luarun_value_free(&mut original);
        }
        luarun_state_free(state);
    }
}
