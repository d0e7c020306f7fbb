//! Calling Lua functions from C, and host callbacks that Lua can call.

use std::ffi::{c_char, c_int, c_void};
use std::sync::{Arc, Weak};

use super::state::{arg_state, luarun_state};
use super::user_data::OwnedUserData;
use super::value::{arg_handle, from_c, luarun_value, luarun_value_free, to_c, LUARUN_FUNCTION};
use super::{arg_bytes, arg_name, arg_ref, boundary, check_out, luarun_status, status_cname};
use luarun_core::error::{Error, Result};
use luarun_core::state::{HostFailure, State};

/// A host function Lua can call.
///
/// `args` holds `nargs` arguments, owned by luarun and valid only during the call
/// (use `luarun_value_copy` to keep one). Push results with
/// `luarun_callback_return_value`, then return `LUARUN_OK`. To fail, optionally set a
/// message with `luarun_callback_set_error` and return any other status: Lua sees an
/// ordinary error (catchable with `pcall`) carrying that message.
///
/// The callback runs on whichever thread is calling into the state and may call luarun
/// functions on the same state. It must not let a C++ exception or a longjmp escape.
pub type luarun_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        args: *const luarun_value,
        nargs: usize,
        context: *mut luarun_callback_context,
    ) -> c_int,
>;

/// Called once with the callback's `user_data` when Lua no longer references the host
/// function (garbage collected, or its state closed). May be NULL.
pub type luarun_user_data_free = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Where a running host callback puts its results and its error (a message, or a value
/// to raise as it is).
pub struct luarun_callback_context {
    state: Arc<State>,
    results: Vec<mlua::Value>,
    error: Option<HostFailure>,
}

/// A C callback with its user data (freed with it). The embedder promises the callback
/// may be called from any thread that calls into the state (see [`OwnedUserData`]).
struct HostCallback {
    callback: unsafe extern "C" fn(
        *mut c_void,
        *const luarun_value,
        usize,
        *mut luarun_callback_context,
    ) -> c_int,
    user_data: OwnedUserData,
    /// The global name it was registered under, for error messages.
    name: Option<String>,
}

impl HostCallback {
    /// Calls the C function with converted arguments and collects its results.
    fn invoke(
        &self,
        state: &Arc<State>,
        args: mlua::MultiValue,
    ) -> std::result::Result<mlua::MultiValue, HostFailure> {
        // Lua can pass up to a million arguments: allocated fallibly (Rust's own
        // allocation would abort the process when the system refuses).
        let arg_count = args.len();
        let mut c_args: Vec<luarun_value> = luarun_core::fallible::collect(
            args.into_iter().map(|a| to_c(state, a)),
            arg_count,
            "a host callback's arguments",
        )
        .map_err(|e| e.message)?;
        let mut context = luarun_callback_context {
            state: Arc::clone(state),
            results: Vec::new(),
            error: None,
        };
        // Cleared so that a failure of a luarun call made inside the callback can be told
        // apart from a stale message; it becomes the default error text below.
        super::set_last_error("");
        // SAFETY: the embedder promised `callback` may be called with `user_data` on any
        // thread calling into the state (`luarun_callback`); `c_args` holds
        // `c_args.len()` values and `context` is ours, both alive until after the call.
        let status = unsafe {
            (self.callback)(
                self.user_data.get(),
                c_args.as_ptr(),
                c_args.len(),
                &mut context,
            )
        };
        for arg in &mut c_args {
            // SAFETY: each arg came from `to_c` and owns its handle; the callback only
            // borrowed it (it copies what it keeps), and each is freed once.
            unsafe { luarun_value_free(arg) };
        }
        if status == luarun_status::LUARUN_OK as c_int {
            return Ok(mlua::MultiValue::from_vec(context.results));
        }
        Err(context
            .error
            .unwrap_or_else(|| HostFailure::Message(default_failure_message(status))))
    }
}

/// The message of a callback that failed without setting one: its status, and the
/// message of the luarun call inside it that failed, if any.
fn default_failure_message(status: c_int) -> String {
    let name = status_cname(status).to_string_lossy();
    let inner = super::last_error_message();
    if inner.is_empty() {
        format!("host function failed with {name}")
    } else {
        format!("host function failed with {name}: {inner}")
    }
}

impl HostCallback {
    /// Takes ownership of `user_data` at once: from here on every path, success or
    /// failure, ends with `user_data_free(user_data)` exactly once (on failure when the
    /// value is dropped). A NULL callback is an error.
    fn adopt(
        callback: luarun_callback,
        user_data: *mut c_void,
        free: luarun_user_data_free,
    ) -> Result<Self> {
        // Owned from here: dropped (and freed) at once when the callback is NULL.
        let user_data = OwnedUserData::adopt(user_data, free);
        match callback {
            Some(callback) => Ok(HostCallback {
                callback,
                user_data,
                name: None,
            }),
            None => Err(Error::invalid_argument("callback must not be NULL")),
        }
    }
}

fn new_host_function(state: &Arc<State>, host: HostCallback) -> Result<mlua::Function> {
    // Weak: the function lives inside the state, a strong reference would keep the state
    // alive forever.
    let weak: Weak<State> = Arc::downgrade(state);
    state.create_host_function(move |_, args| {
        let state = weak
            .upgrade()
            .ok_or_else(|| "the luarun state is closing".to_string())?;
        host.invoke(&state, args)
    })
}

/// Creates a Lua function that calls `callback` (see `luarun_callback`). Free
/// `*function_out` with `luarun_value_free`; `user_data_free(user_data)` runs once Lua
/// no longer references the function. If this fails, `user_data_free` is called at once.
///
/// # Safety
/// `state` valid; `function_out` writable; `callback` and `user_data_free` as documented.
#[no_mangle]
pub unsafe extern "C" fn luarun_function_new(
    state: *mut luarun_state,
    callback: luarun_callback,
    user_data: *mut c_void,
    user_data_free: luarun_user_data_free,
    function_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        let host = HostCallback::adopt(callback, user_data, user_data_free)?;
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        check_out(function_out, "function_out")?;
        let function = new_host_function(state, host)?;
        let function = to_c(state, mlua::Value::Function(function));
        // SAFETY: `function_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { function_out.write(function) };
        Ok(())
    })
}

