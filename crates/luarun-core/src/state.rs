//! A Lua state with options, limits and serialized access: the safe core behind the C
//! API's state handle.
//!
//! Every piece of Lua work goes through [`State::run`], which takes the state's reentrant
//! call lock (so calls from several threads are serialized and a host callback may call
//! back into the same state), starts the per-call limits for the outermost call and turns
//! mlua errors into [`Error`]s with the right [`ErrorKind`].

use std::cell::Cell;
use std::sync::Arc;

use mlua::{ffi, Function, LightUserData, Lua, LuaOptions, StdLib};
use parking_lot::ReentrantMutex;

use crate::error::{convert_error, find_traceback, Error, ErrorKind, Result, Setting};
use crate::heap::Heap;
use crate::limits::{CallLimits, LimitGuard};
pub use crate::options::{call_limits, Libraries, Options};
use crate::print::{PrintTarget, PrintWriter};

/// Most calls that may be nested on one state through host callbacks (Lua -> host ->
/// Lua -> ...). Lua bounds its own recursion, but every host round trip also uses the
/// host thread's stack; this bound keeps that well under 1 MiB.
pub const MAX_NESTED_CALLS: u32 = 48;

/// What [`State::collect_garbage`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcOperation {
    /// A full collection.
    Collect,
    /// Stops the automatic collector.
    Stop,
    /// Restarts the automatic collector.
    Restart,
}

/// Why a host function failed, as Lua will see it.
#[derive(Debug)]
pub enum HostFailure {
    /// Raised as a Lua string error at the caller's line (`error(message, 2)`).
    Message(String),
    /// Raised as it is (`error(value)`): a table or a host object a binding wants Lua's
    /// `pcall` to receive unchanged, such as the exception a Python callback raised.
    Value(mlua::Value),
}

impl From<String> for HostFailure {
    fn from(message: String) -> Self {
        HostFailure::Message(message)
    }
}

impl From<&str> for HostFailure {
    fn from(message: &str) -> Self {
        HostFailure::Message(message.to_string())
    }
}

/// A Lua state with limits and serialized access.
pub struct State {
    lua: Lua,
    /// The allocator's accounting and limit; outlives `lua` (declared after it).
    heap: Arc<Heap>,
    guard: Arc<LimitGuard>,
    /// Depth of nested calls on this state; the lock serializes threads and lets a
    /// host callback re-enter on the thread that already holds it.
    call_depth: ReentrantMutex<Cell<u32>>,
    allow_bytecode: bool,
    /// Scripts may set `__gc` (so closing runs Lua code, see heap.rs).
    allow_finalizers: bool,
    /// The original `next`, kept so table iteration works whatever Lua does to globals.
    raw_next: Function,
    /// luarun's `tostring` (no addresses, see addresses.rs), as the state started with:
    /// the host sees what scripts see, whatever a script does to the global.
    host_tostring: Function,
    /// LuaJIT's compiler is on (only in LuaJIT states without limits).
    jit_enabled: bool,
    /// Where `print` writes; `print` points at it, so it outlives `lua` (declared after).
    print_target: Arc<PrintTarget>,
}

