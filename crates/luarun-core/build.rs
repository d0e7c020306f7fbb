//! Build script: writes the names of the vendored Lua's C API (`lua_api_names.rs`), for
//! the run-time check of which library provides them (`src/modules/provider.rs`). The
//! C API crate's build script makes the shared library export them, from the same
//! source (`build_support/lua_api.rs` at the workspace root). The Lua test-suite runner
//! (examples/lua_suite.rs) loads the suite's C libraries (`testes/libs/*.so`), which take
//! the Lua C API from the executable: it exports its symbols.

#[path = "../../build_support/lua_api.rs"]
mod lua_api;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../../build_support/lua_api.rs");
    lua_api::write_names();
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-examples=-Wl,--export-dynamic");
    }
}
