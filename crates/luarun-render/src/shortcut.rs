//! Work that provably cannot change a count, and the scalar kernel that skips it.
//!
//! Two shortcuts, both exact for every `max_iter`:
//!
//! - **Cardioid and period-2 bulb.** For `c` in the main cardioid the orbit of 0 is
//!   attracted to a fixed point with multiplier `lambda = 1 - sqrt(1 - 4c)`, `|lambda| < 1`;
//!   in the period-2 bulb to a 2-cycle with multiplier `4(c + 1)`. We only claim points
//!   with `|lambda| <= 0.99` (a strongly attracting cycle, far from the boundary where
//!   rounding could matter), so such pixels are in the set without iterating. The margin
//!   costs almost nothing and `tests/mandelbrot_shortcuts.rs` iterates points on and
//!   around these curves for tens of thousands of steps to check the claim.
//! - **Discs in the larger bulbs** ([`DISCS`]): the period-3 bulbs, the period-4 bulb on
//!   the period-2 bulb and the period-4 bulbs on the cardioid. Each bulb is a hyperbolic
//!   component: every `c` in it has an attracting cycle whose multiplier `lambda(c)` is a
//!   holomorphic function of `c`. A disc around the bulb's centre on whose boundary
//!   circle `|lambda| <= 0.9` lies inside the bulb (the bulb is simply connected), and by
//!   the maximum principle `|lambda| <= 0.9` inside it too: strongly attracting, far from
//!   where rounding could matter. The tests compute `lambda` around each circle and
//!   iterate points inside each disc for tens of thousands of steps.
//! - **Periodicity.** The state of the iteration is `(zr, zi)` (`zrq`, `ziq` are derived
//!   from it). If it ever equals an earlier state exactly, the orbit repeats forever and
//!   never escapes: the pixel is in the set. Checked every [`PERIOD_CHECK`] steps against
//!   a state saved at doubling intervals (Brent), so any cycle is eventually caught.
//!   `==` treats -0.0 and 0.0 alike, which is sound: the sign of a zero never changes the
//!   magnitude of any later value.

/// The vector kernels check periodicity only for budgets of at least this many steps:
/// below it cycles rarely close in time and the comparisons cost more than they save
/// (the Lua kernel uses the same threshold). Skipping a check never changes a count.
pub(crate) const PERIODICITY_FROM: u32 = 200;
/// Steps between two periodicity comparisons.
pub(crate) const PERIOD_CHECK: u32 = 8;
/// The first step at which the saved state is refreshed; it then doubles.
pub(crate) const FIRST_SAVE: u32 = 16;
/// Largest `|lambda|^2` claimed for the main cardioid (`|lambda| <= 0.99`).
pub(crate) const CARDIOID_LAMBDA_SQ: f64 = 0.99 * 0.99;
/// Largest `|c + 1|^2` claimed for the period-2 bulb (`|4(c+1)| <= 0.99`).
pub(crate) const BULB_RADIUS_SQ: f64 = (0.25 * 0.99) * (0.25 * 0.99);

/// Offset of the inner disk's centre (-0.245) from `cr`. The disk `|c + 0.245| <= 0.49` lies inside the claimed
/// part of the cardioid (checked by the shortcut tests), so kernels may claim it without
/// square roots.
pub(crate) const INNER_DISK_CENTER: f64 = 0.245;
/// Squared radius of the inner disk.
pub(crate) const INNER_DISK_RADIUS_SQ: f64 = 0.49 * 0.49;

/// A disc well inside a bulb of period 3 or 4 (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct Disc {
    /// Real part of the centre (the bulb's nucleus, rounded).
    pub cr: f64,
    /// Imaginary part of the centre.
    pub ci: f64,
    /// Radius.
    pub radius: f64,
    /// Period of the bulb's attracting cycle.
    pub period: u32,
}

impl Disc {
    /// Whether `c` lies in the disc. Kernels may skip the test for rows or vectors whose
    /// `ci` or `cr` is farther than `radius` from the centre.
    #[inline]
    pub fn contains(&self, cr: f64, ci: f64) -> bool {
        let (dr, di) = (cr - self.cr, ci - self.ci);
        dr * dr + di * di <= self.radius * self.radius
    }
}

/// The claimed discs, largest first. Radii are chosen so that the multiplier of the
/// attracting cycle stays below 0.9 on each circle (0.87 at most, checked by the tests).
pub const DISCS: [Disc; 5] = [
    Disc {
        cr: -0.122_561_166_9,
        ci: 0.744_861_766_6,
        radius: 0.08,
        period: 3,
    },
    Disc {
        cr: -0.122_561_166_9,
        ci: -0.744_861_766_6,
        radius: 0.08,
        period: 3,
    },
    Disc {
        cr: -1.310_702_641_3,
        ci: 0.0,
        radius: 0.05,
        period: 4,
    },
    Disc {
        cr: 0.282_271_390_8,
        ci: 0.530_060_617_6,
        radius: 0.035,
        period: 4,
    },
    Disc {
        cr: 0.282_271_390_8,
        ci: -0.530_060_617_6,
        radius: 0.035,
        period: 4,
    },
];

/// The [`DISCS`] a row at `ci` crosses, as a bit set (bit `i` for `DISCS[i]`): kernels
/// compute it once per row so rows far from every disc pay nothing per pixel.
#[inline]
pub fn discs_crossing_row(ci: f64) -> u8 {
    DISCS
        .iter()
        .enumerate()
        .filter(|(_, disc)| (ci - disc.ci).abs() <= disc.radius)
        .fold(0, |set, (i, _)| set | 1 << i)
}

/// [`discs_crossing_row`] for each row of a band of at most `N` rows (0 for missing
/// rows), as the vector kernels need it once per band.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn discs_crossing_rows<const N: usize>(band: &[super::Row]) -> [u8; N] {
    let mut discs = [0; N];
    for (set, row) in discs.iter_mut().zip(band) {
        *set = discs_crossing_row(row.ci);
    }
    discs
}

/// Whether `c` lies in one of the [`DISCS`].
#[inline]
pub fn in_disc(cr: f64, ci: f64) -> bool {
    DISCS.iter().any(|disc| disc.contains(cr, ci))
}

/// Whether `c` lies well inside the main cardioid, the period-2 bulb or one of the
/// [`DISCS`], where the orbit provably stays bounded. The vector kernels compute the
/// same formulas lane by lane.
#[inline]
pub fn is_bounded(cr: f64, ci: f64) -> bool {
    if in_disc(cr, ci) {
        return true;
    }
    let bulb = (cr + 1.0) * (cr + 1.0) + ci * ci <= BULB_RADIUS_SQ;
    // lambda = 1 - sqrt(w), w = 1 - 4c, principal square root a + b*i (a >= 0).
    let wr = 1.0 - 4.0 * cr;
    let wi = -4.0 * ci;
    let modulus = (wr * wr + wi * wi).sqrt();
    let a = ((modulus + wr) * 0.5).sqrt();
    let b_sq = (modulus - wr) * 0.5;
    let cardioid = (1.0 - a) * (1.0 - a) + b_sq <= CARDIOID_LAMBDA_SQ;
    bulb || cardioid
}

/// The escape count of the contract, skipping provably bounded work (the scalar
/// kernel's loop, outside any render).
pub fn escape_count(cr: f64, ci: f64, max_iter: u32) -> u32 {
    // An unlimited budget never stops the loop.
    super::scalar::escape_count(cr, ci, max_iter, true, &mut super::StepBudget::unlimited())
        .unwrap_or(max_iter)
}
