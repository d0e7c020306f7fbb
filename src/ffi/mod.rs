//! The C ABI. Every `extern "C"` function is a thin shell around [`boundary`], which
//! catches panics, records the error message for `luarun_last_error` and returns a
//! [`luarun_status`]. Pointer checks and C type conversions live here; logic does not.
#![allow(non_camel_case_types)]

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use luarun_core::error::{Error, ErrorKind, Result};

pub mod error_detail;
pub mod frame;
pub mod function;
pub mod host_object;
pub mod mandelbrot;
pub mod map;
pub mod memory;
pub mod modules;
pub mod pool;
pub mod print;
mod progress;
pub mod state;
pub mod table;
mod user_data;
pub mod value;

/// Status code returned by every fallible luarun function. Numbers are fixed and never
/// reused; new codes are only ever appended.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum luarun_status {
    /// Success.
    LUARUN_OK = 0,
    /// Lua source did not compile (also: a binary chunk where only text is allowed).
    LUARUN_ERR_SYNTAX = 1,
    /// Lua code raised an error, or a host callback failed.
    LUARUN_ERR_RUNTIME = 2,
    /// The state's memory limit was reached; the state stays usable.
    LUARUN_ERR_MEMORY = 3,
    /// Stopped by luarun_state_interrupt, the instruction limit or the time limit.
    LUARUN_ERR_INTERRUPTED = 4,
    /// An argument was NULL, out of range or otherwise unusable.
    LUARUN_ERR_INVALID_ARGUMENT = 5,
    /// The caller's buffer is too small; the message says how many bytes are needed.
    LUARUN_ERR_BUFFER_TOO_SMALL = 6,
    /// A value had the wrong type for the operation.
    LUARUN_ERR_TYPE = 7,
    /// Valid request that this build or platform cannot honour.
    LUARUN_ERR_UNSUPPORTED = 8,
    /// A progress callback asked to stop.
    LUARUN_ERR_CANCELLED = 9,
    /// An internal bug was caught before it could cross the ABI; please report it.
    LUARUN_ERR_PANIC = 10,
}

impl From<ErrorKind> for luarun_status {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Syntax => luarun_status::LUARUN_ERR_SYNTAX,
            ErrorKind::Runtime => luarun_status::LUARUN_ERR_RUNTIME,
            ErrorKind::Memory => luarun_status::LUARUN_ERR_MEMORY,
            ErrorKind::Interrupted => luarun_status::LUARUN_ERR_INTERRUPTED,
            ErrorKind::InvalidArgument => luarun_status::LUARUN_ERR_INVALID_ARGUMENT,
            ErrorKind::BufferTooSmall => luarun_status::LUARUN_ERR_BUFFER_TOO_SMALL,
            ErrorKind::Type => luarun_status::LUARUN_ERR_TYPE,
            ErrorKind::Unsupported => luarun_status::LUARUN_ERR_UNSUPPORTED,
            ErrorKind::Cancelled => luarun_status::LUARUN_ERR_CANCELLED,
        }
    }
}

/// Version of the C ABI. Bumped only when an existing function or struct layout changes
/// incompatibly; additions (new functions, fields appended to `struct_size` structs,
/// new status codes) keep it.
pub const LUARUN_ABI_VERSION: u32 = 1;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// The structured part of the last error (see `error_detail.rs`).
    static LAST_ERROR_DETAIL: Cell<error_detail::Detail> =
        const { Cell::new(error_detail::Detail::NONE) };
}

/// The current thread's last error message.
pub(crate) fn last_error_message() -> String {
    LAST_ERROR.with(|slot| slot.borrow().to_string_lossy().into_owned())
}

pub(crate) fn set_last_error(message: &str) {
    // Interior NUL bytes (Lua messages may hold any bytes) would cut the C string short.
    let clean = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = clean);
    LAST_ERROR_DETAIL.with(|slot| slot.set(error_detail::Detail::NONE));
}

/// Records `error` for `luarun_last_error` and the `luarun_last_error_*` getters.
fn set_last_error_from(error: &Error) {
    set_last_error(&error.message);
    LAST_ERROR_DETAIL.with(|slot| slot.set(error_detail::Detail::of(error)));
}

