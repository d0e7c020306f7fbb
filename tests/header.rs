//! The checked-in `include/luarun.h` must be exactly what cbindgen generates from the
//! sources. `make header` (LUARUN_BLESS_HEADER=1) rewrites it.

use std::path::Path;

#[test]
fn checked_in_header_matches_a_fresh_generation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let path = root.join("include/luarun.h");
    if std::env::var_os("LUARUN_BLESS_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write include/luarun.h");
        return;
    }
    let text = String::from_utf8_lossy(&fresh);
    for line in text.lines() {
        let name = line
            .strip_prefix("#define ")
            .or_else(|| line.strip_prefix("typedef struct "))
            .map(|rest| rest.split([' ', '(']).next().unwrap_or(""));
        if let Some(name) = name {
            assert!(
                name.starts_with("luarun_") || name.starts_with("LUARUN_"),
                "the header exports `{name}`: only luarun_/LUARUN_ names belong in the C API \
                 (add core items to [export] exclude in cbindgen.toml)"
            );
        }
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/luarun.h is out of date: run `make header` and commit the result"
    );
}
