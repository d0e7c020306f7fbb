//! `print` for luarun states: its arguments converted as luarun's `tostring` does (no
//! addresses, see `addresses.rs`), separated by tabs, and handed to the writer the host
//! set ([`State::set_print`](crate::state::State::set_print)) as one line ending in a newline.
//! Without a writer the line goes to stdout through Lua's own `print`, as in plain Lua.

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use mlua::ffi;
use parking_lot::Mutex;

/// Receives each printed line (its bytes, newline included); `Err(message)` makes that
/// `print` call raise a Lua error carrying the message.
pub type PrintWriter = Arc<dyn Fn(&[u8]) -> Result<(), String> + Send + Sync>;

/// Where a state's `print` writes; shared by the state and its `print` function.
#[derive(Default)]
pub struct PrintTarget {
    writer: Mutex<Option<PrintWriter>>,
}

impl PrintTarget {
    /// Routes later `print` calls to `writer`, or back to stdout with `None`.
    pub fn set(&self, writer: Option<PrintWriter>) {
        *self.writer.lock() = writer;
    }

    fn current(&self) -> Option<PrintWriter> {
        self.writer.lock().clone()
    }
}

/// `print(...)`. Finds the state's [`PrintTarget`] (which outlives the Lua state) and
/// Lua's own `print` in the registry (see [`register`]).
///
/// # Safety
/// A `lua_CFunction` of a state where [`register`] ran.
pub unsafe extern "C-unwind" fn print(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua passes a valid state; a C function may raise, and nothing here owns
    // memory yet.
    let count = unsafe {
        let count = ffi::lua_gettop(state);
        if ffi::lua_checkstack(state, 4) == 0 {
            ffi::lua_pushstring(state, c"stack overflow (print)".as_ptr());
            ffi::lua_error(state);
        }
        count
    };
    // The line, built on the Lua stack: nothing of Rust's is alive if a conversion
    // raises an error.
    // SAFETY: 4 slots were checked: the line, a separator or converted value, and what
    // push_tostring needs; every `index` is an argument slot (1..=count); each concat
    // joins the two strings on top.
    unsafe {
        ffi::lua_pushliteral(state, c"");
        for index in 1..=count {
            if index > 1 {
                ffi::lua_pushliteral(state, c"\t");
                ffi::lua_concat(state, 2);
            }
            crate::addresses::push_tostring(state, index);
            ffi::lua_concat(state, 2);
        }
    }
    // SAFETY: a free slot (checked); [`register`] stored the target there, a pointer
    // to a `PrintTarget` that outlives the Lua state.
    let target = unsafe {
        registry_get(state, &TARGET_KEY);
        let target = ffi::lua_touserdata(state, -1) as *const PrintTarget;
        ffi::lua_pop(state, 1);
        &*target
    };
    match target.current() {
        None => {
            // SAFETY: Lua's own `print` ([`register`]) goes below the line and is called
            // with it as its one argument.
            unsafe {
                registry_get(state, &RAW_PRINT_KEY);
                ffi::lua_insert(state, -2);
                ffi::lua_call(state, 1, 0);
            }
            0
        }
        Some(writer) => {
            let mut len = 0usize;
            // SAFETY: the line is the string on top; a free slot for the newline; the
            // joined line stays on top (alive) while `line` is used.
            let line = unsafe {
                ffi::lua_pushliteral(state, c"\n");
                ffi::lua_concat(state, 2);
                let text = ffi::lua_tolstring(state, -1, &mut len).cast::<u8>();
                std::slice::from_raw_parts(text, len)
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| writer(line)));
            drop(writer);
            let message = match outcome {
                Ok(Ok(())) => return 0,
                Ok(Err(message)) => message,
                Err(_) => "print: the host's print writer panicked".to_string(),
            };
            // SAFETY: free slots (checked, the line still counted); Lua copies the
            // `message.len()` bytes.
            unsafe { ffi::lua_pushlstring(state, message.as_ptr().cast(), message.len()) };
            // lua_error does not return: drop everything that owns memory first.
            drop(message);
            // SAFETY: the message is on top; the caller's position goes before it; a C
            // function may raise, and nothing here owns memory any more.
            unsafe {
                ffi::luaL_where(state, 1);
                ffi::lua_insert(state, -2);
                ffi::lua_concat(state, 2);
                ffi::lua_error(state)
            }
        }
    }
}

/// The light userdata `print` finds its target through.
/// Registry keys (their addresses) of the print target and of Lua's own `print`: kept
/// there, not in upvalues, so that `print` is a plain C function as in Lua
/// (`debug.getinfo(print).nups` is 0).
static TARGET_KEY: u8 = 0;
static RAW_PRINT_KEY: u8 = 0;

/// Pushes `registry[key]` (keyed by the address of `key`).
///
/// # Safety
/// `state` is valid with a free stack slot.
unsafe fn registry_get(state: *mut ffi::lua_State, key: &'static u8) {
    // SAFETY: valid with a free slot (our caller's guarantee); the key replaced by the
    // value, a raw get never raises.
    unsafe {
        ffi::lua_pushlightuserdata(state, key as *const u8 as *mut c_void);
        ffi::lua_rawget(state, ffi::LUA_REGISTRYINDEX);
    }
}

/// Records the print target (the light userdata below the top) and Lua's own `print`
/// (on top) for [`print`], popping both.
///
/// # Safety
/// `state` is a valid state with those two values on top of its stack.
pub unsafe fn register(state: *mut ffi::lua_State) {
    for key in [&RAW_PRINT_KEY, &TARGET_KEY] {
        // SAFETY: the value to record is on top (our caller's guarantee); its key goes
        // below it and lua_rawset pops both, freeing the slot the next key uses.
        unsafe {
            ffi::lua_pushlightuserdata(state, key as *const u8 as *mut c_void);
            ffi::lua_insert(state, -2);
            ffi::lua_rawset(state, ffi::LUA_REGISTRYINDEX);
        }
    }
}

pub fn target_pointer(target: &Arc<PrintTarget>) -> *mut c_void {
    Arc::as_ptr(target) as *mut c_void
}