/// Runs `work` as the body of an exported function: panics become `LUARUN_ERR_PANIC`,
/// errors become their status, and either way the message is kept for
/// `luarun_last_error`.
pub(crate) fn boundary(work: impl FnOnce() -> Result<()>) -> luarun_status {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(())) => luarun_status::LUARUN_OK,
        Ok(Err(error)) => {
            set_last_error_from(&error);
            error.kind.into()
        }
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!(
                "internal error in luarun (please report it): {detail}"
            ));
            luarun_status::LUARUN_ERR_PANIC
        }
    }
}

/// Like [`boundary`] for functions that cannot report a status (`*_free`, getters):
/// a panic is swallowed and `fallback` returned.
pub(crate) fn boundary_or<T>(fallback: T, work: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or(fallback)
}

/// Borrows `*ptr`, or fails naming the argument when it is NULL.
///
/// # Safety
/// `ptr` must be NULL or point to a valid `T` for the returned lifetime.
pub(crate) unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: our caller guarantees `ptr` is NULL (`as_ref` gives `None`) or points to a
    // valid `T` for `'a`.
    unsafe { ptr.as_ref() }
        .ok_or_else(|| Error::invalid_argument(format!("{name} must not be NULL")))
}

/// Borrows `len` bytes at `ptr`; NULL is accepted only when `len` is 0.
///
/// # Safety
/// When non-NULL, `ptr` must point to `len` readable bytes for the returned lifetime.
pub(crate) unsafe fn arg_bytes<'a>(ptr: *const c_char, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::invalid_argument(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    // SAFETY: `ptr` is not NULL, and our caller guarantees it then points to `len`
    // readable bytes for `'a` (so `len` fits in `isize`); `u8` needs no alignment.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// Reads a NUL-terminated UTF-8 name; fails on NULL or invalid UTF-8.
///
/// # Safety
/// When non-NULL, `ptr` must point to a NUL-terminated string.
pub(crate) unsafe fn arg_name<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} must not be NULL")));
    }
    // SAFETY: `ptr` is not NULL, and our caller guarantees it then points to a
    // NUL-terminated string that lives for `'a`.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8")))
}

/// Checks that an out-parameter is non-NULL before any work is done.
pub(crate) fn check_out<T>(ptr: *mut T, name: &str) -> Result<()> {
    if ptr.is_null() {
        Err(Error::invalid_argument(format!("{name} must not be NULL")))
    } else {
        Ok(())
    }
}

/// One field of a [`SizedStruct`]: name, offset and size in bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
}

impl Field {
    fn end(self) -> usize {
        self.offset + self.size
    }
}

/// The size of the field a projection (`|s: &T| &s.field`) picks; [`sized_struct_fields`]
/// uses it so that no field type is written twice.
pub(crate) fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    std::mem::size_of::<F>()
}

/// The [`Field`]s of a struct, listed by name: `sized_struct_fields!(T { a, b, c })`.
macro_rules! sized_struct_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        vec![$(
            $crate::ffi::Field {
                name: stringify!($field),
                offset: std::mem::offset_of!($ty, $field),
                size: $crate::ffi::field_size(|s: &$ty| &s.$field),
            }
        ),*]
    };
}
pub(crate) use sized_struct_fields;

/// An options struct that begins with `uint32_t struct_size` and grows only at its end,
/// so a caller built against an older header passes a prefix of it.
pub(crate) trait SizedStruct: Copy {
    /// The C name, for messages.
    const NAME: &'static str;
    /// Every field, in order (`struct_size` first).
    fn fields() -> Vec<Field>;
}

