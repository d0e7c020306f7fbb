//! Build script: gives the shared library an SONAME equal to its file name, so programs
//! linked against it (by `-lluarun` or by path) record `libluarun.so` (or
//! `libluarun_luajit.so` for the LuaJIT flavor) and find it through the usual search path
//! or their rpath, never through the path it had at link time.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd"
    ) {
        let file = if std::env::var_os("CARGO_FEATURE_LUAJIT").is_some() {
            "libluarun_luajit.so"
        } else {
            "libluarun.so"
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{file}");
    }
}
