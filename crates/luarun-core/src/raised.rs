//! Calls that keep the value a Lua error was raised with.
//!
//! [`State::call`] reports a failure as text: mlua turns the error value into a string
//! and appends a traceback. Bindings that hand their language the error *value* itself
//! (a table raised with `error({code = 42})`, the exception object a host callback
//! raised) call [`State::call_keeping_error`] instead. It runs the function under its
//! own message handler, as `lua.c` does: the handler writes the message and the
//! traceback aside and leaves the value on the stack exactly as it was raised.

use std::cell::Cell;
use std::ffi::c_int;

use mlua::{ffi, Function, MultiValue, Value};

use crate::error::{Error, ErrorKind};
use crate::state::State;

/// A failed [`State::call_keeping_error`]: the error as every call reports it, and for
/// an error Lua code raised (not a stop, not a memory error) the value it raised.
#[derive(Debug)]
pub struct CallError {
    /// The status category and the message with its traceback.
    pub error: Error,
    /// What `error(...)` was called with (a string error's message without the
    /// traceback); `None` when the call was stopped or ran out of memory.
    pub value: Option<Value>,
}

impl State {
    /// [`State::call`], but a Lua error keeps its value (see [`CallError`]).
    pub fn call_keeping_error(
        &self,
        function: &Function,
        args: MultiValue,
    ) -> std::result::Result<MultiValue, CallError> {
        let mut raised: Option<Value> = None;
        let outcome = self.run(|lua| {
            let mut stack = args;
            stack.push_front(Value::Function(function.clone()));
            let mut text: Vec<u8> = Vec::new();
            let mut status = ffi::LUA_OK;
            // SAFETY: the closure runs inside mlua's protected call with the function
            // and its arguments as the whole stack; the only Lua call in it is
            // protected (lua_pcall), so no error unwinds through it, and it leaves
            // either the results or the error value as the stack's contents.
            let results: MultiValue = unsafe {
                lua.exec_raw(stack, |raw| {
                    status = pcall_keeping_value(raw, &mut text);
                })?
            };
            if status == ffi::LUA_OK {
                return Ok(results);
            }
            let value = results.into_iter().next().unwrap_or(Value::Nil);
            let message = if text.is_empty() {
                describe(&value)
            } else {
                String::from_utf8_lossy(&text).into_owned()
            };
            if status == ffi::LUA_ERRMEM {
                return Err(mlua::Error::MemoryError(message));
            }
            raised = Some(value);
            Err(mlua::Error::RuntimeError(message))
        });
        outcome.map_err(|error| CallError {
            // A stop reaches Lua as an error too; only Lua's own errors have a value.
            value: if error.kind == ErrorKind::Runtime {
                raised.take()
            } else {
                None
            },
            error,
        })
    }
}

/// The message of an error value that left no text: a string as it is, anything else
/// described by its type (Lua's own wording).
fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string_lossy().to_string(),
        other => format!("(error object is a {} value)", other.type_name()),
    }
}

thread_local! {
    /// Where [`keep_traceback`] writes, for the innermost [`pcall_keeping_value`] on
    /// this thread (a message handler runs on the thread of its `lua_pcall`). A plain C
    /// function reading this costs nothing to push, where a closure with the pointer as
    /// upvalue would be allocated on every call.
    static TRACEBACK_TEXT: Cell<*mut Vec<u8>> = const { Cell::new(std::ptr::null_mut()) };
}

