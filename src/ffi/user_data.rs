//! The caller's `user_data` pointers: [`UserData`] for the ones luarun only passes back,
//! [`OwnedUserData`] for the ones it owns with their `luarun_user_data_free`. The one
//! place their thread-safety promise is written down.

use std::ffi::c_void;

use super::function::luarun_user_data_free;

/// A `user_data` pointer passed back to the caller's callbacks unchanged. The header
/// documents, for every callback, that the callback and its data must be usable from
/// any thread that calls into the state (or, for renders, from worker threads, one call
/// at a time).
#[derive(Clone, Copy, Debug)]
pub(crate) struct UserData(*mut c_void);

// SAFETY: luarun never reads or writes through the pointer: it only hands it back to the
// caller's callbacks, on threads the caller promised are fine for it (see the type).
unsafe impl Send for UserData {}
// SAFETY: as for Send; shared references only copy the pointer out.
unsafe impl Sync for UserData {}

impl UserData {
    /// Wraps the caller's pointer (NULL is fine: it is the caller's to interpret).
    pub(crate) fn new(pointer: *mut c_void) -> Self {
        UserData(pointer)
    }

    /// The pointer, to pass to a callback.
    pub(crate) fn get(self) -> *mut c_void {
        self.0
    }
}

/// A `user_data` luarun owns: `free(user_data)` runs exactly once, when this is dropped
/// (on success when Lua lets go of what holds it, on failure at once).
#[derive(Debug)]
pub(crate) struct OwnedUserData {
    data: UserData,
    free: luarun_user_data_free,
}

impl OwnedUserData {
    /// Takes ownership of `data` at once: from here on every path ends in exactly one
    /// `free(data)` (none when `free` is NULL).
    pub(crate) fn adopt(data: *mut c_void, free: luarun_user_data_free) -> Self {
        OwnedUserData {
            data: UserData::new(data),
            free,
        }
    }

    /// The pointer, to pass to a callback.
    pub(crate) fn get(&self) -> *mut c_void {
        self.data.get()
    }
}

impl Drop for OwnedUserData {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            // SAFETY: the caller gave us this function for exactly this user data, to be
            // called once when luarun no longer needs it, which is now.
            unsafe { free(self.data.get()) }
        }
    }
}
