//! Bulk map: one Lua function applied to every element of a numeric buffer, results
//! written into another numeric buffer, in one crossing of the FFI.
//!
//! Elements are converted here, never per element in the caller's language: a float or
//! integer is pushed, the function is called with `lua_pcall`, the one result is checked
//! against the output type and stored. A whole map (or, on a pool, each state's share of
//! it) is one top-level call, so the state's limits bound it as they bound any call.

use std::ops::Range;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use mlua::ffi;
use mlua::Function;
use parking_lot::Mutex;

use crate::error::{Error, ErrorKind, Result};
use crate::pool::Pool;
use crate::state::State;

/// The numeric type of one buffer element (native endianness).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementType {
    /// `double`.
    F64,
    /// `float`.
    F32,
    /// `int64_t`.
    I64,
    /// `int32_t`.
    I32,
    /// `int16_t`.
    I16,
    /// `int8_t`.
    I8,
    /// `uint64_t`.
    U64,
    /// `uint32_t`.
    U32,
    /// `uint16_t`.
    U16,
    /// `uint8_t`.
    U8,
}

/// A number as Lua holds it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Number {
    Integer(i64),
    Float(f64),
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElementType::F64 | ElementType::I64 | ElementType::U64 => 8,
            ElementType::F32 | ElementType::I32 | ElementType::U32 => 4,
            ElementType::I16 | ElementType::U16 => 2,
            ElementType::I8 | ElementType::U8 => 1,
        }
    }

    /// The C name of the type, for messages.
    pub fn name(self) -> &'static str {
        match self {
            ElementType::F64 => "double",
            ElementType::F32 => "float",
            ElementType::I64 => "int64",
            ElementType::I32 => "int32",
            ElementType::I16 => "int16",
            ElementType::I8 => "int8",
            ElementType::U64 => "uint64",
            ElementType::U32 => "uint32",
            ElementType::U16 => "uint16",
            ElementType::U8 => "uint8",
        }
    }

    /// The inclusive integer range of an integer type; `None` for floats.
    fn integer_range(self) -> Option<(i128, i128)> {
        Some(match self {
            ElementType::F64 | ElementType::F32 => return None,
            ElementType::I64 => (i64::MIN as i128, i64::MAX as i128),
            ElementType::I32 => (i32::MIN as i128, i32::MAX as i128),
            ElementType::I16 => (i16::MIN as i128, i16::MAX as i128),
            ElementType::I8 => (i8::MIN as i128, i8::MAX as i128),
            ElementType::U64 => (0, u64::MAX as i128),
            ElementType::U32 => (0, u32::MAX as i128),
            ElementType::U16 => (0, u16::MAX as i128),
            ElementType::U8 => (0, u8::MAX as i128),
        })
    }

    /// Reads element bytes (exactly `self.size()` of them) as a Lua number.
    fn read(self, bytes: &[u8]) -> Number {
        macro_rules! load {
            ($t:ty) => {
                <$t>::from_ne_bytes(bytes.try_into().expect("element size"))
            };
        }
        match self {
            ElementType::F64 => Number::Float(load!(f64)),
            ElementType::F32 => Number::Float(f64::from(load!(f32))),
            ElementType::I64 => Number::Integer(load!(i64)),
            ElementType::I32 => Number::Integer(i64::from(load!(i32))),
            ElementType::I16 => Number::Integer(i64::from(load!(i16))),
            ElementType::I8 => Number::Integer(i64::from(load!(i8))),
            // Lua integers are signed 64-bit: larger values go in as floats, as
            // `math.tointeger` would refuse them anyway.
            ElementType::U64 => match i64::try_from(load!(u64)) {
                Ok(value) => Number::Integer(value),
                Err(_) => Number::Float(load!(u64) as f64),
            },
            ElementType::U32 => Number::Integer(i64::from(load!(u32))),
            ElementType::U16 => Number::Integer(i64::from(load!(u16))),
            ElementType::U8 => Number::Integer(i64::from(load!(u8))),
        }
    }

    /// Writes `number` into `bytes` (exactly `self.size()` of them), or says why it
    /// does not fit: integer types take only integral values within their range.
    fn write(self, number: Number, bytes: &mut [u8]) -> std::result::Result<(), String> {
        let integer = match (self.integer_range(), number) {
            (None, Number::Float(value)) => {
                self.write_float(value, bytes);
                return Ok(());
            }
            (None, Number::Integer(value)) => {
                self.write_float(value as f64, bytes);
                return Ok(());
            }
            (Some(_), Number::Integer(value)) => i128::from(value),
            (Some(_), Number::Float(value)) => {
                // Only exact integers convert; 2^63 and beyond have no i128 problem.
                if value.fract() != 0.0 || !value.is_finite() || value.abs() >= 1.9e19 {
                    return Err(format!(
                        "{}, which is not an integer that fits in {}",
                        Number::Float(value),
                        self.name()
                    ));
                }
                value as i128
            }
        };
        let (low, high) = self.integer_range().unwrap_or((0, 0));
        if integer < low || integer > high {
            return Err(format!(
                "{integer}, which does not fit in {} ({low} ..= {high})",
                self.name()
            ));
        }
        macro_rules! store {
            ($t:ty) => {
                bytes.copy_from_slice(&(integer as $t).to_ne_bytes())
            };
        }
        match self {
            ElementType::I64 => store!(i64),
            ElementType::I32 => store!(i32),
            ElementType::I16 => store!(i16),
            ElementType::I8 => store!(i8),
            ElementType::U64 => store!(u64),
            ElementType::U32 => store!(u32),
            ElementType::U16 => store!(u16),
            ElementType::U8 => store!(u8),
            ElementType::F64 | ElementType::F32 => unreachable!("floats returned above"),
        }
        Ok(())
    }

    fn write_float(self, value: f64, bytes: &mut [u8]) {
        match self {
            ElementType::F32 => bytes.copy_from_slice(&(value as f32).to_ne_bytes()),
            _ => bytes.copy_from_slice(&value.to_ne_bytes()),
        }
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Integer(value) => write!(f, "{value}"),
            Number::Float(value) => write!(f, "{value:?}"),
        }
    }
}

