//! Lua 5.4: the sandbox's guarded base functions as C functions, installed in place of
//! Lua's own so that scripts see exactly Lua's functions: the same names in
//! `debug.getinfo`, error messages and tracebacks, the same hook events, no extra frames.
//!
//! - `pcall` and `xpcall` (`luaB_pcall`, `luaB_xpcall`) raise a stopped call's error
//!   again instead of returning it, so no Lua code runs after a stop. An `xpcall`
//!   handler is called as Lua calls it; in a stopped call a Lua handler stops at its
//!   first instruction (the hook fires on every instruction then).
//! - `load` (`luaB_load`) feeds strings to the parser in pieces that check for a stop
//!   (see compile.rs), raises a stop met in a reader function again, and, unless the
//!   state allows bytecode, refuses binary chunks whatever the mode.
//! - `setmetatable` (`luaB_setmetatable`) refuses metatables with `__gc` unless the
//!   state allows finalizers.
//!
//! `coroutine.resume`, `wrap` and `close` live in coroutines.rs. The LuaJIT flavor keeps
//! the Lua wrappers of `lua/prelude.lua`.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use mlua::ffi;

use crate::coroutines::stopped;
use crate::limits::hook::guard_of;

/// Lua's `luaL_typeerror` (absent from mlua's bindings): "bad argument #arg to 'f'
/// (tname expected, got type)".
///
/// # Safety
/// Inside a C function on the valid `state` (it raises), `arg` an acceptable index.
pub(crate) unsafe fn type_error(state: *mut ffi::lua_State, arg: c_int, tname: &CStr) -> ! {
    // SAFETY: `arg` is acceptable; luaL_getmetafield pushes `__name` only when found,
    // and the string it pushes stays on the stack while `got` is used.
    let got = unsafe {
        if ffi::luaL_getmetafield(state, arg, c"__name".as_ptr()) == ffi::LUA_TSTRING {
            ffi::lua_tostring(state, -1)
        } else if ffi::lua_type(state, arg) == ffi::LUA_TLIGHTUSERDATA {
            c"light userdata".as_ptr()
        } else {
            ffi::luaL_typename(state, arg)
        }
    };
    // SAFETY: both `%s` arguments are C strings alive during the call; the message it
    // pushes is on top for luaL_argerror, which raises (a C function may).
    unsafe {
        ffi::lua_pushfstring(state, c"%s expected, got %s".as_ptr(), tname.as_ptr(), got);
        ffi::luaL_argerror(state, arg, ffi::lua_tostring(state, -1));
    }
    unreachable!("luaL_argerror raises")
}

/// `finishpcall`: the results of a protected call, or `false, error`; a stopped call's
/// error is raised again.
///
/// # Safety
/// A `lua_KFunction` of [`pcall`] or [`xpcall`] (`extra`: the slots below the results
/// that are not results), called by Lua or by them with the call's status.
unsafe extern "C-unwind" fn finish_pcall(
    state: *mut ffi::lua_State,
    status: c_int,
    extra: ffi::lua_KContext,
) -> c_int {
    if status != ffi::LUA_OK && status != ffi::LUA_YIELD {
        // SAFETY: a valid state inside a C function: the error value is on top (-1,
        // so -2 after the boolean), there are free slots, and raising is allowed.
        unsafe {
            if stopped(state) {
                ffi::lua_error(state);
            }
            ffi::lua_pushboolean(state, 0);
            ffi::lua_pushvalue(state, -2);
        }
        return 2;
    }
    // SAFETY: a valid state.
    let top = unsafe { ffi::lua_gettop(state) };
    top - extra as c_int
}

/// `pcall(f, ...)`.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn pcall(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state with LUA_MINSTACK free slots; luaL_checkany
    // raises unless slot 1 (the function) exists, so gettop - 2 >= 0 arguments follow
    // it once `true` is inserted below it.
    let status = unsafe {
        ffi::luaL_checkany(state, 1);
        ffi::lua_pushboolean(state, 1);
        ffi::lua_insert(state, 1);
        let nargs = ffi::lua_gettop(state) - 2;
        ffi::lua_pcallk(state, nargs, ffi::LUA_MULTRET, 0, 0, Some(finish_pcall))
    };
    // SAFETY: the continuation, called as Lua would call it after the call returned.
    unsafe { finish_pcall(state, status, 0) }
}

/// `xpcall(f, handler, ...)`.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn xpcall(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state with free slots; luaL_checktype raises unless
    // slot 2 is the handler, so slots 1 and 2 exist; the rotation leaves `true`,
    // handler (slot 2, the message handler), f and the n - 2 arguments.
    let status = unsafe {
        let n = ffi::lua_gettop(state);
        ffi::luaL_checktype(state, 2, ffi::LUA_TFUNCTION);
        ffi::lua_pushboolean(state, 1);
        ffi::lua_pushvalue(state, 1);
        ffi::lua_rotate(state, 3, 2);
        ffi::lua_pcallk(state, n - 2, ffi::LUA_MULTRET, 2, 2, Some(finish_pcall))
    };
    // SAFETY: the continuation, called as Lua would call it after the call returned.
    unsafe { finish_pcall(state, status, 2) }
}

