//! Mirror rows: a row whose `ci` is exactly the negation of another rendered row's `ci`
//! is copied instead of computed. The copy must be exact (every format, every budget,
//! tiles, both engines), must happen only for exactly negated rows, and never for a
//! caller's own Lua kernel.

mod common;

use common::{params, plain_render, render};
use luarun_render::mirror::mirror_sources;
use luarun_render::reference::ALL_FORMATS;
use luarun_render::{Engine, Params, RenderOptions};

#[test]
fn mirror_rows_have_exactly_negated_ci_and_their_sources_are_computed() {
    for size in [200, 1280, 1001] {
        let p = params(size, size, Engine::Native, 1);
        let sources = mirror_sources(&p);
        let copies = sources.iter().filter(|s| s.is_some()).count();
        // At the default view about half of the rows above the axis find an exact partner.
        assert!(
            copies > size as usize / 8 && copies < size as usize / 2,
            "{copies} mirror rows of {size}"
        );
        for (y, source) in sources.iter().enumerate() {
            if let Some(source) = *source {
                let (ci, source_ci) = (p.row(y as u32).ci, p.row(source).ci);
                assert_eq!(
                    ci.to_bits(),
                    (-source_ci).to_bits(),
                    "row {y} from {source}"
                );
                assert!(
                    sources[source as usize].is_none(),
                    "source {source} is a copy"
                );
            }
        }
    }
}

#[test]
fn viewports_off_the_axis_have_no_mirror_rows() {
    let p = Params {
        y_min: 0.1,
        y_max: 0.9,
        ..params(64, 64, Engine::Native, 1)
    };
    assert!(mirror_sources(&p).iter().all(Option::is_none));
}

#[test]
fn mirrored_renders_equal_the_plain_iteration() {
    let viewports = [
        (-1.5, 0.5, -1.0, 1.0),
        (-2.0, 1.0, -1.3, 1.3),
        (-0.8, -0.7, -0.05, 0.05),
        (-1.5, 0.5, -0.25, 0.25),
    ];
    for (x_min, x_max, y_min, y_max) in viewports {
        for height in [1, 2, 7, 64, 101] {
            for format in ALL_FORMATS {
                for max_iter in [1, 50, 500] {
                    for engine in [Engine::Native, Engine::Lua] {
                        let p = Params {
                            x_min,
                            x_max,
                            y_min,
                            y_max,
                            max_iter,
                            format,
                            ..params(37, height, engine, 2)
                        };
                        assert!(render(&p) == plain_render(&p), "differs for {p:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn tiles_mirror_only_within_the_rendered_part() {
    // Rows 30 .. 80 of a 100-row image: rows 51 .. 70 may copy rows 30 .. 49; rows
    // 71 .. 79 mirror rows 21 .. 29, which this tile does not render.
    for engine in [Engine::Native, Engine::Lua] {
        let p = Params {
            y_offset: 30,
            image_height: 100,
            ..params(50, 50, engine, 2)
        };
        let sources = mirror_sources(&p);
        assert!(
            sources.iter().any(Option::is_some),
            "no mirror rows in the tile"
        );
        for (y, source) in sources.iter().enumerate().skip(41) {
            assert_eq!(*source, None, "row {} has no partner in the tile", 30 + y);
        }
        assert!(render(&p) == plain_render(&p));
    }
}

#[test]
fn a_callers_lua_kernel_computes_every_row() {
    // This kernel ignores the numeric contract (row y is filled with y): copying a
    // "mirror" row would show up as a wrong byte.
    let kernel = b"function mandelbrot_row(y, p) \
                   return string.rep(string.char(y % 256), math.floor((p.width + 7) / 8)) end";
    let p = params(64, 64, Engine::Lua, 2);
    let mut buf = vec![0u8; p.buffer_size().unwrap()];
    let options = RenderOptions {
        lua_kernel: Some(kernel),
        ..Default::default()
    };
    luarun_render::render(&p, &mut buf, &options).unwrap();
    for (y, row) in buf.chunks(8).enumerate() {
        assert!(row.iter().all(|&b| b as usize == y), "row {y}: {row:?}");
    }
}

#[test]
fn progress_counts_mirror_rows_and_reaches_the_total() {
    for engine in [Engine::Native, Engine::Lua] {
        let p = params(128, 128, engine, 2);
        let last = std::sync::Mutex::new((0, 0));
        let callback = |done: u32, total: u32| {
            *last.lock().unwrap() = (done, total);
            false
        };
        let mut buf = vec![0u8; p.buffer_size().unwrap()];
        let options = RenderOptions {
            progress: Some(&callback),
            ..Default::default()
        };
        luarun_render::render(&p, &mut buf, &options).unwrap();
        assert_eq!(*last.lock().unwrap(), (128, 128), "{engine:?}");
    }
}