/// The caller's input: `count` elements of `kind`.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    bytes: &'a [u8],
    kind: ElementType,
}

/// The caller's output buffer, shared by the workers of a pool map. Each index is
/// written by exactly one worker, so the writes never overlap.
pub struct Output {
    start: *mut u8,
    kind: ElementType,
}

// SAFETY: workers write disjoint elements (each index is handed out once), and the
// caller keeps the buffer alive and untouched for the whole map.
unsafe impl Send for Output {}
// SAFETY: as for `Send`: shared references only ever write disjoint elements.
unsafe impl Sync for Output {}

impl<'a> Input<'a> {
    /// `bytes` holds elements of `kind`; its length must be a multiple of the size.
    pub fn new(bytes: &'a [u8], kind: ElementType) -> Result<Input<'a>> {
        if !bytes.len().is_multiple_of(kind.size()) {
            return Err(Error::invalid_argument(format!(
                "input has {} bytes, which is not a whole number of {} elements ({} bytes each)",
                bytes.len(),
                kind.name(),
                kind.size()
            )));
        }
        Ok(Input { bytes, kind })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.kind.size()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn get(&self, index: usize) -> Number {
        let size = self.kind.size();
        self.kind
            .read(&self.bytes[index * size..(index + 1) * size])
    }
}

impl Output {
    /// The output for `count` elements of `kind` in `bytes`, which must be large enough.
    pub fn new(bytes: &mut [u8], kind: ElementType, count: usize) -> Result<Output> {
        let needed = count.saturating_mul(kind.size());
        if bytes.len() < needed {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!(
                    "output has {} bytes; {count} {} results need {needed}",
                    bytes.len(),
                    kind.name()
                ),
            ));
        }
        Ok(Output {
            start: bytes.as_mut_ptr(),
            kind,
        })
    }

    /// Stores `number` at `index`, or says why it does not fit.
    ///
    /// # Safety
    /// `index` is below the count given to [`Output::new`] and no other thread writes it.
    unsafe fn store(&self, index: usize, number: Number) -> std::result::Result<(), String> {
        let size = self.kind.size();
        // SAFETY: in bounds (the caller's promise and the size check in `new`), and this
        // element is written by no one else.
        let slot = unsafe { std::slice::from_raw_parts_mut(self.start.add(index * size), size) };
        self.kind.write(number, slot)
    }
}

/// Elements handed to one worker at a time: large enough that the handout costs nothing,
/// small enough that workers finish together.
const CHUNK: usize = 1024;

