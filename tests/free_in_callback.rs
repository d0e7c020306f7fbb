//! Freeing what a running call uses, from inside that call's own callbacks: the state
//! (`luarun_state_free`), the function or table the call was made on
//! (`luarun_value_free`), a pool from its progress callback (`luarun_pool_free`). The
//! release is deferred until the outermost call using it returns, which then returns
//! normally; nothing is used after it is freed.

use std::ffi::{c_int, c_void};
use std::ptr;

use luarun::ffi::function::{
    luarun_call, luarun_callback_context, luarun_function_new, luarun_register_function,
};
use luarun::ffi::luarun_status::{self, LUARUN_OK};
use luarun::ffi::pool::{luarun_pool, luarun_pool_exec, luarun_pool_new, luarun_pool_run};
use luarun::ffi::state::{
    luarun_eval, luarun_exec, luarun_get_global, luarun_state, luarun_state_free, luarun_state_new,
};
use luarun::ffi::table::luarun_table_get;
use luarun::ffi::value::{luarun_value, luarun_value_free, LUARUN_INTEGER, LUARUN_STRING};

/// What the callback frees: the state, and optionally a value the outer call runs on.
struct Victims {
    state: *mut luarun_state,
    value: *mut luarun_value,
}

unsafe extern "C" fn free_victims(
    user_data: *mut c_void,
    _args: *const luarun_value,
    _nargs: usize,
    _context: *mut luarun_callback_context,
) -> c_int {
    let victims = &mut *user_data.cast::<Victims>();
    if !victims.value.is_null() {
        luarun_value_free(victims.value);
        victims.value = ptr::null_mut();
    }
    if !victims.state.is_null() {
        luarun_state_free(victims.state);
        victims.state = ptr::null_mut();
    }
    LUARUN_OK as c_int
}

unsafe fn new_state() -> *mut luarun_state {
    let mut state = ptr::null_mut();
    assert_eq!(luarun_state_new(ptr::null(), &mut state), LUARUN_OK);
    state
}

unsafe fn exec(state: *mut luarun_state, code: &str) -> luarun_status {
    luarun_exec(state, code.as_ptr().cast(), code.len())
}

/// Lua work after the free: allocation, collection, strings, a traceback-making error
/// that is caught. Returns the number 4242 when the state was still whole.
const WORK_AFTER_FREE: &str = "local t = {} for i = 1, 20000 do t[i] = {tostring(i)} end \
     collectgarbage() collectgarbage() \
     local ok = pcall(error, string.rep('x', 100)) \
     return #t + 4242 - 20000 + (ok and 1 or 0)";

/// Victims the callback reaches through a raw pointer, so the test reads them only
/// through that pointer too.
fn victims(state: *mut luarun_state) -> *mut Victims {
    Box::into_raw(Box::new(Victims {
        state,
        value: ptr::null_mut(),
    }))
}

unsafe fn register_freer(state: *mut luarun_state, victims: *mut Victims) {
    let status = luarun_register_function(
        state,
        c"free_it".as_ptr(),
        Some(free_victims),
        victims.cast(),
        None,
    );
    assert_eq!(status, LUARUN_OK);
}

fn integer(value: &luarun_value) -> Option<i64> {
    (value.kind == LUARUN_INTEGER).then_some(value.integer)
}

#[test]
fn freeing_the_state_inside_its_own_callback_defers_the_close() {
    // SAFETY: C API use as the header documents it; every pointer passed is live (values the callback frees are reached only through the pointers it was given).
    unsafe {
        let state = new_state();
        let victims = victims(state);
        register_freer(state, victims);
        let expression = format!("(function() free_it() {WORK_AFTER_FREE} end)()");
        let mut result = luarun_value::NIL;
        let status = luarun_eval(
            state,
            expression.as_ptr().cast(),
            expression.len(),
            &mut result,
        );
        assert_eq!(status, LUARUN_OK);
        assert_eq!(integer(&result), Some(4242));
        assert!((*victims).state.is_null(), "the callback ran");
        luarun_value_free(&mut result);
        drop(Box::from_raw(victims));
    }
}

