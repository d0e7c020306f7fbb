//! Long renders stop soon after their progress callback cancels, in every engine and
//! kernel, even when no row can finish in time; and the callback is called every few
//! milliseconds of work, not only when rows finish.
//!
//! The slow renders sit just right of the cardioid's cusp at c = 1/4: every pixel is
//! outside the set, so no shortcut claims it, but its orbit creeps past the cusp for
//! millions of steps (about pi / sqrt(c - 1/4) = 3 million on the real axis, more off
//! it), so a 64 x 64 render takes seconds at the least. The bounds asserted are
//! generous (a cancel lands within about a millisecond): they only tell "stopped
//! inside the rows" from "ran the rows to the end".

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use luarun_core::error::ErrorKind;
use luarun_render::native::{self, available_isas, Kernel};
use luarun_render::{Engine, Params, PixelFormat, Progress, RenderOptions};

/// Far below the seconds an uncancelled slow render takes here.
const STOPPED_WITHIN: Duration = Duration::from_secs(2);

/// A `width` x `height` render just right of the cusp (see the module comment).
fn slow_params(width: u32, height: u32, max_iter: u32, engine: Engine) -> Params {
    Params {
        width,
        height,
        image_width: width,
        image_height: height,
        max_iter,
        x_min: 0.25 + 1e-12,
        x_max: 0.25 + 2e-12,
        y_min: -0.5e-12,
        y_max: 0.5e-12,
        threads: 2,
        engine,
        ..Params::default()
    }
}

/// A render deep inside the cardioid: the brute-force kernels iterate every pixel the
/// whole budget, the others settle all of them at once.
fn interior_params(width: u32, height: u32, max_iter: u32) -> Params {
    Params {
        x_min: -0.5,
        x_max: -0.2,
        y_min: -0.2,
        y_max: 0.2,
        threads: 1,
        ..slow_params(width, height, max_iter, Engine::Native)
    }
}

fn every_native_kernel() -> Vec<Kernel> {
    available_isas()
        .iter()
        .flat_map(|&isa| {
            [true, false].map(|shortcuts| Kernel {
                isa,
                shortcuts,
                mirror: shortcuts,
            })
        })
        .collect()
}

/// What a callback that cancels at once saw, and how long the render took.
struct Cancelled {
    elapsed: Duration,
    calls: u32,
    first_rows_done: u32,
}

/// Renders with a callback that cancels on its first call; asserts the render says so.
fn cancel_at_first_call(
    render: impl FnOnce(&(dyn Fn(u32, u32) -> bool + Sync)) -> ErrorKind,
) -> Cancelled {
    let calls = AtomicU32::new(0);
    let first_rows_done = AtomicU32::new(u32::MAX);
    let callback = |done: u32, _total: u32| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            first_rows_done.store(done, Ordering::SeqCst);
        }
        true
    };
    let start = Instant::now();
    let kind = render(&callback);
    let elapsed = start.elapsed();
    assert_eq!(kind, ErrorKind::Cancelled);
    Cancelled {
        elapsed,
        calls: calls.load(Ordering::SeqCst),
        first_rows_done: first_rows_done.load(Ordering::SeqCst),
    }
}

fn render_native(
    params: &Params,
    kernel: Kernel,
    callback: &(dyn Fn(u32, u32) -> bool + Sync),
) -> ErrorKind {
    let mut buf = vec![0u8; params.buffer_size().unwrap()];
    let progress = Progress::new(params.height, Some(callback));
    native::render_with(params, &mut buf, &progress, kernel).expect("render runs");
    progress.finish().expect_err("the callback cancels").kind
}

fn render_engine(params: &Params, callback: &(dyn Fn(u32, u32) -> bool + Sync)) -> ErrorKind {
    let mut buf = vec![0u8; params.buffer_size().unwrap()];
    let options = RenderOptions {
        progress: Some(callback),
        ..RenderOptions::default()
    };
    luarun_render::render(params, &mut buf, &options)
        .expect_err("the callback cancels")
        .kind
}

