//! Build script: writes the names of the vendored Lua's C API (`lua_api_names.rs`), for
//! the run-time check of which library provides them (`src/modules/provider.rs`). The
//! C API crate's build script makes the shared library export them, from the same
//! source (`build_support/lua_api.rs` at the workspace root).

#[path = "../../build_support/lua_api.rs"]
mod lua_api;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../../build_support/lua_api.rs");
    lua_api::write_names();
}
