//! `luarun_state_*`: creating, running and stopping Lua states.

use std::ffi::c_char;
use std::sync::Arc;

use super::value::{from_c, luarun_value, to_c};
use super::{
    arg_bytes, arg_name, arg_ref, boundary, boundary_or, check_out, luarun_status,
    read_sized_struct, sized_struct_fields, Field, SizedStruct,
};
use luarun_core::error::{Error, Result};
use luarun_core::state::{call_limits, Libraries, Options, State};

/// A Lua state. Create with `luarun_state_new`, release with `luarun_state_free`.
pub struct luarun_state {
    pub(crate) inner: Arc<State>,
}

/// Bit for `luarun_options.libraries`: `coroutine`.
pub const LUARUN_LIB_COROUTINE: u32 = 1;
/// Bit for `luarun_options.libraries`: `table`.
pub const LUARUN_LIB_TABLE: u32 = 1 << 1;
/// Bit for `luarun_options.libraries`: `string` (`string.dump` only with `allow_bytecode`).
pub const LUARUN_LIB_STRING: u32 = 1 << 2;
/// Bit for `luarun_options.libraries`: `math`.
pub const LUARUN_LIB_MATH: u32 = 1 << 3;
/// Bit for `luarun_options.libraries`: `utf8`.
pub const LUARUN_LIB_UTF8: u32 = 1 << 4;
/// Bit for `luarun_options.libraries`: `os` (can run programs, delete files, exit).
pub const LUARUN_LIB_OS: u32 = 1 << 5;
/// Bit for `luarun_options.libraries`: `io` plus `dofile` and `loadfile` (file access).
pub const LUARUN_LIB_IO: u32 = 1 << 6;
/// Bit for `luarun_options.libraries`: `package` and `require` (loads code from disk).
pub const LUARUN_LIB_PACKAGE: u32 = 1 << 7;
/// Bit for `luarun_options.libraries`: `debug` (can break every sandbox guarantee).
pub const LUARUN_LIB_DEBUG: u32 = 1 << 8;
/// The default, safe set: coroutine, table, string, math, utf8 (and base, always).
pub const LUARUN_LIBS_SAFE: u32 =
    LUARUN_LIB_COROUTINE | LUARUN_LIB_TABLE | LUARUN_LIB_STRING | LUARUN_LIB_MATH | LUARUN_LIB_UTF8;
/// Every standard library.
pub const LUARUN_LIBS_ALL: u32 =
    LUARUN_LIBS_SAFE | LUARUN_LIB_OS | LUARUN_LIB_IO | LUARUN_LIB_PACKAGE | LUARUN_LIB_DEBUG;

// The C constants and the core's bits must agree.
const _: () = assert!(LUARUN_LIBS_SAFE == Libraries::SAFE && LUARUN_LIBS_ALL == Libraries::ALL);
const _: () = assert!(LUARUN_LIB_OS == Libraries::OS && LUARUN_LIB_IO == Libraries::IO);
const _: () =
    assert!(LUARUN_LIB_PACKAGE == Libraries::PACKAGE && LUARUN_LIB_DEBUG == Libraries::DEBUG);
const _: () =
    assert!(LUARUN_LIB_COROUTINE == Libraries::COROUTINE && LUARUN_LIB_TABLE == Libraries::TABLE);
const _: () = assert!(LUARUN_LIB_STRING == Libraries::STRING && LUARUN_LIB_MATH == Libraries::MATH);
const _: () = assert!(LUARUN_LIB_UTF8 == Libraries::UTF8);

/// How to create a state. Fill with `luarun_options_default`, then change fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct luarun_options {
    /// `sizeof(luarun_options)`, set by `luarun_options_default`; lets the struct grow.
    pub struct_size: u32,
    /// Standard libraries to open: `LUARUN_LIB_*` bits. Default `LUARUN_LIBS_SAFE`.
    pub libraries: u32,
    /// Most bytes the state may hold, 0 = unlimited (default). Allocations beyond it fail
    /// with `LUARUN_ERR_MEMORY`; the state stays usable.
    pub memory_limit: u64,
    /// VM instructions one top-level call may run, 0 = unlimited (default). Checked every
    /// 10 000 instructions (every `instruction_limit` when that is smaller). Exceeding it
    /// gives `LUARUN_ERR_INTERRUPTED`.
    pub instruction_limit: u64,
    /// Wall time one top-level call may take in milliseconds, 0 = unlimited (default).
    /// Exceeding it gives `LUARUN_ERR_INTERRUPTED`.
    pub time_limit_ms: u64,
    /// Allow loading precompiled chunks and `string.dump` (default false: malicious
    /// bytecode can crash Lua). When false, `luarun_exec`/`luarun_load` and every Lua
    /// loader (`load`, `loadstring`, `loadfile`, `dofile`, `require`) accept text only.
    pub allow_bytecode: bool,
    /// Allow `__gc` metamethods in `setmetatable` (default false: finalizers run where
    /// no limit can stop them). When false, LuaJIT states have no `newproxy` either.
    pub allow_finalizers: bool,
}

