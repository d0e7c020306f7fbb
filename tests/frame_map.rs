//! The C entry points added for bindings: `luarun_frame_*` (one reusable frame per
//! operation) and `luarun_map` / `luarun_pool_map` (a Lua function over a buffer).
//! Every misuse is a status, never a crash.

#[path = "c_api_support/mod.rs"]
mod c_api_support;

use std::ptr;

use c_api_support::{last_error, Lua};
use luarun::ffi::frame::*;
use luarun::ffi::luarun_status::{self, *};
use luarun::ffi::map::*;
use luarun::ffi::pool::{luarun_pool, luarun_pool_exec, luarun_pool_free, luarun_pool_new};

use luarun::ffi::value::*;

fn integer(value: i64) -> luarun_value {
    luarun_value {
        kind: LUARUN_INTEGER,
        integer: value,
        ..luarun_value::NIL
    }
}

struct Frame {
    frame: luarun_frame,
    _values: Vec<luarun_value>,
    _strings: Vec<u8>,
}

fn frame(target: &luarun_value, args: &[luarun_value], strings: usize) -> Frame {
    let mut values = vec![luarun_value::NIL; 8];
    values[..args.len()].copy_from_slice(args);
    let mut bytes = vec![0u8; strings];
    let frame = luarun_frame {
        struct_size: std::mem::size_of::<luarun_frame>() as u32,
        target,
        values: values.as_mut_ptr(),
        values_cap: values.len(),
        nargs: args.len(),
        nresults: 0,
        strings: if strings == 0 {
            ptr::null_mut()
        } else {
            bytes.as_mut_ptr().cast()
        },
        strings_cap: strings,
    };
    Frame {
        frame,
        _values: values,
        _strings: bytes,
    }
}

#[test]
fn frame_call_returns_every_result_and_copies_strings_into_the_buffer() {
    let lua = Lua::new();
    let function = lua.eval("function(a, b) return a + b, 'sum', ('x'):rep(100) end");
    let mut f = frame(&function, &[integer(2), integer(3)], 64);
    // SAFETY: the frame's arrays live in `f`.
    assert_eq!(unsafe { luarun_frame_call(&mut f.frame) }, LUARUN_OK);
    assert_eq!(f.frame.nresults, 3);
    // SAFETY: nresults values were written.
    let results = unsafe { std::slice::from_raw_parts_mut(f.frame.values, 3) };
    assert_eq!(results[0].integer, 5);
    assert_eq!(results[1].kind, LUARUN_STRING);
    assert!(
        results[1].handle.is_null(),
        "a short string is copied, not handled"
    );
    // SAFETY: the copied string lives in the frame's buffer.
    let text = unsafe { std::slice::from_raw_parts(results[1].string.cast::<u8>(), 3) };
    assert_eq!(text, b"sum");
    assert!(
        !results[2].handle.is_null(),
        "100 bytes do not fit what is left of 64"
    );
    for value in results.iter_mut() {
        // SAFETY: owned results, freed once.
        unsafe { luarun_value_free(value) };
    }
    let mut function = function;
    // SAFETY: owned, freed once.
    unsafe { luarun_value_free(&mut function) };
}

#[test]
fn frame_get_set_and_next_walk_a_table() {
    let lua = Lua::new();
    let table = lua.eval("{}");
    let mut set = frame(&table, &[integer(1), integer(10)], 0);
    // SAFETY: the frame's arrays live in `set`.
    assert_eq!(unsafe { luarun_frame_set(&mut set.frame) }, LUARUN_OK);
    let mut get = frame(&table, &[integer(1)], 0);
    // SAFETY: as above.
    assert_eq!(unsafe { luarun_frame_get(&mut get.frame) }, LUARUN_OK);
    // SAFETY: one result was written.
    assert_eq!(unsafe { (*get.frame.values).integer }, 10);
    let mut step = frame(&table, &[luarun_value::NIL], 0);
    // SAFETY: as above.
    assert_eq!(unsafe { luarun_frame_next(&mut step.frame) }, LUARUN_OK);
    assert_eq!(step.frame.nresults, 2);
    let mut end = frame(&table, &[integer(1)], 0);
    // SAFETY: as above.
    assert_eq!(unsafe { luarun_frame_next(&mut end.frame) }, LUARUN_OK);
    assert_eq!(end.frame.nresults, 0);
    let mut table = table;
    // SAFETY: owned, freed once.
    unsafe { luarun_value_free(&mut table) };
}

