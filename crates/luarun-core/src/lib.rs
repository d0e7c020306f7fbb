//! luarun's safe core: Lua states and their options, limits (count hook and watchdog),
//! errors, host objects, pools of states and progress reporting.
//!
//! Nothing here speaks C: the `luarun` crate's shells check and convert C arguments and
//! call into this crate; errors carry a kind, a stop reason and the option involved, which
//! each binding words in its own vocabulary.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod addresses;
pub mod compile;
pub mod coroutines;
pub mod cstack;
pub mod error;
pub mod fallible;
#[cfg(feature = "lua54")]
pub mod guards;
pub mod heap;
mod host_function;
pub mod host_object;
pub mod limits;
pub mod map;
pub mod modules;
pub mod options;
pub mod pool;
#[cfg(feature = "luajit")]
pub(crate) mod prelude;
pub mod print;
pub mod progress;
pub mod raised;
mod raw;
pub mod state;
pub mod string_patterns;
#[cfg(feature = "lua54")]
mod text_loaders;

pub use mlua;