/// Makes `callback` callable from Lua as the global function `name`. `user_data` is
/// passed to every call; `user_data_free(user_data)` runs once the function is collected
/// (for example when the global is replaced and the state is collected or closed). If
/// registration fails, `user_data_free` is called at once.
///
/// # Safety
/// `state` valid; `name` NUL-terminated; `callback` and `user_data_free` as documented.
#[no_mangle]
pub unsafe extern "C" fn luarun_register_function(
    state: *mut luarun_state,
    name: *const c_char,
    callback: luarun_callback,
    user_data: *mut c_void,
    user_data_free: luarun_user_data_free,
) -> luarun_status {
    boundary(|| {
        let mut host = HostCallback::adopt(callback, user_data, user_data_free)?;
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        // SAFETY: the caller guarantees `name` is NULL or NUL-terminated.
        let name = unsafe { arg_name(name, "name")? };
        host.name = Some(name.to_owned());
        let function = new_host_function(state, host)?;
        state.run(|lua| lua.globals().set(name, function))
    })
}

/// The running callback's context, checked.
///
/// # Safety
/// `context` must be NULL or the one passed to the running callback, and `'a` must end
/// before the callback returns.
unsafe fn arg_context<'a>(
    context: *mut luarun_callback_context,
) -> Result<&'a mut luarun_callback_context> {
    // SAFETY: our caller guarantees `context` is NULL or the running callback's context,
    // which `invoke` keeps alive (and does not touch) until the callback returns.
    unsafe { context.as_mut() }.ok_or_else(|| Error::invalid_argument("context must not be NULL"))
}