#[test]
fn frame_misuse_is_a_status_with_a_message() {
    let lua = Lua::new();
    let table = lua.eval("{}");
    let function = lua.eval("print");
    assert_eq!(
        // SAFETY: NULL is checked.
        unsafe { luarun_frame_call(ptr::null_mut()) },
        LUARUN_ERR_INVALID_ARGUMENT
    );
    let mut wrong_size = frame(&function, &[], 0);
    wrong_size.frame.struct_size = 12;
    assert_eq!(
        // SAFETY: the frame is valid apart from its size.
        unsafe { luarun_frame_call(&mut wrong_size.frame) },
        LUARUN_ERR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains("sizeof(luarun_frame)"),
        "{}",
        last_error()
    );
    let mut not_a_function = frame(&table, &[], 0);
    assert_eq!(
        // SAFETY: valid frame, wrong target kind.
        unsafe { luarun_frame_call(&mut not_a_function.frame) },
        LUARUN_ERR_TYPE
    );
    let mut too_many = frame(&function, &[], 0);
    too_many.frame.nargs = 9;
    assert_eq!(
        // SAFETY: nargs beyond values_cap is refused before any read.
        unsafe { luarun_frame_call(&mut too_many.frame) },
        LUARUN_ERR_INVALID_ARGUMENT
    );
    let mut wrong_arity = frame(&table, &[integer(1)], 0);
    assert_eq!(
        // SAFETY: valid frame; set takes 2 arguments.
        unsafe { luarun_frame_set(&mut wrong_arity.frame) },
        LUARUN_ERR_INVALID_ARGUMENT
    );
    let mut nil_key = frame(&table, &[luarun_value::NIL, integer(1)], 0);
    assert_eq!(
        // SAFETY: valid frame; a nil key is Lua's error.
        unsafe { luarun_frame_set(&mut nil_key.frame) },
        LUARUN_ERR_RUNTIME
    );
    for mut value in [table, function] {
        // SAFETY: owned, freed once.
        unsafe { luarun_value_free(&mut value) };
    }
}

fn map(function: &luarun_value, input: &[f64], output: &mut [u8], kind: u32) -> luarun_status {
    // SAFETY: the buffers are valid for their lengths and do not overlap.
    unsafe {
        luarun_map(
            function,
            input.as_ptr().cast(),
            std::mem::size_of_val(input),
            LUARUN_ELEMENT_F64,
            output.as_mut_ptr().cast(),
            output.len(),
            kind,
        )
    }
}

#[test]
fn map_converts_checks_and_names_the_element() {
    let lua = Lua::new();
    let mut square = lua.eval("function(x) return x * x end");
    let mut out = [0u8; 24];
    assert_eq!(
        map(&square, &[1.5, 2.0, -3.0], &mut out, LUARUN_ELEMENT_F64),
        LUARUN_OK
    );
    let values: Vec<f64> = out
        .chunks(8)
        .map(|c| f64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(values, [2.25, 4.0, 9.0]);
    let mut bytes = [0u8; 3];
    assert_eq!(
        map(&square, &[1.0, 15.0, 16.0], &mut bytes, LUARUN_ELEMENT_U8),
        LUARUN_ERR_TYPE
    );
    assert!(last_error().starts_with("element 2: "), "{}", last_error());
    assert_eq!(bytes[..2], [1, 225]);
    assert_eq!(
        map(&square, &[0.5], &mut bytes, LUARUN_ELEMENT_I32),
        LUARUN_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(
        map(&square, &[0.5], &mut out, 99),
        LUARUN_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        map(&square, &[0.5], &mut out, LUARUN_ELEMENT_I64),
        LUARUN_ERR_TYPE
    );
    let mut failing = lua.eval("function(x) if x > 1 then error('too big') end return x end");
    assert_eq!(
        map(&failing, &[0.0, 1.0, 2.0], &mut out, LUARUN_ELEMENT_F64),
        LUARUN_ERR_RUNTIME
    );
    assert!(last_error().contains("element 2:") && last_error().contains("too big"));
    // SAFETY: NULL function is checked.
    let status = unsafe { luarun_map(ptr::null(), ptr::null(), 0, 0, ptr::null_mut(), 0, 0) };
    assert_eq!(status, LUARUN_ERR_INVALID_ARGUMENT);
    for value in [&mut square, &mut failing] {
        // SAFETY: owned, freed once.
        unsafe { luarun_value_free(value) };
    }
}

#[test]
fn pool_map_splits_the_work_and_matches_one_state() {
    let mut pool: *mut luarun_pool = ptr::null_mut();
    assert_eq!(
        // SAFETY: default options; valid out pointer.
        unsafe { luarun_pool_new(ptr::null(), 3, &mut pool) },
        LUARUN_OK
    );
    let code = "function f(x) return x * 2 + 1 end";
    assert_eq!(
        // SAFETY: a live pool and a valid code buffer.
        unsafe { luarun_pool_exec(pool, code.as_ptr().cast(), code.len()) },
        LUARUN_OK
    );
    let input: Vec<i32> = (0..10_000).collect();
    let mut output = vec![0i64; input.len()];
    // SAFETY: buffers valid for their lengths.
    let status = unsafe {
        luarun_pool_map(
            pool,
            c"f".as_ptr(),
            input.as_ptr().cast(),
            std::mem::size_of_val(&input[..]),
            LUARUN_ELEMENT_I32,
            output.as_mut_ptr().cast(),
            std::mem::size_of_val(&output[..]),
            LUARUN_ELEMENT_I64,
        )
    };
    assert_eq!(status, LUARUN_OK, "{}", last_error());
    assert!(output
        .iter()
        .zip(&input)
        .all(|(&y, &x)| y == i64::from(x) * 2 + 1));
    // SAFETY: created by luarun_pool_new, freed once.
    unsafe { luarun_pool_free(pool) };
}
