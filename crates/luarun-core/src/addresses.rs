//! Default states hand out no addresses: `tostring` of a table, function, coroutine or
//! userdata, `string.format`'s `%s` of one and its `%p`, and `print`, show a keyed
//! permutation of the object's address instead of the address itself. Plain Lua shows
//! real heap addresses there, and for C functions (`tostring(print)`) code addresses
//! inside libluarun, which defeats ASLR for a host that runs untrusted code.
//!
//! The permutation is a 4-round Feistel network over the 64-bit address whose round
//! function is SipHash under a key drawn at random once per process: a bijection, so
//! distinct live objects still print distinctly (code that uses `tostring` as identity
//! keeps working), stable for an object's life, and without the key it says nothing
//! about the address.

use std::collections::hash_map::RandomState;
use std::ffi::{c_char, c_int};
use std::hash::BuildHasher;
use std::sync::OnceLock;

use mlua::ffi;

/// The process's secret key (SipHash keys, random per process).
fn key() -> &'static RandomState {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new)
}

/// The keyed permutation of `address` that luarun shows instead of it.
pub fn hide(address: usize) -> u64 {
    let key = key();
    let value = address as u64;
    let (mut left, mut right) = ((value >> 32) as u32, value as u32);
    for round in 0u32..4 {
        let mixed = key.hash_one((round, right)) as u32;
        (left, right) = (right, left ^ mixed);
    }
    (u64::from(left) << 32) | u64::from(right)
}

/// `0x` and 16 hex digits of `value`, NUL-terminated, for `lua_pushfstring`'s `%s`.
fn hex(value: u64) -> [u8; 19] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 19];
    text[0] = b'0';
    text[1] = b'x';
    for i in 0..16 {
        text[2 + i] = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
    text
}

/// Pushes what luarun shows for the object at `index` in place of its address:
/// `"0x..."`, or Lua's `"(null)"` for values without one (numbers, booleans, nil).
///
/// # Safety
/// `state` valid with room for one more slot, `index` an acceptable index.
unsafe fn push_hidden_pointer(state: *mut ffi::lua_State, index: c_int) {
    // SAFETY: our caller guarantees `state` is valid and `index` acceptable; the pointer
    // is only compared and hashed, never dereferenced.
    let pointer = unsafe { ffi::lua_topointer(state, index) };
    if pointer.is_null() {
        // SAFETY: valid state with a free slot (our caller's guarantee).
        unsafe { ffi::lua_pushliteral(state, c"(null)") };
    } else {
        let text = hex(hide(pointer as usize));
        // SAFETY: valid state with a free slot; `text` is NUL-terminated (`hex`), and Lua
        // copies it before this returns.
        unsafe { ffi::lua_pushstring(state, text.as_ptr().cast()) };
    }
}