/// Adds one result to the host callback's return values (copied into Lua).
///
/// # Safety
/// `context` must be the one passed to the running callback; `value` valid.
#[no_mangle]
pub unsafe extern "C" fn luarun_callback_return_value(
    context: *mut luarun_callback_context,
    value: *const luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `context` is the running callback's (or NULL).
        let context = unsafe { arg_context(context)? };
        // SAFETY: the caller guarantees `value` is NULL or a valid value.
        let value = unsafe { from_c(&context.state, arg_ref(value, "value")?)? };
        luarun_core::fallible::reserve(&mut context.results, 1, "a host callback's results")?;
        context.results.push(value);
        Ok(())
    })
}

/// Sets the error message Lua sees when the callback returns a status other than
/// `LUARUN_OK` (`len` bytes, copied).
///
/// # Safety
/// `context` must be the one passed to the running callback; `message` `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn luarun_callback_set_error(
    context: *mut luarun_callback_context,
    message: *const c_char,
    len: usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `context` is the running callback's (or NULL).
        let context = unsafe { arg_context(context)? };
        // SAFETY: the caller guarantees `message` points to `len` bytes (NULL only with 0).
        let message = unsafe { arg_bytes(message, len, "message")? };
        context.error = Some(HostFailure::Message(
            String::from_utf8_lossy(message).into_owned(),
        ));
        Ok(())
    })
}

/// Makes the callback's failure raise `value` itself (any Lua value of the state, for
/// example a host object standing for the host language's exception) instead of a
/// message, when the callback returns a status other than `LUARUN_OK`. Lua's `pcall`
/// receives the value unchanged; if nothing catches it, the call from the host fails
/// with `LUARUN_ERR_RUNTIME`, and `luarun_frame_pcall` hands the value back. The value
/// is copied (the caller keeps its own); it replaces any message set before.
///
/// # Safety
/// `context` must be the one passed to the running callback; `value` a valid value.
#[no_mangle]
pub unsafe extern "C" fn luarun_callback_set_error_value(
    context: *mut luarun_callback_context,
    value: *const luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `context` is the running callback's (or NULL).
        let context = unsafe { arg_context(context)? };
        // SAFETY: the caller guarantees `value` is NULL or a valid value.
        let value = unsafe { from_c(&context.state, arg_ref(value, "value")?)? };
        context.error = Some(HostFailure::Value(value));
        Ok(())
    })
}

/// Converts C arguments, calls `function` and writes up to `results_cap` results.
///
/// # Safety
/// `args` must be NULL or point to `nargs` valid values; `results_out` NULL or
/// `results_cap` writable values; `nresults_out` NULL or writable.
unsafe fn call_and_collect(
    state: &Arc<State>,
    function: &mlua::Function,
    args: *const luarun_value,
    nargs: usize,
    results_out: *mut luarun_value,
    results_cap: usize,
    nresults_out: *mut usize,
) -> Result<()> {
    if args.is_null() && nargs != 0 {
        return Err(Error::invalid_argument(format!(
            "args is NULL but nargs is {nargs}"
        )));
    }
    if results_out.is_null() && results_cap != 0 {
        return Err(Error::invalid_argument(format!(
            "results_out is NULL but results_cap is {results_cap}"
        )));
    }
    let args = if nargs == 0 {
        &[][..]
    } else {
        // SAFETY: `args` is not NULL (checked above), and our caller guarantees it then
        // points to `nargs` valid values that outlive this call.
        unsafe { std::slice::from_raw_parts(args, nargs) }
    };
    let mut lua_args = luarun_core::fallible::vec_with_capacity(nargs, "the call's arguments")?;
    for arg in args {
        // SAFETY: each of the caller's `nargs` values is valid, its string or handle too.
        lua_args.push(unsafe { from_c(state, arg)? });
    }
    let results = state.call(function, mlua::MultiValue::from_vec(lua_args))?;
    let count = results.len();
    for (i, value) in results.into_iter().take(results_cap).enumerate() {
        // SAFETY: `i < results_cap`, so `results_out` is not NULL (checked above) and our
        // caller guarantees `results_out[i]` is writable.
        unsafe { results_out.add(i).write(to_c(state, value)) };
    }
    if !nresults_out.is_null() {
        // SAFETY: not NULL, so writable: our caller's guarantee.
        unsafe { nresults_out.write(count) };
    }
    Ok(())
}

