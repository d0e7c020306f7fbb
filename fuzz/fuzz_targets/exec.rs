//! Arbitrary bytes as Lua code, run and evaluated under tight limits through the C API:
//! any outcome but a crash, a hang or a leak is fine.
#![no_main]

use std::ptr;

use libfuzzer_sys::fuzz_target;
use luarun::ffi::state::{
    luarun_eval, luarun_exec, luarun_options, luarun_options_default, luarun_state_free,
    luarun_state_new,
};
use luarun::ffi::value::{luarun_value, luarun_value_free};

fuzz_target!(|code: &[u8]| unsafe {
    let mut options: luarun_options = std::mem::zeroed();
    luarun_options_default(&mut options);
    options.memory_limit = 16 << 20;
    options.instruction_limit = 200_000;
    options.time_limit_ms = 200;
    let mut state = ptr::null_mut();
    assert_eq!(luarun_state_new(&options, &mut state) as i32, 0);
    luarun_exec(state, code.as_ptr().cast(), code.len());
    let mut value = luarun_value::NIL;
    if luarun_eval(state, code.as_ptr().cast(), code.len(), &mut value) as i32 == 0 {
        luarun_value_free(&mut value);
    }
    // The state must still work after whatever the input did.
    assert_eq!(luarun_exec(state, c"x = 1".as_ptr(), 5) as i32, 0);
    luarun_state_free(state);
});