/// What stopped a map inside the raw Lua loop.
enum Failure {
    /// The Lua function raised an error (or was stopped); `memory` for `LUA_ERRMEM`.
    Lua {
        index: usize,
        message: String,
        memory: bool,
    },
    /// The result does not fit the output type.
    Result { index: usize, message: String },
}

/// Maps `function` over the chunks `next_chunk` hands out, as one top-level call on
/// `state`. `stop` is checked between chunks (another worker failed).
fn map_chunks(
    state: &State,
    function: &Function,
    input: Input<'_>,
    output: &Output,
    next_chunk: &(dyn Fn() -> Option<Range<usize>> + Sync),
    stop: &AtomicBool,
) -> Result<()> {
    let mut failure: Option<Failure> = None;
    let wrong_result = state.run(|lua| {
        // SAFETY: the closure runs inside mlua's protected call with the function at
        // stack index 1; every Lua call below is itself protected (lua_pcall), so no
        // Lua error unwinds through this frame, and the stack is restored per element.
        unsafe {
            lua.exec_raw::<()>(function, |raw| {
                failure = run_chunks(raw, input, output, next_chunk, stop);
            })?;
        }
        // Lua errors leave through `run`, which reports a stop (interrupt, limit) as a
        // stop whatever element it hit; a result of the wrong type is ours to report.
        match failure.take() {
            None => Ok(None),
            Some(Failure::Result { index, message }) => Ok(Some((index, message))),
            Some(Failure::Lua {
                index,
                message,
                memory,
            }) => {
                let message = format!("element {index}: {message}");
                Err(if memory {
                    mlua::Error::MemoryError(message)
                } else {
                    mlua::Error::RuntimeError(message)
                })
            }
        }
    })?;
    match wrong_result {
        None => Ok(()),
        Some((index, message)) => Err(Error::type_error(format!(
            "element {index}: the function returned {message}"
        ))),
    }
}

/// The raw loop: stack index 1 holds the function.
///
/// # Safety
/// `raw` is a live Lua state inside a protected call, with the function at index 1.
unsafe fn run_chunks(
    raw: *mut ffi::lua_State,
    input: Input<'_>,
    output: &Output,
    next_chunk: &(dyn Fn() -> Option<Range<usize>> + Sync),
    stop: &AtomicBool,
) -> Option<Failure> {
    // SAFETY: `raw` is live (our caller's guarantee).
    if unsafe { ffi::lua_checkstack(raw, 4) } == 0 {
        return Some(Failure::Lua {
            index: 0,
            message: "stack overflow".into(),
            memory: false,
        });
    }
    while !stop.load(Ordering::Relaxed) {
        let chunk = next_chunk()?;
        for index in chunk {
            let number = input.get(index);
            // SAFETY: 4 free slots were checked and the stack is back at 1 slot after
            // each element; slot 1 is the function, called protected with its argument.
            let status = unsafe {
                ffi::lua_pushvalue(raw, 1);
                match number {
                    Number::Integer(value) => ffi::lua_pushinteger(raw, value as ffi::lua_Integer),
                    Number::Float(value) => ffi::lua_pushnumber(raw, value),
                }
                ffi::lua_pcall(raw, 1, 1, 0)
            };
            if status != ffi::LUA_OK {
                // SAFETY: the error value is on top; settop drops it, keeping slot 1.
                let message = unsafe {
                    let message = stack_text(raw, -1);
                    ffi::lua_settop(raw, 1);
                    message
                };
                return Some(Failure::Lua {
                    index,
                    message,
                    memory: status == ffi::LUA_ERRMEM,
                });
            }
            // SAFETY: the one result is on top (-1).
            let written = match unsafe { stack_number(raw, -1) } {
                // SAFETY: `next_chunk` hands each index below the count out once, so
                // no other worker writes it.
                Some(number) => unsafe { output.store(index, number) },
                // SAFETY: the result is on top; lua_type gives a valid type tag.
                None => Err(format!("a {}, not a number", unsafe {
                    type_name(raw, ffi::lua_type(raw, -1))
                })),
            };
            // SAFETY: drops the result, keeping the function at slot 1.
            unsafe { ffi::lua_settop(raw, 1) };
            if let Err(message) = written {
                return Some(Failure::Result { index, message });
            }
        }
    }
    None
}