/// Calls a function value with `nargs` arguments. Up to `results_cap` results are written
/// to `results_out[0..]` (each to free with `luarun_value_free`); the rest are dropped.
/// `*nresults_out` (may be NULL) receives how many results the function returned, which
/// can exceed `results_cap`. `args` may be NULL when `nargs` is 0, `results_out` when
/// `results_cap` is 0.
///
/// # Safety
/// `function` a valid value; `args` `nargs` values; `results_out` `results_cap` writable
/// values; `nresults_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_call(
    function: *const luarun_value,
    args: *const luarun_value,
    nargs: usize,
    results_out: *mut luarun_value,
    results_cap: usize,
    nresults_out: *mut usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `function` is NULL or a valid value.
        let handle = unsafe { arg_handle(function, "function", LUARUN_FUNCTION)? };
        let mlua::Value::Function(f) = &handle.value else {
            return Err(Error::type_error("function handle holds no function"));
        };
        // SAFETY: the caller guarantees `args`, `results_out` and `nresults_out` as
        // `call_and_collect` needs them (`# Safety`).
        unsafe {
            call_and_collect(
                &handle.state,
                f,
                args,
                nargs,
                results_out,
                results_cap,
                nresults_out,
            )
        }
    })
}

/// Calls the global function `name`, like `luarun_call`. A missing global or one that
/// is not a function is `LUARUN_ERR_TYPE`.
///
/// # Safety
/// As `luarun_call`; `state` valid; `name` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn luarun_call_global(
    state: *mut luarun_state,
    name: *const c_char,
    args: *const luarun_value,
    nargs: usize,
    results_out: *mut luarun_value,
    results_cap: usize,
    nresults_out: *mut usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        // SAFETY: the caller guarantees `name` is NULL or NUL-terminated.
        let name = unsafe { arg_name(name, "name")? };
        let value: mlua::Value = state.run(|lua| lua.globals().get(name))?;
        let mlua::Value::Function(f) = value else {
            return Err(Error::type_error(format!(
                "global '{name}' is a {}, not a function",
                value.type_name()
            )));
        };
        // SAFETY: the caller guarantees `args`, `results_out` and `nresults_out` as
        // `call_and_collect` needs them (`# Safety`: as `luarun_call`).
        unsafe {
            call_and_collect(
                state,
                &f,
                args,
                nargs,
                results_out,
                results_cap,
                nresults_out,
            )
        }
    })
}

/// Calls a C callback with Lua arguments the way host functions are called (argument
/// conversion, results, error message), for other callers such as host objects.
///
/// # Safety
/// `callback` must be callable with `user_data` as `luarun_callback` documents, on this
/// thread, now.
pub(crate) unsafe fn invoke_callback(
    callback: unsafe extern "C" fn(
        *mut c_void,
        *const luarun_value,
        usize,
        *mut luarun_callback_context,
    ) -> c_int,
    user_data: *mut c_void,
    state: &Arc<State>,
    args: mlua::MultiValue,
) -> std::result::Result<mlua::MultiValue, HostFailure> {
    let borrowed = HostCallback {
        callback,
        user_data: OwnedUserData::adopt(user_data, None),
        name: None,
    };
    borrowed.invoke(state, args)
}
