//! Both engines reproduce the Benchmarks Game's published P4 files bit for bit, for any
//! thread count, including counts that do not divide the height.

mod common;

use common::{md5_hex, params, pbm_md5};
use luarun_render::Engine;

const MD5_200: &str = "cc65e64bd553ed18896de1dfe7fae3e5";
const MD5_1280: &str = "78569dd915415503b8f03f7013c47891";

#[test]
fn md5_helper_matches_rfc_1321_examples() {
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
}

#[test]
fn native_engine_matches_published_md5_for_every_thread_count() {
    for threads in [1, 2, 3, 7] {
        assert_eq!(
            pbm_md5(&params(200, 200, Engine::Native, threads)),
            MD5_200,
            "{threads} threads"
        );
        assert_eq!(
            pbm_md5(&params(1280, 1280, Engine::Native, threads)),
            MD5_1280,
            "{threads} threads"
        );
    }
}

#[test]
fn lua_engine_matches_published_md5_for_every_thread_count() {
    for threads in [1, 2, 3, 7] {
        assert_eq!(
            pbm_md5(&params(200, 200, Engine::Lua, threads)),
            MD5_200,
            "{threads} threads"
        );
    }
    for threads in [2, 7] {
        assert_eq!(
            pbm_md5(&params(1280, 1280, Engine::Lua, threads)),
            MD5_1280,
            "{threads} threads"
        );
    }
}