impl SizedStruct for luarun_options {
    const NAME: &'static str = "luarun_options";
    fn fields() -> Vec<Field> {
        sized_struct_fields!(luarun_options {
            struct_size,
            libraries,
            memory_limit,
            instruction_limit,
            time_limit_ms,
            allow_bytecode,
            allow_finalizers,
        })
    }
}

impl luarun_options {
    fn defaults() -> Self {
        let core = Options::default();
        luarun_options {
            struct_size: std::mem::size_of::<luarun_options>() as u32,
            libraries: core.libraries.0,
            memory_limit: 0,
            instruction_limit: 0,
            time_limit_ms: 0,
            allow_bytecode: core.allow_bytecode,
            allow_finalizers: core.allow_finalizers,
        }
    }

    fn to_core(self) -> Result<Options> {
        if self.libraries & !Libraries::ALL != 0 {
            return Err(Error::invalid_argument(format!(
                "options.libraries has unknown bits 0x{:x}; use LUARUN_LIB_* constants",
                self.libraries & !Libraries::ALL
            )));
        }
        let memory_limit = memory_limit_from_c(self.memory_limit);
        Ok(Options {
            libraries: Libraries(self.libraries),
            memory_limit,
            call_limits: call_limits(self.instruction_limit, self.time_limit_ms),
            allow_bytecode: self.allow_bytecode,
            allow_finalizers: self.allow_finalizers,
        })
    }
}

/// Reads an options argument: NULL means the defaults.
///
/// # Safety
/// `options` must be NULL or point to a `luarun_options` of at least its `struct_size`.
pub(crate) unsafe fn read_options(options: *const luarun_options) -> Result<Options> {
    if options.is_null() {
        return luarun_options::defaults().to_core();
    }
    // SAFETY: `options` is not NULL, and our caller guarantees it then holds at least its
    // `struct_size` readable bytes.
    unsafe { read_sized_struct(options, luarun_options::defaults()) }?.to_core()
}

/// A C memory limit (bytes, 0 = none) as the core takes it; one beyond the address
/// space is no limit in practice.
pub(crate) fn memory_limit_from_c(bytes: u64) -> Option<usize> {
    match bytes {
        0 => None,
        bytes => Some(usize::try_from(bytes).unwrap_or(usize::MAX)),
    }
}

/// The state behind a `luarun_state *` argument, as a reference of the call's own: a
/// host callback may free the `luarun_state` (or the last value holding the state)
/// while the call runs, which then only drops a reference, and the state closes when
/// the outermost call using it returns.
///
/// # Safety
/// `state` must be NULL or a live pointer from `luarun_state_new`.
pub(crate) unsafe fn arg_state(state: *const luarun_state) -> Result<Arc<State>> {
    // SAFETY: our caller guarantees `state` is NULL or a live `luarun_state`, which lives
    // at least until this call returns, as long as the borrow does.
    let state = unsafe { arg_ref(state, "state") }?;
    Ok(Arc::clone(&state.inner))
}

/// Fills `*options_out` with the defaults: safe libraries, no limits, no bytecode, no
/// finalizers, `struct_size` set. Does nothing when `options_out` is NULL.
///
/// # Safety
/// `options_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_options_default(options_out: *mut luarun_options) {
    boundary_or((), || {
        if !options_out.is_null() {
            // SAFETY: not NULL, so writable: the caller's guarantee (`# Safety`).
            unsafe { options_out.write(luarun_options::defaults()) };
        }
    })
}