#[test]
fn every_native_kernel_stops_inside_slow_rows() {
    for kernel in every_native_kernel() {
        for format in [PixelFormat::Bits, PixelFormat::CountsU32] {
            let params = Params {
                format,
                ..slow_params(64, 64, u32::MAX, Engine::Native)
            };
            let seen = cancel_at_first_call(|callback| render_native(&params, kernel, callback));
            assert!(
                seen.elapsed < STOPPED_WITHIN,
                "{kernel:?} {format:?}: cancelled after {:?}",
                seen.elapsed
            );
            assert_eq!(
                seen.calls, 1,
                "{kernel:?} {format:?}: no call after the cancel"
            );
            assert_eq!(
                seen.first_rows_done, 0,
                "{kernel:?} {format:?}: the first call came before any row finished"
            );
        }
    }
}

#[test]
fn brute_force_kernels_stop_inside_a_single_pixel() {
    // One pixel of 2^32 - 1 steps that never escapes: only a poll inside its orbit can
    // stop it.
    for &isa in available_isas() {
        let kernel = Kernel {
            isa,
            shortcuts: false,
            mirror: false,
        };
        let params = interior_params(1, 1, u32::MAX);
        let seen = cancel_at_first_call(|callback| render_native(&params, kernel, callback));
        assert!(
            seen.elapsed < STOPPED_WITHIN,
            "{isa:?}: cancelled after {:?}",
            seen.elapsed
        );
        assert_eq!(seen.first_rows_done, 0, "{isa:?}");
    }
}

#[test]
fn native_wide_rows_of_short_orbits_stop_inside_the_row() {
    // Each pixel takes 4000 steps at most, but a row has 2^20 of them.
    let params = slow_params(1 << 20, 4, 4000, Engine::Native);
    let seen = cancel_at_first_call(|callback| render_engine(&params, callback));
    assert!(
        seen.elapsed < STOPPED_WITHIN,
        "cancelled after {:?}",
        seen.elapsed
    );
    assert_eq!(seen.first_rows_done, 0);
}

#[test]
fn lua_engine_stops_inside_slow_rows() {
    for format in [PixelFormat::Bits, PixelFormat::CountsU32] {
        let params = Params {
            format,
            ..slow_params(64, 8, u32::MAX, Engine::Lua)
        };
        let seen = cancel_at_first_call(|callback| render_engine(&params, callback));
        assert!(
            seen.elapsed < STOPPED_WITHIN,
            "{format:?}: cancelled after {:?}",
            seen.elapsed
        );
        assert_eq!(seen.calls, 1, "{format:?}: no call after the cancel");
        assert_eq!(seen.first_rows_done, 0, "{format:?}");
    }
}

#[test]
fn lua_engine_stops_inside_wide_rows_of_short_orbits() {
    // Budgets below 200 take the kernel's inline loop, which polls per byte of pixels.
    for format in [PixelFormat::Bits, PixelFormat::CountsU32] {
        let params = Params {
            format,
            ..slow_params(1 << 20, 2, 199, Engine::Lua)
        };
        let seen = cancel_at_first_call(|callback| render_engine(&params, callback));
        assert!(
            seen.elapsed < STOPPED_WITHIN,
            "{format:?}: cancelled after {:?}",
            seen.elapsed
        );
        assert_eq!(seen.first_rows_done, 0, "{format:?}");
    }
}

#[test]
fn a_cancelled_lua_pool_renders_again() {
    // The pool goes back to the cache after a cancel; the next render on it is whole.
    let params = slow_params(64, 8, u32::MAX, Engine::Lua);
    cancel_at_first_call(|callback| render_engine(&params, callback));
    let quick = Params {
        max_iter: 50,
        ..Params::default()
    };
    let lua = Params {
        engine: Engine::Lua,
        threads: 2,
        ..quick.clone()
    };
    let mut expected = vec![0u8; quick.buffer_size().unwrap()];
    luarun_render::render(&quick, &mut expected, &RenderOptions::default()).unwrap();
    let mut got = vec![0u8; lua.buffer_size().unwrap()];
    luarun_render::render(&lua, &mut got, &RenderOptions::default()).unwrap();
    assert!(got == expected);
}

