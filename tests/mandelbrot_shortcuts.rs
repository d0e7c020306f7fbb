//! The shortcuts are exact: every point the cardioid/bulb test claims never escapes under
//! the plain iteration, and periodicity checking never changes a count, checked right at
//! the edges of the claimed regions, at the true boundaries and deep inside zooms.

mod common;

use common::{params, plain_count, plain_render};
use luarun_render::native::{self, available_isas, Kernel};
use luarun_render::shortcut::{escape_count, is_bounded, Disc, DISCS};
use luarun_render::{Engine, Params, PixelFormat, Progress};

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

/// The multiplier `|lambda|` of the attracting cycle of period `period` that the orbit
/// of 0 settles on, or `None` when the orbit escapes. Plain complex arithmetic: this is
/// the mathematical claim, not the kernels' floating-point iteration.
fn cycle_multiplier(cr: f64, ci: f64, period: u32) -> Option<f64> {
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    for _ in 0..20_000 {
        (zr, zi) = (zr * zr - zi * zi + cr, 2.0 * zr * zi + ci);
        if zr * zr + zi * zi > 4.0 {
            return None;
        }
    }
    let (mut lr, mut li) = (1.0f64, 0.0f64);
    for _ in 0..period {
        // lambda *= 2z
        (lr, li) = (2.0 * (lr * zr - li * zi), 2.0 * (lr * zi + li * zr));
        (zr, zi) = (zr * zr - zi * zi + cr, 2.0 * zr * zi + ci);
    }
    Some((lr * lr + li * li).sqrt())
}

fn disc_point(disc: &Disc, r: f64, t: f64) -> (f64, f64) {
    (disc.cr + r * t.cos(), disc.ci + r * t.sin())
}

#[test]
fn each_claimed_disc_lies_inside_its_bulb_with_a_strongly_attracting_cycle() {
    // The multiplier is holomorphic on the bulb: its maximum over the disc is on the
    // circle. 8192 points around a circle of at most 0.08 are 6e-5 apart, and |lambda|
    // changes by at most ~25 |dc| here, so a sampled maximum of 0.88 keeps the circle
    // (and hence the disc) below 0.9. Sampled slightly outside the circle too, for rounding.
    for disc in &DISCS {
        let mut largest = 0.0f64;
        for i in 0..8192 {
            let t = i as f64 / 8192.0 * std::f64::consts::TAU;
            for r in [disc.radius, disc.radius * 1.001] {
                let (cr, ci) = disc_point(disc, r, t);
                let lambda = cycle_multiplier(cr, ci, disc.period).unwrap_or_else(|| {
                    panic!("c = {cr} + {ci}i on the circle of {disc:?} escapes")
                });
                largest = largest.max(lambda);
            }
        }
        assert!(
            largest <= 0.88,
            "{disc:?}: |lambda| reaches {largest} on its circle"
        );
    }
}

#[test]
fn points_in_the_claimed_discs_never_escape_under_the_plain_iteration() {
    let mut checked = 0;
    for disc in &DISCS {
        for i in 0..400 {
            let t = i as f64 / 400.0 * std::f64::consts::TAU;
            for fraction in [0.0, 0.3, 0.7, 0.95, 1.0] {
                let (cr, ci) = disc_point(disc, disc.radius * fraction, t);
                if is_bounded(cr, ci) {
                    checked += 1;
                    assert_eq!(plain_count(cr, ci, DEEP), DEEP, "c = {cr} + {ci}i escapes");
                }
            }
        }
    }
    // Points exactly on a circle may round to either side; nearly all must be claimed.
    assert!(
        checked > DISCS.len() * 400 * 9 / 2,
        "only {checked} points claimed"
    );
}

#[test]
fn the_discs_claim_nothing_outside_their_circles() {
    for disc in &DISCS {
        for i in 0..1000 {
            let t = i as f64 / 1000.0 * std::f64::consts::TAU;
            let (cr, ci) = disc_point(disc, disc.radius * 1.01, t);
            assert!(!disc.contains(cr, ci), "{disc:?} claims c = {cr} + {ci}i");
        }
    }
}

fn assert_kernels_exact(p: &Params) {
    let expected = plain_render(p);
    for &isa in available_isas() {
        for mirror in [false, true] {
            let kernel = Kernel {
                isa,
                shortcuts: true,
                mirror,
            };
            let mut buf = vec![0u8; p.buffer_size().unwrap()];
            native::render_with(p, &mut buf, &Progress::new(p.height, None), kernel)
                .expect("render");
            assert!(buf == expected, "{kernel:?} differs for {p:?}");
        }
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
        (-0.2100, 0.0400, 0.6500, 0.8500),   // period-3 bulb with its claimed disc
        (-1.3700, -1.2500, -0.0600, 0.0600), // period-4 bulb on the period-2 bulb
        (0.2400, 0.3200, -0.5700, -0.4900),  // period-4 bulb on the cardioid
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
    let windows = [
        (-0.7505, -0.7495, -0.0005, 0.0005, 2500), // cardioid meets bulb
        (-0.2100, 0.0400, 0.6500, 0.8500, 300),    // period-3 bulb with its claimed disc
        (-1.3700, -1.2500, -0.0600, 0.0600, 50),   // period-4 bulb on the period-2 bulb
        (0.2400, 0.3200, -0.5700, -0.4900, 120),   // period-4 bulb on the cardioid
    ];
    for (x_min, x_max, y_min, y_max, max_iter) in windows {
        for format in [PixelFormat::CountsU32, PixelFormat::Bits] {
            let p = Params {
                x_min,
                x_max,
                y_min,
                y_max,
                max_iter,
                format,
                ..params(23, 19, Engine::Lua, 2)
            };
            assert!(
                common::render(&p) == plain_render(&p),
                "Lua engine differs for {p:?}"
            );
        }
    }
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
