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
