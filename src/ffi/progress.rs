//! A C progress callback (`luarun_progress_callback` + its user data) as the core's
//! progress closure: the one place the callback is called.

use std::ffi::c_void;

use super::mandelbrot::luarun_progress_callback;
use super::user_data::UserData;

/// The caller's callback and data, shared by the worker threads that report.
pub(crate) struct CProgress {
    function: unsafe extern "C" fn(*mut c_void, u32, u32) -> std::ffi::c_int,
    user_data: UserData,
}

impl CProgress {
    /// `None` when the caller gave no callback.
    pub(crate) fn new(callback: luarun_progress_callback, user_data: *mut c_void) -> Option<Self> {
        callback.map(|function| CProgress {
            function,
            user_data: UserData::new(user_data),
        })
    }

    /// Calls the callback; true when it asked to cancel (returned non-zero).
    pub(crate) fn report(&self, done: u32, total: u32) -> bool {
        // SAFETY: the caller gave a valid function pointer and data for it, and the core
        // calls this one report at a time.
        unsafe { (self.function)(self.user_data.get(), done, total) != 0 }
    }
}
