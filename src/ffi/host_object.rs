//! `luarun_host_object_*`: Lua userdata whose operations go to C callbacks, so a binding
//! can hand its own objects (a Python dict, a C++ instance) to Lua.

use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

use super::function::{invoke_callback, luarun_callback, luarun_user_data_free};
use super::state::{arg_state, luarun_state};
use super::user_data::OwnedUserData;
use super::value::{arg_handle, luarun_value, to_c, LUARUN_USERDATA};
use super::{
    boundary, boundary_or, check_out, luarun_status, read_sized_struct, sized_struct_fields, Field,
    SizedStruct,
};
use luarun_core::error::{Error, Result};
use luarun_core::host_object::{
    create_host_object, host_object_handler, HostObjectHandler, HostOperation,
};
use luarun_core::state::{HostFailure, State};

/// What a host object does when Lua uses it. Fill with `luarun_host_object_class_default`,
/// then set the callbacks you support; the struct is copied when an object is created.
///
/// Every callback has the `luarun_callback` shape and gets the object's `user_data`; the
/// object itself is not among `args`. Results go through `luarun_callback_return_value`,
/// failures through `luarun_callback_set_error` plus a non-OK status, exactly as for host
/// functions (Lua sees an ordinary error it can `pcall`). A NULL callback makes that
/// operation a Lua error ("this host object cannot be indexed"), except `tostring`,
/// which then gives `host object: 0x...`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct luarun_host_object_class {
    /// `sizeof(luarun_host_object_class)`, set by `luarun_host_object_class_default`.
    pub struct_size: u32,
    /// `obj[key]` and `obj.key`: `args` = {key}; return one value.
    pub index: luarun_callback,
    /// `obj[key] = value`: `args` = {key, value}; return nothing.
    pub newindex: luarun_callback,
    /// `obj(...)`: `args` = the call's arguments; return any number of values.
    /// (`obj:method(...)` is an index followed by a call of what the index returned.)
    pub call: luarun_callback,
    /// `tostring(obj)`: no arguments; return one string.
    pub tostring: luarun_callback,
    /// `#obj`: no arguments; return one integer.
    pub length: luarun_callback,
    /// `pairs(obj)`: no arguments; return one function (for example made with
    /// `luarun_function_new`) that Lua calls repeatedly and that returns the next key and
    /// value, or nothing when done.
    pub pairs: luarun_callback,
    /// String keys starting with this NUL-terminated prefix are refused on index and
    /// assignment before any callback runs, so sandboxed scripts cannot reach private
    /// members (for Python: `__class__`, `__globals__`). Default `"_"`; NULL or `""`
    /// refuses nothing. Copied at creation.
    pub refused_prefix: *const c_char,
}

impl SizedStruct for luarun_host_object_class {
    const NAME: &'static str = "luarun_host_object_class";
    fn fields() -> Vec<Field> {
        sized_struct_fields!(luarun_host_object_class {
            struct_size,
            index,
            newindex,
            call,
            tostring,
            length,
            pairs,
            refused_prefix,
        })
    }
}

impl luarun_host_object_class {
    fn defaults() -> Self {
        luarun_host_object_class {
            struct_size: std::mem::size_of::<Self>() as u32,
            index: None,
            newindex: None,
            call: None,
            tostring: None,
            length: None,
            pairs: None,
            refused_prefix: c"_".as_ptr(),
        }
    }
}

/// A host object's callbacks and user data, as the core sees them.
struct CHostObject {
    class: luarun_host_object_class,
    refused_prefix: Option<Vec<u8>>,
    /// Freed with the object (see [`OwnedUserData`]).
    user_data: OwnedUserData,
}

// SAFETY: the embedder promises the class's callbacks may be used on any thread that
// calls into the state (as for host functions; the user data says so for itself); the
// class's `refused_prefix` pointer is never read after creation (`refused_prefix` is
// our own copy).
unsafe impl Send for CHostObject {}
// SAFETY: shared references only read the class and call its callbacks, and luarun
// serializes calls into one state, so no two threads call them at once.
unsafe impl Sync for CHostObject {}

impl CHostObject {
    fn callback(&self, operation: HostOperation) -> luarun_callback {
        match operation {
            HostOperation::Index => self.class.index,
            HostOperation::NewIndex => self.class.newindex,
            HostOperation::Call => self.class.call,
            HostOperation::ToString => self.class.tostring,
            HostOperation::Length => self.class.length,
            HostOperation::Pairs => self.class.pairs,
        }
    }
}

