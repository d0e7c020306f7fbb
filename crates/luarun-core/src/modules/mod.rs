//! Lua modules: sources the host registers under a name, which `require` loads in any
//! state (sandboxed ones included), and, in states that opened `package`, search paths
//! for Lua modules (`package.path`) and, opted in separately, C modules
//! (`package.cpath`; see `modules/c_searcher.rs` and `modules/provider.rs`).
//!
//! The Lua side (`lua/modules.lua`) is set up the first time a state needs it, so
//! states that never use modules are unchanged (no `require` without `package`).

mod c_searcher;
mod provider;

use mlua::{Function, Lua, Table};

use crate::error::{Error, ErrorKind, Result, Setting};
use crate::options::Libraries;
use crate::state::State;

/// Where the Lua side's functions live in the registry once set up.
const CONTROL: &str = "luarun.modules";

impl State {
    /// Registers `source` as the Lua module `name`: `require(name)` then compiles it as
    /// text under the running call's limits and runs it. Works in every state; without
    /// the package library `require` only sees preloaded modules. A module already
    /// required stays loaded until Lua code clears it.
    pub fn preload(&self, name: &str, source: &[u8]) -> Result<()> {
        self.run(|lua| {
            let preload: Function = control(lua)?.get("preload")?;
            preload.call((name, lua.create_string(source)?))
        })
    }

    /// Sets `package.path`, where `require` looks for Lua modules (`;`-separated
    /// templates, `?` for the name). Needs the package library.
    pub fn set_module_path(&self, path: &[u8]) -> Result<()> {
        let package = self.package("module path")?;
        self.run(|lua| package.set("path", lua.create_string(path)?))
    }

    /// Sets `package.cpath` and lets `require` load C modules from it: native code
    /// that runs with the process's full power, outside every guarantee of the sandbox.
    /// Needs the package library, and refuses ([`ErrorKind::Unsupported`]) when modules
    /// could not be bound to this library's Lua (see `modules/provider.rs`).
    pub fn set_c_module_path(&self, cpath: &[u8]) -> Result<()> {
        let package = self.package("C module path")?;
        provider::ensure_ours().map_err(|why| Error::new(ErrorKind::Unsupported, why))?;
        self.run(|lua| {
            package.set("cpath", lua.create_string(cpath)?)?;
            let module = c_searcher::searcher(lua, package.clone(), c_searcher::Search::Module)?;
            let root = c_searcher::searcher(lua, package.clone(), c_searcher::Search::Root)?;
            let enable: Function = control(lua)?.get("enable_c_modules")?;
            enable.call((module, root))
        })
    }

    /// The state's package table; an error naming `what` needs it when there is none.
    fn package(&self, what: &str) -> Result<Table> {
        let package = self.run(|lua| lua.globals().raw_get::<Option<Table>>("package"))?;
        package.ok_or_else(|| {
            Error::invalid_argument(format!(
                "a {what} needs the package library, which this state does not have: \
                 create it with the package library enabled in its options"
            ))
            .with_setting(Setting::Library(Libraries::PACKAGE))
        })
    }
}

/// The Lua side's functions, set up on first use.
fn control(lua: &Lua) -> mlua::Result<Table> {
    if let Some(control) = lua.named_registry_value::<Option<Table>>(CONTROL)? {
        return Ok(control);
    }
    // SAFETY: a plain C function following the Lua calling convention.
    let load_string = unsafe { lua.create_c_function(crate::compile::load_string)? };
    let control: Table = lua
        .load(include_str!("../../lua/modules.lua"))
        .set_name("=luarun modules")
        .set_mode(mlua::chunk::ChunkMode::Text)
        .call(load_string)?;
    lua.set_named_registry_value(CONTROL, &control)?;
    Ok(control)
}
