//! The Lua test-suite runner (examples/lua_suite.rs) loads the suite's C libraries
//! (`testes/libs/*.so`), which take the Lua C API from the executable: export it.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-examples=-Wl,--export-dynamic");
    }
}
