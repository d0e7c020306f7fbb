//! Which library gives C modules their Lua C API.
//!
//! A C module (`lpeg.so`, `cjson.so`) calls `lua_*` functions it does not define; the
//! dynamic linker binds them when the module is opened, to the first definition in the
//! process's global scope (the program, its libraries, then libraries opened with
//! `RTLD_GLOBAL`). That binding is process-wide: whichever library provides those names
//! serves every module, whatever state requires it. Both flavors of luarun export the
//! same names, so a module opened for a Lua 5.4 state while LuaJIT's library provides
//! them would run LuaJIT's functions on a Lua 5.4 state: a crash.
//!
//! So before a module is opened, [`ensure_ours`] makes sure that every name of the Lua
//! C API the process resolves comes from the library this code is in. Where nobody
//! provides them yet (a library opened `RTLD_LOCAL`, as Python's ctypes does), it makes
//! this library global first (`dlopen(self, RTLD_NOLOAD | RTLD_GLOBAL)`). Where another
//! library provides them (the other flavor, a system liblua), it refuses with a message
//! naming that library. The library's own calls into its Lua never go astray either way:
//! it is linked with `-Bsymbolic` (see `build_support/lua_api.rs`).

use std::ffi::{c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

include!(concat!(env!("OUT_DIR"), "/lua_api_names.rs"));

/// Set once every name resolved to this library; it stays so (libraries opened later
/// come after it in the global scope).
static CONFIRMED: AtomicBool = AtomicBool::new(false);
/// One check (and promotion) at a time.
static CHECKING: Mutex<()> = Mutex::new(());

/// The Lua this library holds, for messages.
const FLAVOR: &str = if cfg!(feature = "luajit") {
    "LuaJIT"
} else {
    "Lua 5.4"
};

/// A loaded object: where it starts in memory and its file name.
struct Object {
    base: *mut c_void,
    file: String,
}

/// Who the process's global scope takes the Lua C API from.
enum Provider {
    /// This library (names it does not define may be missing).
    Ours,
    /// Nobody: no name resolves.
    Nobody,
    /// Another object, found through `name`.
    Other { name: &'static str, file: String },
}

/// Ok when C modules opened now bind to this library's Lua; otherwise why not, in a
/// message the user can act on.
pub(crate) fn ensure_ours() -> Result<(), String> {
    if CONFIRMED.load(Ordering::Acquire) {
        return Ok(());
    }
    let _one_at_a_time = CHECKING.lock();
    let ours = object_at(ensure_ours as *const c_void)
        .ok_or("cannot tell which library luarun is loaded from (dladdr failed)")?;
    let mut provider = global_provider(&ours);
    if matches!(provider, Provider::Nobody) {
        make_global(&ours);
        provider = global_provider(&ours);
    }
    match provider {
        Provider::Ours => {
            CONFIRMED.store(true, Ordering::Release);
            Ok(())
        }
        Provider::Nobody => Err(format!(
            "C modules cannot be loaded: {} does not export the Lua C API ({FLAVOR}'s \
             lua_* functions), so a module's calls could not be bound to it. A program \
             that links luarun statically must export it (link with -Wl,--export-dynamic); \
             a libluarun built without LLD does not export it (see the build warning)",
            ours.file
        )),
        Provider::Other { name, file } => Err(format!(
            "C modules cannot be loaded by {} ({FLAVOR}): this process already takes the \
             Lua C API ({name} and the rest) from {file}, and a C module binds to that \
             library whatever state requires it. One process loads C modules for one Lua \
             only: the first luarun library to load one (or a Lua the program links) \
             provides the API. Use C modules from one flavor per process, or a separate \
             process",
            ours.file
        )),
    }
}

/// Where each name of the API resolves in the global scope. (Not `RTLD_DEFAULT`: from
/// inside a library, glibc searches the caller's own local scope with it too, where
/// this library always finds itself; the main program's handle searches the global
/// scope only: the program, its libraries, then those opened `RTLD_GLOBAL`.)
fn global_provider(ours: &Object) -> Provider {
    // SAFETY: dlopen(NULL) returns the main program's handle; it is never closed.
    let global = unsafe { libc::dlopen(std::ptr::null(), libc::RTLD_NOW) };
    if global.is_null() {
        return Provider::Nobody;
    }
    let mut found = false;
    for &name in LUA_API_NAMES {
        let Ok(symbol) = CString::new(name) else {
            continue;
        };
        // SAFETY: dlsym with a live handle and a NUL-terminated name.
        let address = unsafe { libc::dlsym(global, symbol.as_ptr()) };
        if address.is_null() {
            continue;
        }
        match object_at(address) {
            Some(object) if object.base == ours.base => found = true,
            Some(object) => {
                return Provider::Other {
                    name,
                    file: object.file,
                }
            }
            None => {
                return Provider::Other {
                    name,
                    file: "an unknown object".into(),
                }
            }
        }
    }
    if found {
        Provider::Ours
    } else {
        Provider::Nobody
    }
}

/// Adds this library to the global scope. A failure shows in the check that follows.
fn make_global(ours: &Object) {
    let Ok(file) = CString::new(ours.file.as_str()) else {
        return;
    };
    // SAFETY: RTLD_NOLOAD only finds the already loaded object (taking one more
    // reference, never released: modules opened later depend on it).
    unsafe {
        libc::dlopen(
            file.as_ptr(),
            libc::RTLD_NOLOAD | libc::RTLD_NOW | libc::RTLD_GLOBAL,
        );
    }
}

/// The object holding `address`.
fn object_at(address: *const c_void) -> Option<Object> {
    // SAFETY: Dl_info is plain data (pointers and integers): all zeros is valid.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables and writes `info`.
    if unsafe { libc::dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
    let file = unsafe { CStr::from_ptr(info.dli_fname) }
        .to_string_lossy()
        .into_owned();
    Some(Object {
        base: info.dli_fbase,
        file,
    })
}