/// Creates a Lua state. `options` may be NULL for the defaults. On success
/// `*state_out` receives the state; free it with `luarun_state_free`.
///
/// # Safety
/// `options` must be NULL or valid; `state_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_new(
    options: *const luarun_options,
    state_out: *mut *mut luarun_state,
) -> luarun_status {
    boundary(|| {
        check_out(state_out, "state_out")?;
        // SAFETY: the caller guarantees `options` is NULL or a valid `luarun_options`.
        let options = unsafe { read_options(options)? };
        let inner = State::new(&options)?;
        let state = Box::into_raw(Box::new(luarun_state { inner }));
        // SAFETY: `state_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { state_out.write(state) };
        Ok(())
    })
}

/// Releases the caller's reference to a state. NULL is a no-op. Values (handles) still
/// held keep the underlying Lua state alive until they are freed. May be called from
/// inside one of the state's own host callbacks: the close is then deferred until the
/// outermost call on the state returns (that call finishes normally); the pointer must
/// not be used again. Freeing a state while another thread is inside a call on it is
/// a caller error, as with `free()`.
///
/// # Safety
/// `state` must be NULL or a pointer from `luarun_state_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_free(state: *mut luarun_state) {
    boundary_or((), || {
        if !state.is_null() {
            // SAFETY: the caller guarantees a non-NULL `state` came from
            // `luarun_state_new` (`Box::into_raw`) and is freed only this once.
            drop(unsafe { Box::from_raw(state) });
        }
    })
}

/// Runs `len` bytes of Lua code. Errors: `LUARUN_ERR_SYNTAX`, `LUARUN_ERR_RUNTIME`,
/// `LUARUN_ERR_MEMORY`, `LUARUN_ERR_INTERRUPTED`.
///
/// # Safety
/// `state` must be valid; `code` must point to `len` bytes (may be NULL when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn luarun_exec(
    state: *mut luarun_state,
    code: *const c_char,
    len: usize,
) -> luarun_status {
    // SAFETY: the caller's guarantees for `state` and `code` are those `exec` needs, and
    // a NULL name is allowed.
    boundary(|| unsafe { exec(state, code, len, std::ptr::null()) })
}

/// Like `luarun_exec`, with a chunk name for error messages and tracebacks:
/// `"@file.lua"` shows as `file.lua`, `"=name"` as `name`, anything else as
/// `[string "name"]`. NULL derives the name from the first line of the code.
///
/// # Safety
/// As `luarun_exec`; `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn luarun_exec_named(
    state: *mut luarun_state,
    code: *const c_char,
    len: usize,
    name: *const c_char,
) -> luarun_status {
    // SAFETY: the caller's guarantees (`# Safety`) are exactly those `exec` needs.
    boundary(|| unsafe { exec(state, code, len, name) })
}

/// The body of `luarun_exec` and `luarun_exec_named`.
///
/// # Safety
/// `state` must be NULL or a live state; `code` NULL or `len` readable bytes; `name`
/// NULL or a NUL-terminated string.
unsafe fn exec(
    state: *mut luarun_state,
    code: *const c_char,
    len: usize,
    name: *const c_char,
) -> Result<()> {
    // SAFETY: our caller guarantees `state` is NULL or a live state.
    let state = &unsafe { arg_state(state)? };
    // SAFETY: our caller guarantees `code` is NULL or `len` readable bytes.
    let code = unsafe { arg_bytes(code, len, "code")? };
    // SAFETY: our caller guarantees `name` is NULL or NUL-terminated.
    let name = unsafe { optional_name(name)? };
    state.exec(code, name)
}

/// A chunk name argument: NULL for none.
///
/// # Safety
/// `name` must be NULL or point to a NUL-terminated string that outlives `'a`.
unsafe fn optional_name<'a>(name: *const c_char) -> Result<Option<&'a str>> {
    if name.is_null() {
        Ok(None)
    } else {
        // SAFETY: not NULL, so NUL-terminated and alive for `'a`: our caller's guarantee.
        unsafe { arg_name(name, "name") }.map(Some)
    }
}

/// Evaluates a Lua expression (`"1 + 2"`, `"t.x"`, `"f(3)"`) and writes its first value
/// to `*result_out` (nil when it has none). Free the result with `luarun_value_free`.
///
/// # Safety
/// `state` must be valid; `expr` must point to `len` bytes; `result_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_eval(
    state: *mut luarun_state,
    expr: *const c_char,
    len: usize,
    result_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        // SAFETY: the caller guarantees `expr` points to `len` bytes (NULL only with 0).
        let expr = unsafe { arg_bytes(expr, len, "expr")? };
        check_out(result_out, "result_out")?;
        let value = state.eval(expr, None)?;
        // SAFETY: `result_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { result_out.write(to_c(state, value)) };
        Ok(())
    })
}