impl HostObjectHandler for CHostObject {
    fn supports(&self, operation: HostOperation) -> bool {
        self.callback(operation).is_some()
    }

    fn handle(
        &self,
        state: &Arc<State>,
        operation: HostOperation,
        args: mlua::MultiValue,
    ) -> std::result::Result<mlua::MultiValue, HostFailure> {
        let Some(callback) = self.callback(operation) else {
            return Err(format!("this host object cannot be {}", operation.describe()).into());
        };
        // SAFETY: the embedder gave this callback for this user data in
        // `luarun_host_object_new`, promising it may run on any thread calling the state.
        unsafe { invoke_callback(callback, self.user_data.get(), state, args) }
    }

    fn refused_prefix(&self) -> Option<&[u8]> {
        self.refused_prefix.as_deref()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Fills `*class_out` with the defaults: no callbacks, `refused_prefix` `"_"`,
/// `struct_size` set. Does nothing when `class_out` is NULL.
///
/// # Safety
/// `class_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_host_object_class_default(
    class_out: *mut luarun_host_object_class,
) {
    boundary_or((), || {
        if !class_out.is_null() {
            // SAFETY: not NULL, so writable: the caller's guarantee (`# Safety`).
            unsafe { class_out.write(luarun_host_object_class::defaults()) };
        }
    })
}

/// Creates a host object (a Lua userdata) whose operations call the callbacks of
/// `object_class` with `user_data`. `user_data_free(user_data)` runs once Lua no longer references the
/// object (collected, or its state closed); if creation fails it is called at once.
/// Free `*object_out` with `luarun_value_free`.
///
/// # Safety
/// `state` valid; `object_class` valid with its `struct_size` set; `object_out` writable;
/// callbacks and `user_data_free` as for `luarun_function_new`.
#[no_mangle]
pub unsafe extern "C" fn luarun_host_object_new(
    state: *mut luarun_state,
    object_class: *const luarun_host_object_class,
    user_data: *mut c_void,
    user_data_free: luarun_user_data_free,
    object_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // The object owns the user data from the first line: its Drop frees it on every
        // failure below, as it does once Lua lets go of a created object.
        let mut object = CHostObject {
            class: luarun_host_object_class::defaults(),
            refused_prefix: None,
            user_data: OwnedUserData::adopt(user_data, user_data_free),
        };
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        check_out(object_out, "object_out")?;
        let defaults = luarun_host_object_class::defaults();
        // SAFETY: the caller guarantees `object_class` is NULL or a valid class with its
        // `struct_size` set.
        object.class = unsafe { read_sized_struct(object_class, defaults)? };
        object.refused_prefix = (!object.class.refused_prefix.is_null())
            // SAFETY: a valid class has a NULL (excluded here) or NUL-terminated prefix.
            .then(|| unsafe { CStr::from_ptr(object.class.refused_prefix) })
            .map(|prefix| prefix.to_bytes().to_vec())
            .filter(|prefix| !prefix.is_empty());
        let userdata = create_host_object(state, Arc::new(object))?;
        let object = to_c(state, mlua::Value::UserData(userdata));
        // SAFETY: `object_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { object_out.write(object) };
        Ok(())
    })
}

/// If `value` is a host object created by `luarun_host_object_new`, writes its
/// `user_data` to `*user_data_out`; otherwise fails with `LUARUN_ERR_TYPE` (bindings use
/// this to turn their own objects coming back from Lua into the original objects).
///
/// # Safety
/// `value` valid; `user_data_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_host_object_user_data(
    value: *const luarun_value,
    user_data_out: *mut *mut c_void,
) -> luarun_status {
    boundary(|| {
        check_out(user_data_out, "user_data_out")?;
        // SAFETY: the caller guarantees `value` is NULL or a valid value.
        let handle = unsafe { arg_handle(value, "value", LUARUN_USERDATA)? };
        let handler = host_object_handler(&handle.value)
            .ok_or_else(|| Error::type_error("value is a userdata but not a host object"))?;
        let user_data = c_host_object(&handler)?.user_data.get();
        // SAFETY: `user_data_out` is not NULL (checked), so writable: the caller's
        // guarantee.
        unsafe { user_data_out.write(user_data) };
        Ok(())
    })
}

/// The C object behind a handler; `None` for handlers made by Rust code.
fn c_host_object(handler: &Arc<dyn HostObjectHandler>) -> Result<&CHostObject> {
    handler
        .as_any()
        .downcast_ref::<CHostObject>()
        .ok_or_else(|| Error::type_error("value is a host object not created through the C API"))
}
