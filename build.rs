//! Build script: gives the shared library an SONAME equal to its file name, so programs
//! linked against it (by `-lluarun` or by path) record `libluarun.so` (or
//! `libluarun_luajit.so` for the LuaJIT flavor) and find it through the usual search path
//! or their rpath, never through the path it had at link time. It also makes the shared
//! library export the Lua C API of the Lua inside it, for C modules (see
//! `build_support/lua_api.rs`).

#[path = "build_support/lua_api.rs"]
mod lua_api;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_support/lua_api.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let elf = matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd"
    );
    if elf {
        let file = if std::env::var_os("CARGO_FEATURE_LUAJIT").is_some() {
            "libluarun_luajit.so"
        } else {
            "libluarun.so"
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{file}");
    }
    lua_api::configure_exports(elf);
}
