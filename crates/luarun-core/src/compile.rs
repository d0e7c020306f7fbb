//! Compiling Lua source under the call's limits.
//!
//! Lua's parser runs no VM instructions, so no count hook reaches it, and some sources
//! cost it quadratic time (a 400 KB `a or a or ...` chain took seconds). The parser
//! reads its input through a `lua_Reader`; luarun's reader hands it the source in
//! [`PIECE`]-byte pieces and checks for a pending stop (interrupt, passed deadline)
//! before each, raising the stop as a Lua error inside the parser, which `lua_load`
//! returns as its status. Everything luarun compiles goes through here: the host API's
//! exec, eval and load ([`compile`]) and Lua's `load` (and LuaJIT's `loadstring`) of a
//! string ([`load_string`], installed by the prelude).
//!
//! Why small pieces: the parser's work per byte can grow with what it has read so far
//! (each `or` of a chain walks the chain's jump list), so a check per piece bounds the
//! overrun by the cost of 256 bytes at the point where the limit passes, a few
//! milliseconds even for pathological sources; a reader call costs tens of nanoseconds.

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;

use mlua::{Function, Lua};

use mlua::ffi;

use crate::limits::hook::guard_of;
use crate::limits::LimitGuard;

/// Bytes handed to the parser between two checks for a stop.
const PIECE: usize = 256;

/// What the reader still has to hand out, and whom to ask about stops.
struct Source {
    rest: *const u8,
    len: usize,
    guard: *const LimitGuard,
}

/// The `lua_Reader`: the next piece, after checking for a stop (raised as a Lua error,
/// which `lua_load` catches and returns).
///
/// # Safety
/// A `lua_Reader` of [`load_pieces`]'s `lua_load`: `data` is its [`Source`], `size`
/// writable.
unsafe extern "C-unwind" fn read_piece(
    state: *mut ffi::lua_State,
    data: *mut c_void,
    size: *mut usize,
) -> *const c_char {
    // SAFETY: `data` is load_pieces' `Source`, alive during its lua_load and used by
    // nothing else meanwhile.
    let source = unsafe { &mut *(data as *mut Source) };
    // SAFETY: NULL or the state's guard, which outlives the state (load_pieces' caller
    // guarantees it).
    if let Some(guard) = unsafe { source.guard.as_ref() } {
        if let Err(reason) = guard.check_stop() {
            let message = guard.describe(reason);
            // SAFETY: a valid state with free slots (lua_load's); Lua copies the bytes.
            unsafe { ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len()) };
            // lua_error does not return: drop everything that owns memory first.
            drop(message);
            // SAFETY: a reader may raise: lua_load catches it and returns its status.
            unsafe { ffi::lua_error(state) };
        }
    }
    let n = source.len.min(PIECE);
    let piece = source.rest;
    // SAFETY: `rest` has `len` >= `n` bytes left, so this stays in (or one past) the
    // source.
    source.rest = unsafe { piece.add(n) };
    source.len -= n;
    // SAFETY: lua_load passes a writable `size`.
    unsafe { *size = n };
    if n == 0 {
        ptr::null()
    } else {
        piece.cast()
    }
}

/// `lua_load` through [`read_piece`], with Lua 5.4's mode check in both flavors.
/// Leaves the function, or the error message, on the stack; returns Lua's status.
///
/// # Safety
/// `state` is a valid state with a free slot, run by this thread; `name` and `mode` are
/// C strings (`name` may be NULL); `guard` is NULL or a guard that outlives the call.
pub(crate) unsafe fn load_pieces(
    state: *mut ffi::lua_State,
    code: &[u8],
    name: *const c_char,
    mode: *const c_char,
    guard: *const LimitGuard,
) -> c_int {
    let mut source = Source {
        rest: code.as_ptr(),
        len: code.len(),
        guard,
    };
    let data = ptr::addr_of_mut!(source).cast::<c_void>();
    // SAFETY: our caller's guarantees for `state`, `name`, `mode` and `guard`; `data`
    // is the `Source` read_piece expects, alive for the whole load, and `code` outlives
    // it (borrowed).
    #[cfg(feature = "lua54")]
    unsafe {
        ffi::lua_load(state, read_piece, data, name, mode)
    }
    // SAFETY: as above (LuaJIT's lua_loadx takes the same arguments).
    #[cfg(feature = "luajit")]
    unsafe {
        lua_loadx(state, read_piece, data, name, mode)
    }
}

#[cfg(feature = "luajit")]
extern "C-unwind" {
    /// LuaJIT's `lua_load` with a mode ("t", "b", "bt"), as its own `load` uses it.
    fn lua_loadx(
        state: *mut ffi::lua_State,
        reader: ffi::lua_Reader,
        data: *mut c_void,
        chunkname: *const c_char,
        mode: *const c_char,
    ) -> c_int;
}