impl State {
    /// Creates a state with `options`.
    pub fn new(options: &Options) -> Result<Arc<State>> {
        let lua = crate::heap::new_lua(options)?;
        let heap = crate::heap::install(&lua, None).map_err(|e| convert_error(&e))?;
        // From here on every allocation failure is a Lua memory error. Should setup
        // fail, mlua must still close the state with its own allocator.
        let restore_on_failure = crate::heap::RestoreAllocator {
            lua: &lua,
            heap: &heap,
        };
        let guard = Arc::new(LimitGuard::new(options.call_limits));
        let jit_enabled = cfg!(feature = "luajit") && options.call_limits == CallLimits::default();
        crate::limits::hook::install(&lua, &guard).map_err(|e| convert_error(&e))?;
        let print_target = Arc::new(PrintTarget::default());

        let setup = |lua: &Lua| -> mlua::Result<(Function, Function)> {
            let globals = lua.globals();
            // Before the guards: the port keeps the original pcall for gsub callbacks.
            // LuaJIT keeps its own (Lua 5.1) pattern functions: see the luarun-pattern crate.
            #[cfg(feature = "lua54")]
            if options.libraries.has(Libraries::STRING) {
                crate::string_patterns::install(lua, &guard, &heap)?;
            }
            #[cfg(feature = "luajit")]
            if !options.libraries.has(Libraries::COROUTINE) {
                globals.raw_set("coroutine", mlua::Nil)?;
            }
            if jit_enabled {
                // Only the Lua 5.4 flavor has no JIT; nothing to switch off.
            } else if let Ok(jit) = globals.raw_get::<mlua::Table>("jit") {
                // Hooks never run inside compiled traces: limits need the interpreter.
                jit.get::<Function>("off")?.call::<()>(())?;
                jit.get::<Function>("flush")?.call::<()>(())?;
                globals.raw_set("jit", mlua::Nil)?;
            }
            let raw_next: Function = globals.raw_get("next")?;
            #[cfg(feature = "luajit")]
            let raw_tostring: Function = globals.raw_get("tostring")?;
            install_addressless(lua, &print_target)?;
            let host_tostring: Function = globals.raw_get("tostring")?;
            // LuaJIT: the guards are Lua wrappers, loaded as bytecode.
            #[cfg(feature = "luajit")]
            crate::prelude::load(lua)?.call::<()>(prelude_arguments(
                lua,
                options,
                &guard,
                raw_tostring,
            )?)?;
            // Lua 5.4: the guards are C functions, indistinguishable from Lua's, and a
            // new state compiles no Lua source.
            #[cfg(feature = "lua54")]
            {
                crate::guards::install(lua, options.allow_bytecode, options.allow_finalizers)?;
                if !options.allow_bytecode {
                    // SAFETY: runs with mlua's lock held on a valid state, not running
                    // Lua code, with free slots; exec_raw protects what may raise.
                    unsafe { lua.exec_raw::<()>((), |state| crate::text_loaders::install(state))? };
                }
            }
            if options.libraries.has(Libraries::DEBUG) {
                // SAFETY: as above.
                unsafe {
                    lua.exec_raw::<()>((), |state| crate::limits::script_hook::install(state))?
                };
            }
            // After the guards: require's text-only searcher (PACKAGE without IO) keeps
            // the loader it needs.
            if !options.libraries.has(Libraries::IO) {
                globals.raw_set("dofile", mlua::Nil)?;
                globals.raw_set("loadfile", mlua::Nil)?;
            }
            Ok((raw_next, host_tostring))
        };
        // Lua 5.4 setup makes little garbage: collecting during it would only cost time.
        // (LuaJIT's prelude leaves garbage, which a new state would otherwise hold.)
        if cfg!(feature = "lua54") {
            lua.gc_stop();
        }
        let set_up = setup(&lua);
        lua.gc_restart();
        let (raw_next, host_tostring) = set_up.map_err(|e| {
            let error = convert_error(&e);
            match error.kind {
                ErrorKind::Memory => Error::new(
                    ErrorKind::Memory,
                    format!(
                        "cannot set up a new state: {} ({})",
                        error.message,
                        heap.describe_refusal()
                    ),
                ),
                _ => error,
            }
        })?;

        if let Some(limit) = options.memory_limit {
            let used = heap.used();
            if limit < used {
                return Err(Error::invalid_argument(format!(
                    "memory limit of {limit} bytes is below the {used} bytes a new state \
                     already uses; allow at least {}",
                    used * 2
                )));
            }
            heap.set_limit(Some(limit));
        }
        std::mem::forget(restore_on_failure);
        Ok(Arc::new(State {
            lua,
            heap,
            guard,
            call_depth: ReentrantMutex::new(Cell::new(0)),
            allow_bytecode: options.allow_bytecode,
            allow_finalizers: options.allow_finalizers,
            raw_next,
            host_tostring,
            jit_enabled,
            print_target,
        }))
    }

    /// Routes `print` to `writer` (each call's line, newline included), or back to
    /// stdout with `None`. Takes effect for the next `print` call, also inside a
    /// running call.
    pub fn set_print(&self, writer: Option<PrintWriter>) {
        self.print_target.set(writer);
    }