/// The number at `index` (no string coercion), or `None`.
///
/// # Safety
/// `raw` is a live Lua state and `index` an acceptable index.
unsafe fn stack_number(raw: *mut ffi::lua_State, index: c_int) -> Option<Number> {
    // SAFETY: live state, acceptable index (our caller's guarantee).
    if unsafe { ffi::lua_type(raw, index) } != ffi::LUA_TNUMBER {
        return None;
    }
    // LuaJIT has only doubles: integral values come back as integers (exact up to 2^53).
    if cfg!(feature = "luajit") {
        // SAFETY: as above; the value is a number, and a NULL `isnum` is allowed.
        let value = unsafe { ffi::lua_tonumberx(raw, index, std::ptr::null_mut()) };
        return Some(Number::Float(value));
    }
    // SAFETY: as above; the value is a number, and a NULL `isnum` is allowed.
    unsafe {
        if ffi::lua_isinteger(raw, index) != 0 {
            Some(Number::Integer(
                ffi::lua_tointegerx(raw, index, std::ptr::null_mut()) as i64,
            ))
        } else {
            Some(Number::Float(ffi::lua_tonumberx(
                raw,
                index,
                std::ptr::null_mut(),
            )))
        }
    }
}

/// An error value as text (strings and numbers as they are, others by type).
///
/// # Safety
/// `raw` is a live Lua state and `index` an acceptable index.
unsafe fn stack_text(raw: *mut ffi::lua_State, index: c_int) -> String {
    // SAFETY: live state, acceptable index (our caller's guarantee).
    let kind = unsafe { ffi::lua_type(raw, index) };
    if kind == ffi::LUA_TSTRING || kind == ffi::LUA_TNUMBER {
        let mut len = 0usize;
        // SAFETY: as above; a number converts in place, which nothing iterates here.
        let data = unsafe { ffi::lua_tolstring(raw, index, &mut len) };
        if !data.is_null() {
            // SAFETY: Lua's string at `index` has `len` bytes and stays on the stack.
            let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
            return String::from_utf8_lossy(bytes).into_owned();
        }
    }
    // SAFETY: `kind` came from lua_type.
    format!("(error object is a {} value)", unsafe {
        type_name(raw, kind)
    })
}

/// Lua's name for the type `kind`.
///
/// # Safety
/// `raw` is a live Lua state and `kind` a type tag from `lua_type`.
unsafe fn type_name(raw: *mut ffi::lua_State, kind: c_int) -> String {
    // SAFETY: a live state and a valid tag (our caller's guarantee): Lua returns one
    // of its static, NUL-terminated names.
    let name = unsafe { ffi::lua_typename(raw, kind) };
    // SAFETY: as just said.
    unsafe { std::ffi::CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

impl State {
    /// `output[i] = function(input[i])` for every element, as one call on this state.
    pub fn map(&self, function: &Function, input: Input<'_>, output: &Output) -> Result<()> {
        let next = AtomicUsize::new(0);
        let count = input.len();
        let stop = AtomicBool::new(false);
        map_chunks(
            self,
            function,
            input,
            output,
            &|| chunk_at(&next, count),
            &stop,
        )
    }
}

fn chunk_at(next: &AtomicUsize, count: usize) -> Option<Range<usize>> {
    let start = next.fetch_add(CHUNK, Ordering::Relaxed);
    (start < count).then(|| start..(start + CHUNK).min(count))
}

impl Pool {
    /// `output[i] = f(input[i])` on all states in parallel, where `f` is the global
    /// `function` of each state. Chunks of elements are handed out dynamically; each
    /// state's share is one call on it. The first failure stops every worker.
    pub fn map(&self, function: &str, input: Input<'_>, output: &Output) -> Result<()> {
        let count = input.len();
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        let workers = self.size().min(count.div_ceil(CHUNK)).max(1);
        std::thread::scope(|scope| {
            for (number, state) in self.states().iter().take(workers).enumerate() {
                let (next, stop, failure) = (&next, &stop, &failure);
                scope.spawn(move || {
                    let result = state.global_function(function).and_then(|callee| {
                        map_chunks(
                            state,
                            &callee,
                            input,
                            output,
                            &|| chunk_at(next, count),
                            stop,
                        )
                    });
                    if let Err(error) = result {
                        stop.store(true, Ordering::Relaxed);
                        failure
                            .lock()
                            .get_or_insert(error.in_context(format_args!("pool state {number}")));
                    }
                });
            }
        });
        match failure.into_inner() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
