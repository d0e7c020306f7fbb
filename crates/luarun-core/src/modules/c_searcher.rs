//! `require`'s searchers for C modules, in states whose host set a C module path.
//!
//! mlua removes Lua's own C searchers from every state (they would open any library on
//! `package.cpath`); these replace them where the host asked for C modules. They follow
//! Lua 5.4's `searcher_C` and `searcher_Croot` (names, messages, the hyphen rule, which
//! tries the name before the first `-` and then the one after it), and differ in three
//! ways: the library is opened only after [`provider::ensure_ours`] said its `lua_*`
//! calls will bind to this state's Lua; it is opened `RTLD_NOW | RTLD_LOCAL`, never
//! global; and it is never closed (a module's functions may outlive any one state).

use std::ffi::{CStr, CString};

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};

use super::provider;

/// Whether a searcher looks for the module itself or for its root's library.
#[derive(Clone, Copy)]
pub(crate) enum Search {
    /// `a.b.c` in the file `a/b/c.so`, opened by `luaopen_a_b_c` (Lua's searcher 3).
    Module,
    /// `a.b.c` in the file `a.so`, opened by `luaopen_a_b_c` (Lua's searcher 4).
    Root,
}

/// The searcher as a Lua function; `package` is the state's package table.
pub(crate) fn searcher(lua: &Lua, package: Table, search: Search) -> mlua::Result<Function> {
    lua.create_function(move |lua, name: mlua::LuaString| {
        let name = name.to_str()?.to_owned();
        search_module(lua, &package, &name, search)
    })
}

fn search_module(
    lua: &Lua,
    package: &Table,
    name: &str,
    search: Search,
) -> mlua::Result<MultiValue> {
    let file_name = match search {
        Search::Module => name,
        Search::Root => match name.split_once('.') {
            Some((root, _)) => root,
            // A root module is searcher 3's to find.
            None => return Ok(MultiValue::new()),
        },
    };
    let cpath = match package.get::<Value>("cpath")? {
        Value::String(cpath) => cpath,
        _ => return Err(mlua::Error::runtime("'package.cpath' must be a string")),
    };
    let searchpath: Function = package.get("searchpath")?;
    let (found, not_found): (Option<mlua::LuaString>, Value) =
        searchpath.call((file_name, cpath))?;
    let Some(file) = found else {
        return Ok(MultiValue::from_vec(vec![not_found]));
    };
    let file = file.to_str()?.to_owned();
    let loading_error = |why: &str| {
        mlua::Error::runtime(format!(
            "error loading module '{name}' from file '{file}':\n\t{why}"
        ))
    };
    provider::ensure_ours().map_err(|why| loading_error(&why))?;
    let library = open_library(&file).map_err(|why| loading_error(&why))?;
    match open_function(library, name) {
        // SAFETY: a C module's luaopen_ function follows the lua_CFunction convention
        // and was compiled against this Lua (the path is the host's choice).
        Some(open) => Ok(MultiValue::from_vec(vec![
            Value::Function(unsafe { lua.create_c_function(open)? }),
            Value::String(lua.create_string(&file)?),
        ])),
        None => match search {
            Search::Module => Err(loading_error(&format!(
                "undefined symbol: {}",
                open_function_names(name).join(" or ")
            ))),
            Search::Root => {
                let lead = if cfg!(feature = "luajit") { "\n\t" } else { "" };
                let message = format!("{lead}no module '{name}' in file '{file}'");
                Ok(MultiValue::from_vec(vec![Value::String(
                    lua.create_string(message)?,
                )]))
            }
        },
    }
}

/// Opens the library at `file` for this process's lifetime.
fn open_library(file: &str) -> Result<*mut std::ffi::c_void, String> {
    let path = CString::new(file).map_err(|_| "the file name holds a NUL byte".to_string())?;
    // SAFETY: dlopen with a NUL-terminated path; the handle is never closed.
    let library = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if library.is_null() {
        Err(last_dl_error())
    } else {
        Ok(library)
    }
}

/// The module's `luaopen_` function, by the names [`open_function_names`] gives.
fn open_function(library: *mut std::ffi::c_void, name: &str) -> Option<ffi::lua_CFunction> {
    open_function_names(name).into_iter().find_map(|symbol| {
        let symbol = CString::new(symbol).ok()?;
        // SAFETY: dlsym on a live handle with a NUL-terminated name.
        let address = unsafe { libc::dlsym(library, symbol.as_ptr()) };
        // SAFETY: luaopen_ symbols are lua_CFunctions by Lua's convention.
        (!address.is_null()).then(|| unsafe {
            std::mem::transmute::<*mut std::ffi::c_void, ffi::lua_CFunction>(address)
        })
    })
}

/// `luaopen_` plus the name with dots as underscores; with a hyphen, Lua 5.4 tries the
/// part before it first (`a.b-v2` is `luaopen_a_b`), then, as Lua 5.1 does, the part
/// after it.
fn open_function_names(name: &str) -> Vec<String> {
    let symbol = |part: &str| format!("luaopen_{}", part.replace('.', "_"));
    match name.split_once('-') {
        Some((before, after)) => vec![symbol(before), symbol(after)],
        None => vec![symbol(name)],
    }
}

fn last_dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated message.
    let message = unsafe { libc::dlerror() };
    if message.is_null() {
        "the library could not be opened".into()
    } else {
        // SAFETY: as above.
        unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    }
}
