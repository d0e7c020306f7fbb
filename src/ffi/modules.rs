//! `luarun_state_preload` and the module paths: Lua modules for `require`.

use std::ffi::c_char;

use super::state::{arg_state, luarun_state};
use super::{arg_bytes, arg_name, boundary, luarun_status};

/// Registers `len` bytes of Lua source as the module `name`: `require(name)` compiles it
/// as text (never bytecode) under the running call's limits, runs it with the arguments
/// `name, ":preload:"` and caches its result as any `require` does. Allowed in every
/// state, sandboxed ones included: where the package library is not opened, `require`
/// exists once a module is preloaded and sees only preloaded modules. Registering a
/// name again replaces its source for states that have not required it yet.
///
/// # Safety
/// `state` valid; `name` NUL-terminated; `source` points to `len` bytes (NULL if 0).
#[no_mangle]
pub unsafe extern "C" fn luarun_state_preload(
    state: *mut luarun_state,
    name: *const c_char,
    source: *const c_char,
    len: usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or live, `name` NULL or
        // NUL-terminated, and `source` NULL or `len` readable bytes (`# Safety`).
        let (state, name, source) = unsafe {
            (
                arg_state(state)?,
                arg_name(name, "name")?,
                arg_bytes(source, len, "source")?,
            )
        };
        state.preload(name, source)
    })
}

/// Sets `package.path`, the `;`-separated templates (`?` stands for the module name)
/// where `require` looks for Lua modules on disk, e.g.
/// `"/opt/rocks/share/lua/5.4/?.lua;/opt/rocks/share/lua/5.4/?/init.lua"`. Needs a
/// state created with `LUARUN_LIB_PACKAGE` (else `LUARUN_ERR_INVALID_ARGUMENT`). The
/// files load as text unless `allow_bytecode`; they run under the state's limits, but
/// their parsing is not fed in pieces as `luarun_exec`'s is.
///
/// # Safety
/// `state` valid; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_set_module_path(
    state: *mut luarun_state,
    path: *const c_char,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or live and `path` NULL or
        // NUL-terminated (`# Safety`).
        let (state, path) = unsafe { (arg_state(state)?, arg_name(path, "path")?) };
        state.set_module_path(path.as_bytes())
    })
}

/// Sets `package.cpath` and lets `require` load C modules (shared libraries exporting
/// `luaopen_<name>`) from it; off until called. **Outside the sandbox's guarantees:** a
/// C module is native code with the process's full power, which no limit, interrupt or
/// memory accounting reaches beyond the Lua API calls it makes. Needs a state created
/// with `LUARUN_LIB_PACKAGE` (else `LUARUN_ERR_INVALID_ARGUMENT`). Returns
/// `LUARUN_ERR_UNSUPPORTED` when modules could not bind to this library's Lua: another
/// library in the process (the other luarun flavor, a system liblua) already provides
/// the `lua_*` names, or this library does not export them; the message says which.
/// On the first success the library makes itself the process's provider of the Lua C
/// API (it adds itself to the global symbol scope, as `RTLD_GLOBAL` would).
///
/// # Safety
/// `state` valid; `cpath` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn luarun_state_set_c_module_path(
    state: *mut luarun_state,
    cpath: *const c_char,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `state` is NULL or live and `cpath` NULL or
        // NUL-terminated (`# Safety`).
        let (state, cpath) = unsafe { (arg_state(state)?, arg_name(cpath, "cpath")?) };
        state.set_c_module_path(cpath.as_bytes())
    })
}