/// Pushes `tostring(value at index)` as luarun shows it: `__tostring` if it has one
/// (raising Lua's error when that returns no string); numbers, strings, booleans and
/// nil as Lua writes them; everything else `"<type>: 0x<hidden address>"` (Lua 5.4:
/// `__name` for the type, as Lua does).
///
/// # Safety
/// `state` valid, `index` an acceptable index; may raise Lua errors.
pub unsafe fn push_tostring(state: *mut ffi::lua_State, index: c_int) {
    // SAFETY: `state` valid and `index` acceptable: our caller's guarantee (`# Safety`).
    let index = unsafe { ffi::lua_absindex(state, index) };
    // LuaJIT bounds no C re-entry: __tostring may recurse through here.
    if cfg!(feature = "luajit") && crate::cstack::exceeded() {
        // SAFETY: valid state; raising is allowed (`# Safety`), and nothing here owns
        // memory that the longjmp would leak.
        unsafe {
            ffi::lua_pushstring(state, c"stack overflow (tostring)".as_ptr());
            ffi::lua_error(state);
        }
    }
    // SAFETY: `index` is an absolute acceptable index; the call may raise (allowed).
    if unsafe { ffi::luaL_callmeta(state, index, c"__tostring".as_ptr()) } != 0 {
        // SAFETY: luaL_callmeta left the metamethod's result at -1; raising is allowed
        // and nothing here owns memory.
        unsafe {
            if ffi::lua_isstring(state, -1) == 0 {
                ffi::lua_pushstring(state, c"'__tostring' must return a string".as_ptr());
                ffi::lua_error(state);
            }
        }
        return;
    }
    // SAFETY: `index` is an acceptable index of a valid state.
    let kind = unsafe { ffi::lua_type(state, index) };
    match kind {
        ffi::LUA_TNUMBER | ffi::LUA_TSTRING | ffi::LUA_TBOOLEAN | ffi::LUA_TNIL => {
            // SAFETY: `index` holds a value luaL_tolstring converts without metamethods
            // (there is no `__tostring`); a NULL length pointer is allowed.
            unsafe { ffi::luaL_tolstring(state, index, std::ptr::null_mut()) };
        }
        _ => {
            // SAFETY: `index` is acceptable; luaL_getmetafield pushes the field only
            // when it returns a type other than nil.
            let named = cfg!(feature = "lua54")
                && unsafe { ffi::luaL_getmetafield(state, index, c"__name".as_ptr()) }
                    == ffi::LUA_TSTRING;
            let name: *const c_char = if named {
                // SAFETY: -1 is the `__name` string just pushed; it stays there (and
                // with it the returned text) until lua_remove below.
                unsafe { ffi::lua_tolstring(state, -1, std::ptr::null_mut()) }
            } else {
                // SAFETY: `kind` came from lua_type, so it is a valid type tag; Lua's
                // type names are static strings.
                unsafe { ffi::lua_typename(state, kind) }
            };
            // SAFETY: `index` is acceptable; the pointer is only hashed.
            let text = hex(hide(unsafe { ffi::lua_topointer(state, index) } as usize));
            // SAFETY: both `%s` arguments are NUL-terminated and alive during the call
            // (`name` on the stack or static, `text` ours); when named, -2 is `__name`.
            unsafe {
                ffi::lua_pushfstring(state, c"%s: %s".as_ptr(), name, text.as_ptr());
                if named {
                    ffi::lua_remove(state, -2);
                }
            }
        }
    }
}

/// `tostring(v)` without addresses (see [`push_tostring`]).
///
/// # Safety
/// A `lua_CFunction`.
pub unsafe extern "C-unwind" fn tostring(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; luaL_checkany raises unless slot 1 exists, so
    // push_tostring gets an acceptable index, and a C function may raise.
    unsafe {
        ffi::luaL_checkany(state, 1);
        push_tostring(state, 1);
    }
    1
}

