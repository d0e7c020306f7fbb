//! The Lua engine's pools kept between renders are bounded by the states they hold,
//! expire when idle, and `luarun_mandelbrot_release_pools` closes them at once.
//!
//! One test function: the cache is process-wide, so its steps must not interleave
//! with other tests of this file.

use std::time::Duration;

use luarun::ffi::mandelbrot::luarun_mandelbrot_release_pools;
use luarun_render::idle_pools::{self, MAX_IDLE_STATES};
use luarun_render::{Engine, Params, RenderOptions};

fn render_with(threads: u32, kernel: Option<&[u8]>) {
    let params = Params {
        width: 16,
        height: 16,
        image_width: 16,
        image_height: 16,
        engine: Engine::Lua,
        threads,
        ..Params::default()
    };
    let mut buf = vec![0u8; params.buffer_size().unwrap()];
    let options = RenderOptions {
        lua_kernel: kernel,
        ..RenderOptions::default()
    };
    luarun_render::render(&params, &mut buf, &options).expect("render");
}

/// The built-in kernel with a comment that makes its source (the cache key) unique.
fn kernel(n: usize) -> Vec<u8> {
    format!("{}\n-- variant {n}\n", luarun_render::lua::BUILTIN_KERNEL).into_bytes()
}

#[test]
fn idle_pools_are_bounded_expire_and_can_be_released() {
    luarun_mandelbrot_release_pools();
    assert_eq!(idle_pools::idle_states(), 0);

    // Reuse: the same threads and kernel twice keep one pool.
    render_with(3, None);
    render_with(3, None);
    assert_eq!(idle_pools::idle_states(), 3);

    // Many kernels and thread counts: never more than the bound.
    for n in 0..12 {
        let source = kernel(n);
        render_with(1 + (n as u32 % 8), Some(&source));
        let held = idle_pools::idle_states();
        assert!(
            held <= MAX_IDLE_STATES,
            "{held} idle states after {n} kernels"
        );
    }
    assert!(idle_pools::idle_states() > 0);

    // A pool larger than the whole bound is not kept at all.
    luarun_mandelbrot_release_pools();
    render_with(MAX_IDLE_STATES as u32 + 1, None);
    assert_eq!(idle_pools::idle_states(), 0);

    // Released at once.
    render_with(2, None);
    assert_eq!(idle_pools::idle_states(), 2);
    luarun_mandelbrot_release_pools();
    assert_eq!(idle_pools::idle_states(), 0);

    // Expired after the idle lifetime.
    idle_pools::set_idle_lifetime(Duration::from_millis(50));
    render_with(2, None);
    assert_eq!(idle_pools::idle_states(), 2);
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(
        idle_pools::idle_states(),
        0,
        "an idle pool outlived its lifetime"
    );
    idle_pools::set_idle_lifetime(idle_pools::DEFAULT_IDLE_LIFETIME);

    // And renders still work after all that.
    render_with(2, None);
}