/// The stack slot where [`read_from_function`] keeps the piece the parser reads.
const RESERVED_SLOT: c_int = 5;

/// What [`read_from_function`] knows between pieces.
struct Reader {
    /// The first byte is still to come: a binary chunk is refused there.
    first: bool,
    refuse_binary: bool,
    /// A binary chunk was refused: the reader ended the input instead of raising (an
    /// error there would run the caller's message handler, which Lua's mode check
    /// does not).
    refused: bool,
}

/// The message for a binary chunk in a state without bytecode, whatever mode was asked.
const BINARY_REFUSED: &CStr = c"attempt to load a binary chunk (mode is 't')";

/// `generic_reader`: the next piece from the reader function at slot 1.
///
/// # Safety
/// A `lua_Reader` of [`load`]'s `lua_load`: `data` is its [`Reader`], and slot 1 the
/// reader function and slot [`RESERVED_SLOT`] exist.
unsafe extern "C-unwind" fn read_from_function(
    state: *mut ffi::lua_State,
    data: *mut c_void,
    size: *mut usize,
) -> *const c_char {
    // SAFETY: `data` is [`load`]'s `Reader`, alive for its lua_load and used by nothing
    // else meanwhile.
    let reader = unsafe { &mut *(data as *mut Reader) };
    // SAFETY: a valid state (Lua's reader runs on it); slot 1 is the reader function
    // (checked by [`load`]); the stack is grown for it first; errors may be raised
    // here, as in Lua's generic_reader, and nothing here owns memory.
    unsafe {
        ffi::luaL_checkstack(state, 2, c"too many nested functions".as_ptr());
        ffi::lua_pushvalue(state, 1);
        ffi::lua_call(state, 0, 1);
        if ffi::lua_isnil(state, -1) != 0 {
            ffi::lua_pop(state, 1);
            *size = 0;
            return ptr::null();
        }
        if ffi::lua_isstring(state, -1) == 0 {
            ffi::luaL_error(state, c"reader function must return a string".as_ptr());
        }
    }
    // SAFETY: the piece on top moves to the reserved slot (it exists: [`load`] set the
    // top there), which keeps it alive until the next read; `size` is lua_load's.
    let piece = unsafe {
        ffi::lua_replace(state, RESERVED_SLOT);
        ffi::lua_tolstring(state, RESERVED_SLOT, size)
    };
    // SAFETY: `size` is lua_load's, just written.
    let size = unsafe { &mut *size };
    if reader.first && *size > 0 {
        reader.first = false;
        // SAFETY: `piece` has `*size` > 0 bytes.
        if reader.refuse_binary && unsafe { *piece.cast::<u8>() } == 0x1b {
            reader.refused = true;
            *size = 0;
            return ptr::null();
        }
    }
    piece
}

/// `load(chunk [, chunkname [, mode [, env]]])`; upvalue 1: whether bytecode is allowed.
///
/// # Safety
/// A `lua_CFunction` with one upvalue, as [`install`] makes it.
unsafe extern "C-unwind" fn load(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; upvalue 1 exists ([`install`]); slots 1, 3 and
    // 4 are acceptable indexes (absent ones read as none); luaL_optlstring may raise,
    // which a C function may.
    let (refuse_binary, text, len, mode, env) = unsafe {
        let refuse_binary = ffi::lua_toboolean(state, ffi::lua_upvalueindex(1)) == 0;
        let mut len = 0usize;
        let text = ffi::lua_tolstring(state, 1, &mut len);
        let mode = ffi::luaL_optlstring(state, 3, c"bt".as_ptr(), ptr::null_mut());
        let env = if ffi::lua_type(state, 4) != ffi::LUA_TNONE {
            4
        } else {
            0
        };
        (refuse_binary, text, len, mode, env)
    };
    let status = if !text.is_null() {
        // SAFETY: slot 2 is acceptable; `text` (slot 1's string) is a valid default.
        let name = unsafe { ffi::luaL_optlstring(state, 2, text, ptr::null_mut()) };
        // The string stays on the stack (slot 1) while the parser reads it.
        // SAFETY: slot 1's string has `len` bytes and stays alive during the call.
        let code = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
        if refuse_binary && code.first() == Some(&0x1b) {
            // SAFETY: a C function has free slots.
            unsafe { ffi::lua_pushstring(state, BINARY_REFUSED.as_ptr()) };
            ffi::LUA_ERRSYNTAX
        } else {
            // SAFETY: `name` and `mode` are C strings on the stack (or static); the
            // guard pointer is the state's own (or NULL), alive while it runs.
            unsafe { crate::compile::load_pieces(state, code, name, mode, guard_of(state)) }
        }
    } else {
        // SAFETY: slots 1 and 2 are acceptable; luaL_checktype raises unless slot 1 is
        // the reader function, and settop makes RESERVED_SLOT exist (as
        // read_from_function needs); `name` and `mode` stay on the stack (slots 2, 3).
        let name = unsafe {
            let name = ffi::luaL_optlstring(state, 2, c"=(load)".as_ptr(), ptr::null_mut());
            ffi::luaL_checktype(state, 1, ffi::LUA_TFUNCTION);
            ffi::lua_settop(state, RESERVED_SLOT);
            name
        };
        let mut reader = Reader {
            first: true,
            refuse_binary,
            refused: false,
        };
        let data = ptr::addr_of_mut!(reader).cast::<c_void>();
        // SAFETY: `data` is the `Reader` read_from_function expects, alive during the
        // call; slot 1 and RESERVED_SLOT are as it needs them.
        let status = unsafe { ffi::lua_load(state, read_from_function, data, name, mode) };
        if reader.refused {
            // SAFETY: lua_load pushed its result (a function or message) on top.
            unsafe {
                ffi::lua_pop(state, 1);
                ffi::lua_pushstring(state, BINARY_REFUSED.as_ptr());
            }
            ffi::LUA_ERRSYNTAX
        } else {
            status
        }
    };
    if status == ffi::LUA_OK {
        if env != 0 {
            // SAFETY: the loaded function is on top, slot `env` (4) exists.
            unsafe { crate::raw::set_chunk_env(state, env) };
        }
        return 1;
    }
    // A stop met while loading (in the parser's reader, or in a reader function).
    // SAFETY: the error message is on top; a C function has free slots and may raise.
    unsafe {
        if stopped(state) {
            ffi::lua_error(state);
        }
        ffi::lua_pushnil(state);
        ffi::lua_insert(state, -2);
    }
    2
}

