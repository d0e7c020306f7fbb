//! Lua 5.4, states that refuse bytecode: `loadfile`, `dofile` and `require`'s Lua-file
//! searcher as C functions that load text only, behaving otherwise exactly as Lua's
//! (`luaB_loadfile`, `luaB_dofile`, `searcher_Lua`): the same arguments, results,
//! messages and frames. Hand-made bytecode can crash the VM, so a binary file is
//! refused with Lua's own mode message whatever mode the script asks for; `string.dump`
//! goes too. `load` lives in guards.rs.
//!
//! These replace Lua wrappers of the old prelude: a new state compiles no Lua source.

use std::ffi::{c_char, c_int, CStr};
use std::io::{BufReader, Read};
use std::ptr;

use mlua::ffi;

/// Lua's message for a binary chunk loaded in text mode, which these give whatever mode
/// was asked.
const BINARY_REFUSED: &CStr = c"attempt to load a binary chunk (mode is 't')";

/// Whether the file's first chunk byte (after a BOM and a `#` first line, as
/// `luaL_loadfilex` skips them) starts a binary chunk; `None` when it cannot be read.
fn starts_binary(filename: &CStr) -> Option<bool> {
    #[cfg(unix)]
    let path = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(filename.to_bytes());
    #[cfg(not(unix))]
    let path = filename.to_str().ok()?;
    let mut bytes = BufReader::new(std::fs::File::open(path).ok()?).bytes();
    let mut next = || bytes.next().and_then(|b| b.ok());
    let mut c = next();
    if c == Some(0xEF) {
        // A BOM is skipped only when whole; Lua then goes on from what follows it.
        c = if next() == Some(0xBB) && next() == Some(0xBF) {
            next()
        } else {
            None
        };
    }
    if c == Some(b'#') {
        while !matches!(next(), None | Some(b'\n')) {}
        c = next();
    }
    Some(c == Some(0x1b))
}

/// Loads `filename` (NULL: stdin) as text: the function, or an error message, on top;
/// `mode` is the mode the script asked for (NULL: "bt").
///
/// # Safety
/// A valid state inside a C function, with a free slot; `filename` and `mode` are NULL
/// or C strings that stay alive during the call.
unsafe fn load_text_file(
    state: *mut ffi::lua_State,
    filename: *const c_char,
    mode: *const c_char,
) -> c_int {
    // SAFETY: `mode` is NULL or a C string (our caller's guarantee).
    let wants_text = mode.is_null() || unsafe { CStr::from_ptr(mode) }.to_bytes().contains(&b't');
    if !wants_text && !filename.is_null() {
        // Lua checks the mode before it parses: a text file gets Lua's message for
        // the asked mode, a binary one the refusal. An unreadable file goes on to
        // luaL_loadfilex below, for Lua's "cannot open" message.
        // SAFETY: `filename` is a C string (our caller's guarantee).
        if let Some(binary) = starts_binary(unsafe { CStr::from_ptr(filename) }) {
            // SAFETY: a valid state with a free slot; `mode` is a C string.
            unsafe {
                if binary {
                    ffi::lua_pushstring(state, BINARY_REFUSED.as_ptr());
                } else {
                    ffi::lua_pushfstring(
                        state,
                        c"attempt to load a text chunk (mode is '%s')".as_ptr(),
                        mode,
                    );
                }
            }
            return ffi::LUA_ERRSYNTAX;
        }
    }
    // SAFETY: as our caller guarantees; luaL_loadfilex pushes one value.
    unsafe { ffi::luaL_loadfilex(state, filename, c"t".as_ptr()) }
}

/// `loadfile([filename [, mode [, env]]])`.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn loadfile(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; slots 1-3 are acceptable indexes (none when
    // absent); luaL_optlstring may raise, which a C function may, and its strings stay
    // on the stack during the load.
    unsafe {
        let filename = ffi::luaL_optlstring(state, 1, ptr::null(), ptr::null_mut());
        let mode = ffi::luaL_optlstring(state, 2, ptr::null(), ptr::null_mut());
        let env = if ffi::lua_type(state, 3) != ffi::LUA_TNONE {
            3
        } else {
            0
        };
        if load_text_file(state, filename, mode) == ffi::LUA_OK {
            if env != 0 {
                crate::raw::set_chunk_env(state, env);
            }
            return 1;
        }
        ffi::lua_pushnil(state);
        ffi::lua_insert(state, -2);
        2
    }
}