/// Calls the function at stack index 1 with the values above it, under
/// [`keep_traceback`]. Returns Lua's status; the stack then holds the results, or the
/// error value alone, and `text` the message with its traceback.
///
/// # Safety
/// `raw` is a live Lua state inside a protected call, whose stack is the function and
/// its arguments; `text` outlives the call.
unsafe fn pcall_keeping_value(raw: *mut ffi::lua_State, text: &mut Vec<u8>) -> c_int {
    // SAFETY: `raw` is live (our caller's guarantee); slot 1 is the function.
    let nargs = unsafe { ffi::lua_gettop(raw) } - 1;
    // SAFETY: as above.
    if unsafe { ffi::lua_checkstack(raw, 2) } == 0 {
        // SAFETY: emptying the stack frees the slot the message needs.
        unsafe {
            ffi::lua_settop(raw, 0);
            ffi::lua_pushstring(raw, c"stack overflow".as_ptr());
        }
        return ffi::LUA_ERRRUN;
    }
    // SAFETY: room was checked; the handler goes to slot 1, below the function.
    unsafe {
        ffi::lua_pushcfunction(raw, keep_traceback);
        ffi::lua_insert(raw, 1);
    }
    // Nested calls (through host callbacks) restore the outer call's buffer after.
    let outer = TRACEBACK_TEXT.with(|slot| slot.replace(text as *mut Vec<u8>));
    // SAFETY: slot 1 the handler, slot 2 the function, then its `nargs` arguments;
    // lua_pcall catches every error, so `outer` is restored below in any case.
    let status = unsafe { ffi::lua_pcall(raw, nargs, ffi::LUA_MULTRET, 1) };
    TRACEBACK_TEXT.with(|slot| slot.set(outer));
    // SAFETY: the handler stays at slot 1 below the results or the error value.
    unsafe { ffi::lua_remove(raw, 1) };
    status
}

/// The message handler: writes "message\ntraceback" into the `Vec<u8>` of
/// [`TRACEBACK_TEXT`] and returns the error value unchanged. The message is the value itself
/// for strings and numbers, its `__tostring` for objects that have one, else Lua's
/// "(error object is a <type> value)".
///
/// # Safety
/// Called by Lua as a message handler of [`pcall_keeping_value`], which set
/// [`TRACEBACK_TEXT`] to its `text` on this thread. Nothing here owns memory across a Lua call that may raise (an
/// error in `__tostring` escapes to `lua_pcall`, which reports it as `LUA_ERRERR`).
unsafe extern "C-unwind" fn keep_traceback(raw: *mut ffi::lua_State) -> c_int {
    let text = TRACEBACK_TEXT
        .try_with(Cell::get)
        .unwrap_or(std::ptr::null_mut());
    // SAFETY: Lua calls the handler with a valid state and the error value as slot 1.
    unsafe { ffi::lua_settop(raw, 1) };
    // SAFETY: a valid state.
    if unsafe { ffi::lua_checkstack(raw, 4) } == 0 {
        return 1;
    }
    // SAFETY: slot 1 exists (settop above).
    let kind = unsafe { ffi::lua_type(raw, 1) };
    // SAFETY: room for 4 slots was checked; slot 1 is the error value; a `__tostring`
    // error may escape (see `# Safety`), with nothing here owning memory; each branch
    // leaves the message string on top.
    unsafe {
        if kind == ffi::LUA_TSTRING || kind == ffi::LUA_TNUMBER {
            ffi::lua_pushvalue(raw, 1);
            ffi::lua_tolstring(raw, -1, std::ptr::null_mut());
        } else if ffi::luaL_callmeta(raw, 1, c"__tostring".as_ptr()) == 0
            || ffi::lua_type(raw, -1) != ffi::LUA_TSTRING
        {
            ffi::lua_settop(raw, 1);
            let name = ffi::lua_typename(raw, kind);
            ffi::lua_pushfstring(raw, c"(error object is a %s value)".as_ptr(), name);
        }
    }
    let mut len = 0usize;
    // SAFETY: the message string is on top and stays there during luaL_traceback,
    // which pushes the joined text into a checked slot; that stays on top while `data`
    // is read below.
    let data = unsafe {
        let message = ffi::lua_tostring(raw, -1);
        // Level 1: the function that raised, not this handler.
        ffi::luaL_traceback(raw, raw, message, 1);
        ffi::lua_tolstring(raw, -1, &mut len)
    };
    // SAFETY: TRACEBACK_TEXT is NULL or the `text` of the pcall_keeping_value running
    // on this thread, alive and not otherwise used during its lua_pcall.
    let text = unsafe { text.as_mut() };
    if let (false, Some(text)) = (data.is_null(), text) {
        // SAFETY: `data` is the string on top, `len` bytes, alive until the settop.
        let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
        // Fallibly: this may run with the process out of memory. Without room the
        // caller falls back to describing the value.
        if text.try_reserve_exact(bytes.len()).is_ok() {
            text.extend_from_slice(bytes);
        }
    }
    // SAFETY: slot 1 (the error value) exists; the handler returns it.
    unsafe { ffi::lua_settop(raw, 1) };
    1
}
