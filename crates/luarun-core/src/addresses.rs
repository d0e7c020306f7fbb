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
unsafe fn push_hidden_pointer(state: *mut ffi::lua_State, index: c_int) {
    let pointer = ffi::lua_topointer(state, index);
    if pointer.is_null() {
        ffi::lua_pushliteral(state, c"(null)");
    } else {
        let text = hex(hide(pointer as usize));
        ffi::lua_pushstring(state, text.as_ptr().cast());
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
    let index = ffi::lua_absindex(state, index);
    // LuaJIT bounds no C re-entry: __tostring may recurse through here.
    if cfg!(feature = "luajit") && crate::cstack::exceeded() {
        ffi::lua_pushstring(state, c"stack overflow (tostring)".as_ptr());
        ffi::lua_error(state);
    }
    if ffi::luaL_callmeta(state, index, c"__tostring".as_ptr()) != 0 {
        if ffi::lua_isstring(state, -1) == 0 {
            ffi::lua_pushstring(state, c"'__tostring' must return a string".as_ptr());
            ffi::lua_error(state);
        }
        return;
    }
    let kind = ffi::lua_type(state, index);
    match kind {
        ffi::LUA_TNUMBER | ffi::LUA_TSTRING | ffi::LUA_TBOOLEAN | ffi::LUA_TNIL => {
            ffi::luaL_tolstring(state, index, std::ptr::null_mut());
        }
        _ => {
            let named = cfg!(feature = "lua54")
                && ffi::luaL_getmetafield(state, index, c"__name".as_ptr()) == ffi::LUA_TSTRING;
            let name: *const c_char = if named {
                ffi::lua_tolstring(state, -1, std::ptr::null_mut())
            } else {
                ffi::lua_typename(state, kind)
            };
            let text = hex(hide(ffi::lua_topointer(state, index) as usize));
            ffi::lua_pushfstring(state, c"%s: %s".as_ptr(), name, text.as_ptr());
            if named {
                ffi::lua_remove(state, -2);
            }
        }
    }
}

/// `tostring(v)` without addresses (see [`push_tostring`]).
///
/// # Safety
/// A `lua_CFunction`.
pub unsafe extern "C-unwind" fn tostring(state: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checkany(state, 1);
    push_tostring(state, 1);
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
    let original = ffi::lua_tocfunction(state, ffi::lua_upvalueindex(1));
    let Some(original) = original else {
        ffi::lua_pushstring(state, c"string.format is missing".as_ptr());
        ffi::lua_error(state);
    };
    if ffi::lua_type(state, 1) == ffi::LUA_TSTRING {
        rewrite_arguments(state);
    }
    original(state)
}

/// The conversions of `fmt` (slot 1) in order, rewriting slot 1 and the argument slots
/// as [`format`] says. Malformed formats are left for the original to complain about.
unsafe fn rewrite_arguments(state: *mut ffi::lua_State) {
    let mut len = 0usize;
    let text = ffi::lua_tolstring(state, 1, &mut len).cast::<u8>();
    let bytes = std::slice::from_raw_parts(text, len);
    let top = ffi::lua_gettop(state);
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
                if ffi::lua_checkstack(state, 3) == 0 {
                    break;
                }
                push_piece(state, &bytes[copied_to..end], rewritten);
                push_piece(state, b"s", true);
                copied_to = end + 1;
                rewritten = true;
                push_hidden_pointer(state, argument);
                ffi::lua_replace(state, argument);
            }
            b's' => {
                let kind = ffi::lua_type(state, argument);
                if kind != ffi::LUA_TSTRING && kind != ffi::LUA_TNUMBER {
                    push_tostring(state, argument);
                    ffi::lua_replace(state, argument);
                }
            }
            _ => {}
        }
        at = end + 1;
    }
    if rewritten {
        push_piece(state, &bytes[copied_to..], true);
        // `bytes` points into slot 1, which is replaced only now.
        ffi::lua_replace(state, 1);
    }
}

/// Pushes `piece` and, when `join`, concatenates it onto the piece below it.
unsafe fn push_piece(state: *mut ffi::lua_State, piece: &[u8], join: bool) {
    ffi::lua_pushlstring(state, piece.as_ptr().cast(), piece.len());
    if join {
        ffi::lua_concat(state, 2);
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
