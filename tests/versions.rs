//! One version, in one place: the first `version = "..."` line of the root Cargo.toml
//! (`[workspace.package]`). `luarun_version()` and every member crate report it; the
//! other artifacts check it where they are built: the wheel and sdist in
//! tests/python/test_wheel.py, the npm package in bindings/node/test/version.test.js,
//! the pkg-config and CMake files in tests/install/test_install.sh.

use std::ffi::CStr;
use std::path::Path;

fn workspace_version() -> String {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("root Cargo.toml");
    let line = manifest
        .lines()
        .find(|line| line.starts_with("version = \""))
        .expect("a version line");
    line.trim_start_matches("version = \"")
        .trim_end_matches('"')
        .to_string()
}

#[test]
fn the_library_reports_the_workspace_version() {
    // SAFETY: luarun_version returns a static NUL-terminated string.
    let reported = unsafe { CStr::from_ptr(luarun::ffi::luarun_version()) };
    assert_eq!(reported.to_str().unwrap(), workspace_version());
}

#[test]
fn the_node_package_has_the_workspace_version() {
    let package = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bindings/node/package.json"),
    )
    .expect("bindings/node/package.json");
    let expected = format!("\"version\": \"{}\"", workspace_version());
    assert!(
        package.contains(&expected),
        "bindings/node/package.json lacks {expected}: run `npm run generate` in bindings/node"
    );
}