/// Renders `params` with a callback that never cancels; returns the calls it got.
fn calls_of_a_whole_render(params: &Params) -> Vec<(u32, u32)> {
    let calls = Mutex::new(Vec::new());
    let callback = |done: u32, total: u32| {
        calls.lock().unwrap().push((done, total));
        false
    };
    let mut buf = vec![0u8; params.buffer_size().unwrap()];
    let options = RenderOptions {
        progress: Some(&callback),
        ..RenderOptions::default()
    };
    luarun_render::render(params, &mut buf, &options).expect("render");
    calls.into_inner().unwrap()
}

fn assert_reports_while_rows_run(params: &Params) {
    let start = Instant::now();
    let calls = calls_of_a_whole_render(params);
    let elapsed = start.elapsed();
    let total = params.height;
    assert_eq!(calls.last(), Some(&(total, total)), "{:?}", params.engine);
    assert!(
        calls.windows(2).all(|pair| pair[0].0 <= pair[1].0),
        "rows_done never decreases: {calls:?}"
    );
    // One row (the whole render is one row) would give a single call at the end;
    // reports every 10 ms give dozens in a render of a few hundred milliseconds.
    assert!(
        calls.len() >= 4,
        "{:?}: {} calls in {elapsed:?}: {calls:?}",
        params.engine,
        calls.len()
    );
}

#[test]
fn native_progress_is_reported_while_a_row_runs() {
    // One row, a few hundred milliseconds of brute force (the interior never escapes).
    let params = Params {
        threads: 2,
        ..interior_params(48, 1, 1 << 22)
    };
    let brute = Kernel {
        shortcuts: false,
        mirror: false,
        ..Kernel::best()
    };
    let calls = Mutex::new(Vec::new());
    let callback = |done: u32, total: u32| {
        calls.lock().unwrap().push((done, total));
        false
    };
    let mut buf = vec![0u8; params.buffer_size().unwrap()];
    let progress = Progress::new(params.height, Some(&callback));
    native::render_with(&params, &mut buf, &progress, brute).unwrap();
    progress.finish().unwrap();
    let calls = calls.into_inner().unwrap();
    assert_eq!(calls.last(), Some(&(1, 1)));
    assert!(calls.len() >= 4, "{} calls: {calls:?}", calls.len());
    assert!(
        calls[..calls.len() - 1].iter().all(|&call| call == (0, 1)),
        "{calls:?}"
    );
}

#[test]
fn lua_progress_is_reported_while_a_row_runs() {
    // One row of pixels of 2 million steps each: LuaJIT takes about 8 ms a pixel, Lua
    // 5.4 about 110 ms, so a few hundred milliseconds either way.
    let pixels = if cfg!(feature = "luajit") { 16 } else { 4 };
    let params = Params {
        threads: 1,
        ..slow_params(pixels, 1, 2_000_000, Engine::Lua)
    };
    assert_reports_while_rows_run(&params);
}

#[test]
fn polling_changes_no_count() {
    // Orbits of 75 000 to 200 000 steps around the cusp (escaping right of it on the
    // real axis, bounded elsewhere) cross many poll points of every kernel: native
    // stretches end wherever a thread's budget runs out, the Lua kernel's every 65536
    // steps.
    for format in [PixelFormat::CountsU32, PixelFormat::Bits] {
        let p = Params {
            width: 12,
            height: 2,
            image_width: 12,
            image_height: 2,
            max_iter: 200_000,
            x_min: 0.25 - 1e-9,
            x_max: 0.25 + 2e-9,
            // Row 0 is the real axis.
            y_min: 0.0,
            y_max: 2e-9,
            threads: 2,
            format,
            ..Params::default()
        };
        let counts = common::plain_counts(&p);
        assert!(
            counts.iter().any(|&c| c > 65_536 && c < p.max_iter),
            "{counts:?}"
        );
        assert!(counts.contains(&p.max_iter), "{counts:?}");
        let expected = common::plain_render(&p);
        for kernel in every_native_kernel() {
            let mut buf = vec![0u8; p.buffer_size().unwrap()];
            native::render_with(&p, &mut buf, &Progress::new(p.height, None), kernel).unwrap();
            assert!(buf == expected, "{kernel:?} {format:?}");
        }
        let lua = Params {
            engine: Engine::Lua,
            ..p.clone()
        };
        assert!(common::render(&lua) == expected, "Lua engine, {format:?}");
    }
}
