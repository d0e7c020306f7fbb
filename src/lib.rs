//! luarun: Lua states and threaded Mandelbrot renders behind a stable C ABI.
//!
//! The C API lives in [`ffi`] (header: `include/luarun.h`); everything else is safe Rust
//! that the C shells call. See `README.md` for the API conventions.

pub mod addresses;
pub mod compile;
pub mod coroutines;
pub mod cstack;
pub mod error;
pub mod fallible;
pub mod ffi;
pub mod heap;
pub mod hook;
pub mod host_object;
pub mod limits;
pub mod mandelbrot;
pub mod map;
pub mod modules;
pub mod options;
pub mod pattern;
pub mod pool;
pub mod print;
pub mod raised;
pub mod state;
pub mod watchdog;