#[test]
fn freeing_the_state_and_the_called_function_inside_the_call() {
    // SAFETY: C API use as the header documents it; every pointer passed is live (values the callback frees are reached only through the pointers it was given).
    unsafe {
        let state = new_state();
        let victims = victims(state);
        register_freer(state, victims);
        let code = format!("function run() free_it() {WORK_AFTER_FREE} end");
        assert_eq!(exec(state, &code), LUARUN_OK);
        // On the heap: the callback frees it through the pointer it was given.
        let function = Box::into_raw(Box::new(luarun_value::NIL));
        assert_eq!(
            luarun_get_global(state, c"run".as_ptr(), function),
            LUARUN_OK
        );
        (*victims).value = function;
        let mut result = luarun_value::NIL;
        let mut count = 0;
        let status = luarun_call(function, ptr::null(), 0, &mut result, 1, &mut count);
        assert_eq!(status, LUARUN_OK);
        assert_eq!((count, integer(&result)), (1, Some(4242)));
        assert!(
            (*function).handle.is_null(),
            "the callback freed the function value"
        );
        luarun_value_free(&mut result);
        drop(Box::from_raw(function));
        drop(Box::from_raw(victims));
    }
}

#[test]
fn freeing_the_state_and_the_table_inside_an_index_metamethod() {
    // SAFETY: C API use as the header documents it; every pointer passed is live (values the callback frees are reached only through the pointers it was given).
    unsafe {
        let state = new_state();
        let victims = victims(state);
        register_freer(state, victims);
        let code = format!(
            "t = setmetatable({{}}, {{__index = function() free_it() {WORK_AFTER_FREE} end}})"
        );
        assert_eq!(exec(state, &code), LUARUN_OK);
        let table = Box::into_raw(Box::new(luarun_value::NIL));
        assert_eq!(luarun_get_global(state, c"t".as_ptr(), table), LUARUN_OK);
        (*victims).value = table;
        let key = luarun_value {
            kind: LUARUN_STRING,
            string: c"anything".as_ptr(),
            string_len: 8,
            ..luarun_value::NIL
        };
        let mut result = luarun_value::NIL;
        assert_eq!(luarun_table_get(table, &key, &mut result), LUARUN_OK);
        assert_eq!(integer(&result), Some(4242));
        luarun_value_free(&mut result);
        drop(Box::from_raw(table));
        drop(Box::from_raw(victims));
    }
}

#[test]
fn freeing_the_state_from_a_function_value_created_on_it() {
    // SAFETY: C API use as the header documents it; every pointer passed is live (values the callback frees are reached only through the pointers it was given).
    unsafe {
        let state = new_state();
        let victims = victims(state);
        let mut function = luarun_value::NIL;
        let status = luarun_function_new(
            state,
            Some(free_victims),
            victims.cast(),
            None,
            &mut function,
        );
        assert_eq!(status, LUARUN_OK);
        // Called directly: the only Lua frame is the host function itself.
        let status = luarun_call(
            &function,
            ptr::null(),
            0,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        );
        assert_eq!(status, LUARUN_OK);
        assert!((*victims).state.is_null());
        // The function value still holds the state; freeing it closes it.
        luarun_value_free(&mut function);
        drop(Box::from_raw(victims));
    }
}

struct PoolVictim {
    pool: *mut luarun_pool,
    calls: u32,
}

unsafe extern "C" fn free_pool(user_data: *mut c_void, _done: u32, _total: u32) -> c_int {
    let victim = &mut *user_data.cast::<PoolVictim>();
    victim.calls += 1;
    if !victim.pool.is_null() {
        luarun::ffi::pool::luarun_pool_free(victim.pool);
        victim.pool = ptr::null_mut();
    }
    0
}

#[test]
fn freeing_a_pool_from_its_progress_callback_defers_the_release() {
    // SAFETY: C API use as the header documents it; every pointer passed is live (values the callback frees are reached only through the pointers it was given).
    unsafe {
        let mut pool = ptr::null_mut();
        assert_eq!(luarun_pool_new(ptr::null(), 2, &mut pool), LUARUN_OK);
        let code = "function f(i) local t = {} for j = 1, 100 do t[j] = j end \
                    return string.char(65 + i % 26) end";
        assert_eq!(
            luarun_pool_exec(pool, code.as_ptr().cast(), code.len()),
            LUARUN_OK
        );
        let victim = Box::into_raw(Box::new(PoolVictim { pool, calls: 0 }));
        let mut out = vec![0u8; 2000];
        let status = luarun_pool_run(
            pool,
            c"f".as_ptr(),
            0,
            2000,
            out.as_mut_ptr().cast(),
            out.len(),
            1,
            Some(free_pool),
            victim.cast(),
        );
        assert_eq!(status, LUARUN_OK);
        let victim = Box::from_raw(victim);
        assert!(victim.calls > 1, "progress ran after the free too");
        let expected: Vec<u8> = (0..2000).map(|i| 65 + (i % 26) as u8).collect();
        assert_eq!(out, expected);
    }
}