/// `dofile`'s continuation: every result of the chunk.
///
/// # Safety
/// A `lua_KFunction` of [`dofile`]: slot 1 holds the file name, the results follow.
unsafe extern "C-unwind" fn dofile_results(
    state: *mut ffi::lua_State,
    _status: c_int,
    _context: ffi::lua_KContext,
) -> c_int {
    // SAFETY: a valid state.
    unsafe { ffi::lua_gettop(state) - 1 }
}

/// `dofile([filename])`.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn dofile(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; settop leaves slot 1 (the name, kept alive
    // there during the load); a load error is raised as Lua's dofile raises it, and
    // the chunk runs with the continuation Lua's dofile uses.
    unsafe {
        let filename = ffi::luaL_optlstring(state, 1, ptr::null(), ptr::null_mut());
        ffi::lua_settop(state, 1);
        if load_text_file(state, filename, ptr::null()) != ffi::LUA_OK {
            ffi::lua_error(state);
        }
        ffi::lua_callk(state, 0, ffi::LUA_MULTRET, 0, Some(dofile_results));
        dofile_results(state, ffi::LUA_OK, 0)
    }
}

/// `require`'s searcher for Lua files (`searcher_Lua`); upvalue 1: the package table,
/// upvalue 2: the original `package.searchpath`.
///
/// # Safety
/// A `lua_CFunction` with those upvalues, as [`install`] makes it.
unsafe extern "C-unwind" fn search_lua_file(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: a valid state with the upvalues [`install`] gives; luaL_checkstring and
    // luaL_error raise, which a C function may; every string used stays on the stack.
    unsafe {
        let name = ffi::luaL_checklstring(state, 1, ptr::null_mut());
        ffi::lua_getfield(state, ffi::lua_upvalueindex(1), c"path".as_ptr());
        if ffi::lua_tolstring(state, -1, ptr::null_mut()).is_null() {
            ffi::luaL_error(state, c"'package.path' must be a string".as_ptr());
        }
        let path = ffi::lua_gettop(state);
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(2));
        ffi::lua_pushvalue(state, 1);
        ffi::lua_pushvalue(state, path);
        ffi::lua_call(state, 2, 2);
        if ffi::lua_isnil(state, -2) != 0 {
            // Not found: searchpath's list of the files it tried.
            return 1;
        }
        ffi::lua_pop(state, 1);
        let filename = ffi::lua_tolstring(state, -1, ptr::null_mut());
        if load_text_file(state, filename, ptr::null()) == ffi::LUA_OK {
            ffi::lua_pushvalue(state, -2);
            return 2;
        }
        ffi::luaL_error(
            state,
            c"error loading module '%s' from file '%s':\n\t%s".as_ptr(),
            name,
            filename,
            ffi::lua_tolstring(state, -1, ptr::null_mut()),
        )
    }
}

/// Installs the text-only loaders and removes `string.dump` in `state`, for a state
/// that refuses bytecode. Runs before `loadfile` and `dofile` are removed from states
/// without the io library.
///
/// # Safety
/// A valid state with 4 free slots, not running Lua code; may raise (out of memory).
pub(crate) unsafe fn install(state: *mut ffi::lua_State) {
    // SAFETY: a valid state with free slots (our caller's guarantee); every get pushes
    // one value, popped with its table, so the stack is balanced.
    unsafe {
        let top = ffi::lua_gettop(state);
        crate::raw::push_globals(state);
        ffi::lua_pushcfunction(state, loadfile);
        ffi::lua_setfield(state, -2, c"loadfile".as_ptr());
        ffi::lua_pushcfunction(state, dofile);
        ffi::lua_setfield(state, -2, c"dofile".as_ptr());
        if ffi::lua_getfield(state, -1, c"string".as_ptr()) == ffi::LUA_TTABLE {
            ffi::lua_pushnil(state);
            ffi::lua_setfield(state, -2, c"dump".as_ptr());
        }
        ffi::lua_pop(state, 1);
        if ffi::lua_getfield(state, -1, c"package".as_ptr()) == ffi::LUA_TTABLE
            && ffi::lua_getfield(state, -1, c"searchers".as_ptr()) == ffi::LUA_TTABLE
        {
            ffi::lua_pushvalue(state, -2);
            ffi::lua_getfield(state, -3, c"searchpath".as_ptr());
            ffi::lua_pushcclosure(state, search_lua_file, 2);
            ffi::lua_rawseti(state, -2, 2);
        }
        ffi::lua_settop(state, top);
    }
}