    /// Runs `work` with the call lock held and the per-call limits active.
    ///
    /// The outermost call on a state starts a fresh instruction and time budget; nested
    /// calls (from a host callback) share the budget of the call they are part of.
    pub fn run<R>(&self, work: impl FnOnce(&Lua) -> mlua::Result<R>) -> Result<R> {
        let _entry = crate::cstack::enter();
        let depth = self.call_depth.lock();
        // A nested call (or a call of another state from inside a callback) also nests
        // on the host stack (see cstack.rs).
        if crate::cstack::exceeded() {
            return Err(Error::new(
                ErrorKind::Runtime,
                crate::cstack::OVERFLOW_MESSAGE,
            ));
        }
        let outermost = depth.get() == 0;
        if outermost {
            // A state that ran the process out of memory grows again once the reserve
            // is back (see heap.rs).
            self.heap.refill();
            if let Err(reason) = self.guard.begin_call() {
                self.guard.end_call();
                return Err(Error::stopped(reason, self.guard.describe(reason)));
            }
        }
        if depth.get() >= MAX_NESTED_CALLS {
            return Err(Error::new(
                ErrorKind::Runtime,
                format!(
                    "stack overflow: more than {MAX_NESTED_CALLS} nested calls between Lua \
                     and host callbacks (runaway recursion?)"
                ),
            ));
        }
        depth.set(depth.get() + 1);
        // Restores the depth and ends the call even if `work` panics.
        struct CallScope<'a> {
            depth: &'a Cell<u32>,
            guard: &'a LimitGuard,
        }
        impl Drop for CallScope<'_> {
            fn drop(&mut self) {
                self.depth.set(self.depth.get() - 1);
                if self.depth.get() == 0 {
                    self.guard.end_call();
                }
            }
        }
        let _scope = CallScope {
            depth: &depth,
            guard: &self.guard,
        };
        let result = work(&self.lua);
        // Collect first: describing the error needs memory, and the garbage of the
        // failed call (unreachable since Lua unwound it) may hold all of it.
        if matches!(&result, Err(e) if is_memory_error(e)) {
            self.recover_memory();
        }
        result.map_err(|e| self.classify(e))
    }

    /// After a memory error, collects garbage with the limit lifted: a collection may
    /// itself need a little memory, and LuaJIT states otherwise stay stuck at the limit
    /// (or, without one, holding the garbage that ran the process out of memory).
    fn recover_memory(&self) {
        self.heap.collect_unbounded(|| {
            let _ = self.lua.gc_collect();
        });
    }

    fn classify(&self, error: mlua::Error) -> Error {
        match self.guard.tripped() {
            Some(reason) => {
                let mut message = self.guard.describe(reason);
                if let Some(traceback) = find_traceback(&error) {
                    message.push('\n');
                    // Without the count hook's frame: plain Lua never shows one.
                    message.push_str(&crate::error::without_internal_frames(&traceback));
                }
                Error::stopped(reason, message)
            }
            None => {
                let mut converted = convert_error(&error);
                if converted.kind == ErrorKind::Memory {
                    converted.message = with_memory_cause(&converted.message, &self.heap);
                    if self.heap.refused_by_limit() {
                        converted.setting = Some(Setting::MemoryLimit);
                    }
                }
                converted
            }
        }
    }

    /// Runs a chunk of Lua code. `name` is the chunk name used in error messages
    /// (`None`: derived from the first line of the code).
    pub fn exec(&self, code: &[u8], name: Option<&str>) -> Result<()> {
        self.run(|lua| self.compile(lua, code, name)?.call(()))
    }

    /// Evaluates a Lua expression and returns its first value (`nil` when none).
    pub fn eval(&self, expression: &[u8], name: Option<&str>) -> Result<mlua::Value> {
        let mut code = crate::fallible::vec_with_capacity(
            expression.len().saturating_add(7),
            "the expression's code",
        )?;
        code.extend_from_slice(b"return ");
        code.extend_from_slice(expression);
        let name = name.map_or_else(|| chunk_name(expression), str::to_owned);
        self.run(|lua| self.compile(lua, &code, Some(&name))?.call(()))
    }

    /// Compiles a chunk into a function without running it.
    pub fn load(&self, code: &[u8], name: Option<&str>) -> Result<Function> {
        self.run(|lua| self.compile(lua, code, name))
    }

    /// Compiles under the running call's limits (see compile.rs).
    fn compile(&self, lua: &Lua, code: &[u8], name: Option<&str>) -> mlua::Result<Function> {
        let name = name.map_or_else(|| chunk_name(code), str::to_owned);
        crate::compile::compile(lua, &self.guard, code, &name, self.allow_bytecode)
    }

    /// The global function `name`; a runtime error naming what the global is otherwise.
    pub fn global_function(&self, name: &str) -> Result<Function> {
        self.run(|lua| {
            let value: mlua::Value = lua.globals().get(name)?;
            match value {
                mlua::Value::Function(function) => Ok(function),
                other => Err(mlua::Error::runtime(format!(
                    "global '{name}' is a {}, not a function; load code defining it first",
                    other.type_name()
                ))),
            }
        })
    }

    /// Calls `function` with `args` and returns all its results.
    pub fn call(&self, function: &Function, args: mlua::MultiValue) -> Result<mlua::MultiValue> {
        self.run(|_| function.call(args))
    }

    /// Stops the running call (or the next one, if none is running) with
    /// [`ErrorKind::Interrupted`]. Safe from any thread at any time.
    ///
    /// On LuaJIT, compiled loops never run hooks: a state whose JIT compiler is on (no
    /// limits set) refuses with [`ErrorKind::Unsupported`] rather than promise a stop it
    /// cannot deliver.
    pub fn interrupt(&self) -> Result<()> {
        if self.jit_enabled {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "this LuaJIT state runs with the JIT compiler on, and compiled loops cannot \
                 be interrupted; create it with a time or instruction limit (which turns the \
                 JIT off) to make it interruptible",
            ));
        }
        self.guard.request_interrupt();
        Ok(())
    }

    /// Whether LuaJIT's compiler is on in this state (never on Lua 5.4).
    pub fn jit_enabled(&self) -> bool {
        self.jit_enabled
    }

    /// Bytes of memory the state holds now.
    pub fn used_memory(&self) -> usize {
        self.heap.used()
    }

    /// The memory limit in bytes; `None` = unlimited.
    pub fn memory_limit(&self) -> Option<usize> {
        self.heap.limit()
    }

    /// Sets (or with `None` lifts) the memory limit; one below what the state holds now
    /// is refused.
    pub fn set_memory_limit(&self, limit: Option<usize>) -> Result<()> {
        if let Some(limit) = limit {
            let used = self.heap.used();
            if limit < used {
                return Err(Error::invalid_argument(format!(
                    "memory limit of {limit} bytes is below the {used} bytes the state holds \
                     now; allow more, or collect garbage first"
                )));
            }
        }
        self.heap.set_limit(limit);
        Ok(())
    }

    /// Runs a garbage-collector operation, as a call (finalizers it runs are limited).
    pub fn collect_garbage(&self, operation: GcOperation) -> Result<()> {
        self.run(|lua| match operation {
            GcOperation::Collect => lua.gc_collect(),
            GcOperation::Stop => {
                lua.gc_stop();
                Ok(())
            }
            GcOperation::Restart => {
                lua.gc_restart();
                Ok(())
            }
        })
    }

    /// The limits every top-level call runs under.
    pub fn call_limits(&self) -> CallLimits {
        self.guard.limits()
    }

    /// Builds a Lua function from a host function. `host` returns `Ok(results)` or
    /// `Err(failure)`; a failure becomes a Lua error that Lua can `pcall`: a message at
    /// the caller's line, or a value raised as it is (see [`HostFailure`]).
    pub fn create_host_function<F>(&self, host: F) -> Result<Function>
    where
        F: Fn(&Lua, mlua::MultiValue) -> std::result::Result<mlua::MultiValue, HostFailure>
            + Send
            + 'static,
    {
        self.run(|lua| {
            let raw =
                lua.create_function(move |lua, args: mlua::MultiValue| match host(lua, args) {
                    Ok(results) => Ok(results),
                    Err(failure) => {
                        let raised = match failure {
                            HostFailure::Message(message) => {
                                mlua::Value::String(lua.create_string(message)?)
                            }
                            HostFailure::Value(value) => value,
                        };
                        Ok(crate::host_function::failure(raised))
                    }
                })?;
            crate::host_function::wrap(lua, raw)
        })
    }

    /// The next key/value pair of `table` after `key` (raw `next`, ignoring `__pairs`);
    /// `None` after the last pair.
    pub fn next(
        &self,
        table: &mlua::Table,
        key: mlua::Value,
    ) -> Result<Option<(mlua::Value, mlua::Value)>> {
        self.run(|_| {
            let (k, v): (mlua::Value, mlua::Value) = self.raw_next.call((table, key))?;
            Ok(if k.is_nil() { None } else { Some((k, v)) })
        })
    }

    /// `tostring(value)` as scripts see it: honouring `__tostring`, and showing no
    /// addresses (`table: 0x<hidden>`, a keyed permutation of the address).
    pub fn to_string(&self, value: mlua::Value) -> Result<mlua::LuaString> {
        self.run(|_| self.host_tostring.call(value))
    }

    /// The mlua state, for conversions that need it (creating strings and tables).
    /// Use [`State::run`] for anything that runs Lua code.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // Anything that runs while Lua closes the state must not loop forever.
        self.guard.close();
        crate::heap::close_with_mlua_allocator(&self.lua, &self.heap, self.allow_finalizers);
    }
}