/// Reads an options struct that begins with `uint32_t struct_size`, accepting callers
/// built against older headers (missing trailing fields keep their defaults). A size
/// must end between fields: one that ends inside a field would combine the caller's
/// first bytes of it with the defaults' last (a torn pointer), so it is refused.
///
/// # Safety
/// `ptr` must be NULL or point to at least `struct_size` readable bytes.
pub(crate) unsafe fn read_sized_struct<T: SizedStruct>(ptr: *const T, defaults: T) -> Result<T> {
    let name = T::NAME;
    let first_field_end = std::mem::size_of::<u32>();
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} must not be NULL")));
    }
    // SAFETY: `ptr` is not NULL, and our caller guarantees it points to at least
    // `struct_size` readable bytes, the first 4 of which are `struct_size` itself.
    let declared = unsafe { ptr.cast::<u32>().read_unaligned() } as usize;
    let ours = std::mem::size_of::<T>();
    if declared <= first_field_end {
        return Err(Error::invalid_argument(format!(
            "{name}.struct_size is {declared}; set it to sizeof({name}) ({ours}), \
             or fill the struct with its *_default function first"
        )));
    }
    if declared > ours {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name}.struct_size is {declared} but this luarun ({}) knows only {ours} \
                 bytes: the caller was built against a newer luarun.h",
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    let fields = T::fields();
    if let Some(torn) = fields
        .iter()
        .find(|field| field.offset < declared && declared < field.end())
    {
        let valid: Vec<String> = fields
            .iter()
            .skip(1)
            .map(|field| field.end().to_string())
            .collect();
        return Err(Error::invalid_argument(format!(
            "{name}.struct_size is {declared}, which ends inside the field `{}` (bytes \
             {}..{}); a size must end at a field boundary: {} (sizeof({name}) is {ours}). \
             Fill the struct with its *_default function first",
            torn.name,
            torn.offset,
            torn.end(),
            valid.join(", ")
        )));
    }
    let mut value = defaults;
    // SAFETY: our caller guarantees `declared` (`struct_size`) readable bytes at `ptr`;
    // `value` is a `T` of our own with `declared <= size_of::<T>()` bytes (checked
    // above), so the copy stays in both. It ends at a field boundary (checked above), so
    // every field is either wholly the caller's or wholly the defaults': no torn values.
    unsafe {
        std::ptr::copy_nonoverlapping(
            ptr.cast::<u8>(),
            (&mut value as *mut T).cast::<u8>(),
            declared,
        )
    };
    Ok(value)
}

/// The crate version, NUL-terminated, for [`luarun_version`].
const VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// Version of the library as a NUL-terminated string, e.g. "0.1.0". Static storage.
#[no_mangle]
pub extern "C" fn luarun_version() -> *const c_char {
    boundary_or(VERSION_NUL.as_ptr().cast(), || VERSION_NUL.as_ptr().cast())
}

/// What [`luarun_lua_version`] returns, made on first use.
static LUA_VERSION: std::sync::OnceLock<CString> = std::sync::OnceLock::new();

/// Which Lua this library embeds: "Lua 5.4" for the default flavor (libluarun),
/// "LuaJIT 2.1.<release>" for the LuaJIT flavor (libluarun_luajit). Both export the same
/// C API. Static storage, never NULL.
#[no_mangle]
pub extern "C" fn luarun_lua_version() -> *const c_char {
    boundary_or(c"unknown".as_ptr(), || {
        LUA_VERSION
            .get_or_init(|| {
                let text = luarun_core::state::lua_version().unwrap_or_else(|_| "unknown".into());
                CString::new(text).unwrap_or_default()
            })
            .as_ptr()
    })
}

/// ABI version of the library (see `LUARUN_ABI_VERSION`). A program built against a
/// header whose `LUARUN_ABI_VERSION` differs must not use this library.
#[no_mangle]
pub extern "C" fn luarun_abi_version() -> u32 {
    boundary_or(LUARUN_ABI_VERSION, || LUARUN_ABI_VERSION)
}

/// The message of the last failed luarun call on this thread (Lua error text with its
/// traceback where there is one). Never NULL; empty if nothing failed yet.
///
/// Successful calls do not clear it: after a success it still holds the message of an
/// earlier failure, so read it only when a call returned an error status (the status,
/// not the message, says whether a call failed). The next luarun call on this thread
/// may replace it (a failure does, and so does a call that runs a host callback), so
/// read or copy it right after the failure. `luarun_status_name`, `luarun_version` and
/// `luarun_last_error` itself never change it.
#[no_mangle]
pub extern "C" fn luarun_last_error() -> *const c_char {
    boundary_or(c"".as_ptr(), || {
        LAST_ERROR.with(|slot| slot.borrow().as_ptr())
    })
}

/// The name of a status constant, e.g. "LUARUN_ERR_SYNTAX"; "LUARUN_UNKNOWN_STATUS" for
/// numbers that are not statuses. Static storage, never NULL.
#[no_mangle]
pub extern "C" fn luarun_status_name(status: c_int) -> *const c_char {
    boundary_or(c"LUARUN_UNKNOWN_STATUS".as_ptr(), || {
        status_cname(status).as_ptr()
    })
}