/// Compiles `code` named `name` (a chunk name as Lua takes it: `=name`, `@file`, ...)
/// into a function, text only unless `allow_bytecode`, stopping when `guard` says the
/// call must stop. Errors are the ones mlua's own loading gives: syntax errors as
/// `SyntaxError`, memory errors as `MemoryError`, a stop as a `RuntimeError` carrying
/// the stop's message.
pub fn compile(
    lua: &Lua,
    guard: &LimitGuard,
    code: &[u8],
    name: &str,
    allow_bytecode: bool,
) -> mlua::Result<Function> {
    // Chunk names come from C strings or from chunk_name(): no NUL inside.
    let name = CString::new(name).unwrap_or_else(|_| c"=?".to_owned());
    let mode = if allow_bytecode { c"bt" } else { c"t" };
    let guard_ptr: *const LimitGuard = guard;
    // SAFETY: exec_raw runs the closure protected, with mlua's lock held, on a valid
    // state; the closure leaves either the function or (message, status) on the stack.
    let results: mlua::MultiValue = unsafe {
        lua.exec_raw((), |state| {
            let status = if !allow_bytecode && code.first() == Some(&0x1b) {
                // Lua 5.4's (and mlua's, for LuaJIT) message, in both flavors.
                ffi::lua_pushliteral(state, c"attempt to load a binary chunk (mode is 't')");
                ffi::LUA_ERRSYNTAX
            } else {
                load_pieces(state, code, name.as_ptr(), mode.as_ptr(), guard_ptr)
            };
            if status != ffi::LUA_OK {
                ffi::lua_pushinteger(state, status as ffi::lua_Integer);
            }
        })?
    };
    let mut results = results.into_iter();
    match (results.next(), results.next()) {
        (Some(mlua::Value::Function(function)), None) => Ok(function),
        (Some(message), Some(mlua::Value::Integer(status))) => {
            let message = match message {
                mlua::Value::String(text) => text.to_string_lossy(),
                other => format!("{other:?}"),
            };
            Err(load_error(status as c_int, message))
        }
        _ => Err(mlua::Error::runtime("lua_load left an unexpected stack")),
    }
}

/// The mlua error for a failed `lua_load`, as mlua builds it.
fn load_error(status: c_int, message: String) -> mlua::Error {
    match status {
        ffi::LUA_ERRSYNTAX => mlua::Error::SyntaxError {
            incomplete_input: message.ends_with("<eof>") || message.ends_with("'<eof>'"),
            message,
        },
        ffi::LUA_ERRMEM => mlua::Error::MemoryError(message),
        _ => mlua::Error::RuntimeError(message),
    }
}

/// `load(s [, chunkname [, mode [, env]]])` for a string `s` (the prelude calls this
/// for strings and Lua's own `load` for reader functions): Lua 5.4's `luaB_load`
/// (LuaJIT's, for LuaJIT's `load` and `loadstring`), reading through [`read_piece`].
/// Returns the function, or `nil, message`; a stop comes back the same way and the
/// prelude raises it again.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state whose hook guard is installed.
pub unsafe extern "C-unwind" fn load_string(state: *mut ffi::lua_State) -> c_int {
    let mut len = 0usize;
    // SAFETY: Lua passes a valid state; slots 1 to 4 are acceptable indexes; the checks
    // raise on bad arguments, which a C function may; `text` is slot 1's string and a
    // valid default name.
    let (text, name, mode, has_env) = unsafe {
        let text = ffi::luaL_checklstring(state, 1, &mut len);
        let name = ffi::luaL_optlstring(state, 2, text, ptr::null_mut());
        let mode = ffi::luaL_optlstring(state, 3, c"bt".as_ptr(), ptr::null_mut());
        (text, name, mode, ffi::lua_type(state, 4) != ffi::LUA_TNONE)
    };
    // The string stays on the stack (slot 1) while the parser reads it.
    // SAFETY: slot 1's string has `len` bytes.
    let code = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
    // SAFETY: a C function's state has free slots; `name` and `mode` are C strings on
    // the stack (or static); the guard is the state's own (or NULL), alive while it runs.
    let status = unsafe { load_pieces(state, code, name, mode, guard_of(state)) };
    if status != ffi::LUA_OK {
        // SAFETY: the message is on top; nil goes below it.
        unsafe {
            ffi::lua_pushnil(state);
            ffi::lua_insert(state, -2);
        }
        return 2;
    }
    if has_env {
        // SAFETY: the function is on top and slot 4 exists (`has_env`).
        unsafe { set_env(state) };
    }
    1
}

/// Gives the function on top of the stack argument 4 as its environment, as `load`'s
/// `env` does.
///
/// # Safety
/// `state` is valid with a free slot, a loaded chunk on top and slot 4 present.
#[cfg(feature = "lua54")]
unsafe fn set_env(state: *mut ffi::lua_State) {
    // SAFETY: slot 4 exists and the chunk is at -1 (-2 after the push); the pop drops
    // the value when the chunk has no upvalue.
    unsafe {
        ffi::lua_pushvalue(state, 4);
        // The first upvalue of a main chunk is its _ENV.
        if ffi::lua_setupvalue(state, -2, 1).is_null() {
            ffi::lua_pop(state, 1);
        }
    }
}

/// LuaJIT: only a table `env` is used; anything else keeps the default, as LuaJIT's
/// `load` does.
///
/// # Safety
/// `state` is valid with a free slot, a loaded chunk on top and slot 4 present.
#[cfg(feature = "luajit")]
unsafe fn set_env(state: *mut ffi::lua_State) {
    // SAFETY: slot 4 exists and the chunk is at -1 (-2 after the push); lua_setfenv
    // pops the table.
    unsafe {
        if ffi::lua_type(state, 4) == ffi::LUA_TTABLE {
            ffi::lua_pushvalue(state, 4);
            ffi::lua_setfenv(state, -2);
        }
    }
}
