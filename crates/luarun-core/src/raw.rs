//! Small helpers over the raw Lua C API that differ between the flavors.

use mlua::ffi;

/// Pushes the globals table.
///
/// # Safety
/// A valid state with a free slot.
pub(crate) unsafe fn push_globals(state: *mut ffi::lua_State) {
    // SAFETY: a valid state with a free slot (our caller's guarantee); Lua 5.4 keeps
    // the globals in the registry, LuaJIT behind a pseudo-index; neither raises.
    unsafe {
        #[cfg(not(feature = "luajit"))]
        ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, ffi::LUA_RIDX_GLOBALS);
        #[cfg(feature = "luajit")]
        ffi::lua_pushvalue(state, ffi::LUA_GLOBALSINDEX);
    }
}

/// `load_aux`'s env: makes the value at slot `env` the `_ENV` (first upvalue) of the
/// main chunk on top, as `load` and `loadfile` do with their env argument.
///
/// # Safety
/// A valid state with a function on top, `env` a valid slot, and a free slot.
#[cfg(feature = "lua54")]
pub(crate) unsafe fn set_chunk_env(state: *mut ffi::lua_State, env: std::ffi::c_int) {
    // SAFETY: as our caller guarantees; lua_setupvalue pops the value only when the
    // function has that upvalue, else the pop drops it.
    unsafe {
        ffi::lua_pushvalue(state, env);
        if ffi::lua_setupvalue(state, -2, 1).is_null() {
            ffi::lua_pop(state, 1);
        }
    }
}