/// Compiles Lua code into a function without running it (`*function_out`, free with
/// `luarun_value_free`). `name` as in `luarun_exec_named`, NULL allowed.
///
/// # Safety
/// As `luarun_exec_named`; `function_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_load(
    state: *mut luarun_state,
    code: *const c_char,
    len: usize,
    name: *const c_char,
    function_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        // SAFETY: the caller guarantees `code` points to `len` bytes (NULL only with 0).
        let code = unsafe { arg_bytes(code, len, "code")? };
        // SAFETY: the caller guarantees `name` is NULL or NUL-terminated.
        let name = unsafe { optional_name(name)? };
        check_out(function_out, "function_out")?;
        let function = state.load(code, name)?;
        let function = to_c(state, mlua::Value::Function(function));
        // SAFETY: `function_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { function_out.write(function) };
        Ok(())
    })
}

/// Asks the call running on `state` to stop; it returns `LUARUN_ERR_INTERRUPTED` within
/// a fraction of a millisecond, and Lua cannot catch it (loops inside coroutines and
/// `pcall` stop too). If no call is running, the next call on the state fails with
/// `LUARUN_ERR_INTERRUPTED` at once, so an interrupt sent just before a call starts is
/// not lost. Any thread, any time; never blocks for long.
///
/// LuaJIT flavor: a state created without limits runs with the JIT compiler on, whose
/// compiled loops cannot be interrupted; there this returns `LUARUN_ERR_UNSUPPORTED` and
/// does nothing. Give the state a time or instruction limit to make it interruptible.
///
/// # Safety
/// `state` must be a live state.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_interrupt(state: *mut luarun_state) -> luarun_status {
    // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
    boundary(|| unsafe { arg_state(state) }?.interrupt())
}

/// Writes the number of bytes the state's Lua heap holds to `*bytes_out`.
///
/// # Safety
/// `state` must be valid; `bytes_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_memory_used(
    state: *mut luarun_state,
    bytes_out: *mut usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        check_out(bytes_out, "bytes_out")?;
        // SAFETY: `bytes_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { bytes_out.write(state.used_memory()) };
        Ok(())
    })
}

/// Reads the global `name` into `*value_out` (free it with `luarun_value_free`).
///
/// # Safety
/// `state` valid; `name` NUL-terminated; `value_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_get_global(
    state: *mut luarun_state,
    name: *const c_char,
    value_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        // SAFETY: the caller guarantees `name` is NULL or NUL-terminated.
        let name = unsafe { arg_name(name, "name")? };
        check_out(value_out, "value_out")?;
        let value = state.run(|lua| lua.globals().get::<mlua::Value>(name))?;
        // SAFETY: `value_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { value_out.write(to_c(state, value)) };
        Ok(())
    })
}

/// Sets the global `name` to `*value` (copied into Lua; the caller keeps `value`).
///
/// # Safety
/// `state` valid; `name` NUL-terminated; `value` valid.
#[no_mangle]
pub unsafe extern "C" fn luarun_set_global(
    state: *mut luarun_state,
    name: *const c_char,
    value: *const luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        // SAFETY: the caller guarantees `name` is NULL or NUL-terminated.
        let name = unsafe { arg_name(name, "name")? };
        // SAFETY: the caller guarantees `value` is NULL or a valid value, whose string or
        // handle is then valid too.
        let value = unsafe { from_c(state, arg_ref(value, "value")?)? };
        state.run(|lua| lua.globals().set(name, value))
    })
}

/// Writes the table of globals (`_G`) to `*table_out` (free it with `luarun_value_free`).
///
/// # Safety
/// `state` valid; `table_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_globals(
    state: *mut luarun_state,
    table_out: *mut luarun_value,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or a live state (`# Safety`).
        let state = &unsafe { arg_state(state)? };
        check_out(table_out, "table_out")?;
        let globals = state.run(|lua| Ok(lua.globals()))?;
        // SAFETY: `table_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { table_out.write(to_c(state, mlua::Value::Table(globals))) };
        Ok(())
    })
}