/// What `lua/prelude.lua` (LuaJIT states) receives, in its order.
#[cfg(feature = "luajit")]
fn prelude_arguments(
    lua: &Lua,
    options: &Options,
    guard: &Arc<LimitGuard>,
    raw_tostring: Function,
) -> mlua::Result<mlua::MultiValue> {
    use mlua::IntoLuaMulti;
    let stop_guard = Arc::clone(guard);
    let is_stopped = lua.create_function(move |_, ()| Ok(stop_guard.tripped().is_some()))?;
    // SAFETY: these C functions follow the Lua calling convention (create_c_function).
    let (tracked_resume, check_c_stack, load_string) = unsafe {
        (
            lua.create_c_function(crate::coroutines::tracked_resume)?,
            // LuaJIT does not bound C re-entries itself (see cstack.rs).
            lua.create_c_function(crate::cstack::check)?,
            lua.create_c_function(crate::compile::load_string)?,
        )
    };
    (
        is_stopped,
        options.allow_bytecode,
        options.allow_finalizers,
        tracked_resume,
        check_c_stack,
        load_string,
        // The original tostring, for a fast path LuaJIT's compiler can inline.
        raw_tostring,
    )
        .into_lua_multi(lua)
}

/// Replaces `tostring`, `string.format` and `print` with luarun's, which show no
/// Replaces `tostring`, `string.format` and `print` with luarun's, which show no
/// addresses (see addresses.rs); `print` writes where `target` says (see print.rs).
/// One raw step, not a dozen mlua calls: this runs for every new state.
fn install_addressless(lua: &Lua, target: &Arc<PrintTarget>) -> mlua::Result<()> {
    let pointer = LightUserData(crate::print::target_pointer(target));
    // SAFETY: runs with mlua's lock held on a valid state (exec_raw protects what may
    // raise), with the print target pushed; the C functions follow the Lua calling
    // convention and get the upvalues and registry entries they expect; the stack is
    // balanced.
    unsafe {
        lua.exec_raw::<()>(pointer, |state| {
            crate::raw::push_globals(state);
            ffi::lua_pushcfunction(state, crate::addresses::tostring);
            ffi::lua_setfield(state, -2, c"tostring".as_ptr());
            if ffi::lua_getfield(state, -1, c"string".as_ptr()) == ffi::LUA_TTABLE {
                ffi::lua_getfield(state, -1, c"format".as_ptr());
                ffi::lua_pushcclosure(state, crate::addresses::format, 1);
                ffi::lua_setfield(state, -2, c"format".as_ptr());
            }
            ffi::lua_pop(state, 1);
            // print.rs keeps the original print and the target in the registry.
            ffi::lua_pushvalue(state, -2);
            ffi::lua_getfield(state, -2, c"print".as_ptr());
            crate::print::register(state);
            ffi::lua_pushcfunction(state, crate::print::print);
            ffi::lua_setfield(state, -2, c"print".as_ptr());
            ffi::lua_pop(state, 2);
        })
    }
}

