//! Every engine, kernel, thread count and format gives exactly the bytes of the plain
//! scalar iteration written in `common`, for awkward sizes, zooms and deep iteration.

mod common;

use common::{params, plain_render, render};
use luarun_render::native::{self, available_isas, Kernel};
use luarun_render::reference::ALL_FORMATS;
use luarun_render::{Engine, Params, PixelFormat, Progress};

fn every_native_kernel() -> Vec<Kernel> {
    available_isas()
        .iter()
        .flat_map(|&isa| {
            [(true, true), (true, false), (false, false)].map(|(shortcuts, mirror)| Kernel {
                isa,
                shortcuts,
                mirror,
            })
        })
        .collect()
}

fn render_native(p: &Params, kernel: Kernel) -> Vec<u8> {
    let mut buf = vec![0u8; p.buffer_size().unwrap()];
    native::render_with(p, &mut buf, &Progress::new(p.height, None), kernel).expect("render");
    buf
}

fn assert_all_native_kernels_exact(p: &Params) {
    let expected = plain_render(p);
    for kernel in every_native_kernel() {
        assert!(
            render_native(p, kernel) == expected,
            "{kernel:?} differs from the plain iteration for {p:?}"
        );
    }
}

fn zoom(width: u32, height: u32, max_iter: u32) -> Params {
    // Seahorse valley: boundary everywhere, long orbits.
    Params {
        x_min: -0.7485,
        x_max: -0.7425,
        y_min: 0.1,
        y_max: 0.106,
        max_iter,
        ..params(width, height, Engine::Native, 3)
    }
}

#[test]
fn native_kernels_are_exact_for_every_size_up_to_70_in_every_format() {
    for side in 1..=70 {
        for format in ALL_FORMATS {
            assert_all_native_kernels_exact(&Params {
                format,
                ..params(side, side, Engine::Native, 2)
            });
        }
    }
}

#[test]
fn native_kernels_are_exact_for_odd_shapes() {
    for (width, height) in [
        (1, 1),
        (7, 3),
        (9, 9),
        (33, 17),
        (1000, 1),
        (1, 1000),
        (333, 333),
    ] {
        for format in ALL_FORMATS {
            assert_all_native_kernels_exact(&Params {
                format,
                ..params(width, height, Engine::Native, 3)
            });
        }
    }
}

#[test]
fn native_kernels_are_exact_on_a_zoom_with_deep_iteration() {
    for format in [PixelFormat::Bits, PixelFormat::CountsU32] {
        assert_all_native_kernels_exact(&Params {
            format,
            ..zoom(67, 45, 2000)
        });
    }
}

#[test]
fn thread_counts_that_do_not_divide_the_height_change_nothing() {
    let one = render(&params(101, 97, Engine::Native, 1));
    for threads in [2, 3, 5, 7, 13, 96, 200] {
        assert_eq!(
            render(&params(101, 97, Engine::Native, threads)),
            one,
            "{threads}"
        );
        assert_eq!(
            render(&params(101, 97, Engine::Lua, threads.min(8))),
            one,
            "{threads}"
        );
    }
}

#[test]
fn lua_engine_is_exact_for_every_size_up_to_70() {
    for side in 1..=70 {
        for format in [PixelFormat::Bits, PixelFormat::CountsU32] {
            let p = Params {
                format,
                ..params(side, side, Engine::Lua, 3)
            };
            assert!(render(&p) == plain_render(&p), "{p:?}");
        }
    }
}

#[test]
fn lua_engine_is_exact_for_odd_shapes_formats_and_zooms() {
    for (width, height) in [(1, 1), (7, 3), (9, 9), (33, 17), (1000, 1), (1, 1000)] {
        for format in ALL_FORMATS {
            let p = Params {
                format,
                ..params(width, height, Engine::Lua, 2)
            };
            assert!(render(&p) == plain_render(&p), "{p:?}");
        }
    }
    let p = Params {
        engine: Engine::Lua,
        format: PixelFormat::CountsU32,
        ..zoom(41, 23, 500)
    };
    assert!(render(&p) == plain_render(&p), "{p:?}");
}

#[test]
fn tiles_reassemble_into_the_whole_image() {
    for engine in [Engine::Native, Engine::Lua] {
        let whole = Params {
            format: PixelFormat::CountsU32,
            ..params(96, 80, engine, 2)
        };
        let expected = render(&whole);
        let mut assembled = vec![0u8; expected.len()];
        for (x_offset, width) in [(0, 40), (40, 56)] {
            for (y_offset, height) in [(0, 33), (33, 47)] {
                let tile = Params {
                    x_offset,
                    y_offset,
                    width,
                    height,
                    ..whole.clone()
                };
                let bytes = render(&tile);
                for row in 0..height as usize {
                    let from = row * width as usize * 4;
                    let to = ((y_offset as usize + row) * 96 + x_offset as usize) * 4;
                    assembled[to..to + width as usize * 4]
                        .copy_from_slice(&bytes[from..from + width as usize * 4]);
                }
            }
        }
        assert!(assembled == expected, "{engine:?}");
    }
}

#[test]
fn overflowing_viewports_keep_the_plain_iterations_nan_semantics() {
    // With |c| near 1e154 and beyond, squares overflow and `inf - inf` gives NaN; NaN is
    // never `> 4.0`, so the plain iteration counts such pixels as never escaping. Every
    // kernel must agree, pixel for pixel, in every format.
    for (x_min, x_max, y_min, y_max) in [
        (-1e300, 1e300, -1e300, 1e300),
        (-1e160, 1e160, -1e155, 1e155),
        (1e154, 3e154, -2e154, 2e154),
    ] {
        for format in ALL_FORMATS {
            for max_iter in [2, 50] {
                let p = Params {
                    x_min,
                    x_max,
                    y_min,
                    y_max,
                    max_iter,
                    format,
                    ..params(19, 13, Engine::Native, 2)
                };
                assert_all_native_kernels_exact(&p);
                let lua = Params {
                    engine: Engine::Lua,
                    ..p.clone()
                };
                assert!(
                    render(&lua) == plain_render(&lua),
                    "Lua engine differs for {lua:?}"
                );
            }
        }
    }
}
