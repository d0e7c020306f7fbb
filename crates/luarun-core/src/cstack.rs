//! How much of the host thread's stack nested calls may use.
//!
//! Lua-to-Lua calls use no host stack, but every time Lua is re-entered from C (a
//! `string.gsub` replacement function, a `table.sort` comparator, `__tostring` through
//! `string.format`, a `load` reader, a host callback calling back into its state, a
//! coroutine resumed inside another) the re-entry sits on top of the host thread's
//! stack. Lua 5.4 bounds such re-entries itself (200 C levels); LuaJIT does not bound
//! them at all, so recursion through them overflows the host's stack and crashes it.
//!
//! luarun measures instead of counting: the outermost luarun call on a thread records
//! where its stack was ([`enter`]), and the places where Lua can be re-entered check how
//! far below that the stack is now ([`exceeded`]). A measurement cannot leak the way a
//! counter does when an error unwinds past its decrement, and it bounds every mix of
//! re-entries at once. Stacks grow downwards on every platform luarun builds for.

use std::cell::Cell;
use std::ffi::c_int;

use mlua::ffi;

/// Host stack that nested calls below the outermost luarun call may use before the
/// next re-entry fails with "stack overflow". The error itself (unwinding, mlua's
/// traceback) needs some more: luarun stays under about 420 KiB, so a thread with 512 KiB
/// of stack holds. Nesting depth depends on what nests: LuaJIT's `gsub` keeps an 8 KiB
/// buffer on the stack, so about 45 nested `gsub` calls fit.
pub const C_STACK_BUDGET: usize = 384 << 10;

/// The message of the error raised past the budget.
pub const OVERFLOW_MESSAGE: &str = "stack overflow: nested calls use more than 384 KiB of \
     the host thread's stack (runaway recursion through callbacks of C functions?)";

thread_local! {
    /// Stack position of the outermost luarun call on this thread, and how many luarun
    /// calls are running on it.
    static ENTRY: Cell<(usize, u32)> = const { Cell::new((0, 0)) };
}

/// A luarun call running on this thread; the outermost one records the stack base.
pub struct Entry(());

/// Marks the start of a luarun call on this thread (see [`Entry`]).
#[inline]
pub fn enter() -> Entry {
    ENTRY.with(|entry| {
        let (base, depth) = entry.get();
        let base = if depth == 0 { stack_position() } else { base };
        entry.set((base, depth + 1));
    });
    Entry(())
}

impl Drop for Entry {
    fn drop(&mut self) {
        ENTRY.with(|entry| {
            let (base, depth) = entry.get();
            let depth = depth.saturating_sub(1);
            entry.set((if depth == 0 { 0 } else { base }, depth));
        });
    }
}

/// The address of a local of this (never inlined) function: where the stack is now.
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Whether nested calls on this thread use more than [`C_STACK_BUDGET`] of its stack.
/// False outside luarun calls (nothing recorded).
pub fn exceeded() -> bool {
    let (base, _) = ENTRY.with(Cell::get);
    base != 0 && base.saturating_sub(stack_position()) > C_STACK_BUDGET
}

/// A `lua_CFunction` that raises [`OVERFLOW_MESSAGE`] past the budget and otherwise does
/// nothing; the LuaJIT prelude calls it before the C functions that re-enter Lua.
///
/// # Safety
/// A `lua_CFunction`: Lua calls it with a valid state.
pub unsafe extern "C-unwind" fn check(state: *mut ffi::lua_State) -> c_int {
    if exceeded() {
        // lua_error does not return; nothing here owns memory.
        // SAFETY: Lua passes this C function a valid state with free slots; a C
        // function may raise.
        unsafe {
            ffi::lua_pushlstring(
                state,
                OVERFLOW_MESSAGE.as_ptr().cast(),
                OVERFLOW_MESSAGE.len(),
            );
            ffi::lua_error(state);
        }
    }
    0
}