/// Whether `error` is (or wraps) a Lua memory error. Allocates nothing: it runs when
/// there may be no memory left.
fn is_memory_error(error: &mlua::Error) -> bool {
    match error {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            is_memory_error(cause)
        }
        _ => false,
    }
}

/// A memory error's message with its cause: the limit, or the system.
fn with_memory_cause(message: &str, heap: &Heap) -> String {
    format!("{message} ({})", heap.describe_refusal())
}

/// The embedded Lua's name and version, e.g. "Lua 5.4" or "LuaJIT 2.1.1744318430".
pub fn lua_version() -> Result<String> {
    #[cfg(feature = "luajit")]
    let lua = Lua::new_with(StdLib::JIT, LuaOptions::new());
    #[cfg(not(feature = "luajit"))]
    let lua = Lua::new_with(StdLib::NONE, LuaOptions::new());
    let lua = lua.map_err(|e| convert_error(&e))?;
    lua.load("return jit and jit.version or _VERSION")
        .eval::<String>()
        .map_err(|e| convert_error(&e))
}

/// The chunk name Lua would show for a string chunk: `[string "first line..."]`.
pub fn chunk_name(code: &[u8]) -> String {
    const MAX: usize = 40;
    let first_line = code.split(|&b| b == b'\n').next().unwrap_or_default();
    let shown = &first_line[..first_line.len().min(MAX)];
    let ellipsis = if shown.len() < code.len() { "..." } else { "" };
    // Binary chunks and odd bytes must still give a printable, NUL-free name.
    let printable: String = String::from_utf8_lossy(shown)
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => '?',
            c => c,
        })
        .collect();
    format!("=[string \"{printable}{ellipsis}\"]")
}