/// The name of a status number, [`luarun_status_name`]'s answer.
pub(crate) fn status_cname(status: c_int) -> &'static CStr {
    match status {
        0 => c"LUARUN_OK",
        1 => c"LUARUN_ERR_SYNTAX",
        2 => c"LUARUN_ERR_RUNTIME",
        3 => c"LUARUN_ERR_MEMORY",
        4 => c"LUARUN_ERR_INTERRUPTED",
        5 => c"LUARUN_ERR_INVALID_ARGUMENT",
        6 => c"LUARUN_ERR_BUFFER_TOO_SMALL",
        7 => c"LUARUN_ERR_TYPE",
        8 => c"LUARUN_ERR_UNSUPPORTED",
        9 => c"LUARUN_ERR_CANCELLED",
        10 => c"LUARUN_ERR_PANIC",
        _ => c"LUARUN_UNKNOWN_STATUS",
    }
}

#[cfg(test)]
mod tests {
    use super::host_object::luarun_host_object_class;
    use super::mandelbrot::luarun_mandelbrot;
    use super::state::luarun_options;
    use super::*;

    /// Every status, by an exhaustive match: a new variant fails to compile here until
    /// it is listed, and the test then checks its name below.
    fn every_status() -> Vec<luarun_status> {
        use luarun_status::*;
        let all = [
            LUARUN_OK,
            LUARUN_ERR_SYNTAX,
            LUARUN_ERR_RUNTIME,
            LUARUN_ERR_MEMORY,
            LUARUN_ERR_INTERRUPTED,
            LUARUN_ERR_INVALID_ARGUMENT,
            LUARUN_ERR_BUFFER_TOO_SMALL,
            LUARUN_ERR_TYPE,
            LUARUN_ERR_UNSUPPORTED,
            LUARUN_ERR_CANCELLED,
            LUARUN_ERR_PANIC,
        ];
        for status in all {
            match status {
                LUARUN_OK
                | LUARUN_ERR_SYNTAX
                | LUARUN_ERR_RUNTIME
                | LUARUN_ERR_MEMORY
                | LUARUN_ERR_INTERRUPTED
                | LUARUN_ERR_INVALID_ARGUMENT
                | LUARUN_ERR_BUFFER_TOO_SMALL
                | LUARUN_ERR_TYPE
                | LUARUN_ERR_UNSUPPORTED
                | LUARUN_ERR_CANCELLED
                | LUARUN_ERR_PANIC => {}
            }
        }
        all.to_vec()
    }

    #[test]
    fn status_names_are_the_enum_names() {
        for status in every_status() {
            // SAFETY: luarun_status_name returns static NUL-terminated strings.
            let name = unsafe { CStr::from_ptr(luarun_status_name(status as c_int)) };
            assert_eq!(name.to_str().unwrap(), format!("{status:?}"));
        }
        let unknown = every_status().len() as c_int;
        // SAFETY: as above.
        let name = unsafe { CStr::from_ptr(luarun_status_name(unknown)) };
        assert_eq!(name.to_str().unwrap(), "LUARUN_UNKNOWN_STATUS");
    }

    /// The listed fields must tile the struct: only padding between them and after the
    /// last, so no field was forgotten (a size ending inside it would go unnoticed).
    fn assert_fields_cover<T: SizedStruct>() {
        let fields = T::fields();
        assert_eq!(
            (fields[0].name, fields[0].offset, fields[0].size),
            ("struct_size", 0, 4)
        );
        for pair in fields.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            assert!(
                before.end() <= after.offset,
                "{}: {:?} overlaps {:?}",
                T::NAME,
                before,
                after
            );
            assert!(
                after.offset - before.end() < after.size.min(8),
                "{}: a field is missing between {} and {}",
                T::NAME,
                before.name,
                after.name
            );
        }
        let last = fields.last().unwrap();
        assert!(
            std::mem::size_of::<T>() - last.end() < std::mem::align_of::<T>(),
            "{}: a field is missing after {}",
            T::NAME,
            last.name
        );
    }

    #[test]
    fn every_sized_struct_lists_all_its_fields() {
        assert_fields_cover::<luarun_options>();
        assert_fields_cover::<luarun_host_object_class>();
        assert_fields_cover::<luarun_mandelbrot>();
    }
}