/// `setmetatable(t, mt)` in a state without finalizers.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
unsafe extern "C-unwind" fn setmetatable(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; slot 2 is acceptable (none when absent), and
    // luaL_checktype raises unless slot 1 is a table.
    let kind = unsafe {
        let kind = ffi::lua_type(state, 2);
        ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
        kind
    };
    if kind != ffi::LUA_TNIL && kind != ffi::LUA_TTABLE {
        // SAFETY: slot 2 is acceptable; a C function may raise.
        unsafe { type_error(state, 2, c"nil or table") };
    }
    if kind == ffi::LUA_TTABLE {
        // SAFETY: slot 2 is a table; the raw get pushes one value, popped again; a C
        // function may raise.
        unsafe {
            ffi::lua_pushliteral(state, c"__gc");
            let gc = ffi::lua_rawget(state, 2);
            ffi::lua_pop(state, 1);
            if gc != ffi::LUA_TNIL {
                ffi::luaL_error(state, FINALIZERS_REFUSED.as_ptr());
            }
        }
    }
    // SAFETY: slot 1 is a table (checked) and slot 2 nil or a table, made the top by
    // settop; a C function may raise.
    unsafe {
        if ffi::luaL_getmetafield(state, 1, c"__metatable".as_ptr()) != ffi::LUA_TNIL {
            ffi::luaL_error(state, c"cannot change a protected metatable".as_ptr());
        }
        ffi::lua_settop(state, 2);
        ffi::lua_setmetatable(state, 1);
    }
    1
}

/// Why `setmetatable` refused a metatable with `__gc`.
const FINALIZERS_REFUSED: &CStr = c"__gc metamethods are disabled in this state: limits cannot \
stop a finalizer (enable the allow_finalizers option to allow them)";

/// Installs the guarded functions in the globals (and `coroutine`, when open) of the
/// state `lua`, for a state that allows bytecode and finalizers as given.
pub fn install(lua: &mlua::Lua, allow_bytecode: bool, allow_finalizers: bool) -> mlua::Result<()> {
    // SAFETY: runs with mlua's lock held on a valid state; every function pushed follows
    // the Lua calling convention, and the stack is balanced.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            crate::raw::push_globals(state);
            set_field(state, c"pcall", pcall);
            set_field(state, c"xpcall", xpcall);
            ffi::lua_pushboolean(state, c_int::from(allow_bytecode));
            ffi::lua_pushcclosure(state, load, 1);
            ffi::lua_setfield(state, -2, c"load".as_ptr());
            if !allow_finalizers {
                set_field(state, c"setmetatable", setmetatable);
            }
            if ffi::lua_getfield(state, -1, c"coroutine".as_ptr()) == ffi::LUA_TTABLE {
                set_field(state, c"resume", crate::coroutines::tracked_resume);
                set_field(state, c"wrap", crate::coroutines::wrap);
                set_field(state, c"close", crate::coroutines::tracked_close);
            }
            ffi::lua_pop(state, 2);
        })
    }
}

/// Sets `table[name] = function` for the table on top of `state`.
///
/// # Safety
/// `state` is valid, with a table on top and a free slot (may raise: out of memory).
unsafe fn set_field(state: *mut ffi::lua_State, name: &CStr, function: ffi::lua_CFunction) {
    // SAFETY: the table is at -1, so at -2 once the function is pushed into the free
    // slot (our caller's guarantee); lua_setfield pops the function.
    unsafe {
        ffi::lua_pushcfunction(state, function);
        ffi::lua_setfield(state, -2, name.as_ptr());
    }
}
