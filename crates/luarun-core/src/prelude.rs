//! `lua/prelude.lua` (LuaJIT states; Lua 5.4 states have none), compiled once per
//! process: every new state loads the same bytecode instead of parsing the source again,
//! which was most of what a state cost to create.
//!
//! Loading bytecode is safe here although states refuse it for user code: these bytes are
//! our own chunk, dumped by this process's Lua from the source compiled into this binary,
//! and they are loaded (mode "b") only from here, never from anything a script supplies.
//! The dump keeps its debug information, so tracebacks still name `luarun prelude` and
//! the error module can leave its frames out (see `error.rs`).

use std::sync::OnceLock;

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua};

/// The chunk name of the prelude, as tracebacks show it.
const CHUNK_NAME: &str = "=luarun prelude";

const SOURCE: &str = include_str!("../lua/prelude.lua");

/// The prelude's bytecode, dumped the first time a state compiled it.
static BYTECODE: OnceLock<Vec<u8>> = OnceLock::new();

/// The prelude as a function of `lua`, ready to be called with its arguments.
pub(crate) fn load(lua: &Lua) -> mlua::Result<Function> {
    if let Some(bytecode) = BYTECODE.get() {
        return lua
            .load(bytecode.as_slice())
            .set_name(CHUNK_NAME)
            .set_mode(ChunkMode::Binary)
            .into_function();
    }
    let function = lua
        .load(SOURCE)
        .set_name(CHUNK_NAME)
        .set_mode(ChunkMode::Text)
        .into_function()?;
    if BYTECODE.get().is_none() {
        // Not stripped: tracebacks need the chunk name and lines (see the module doc).
        let _ = BYTECODE.set(function.dump(false));
    }
    Ok(function)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytecode_is_the_source_compiled() {
        let lua = Lua::new();
        let compiled = lua
            .load(SOURCE)
            .set_name(CHUNK_NAME)
            .into_function()
            .unwrap();
        load(&lua).unwrap();
        let cached = BYTECODE.get().expect("the first load caches the bytecode");
        assert_eq!(*cached, compiled.dump(false));
        let from_bytecode = load(&lua).unwrap();
        assert_eq!(from_bytecode.info().source.as_deref(), Some(CHUNK_NAME));
    }
}
