//! The shortcuts are exact: every point the cardioid/bulb test claims never escapes under
//! the plain iteration, and periodicity checking never changes a count, checked right at
//! the edges of the claimed regions, at the true boundaries and deep inside zooms.

mod common;

use common::{params, plain_count, plain_render};
use luarun::mandelbrot::native::{self, available_isas, Kernel};
use luarun::mandelbrot::shortcut::{escape_count, is_bounded};
use luarun::mandelbrot::{Engine, Params, PixelFormat, Progress};

/// `c` whose cardioid multiplier is `lambda = r * e^(i t)`: `c = lambda/2 - lambda^2/4`.
fn cardioid_point(r: f64, t: f64) -> (f64, f64) {
    let (lr, li) = (r * t.cos(), r * t.sin());
    (
        lr / 2.0 - (lr * lr - li * li) / 4.0,
        li / 2.0 - (2.0 * lr * li) / 4.0,
    )
}

/// `c` on the circle of radius `r / 4` around -1 (period-2 multiplier `4(c+1)`, |.| = r).
fn bulb_point(r: f64, t: f64) -> (f64, f64) {
    (-1.0 + r / 4.0 * t.cos(), r / 4.0 * t.sin())
}

const DEEP: u32 = 20_000;

#[test]
fn claimed_points_never_escape_on_the_edge_of_the_claimed_regions() {
    let mut claimed = 0;
    for i in 0..2000 {
        let t = i as f64 / 2000.0 * std::f64::consts::TAU;
        for r in [0.5, 0.9, 0.985, 0.98999, 0.99, 0.99001] {
            for (cr, ci) in [cardioid_point(r, t), bulb_point(r, t)] {
                if is_bounded(cr, ci) {
                    claimed += 1;
                    assert_eq!(plain_count(cr, ci, DEEP), DEEP, "c = {cr} + {ci}i escapes");
                }
            }
        }
    }
    assert!(
        claimed > 16_000,
        "the test must exercise the claim, got {claimed} points"
    );
}

#[test]
fn the_claimed_regions_stop_short_of_the_true_boundary() {
    for i in 0..1000 {
        let t = i as f64 / 1000.0 * std::f64::consts::TAU;
        for (cr, ci) in [cardioid_point(0.995, t), bulb_point(0.995, t)] {
            assert!(
                !is_bounded(cr, ci),
                "c = {cr} + {ci}i is claimed beyond the margin"
            );
        }
    }
}

#[test]
fn periodicity_checking_never_changes_a_count() {
    // Points around the true cardioid and bulb boundaries, the period-3 bulb, the needle
    // and the edges of the plane, at several iteration budgets.
    let mut points = Vec::new();
    for i in 0..600 {
        let t = i as f64 / 600.0 * std::f64::consts::TAU;
        for r in [0.995, 0.9999, 1.0, 1.0001, 1.01] {
            points.push(cardioid_point(r, t));
            points.push(bulb_point(r, t));
        }
        let s = i as f64 / 600.0;
        points.push((-0.1225 + 0.02 * t.cos() * s, 0.7449 + 0.02 * t.sin() * s));
        points.push((-2.0 + 0.3 * s, 1e-3 * t.sin()));
        points.push((-1.5 + 2.0 * s, -1.0 + 2.0 * s * s));
    }
    for max_iter in [1, 2, 9, 50, 777, 5000] {
        for &(cr, ci) in &points {
            assert_eq!(
                escape_count(cr, ci, max_iter),
                plain_count(cr, ci, max_iter),
                "c = {cr} + {ci}i, max_iter {max_iter}"
            );
        }
    }
}

fn assert_kernels_exact(p: &Params) {
    let expected = plain_render(p);
    for &isa in available_isas() {
        let kernel = Kernel {
            isa,
            shortcuts: true,
        };
        let mut buf = vec![0u8; p.buffer_size().unwrap()];
        native::render_with(p, &mut buf, &Progress::new(p.height, None), kernel);
        assert!(buf == expected, "{kernel:?} differs for {p:?}");
    }
}

#[test]
fn vector_kernels_with_shortcuts_are_exact_on_boundary_zooms_with_thousands_of_steps() {
    let windows = [
        (0.2499, 0.2501, -0.0001, 0.0001),   // cardioid cusp
        (-0.7501, -0.7499, -0.0001, 0.0001), // cardioid meets bulb
        (-1.2501, -1.2499, -0.0001, 0.0001), // bulb's far edge
        (-0.3905, -0.3895, 0.5865, 0.5875),  // cardioid edge, irrational angle
        (-0.1230, -0.1220, 0.7445, 0.7455),  // period-3 bulb
    ];
    for (x_min, x_max, y_min, y_max) in windows {
        for (format, max_iter) in [(PixelFormat::CountsU32, 3000), (PixelFormat::Bits, 1234)] {
            assert_kernels_exact(&Params {
                x_min,
                x_max,
                y_min,
                y_max,
                max_iter,
                format,
                ..params(37, 29, Engine::Native, 2)
            });
        }
    }
}

#[test]
fn lua_kernel_with_shortcuts_is_exact_near_the_boundaries() {
    let p = Params {
        x_min: -0.7505,
        x_max: -0.7495,
        y_min: -0.0005,
        y_max: 0.0005,
        max_iter: 2500,
        format: PixelFormat::CountsU32,
        ..params(23, 19, Engine::Lua, 2)
    };
    assert!(common::render(&p) == plain_render(&p));
}

#[test]
fn the_lua_kernels_inner_disk_lies_inside_the_claimed_cardioid() {
    // lua/mandelbrot.lua claims |c + 0.245| <= 0.49 without square roots; every such
    // point must also be claimed by the tested cardioid test.
    for i in 0..20_000 {
        let t = i as f64 / 20_000.0 * std::f64::consts::TAU;
        for radius in [0.49, 0.3, 0.1] {
            let (cr, ci) = (-0.245 + radius * t.cos(), radius * t.sin());
            assert!(is_bounded(cr, ci), "c = {cr} + {ci}i");
        }
    }
}