/// `string.format(fmt, ...)` without addresses: `%p` conversions become `%s` of the
/// hidden address, and `%s` arguments that are not strings or numbers are converted
/// by [`push_tostring`] first; then the original `string.format` (upvalue 1) runs on
/// the rewritten arguments, in this same call frame, so its errors read as before.
///
/// # Safety
/// A `lua_CFunction` whose upvalue 1 is the original C `string.format`.
pub unsafe extern "C-unwind" fn format(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; upvalue 1 exists (our caller's guarantee).
    let original = unsafe { ffi::lua_tocfunction(state, ffi::lua_upvalueindex(1)) };
    let Some(original) = original else {
        // SAFETY: valid state; a C function may raise, and nothing here owns memory.
        unsafe {
            ffi::lua_pushstring(state, c"string.format is missing".as_ptr());
            ffi::lua_error(state);
        }
    };
    // SAFETY: valid state; slot 1 is an acceptable index (LUA_TNONE when absent).
    if unsafe { ffi::lua_type(state, 1) } == ffi::LUA_TSTRING {
        // SAFETY: slot 1 holds the format string, as rewrite_arguments needs.
        unsafe { rewrite_arguments(state) };
    }
    // SAFETY: `original` is the C `string.format`, called as Lua would call it: in this
    // very frame, with the (rewritten) arguments it expects.
    unsafe { original(state) }
}

/// The conversions of `fmt` (slot 1) in order, rewriting slot 1 and the argument slots
/// as [`format`] says. Malformed formats are left for the original to complain about.
///
/// # Safety
/// `state` is a valid state inside a C function (may raise), slot 1 a string.
unsafe fn rewrite_arguments(state: *mut ffi::lua_State) {
    let mut len = 0usize;
    // SAFETY: slot 1 is a string (our caller's guarantee), so this converts nothing.
    let text = unsafe { ffi::lua_tolstring(state, 1, &mut len) }.cast::<u8>();
    // SAFETY: Lua's string at slot 1 has `len` bytes and stays alive (slot 1 is replaced
    // only after the last use of `bytes`).
    let bytes = unsafe { std::slice::from_raw_parts(text, len) };
    // SAFETY: a valid state.
    let top = unsafe { ffi::lua_gettop(state) };
    let mut argument = 1;
    // Pieces of the rewritten format pushed so far (0: the format needs no change).
    let mut copied_to = 0usize;
    let mut rewritten = false;
    let mut at = 0usize;
    while at < bytes.len() {
        if bytes[at] != b'%' {
            at += 1;
            continue;
        }
        if bytes.get(at + 1) == Some(&b'%') {
            at += 2;
            continue;
        }
        let mut end = at + 1;
        while end < bytes.len() && b"-+ #0123456789.".contains(&bytes[end]) {
            end += 1;
        }
        let Some(&conversion) = bytes.get(end) else {
            break;
        };
        argument += 1;
        if argument > top {
            break; // the original raises "no value"
        }
        match conversion {
            // Lua allows only '-' and a width before `p`: the original raises "invalid
            // conversion" for anything else, before it formats an address.
            b'p' if bytes[at + 1..end].iter().any(|b| b"+ #.".contains(b)) => {}
            b'p' => {
                // The format up to the conversion letter, then `s`.
                // SAFETY: a valid state.
                if unsafe { ffi::lua_checkstack(state, 3) } == 0 {
                    break;
                }
                // SAFETY: room for 3 slots was checked; when `rewritten`, the piece
                // below is the format's rewritten start, a string to join onto.
                unsafe {
                    push_piece(state, &bytes[copied_to..end], rewritten);
                    push_piece(state, b"s", true);
                }
                copied_to = end + 1;
                rewritten = true;
                // SAFETY: `argument` <= `top`, an existing slot; room was checked.
                unsafe {
                    push_hidden_pointer(state, argument);
                    ffi::lua_replace(state, argument);
                }
            }
            b's' => {
                // SAFETY: `argument` <= `top`, an existing slot.
                let kind = unsafe { ffi::lua_type(state, argument) };
                if kind != ffi::LUA_TSTRING && kind != ffi::LUA_TNUMBER {
                    // SAFETY: an existing slot; push_tostring may raise, which a C
                    // function allows; its result replaces the argument.
                    unsafe {
                        push_tostring(state, argument);
                        ffi::lua_replace(state, argument);
                    }
                }
            }
            _ => {}
        }
        at = end + 1;
    }
    if rewritten {
        // SAFETY: the rewritten start is on top to join onto, and the checkstack for it
        // left a slot free.
        unsafe { push_piece(state, &bytes[copied_to..], true) };
        // `bytes` points into slot 1, which is replaced only now.
        // SAFETY: slot 1 exists; the joined format is on top.
        unsafe { ffi::lua_replace(state, 1) };
    }
}

/// Pushes `piece` and, when `join`, concatenates it onto the piece below it.
///
/// # Safety
/// `state` valid with a free slot; when `join`, a string below the new piece. May raise
/// (out of memory).
unsafe fn push_piece(state: *mut ffi::lua_State, piece: &[u8], join: bool) {
    // SAFETY: valid state with a free slot; `piece` is `piece.len()` readable bytes,
    // which Lua copies.
    unsafe { ffi::lua_pushlstring(state, piece.as_ptr().cast(), piece.len()) };
    if join {
        // SAFETY: the two top slots are strings (our caller's guarantee for the lower).
        unsafe { ffi::lua_concat(state, 2) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_is_a_stable_bijection_that_changes_the_value() {
        let values: Vec<u64> = (0..10_000usize)
            .map(|i| hide(0x5555_0000 + i * 16))
            .collect();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            values.len(),
            "distinct addresses stay distinct"
        );
        assert_eq!(hide(0x5555_0000), values[0], "stable");
        assert!(values
            .iter()
            .enumerate()
            .all(|(i, &v)| v != (0x5555_0000 + i as u64 * 16)));
    }

    #[test]
    fn hex_writes_sixteen_digits() {
        assert_eq!(&hex(0xabc)[..18], b"0x0000000000000abc");
        assert_eq!(hex(0)[18], 0);
    }
}
