//! A Lua state through the C API, for the Rust tests of the C entry points: created with
//! the defaults, freed on drop, and the thread's last error as text.
#![allow(dead_code)]

use std::ffi::CStr;
use std::ptr;

use luarun::ffi::luarun_status::{self, *};
use luarun::ffi::state::{
    luarun_eval, luarun_exec, luarun_state, luarun_state_free, luarun_state_new,
};
use luarun::ffi::value::luarun_value;

/// A state made by `luarun_state_new` with default options.
pub struct Lua(pub *mut luarun_state);

impl Lua {
    pub fn new() -> Lua {
        let mut state = ptr::null_mut();
        // SAFETY: NULL options are the defaults; the out pointer is valid.
        let status = unsafe { luarun_state_new(ptr::null(), &mut state) };
        assert_eq!(status, LUARUN_OK);
        Lua(state)
    }

    /// `luarun_eval`, which must succeed.
    pub fn eval(&self, code: &str) -> luarun_value {
        let mut out = luarun_value::NIL;
        // SAFETY: a live state and a valid code buffer.
        let status = unsafe { luarun_eval(self.0, code.as_ptr().cast(), code.len(), &mut out) };
        assert_eq!(status, LUARUN_OK, "{}", last_error());
        out
    }

    /// `luarun_exec`'s status.
    pub fn exec(&self, code: &str) -> luarun_status {
        // SAFETY: a live state and a valid code buffer.
        unsafe { luarun_exec(self.0, code.as_ptr().cast(), code.len()) }
    }
}

impl Drop for Lua {
    fn drop(&mut self) {
        // SAFETY: created by luarun_state_new, freed once.
        unsafe { luarun_state_free(self.0) }
    }
}

/// This thread's `luarun_last_error` as text.
pub fn last_error() -> String {
    // SAFETY: luarun_last_error never returns NULL.
    unsafe { CStr::from_ptr(luarun::ffi::luarun_last_error()) }
        .to_string_lossy()
        .into_owned()
}
