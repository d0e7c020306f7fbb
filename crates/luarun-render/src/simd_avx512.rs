//! AVX-512F kernel: tiles of 8 columns by [`GROUP`] rows, one vector of 8 pixels per row,
//! one mask register per vector tracking which lanes still iterate.
//!
//! The loop is latency-bound (each step is a chain of multiply, add, add, multiply), so
//! the tile's independent vectors are interleaved to keep the FPU busy. A tile runs until
//! its slowest lane is done; a compact tile's pixels escape at similar steps, so it wastes
//! less than a strip of one row would (counting iterated lanes at the default view: 7.2
//! per pixel for 8 x 4 tiles, 8.2 for 32 x 1 strips, 6.3 actually needed). Operation
//! order is exactly the contract's; `t + t` equals `t * 2.0` bit for bit.

use std::arch::x86_64::*;

use super::shortcut::{
    discs_crossing_rows, BULB_RADIUS_SQ, CARDIOID_LAMBDA_SQ, DISCS, FIRST_SAVE, INNER_DISK_CENTER,
    INNER_DISK_RADIUS_SQ, PERIODICITY_FROM, PERIOD_CHECK,
};
use super::{Cancelled, Row, StepBudget, POLL_STEPS};

const LANES: usize = 8;
/// Vectors iterated together.
const GROUP: usize = 4;
/// Steps a tile's setup is charged, so tiles the shortcuts settle still use up the
/// budget.
const GROUP_COST: u32 = 8;

/// Lanes of one group: which ones are in the set, and (when asked) their counts.
struct GroupResult {
    in_set: [u8; GROUP],
    counts: [[u32; LANES]; GROUP],
}

/// Escape counts of consecutive `rows` into `counts` (`width` per row), charging the
/// steps to `budget`; stops early (`counts` partly written) once it says the render is
/// cancelled.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn rows_counts(
    rows: &[Row],
    shortcuts: bool,
    counts: &mut [u32],
    budget: &mut StepBudget,
) -> Result<(), Cancelled> {
    if rows.first().is_some_and(|row| row.max_iter > POLL_STEPS) {
        rows_counts_with::<true>(rows, shortcuts, counts, budget)
    } else {
        rows_counts_with::<false>(rows, shortcuts, counts, budget)
    }
}

/// [`rows_counts`] with tiles run in stretches (`STRETCH`, for budgets beyond
/// [`POLL_STEPS`]) or in one go. Two copies of the loop: with both in one function,
/// the AVX2 kernel ran about 3 % more instructions at 50 iterations.
///
/// # Safety
/// The CPU must support AVX-512F.
#[inline(never)]
#[target_feature(enable = "avx512f")]
fn rows_counts_with<const STRETCH: bool>(
    rows: &[Row],
    shortcuts: bool,
    counts: &mut [u32],
    budget: &mut StepBudget,
) -> Result<(), Cancelled> {
    let width = rows.first().map_or(0, |row| row.width as usize);
    for (band, out) in rows.chunks(GROUP).zip(counts.chunks_mut(width * GROUP)) {
        let discs = discs_crossing_rows::<GROUP>(band);
        for x0 in (0..width).step_by(LANES) {
            let valid = (width - x0).min(LANES);
            let result =
                compute_group::<true, STRETCH>(band, &discs, x0, valid, shortcuts, budget)?;
            for (v, lanes) in result.counts.iter().enumerate().take(band.len()) {
                out[v * width + x0..][..valid].copy_from_slice(&lanes[..valid]);
            }
        }
    }
    Ok(())
}

/// In-set bits of consecutive `rows` (PBM P4 rows, `ceil(width / 8)` bytes each) into
/// `bits`, charging and stopping as [`rows_counts`] does.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn rows_bits(
    rows: &[Row],
    shortcuts: bool,
    bits: &mut [u8],
    budget: &mut StepBudget,
) -> Result<(), Cancelled> {
    if rows.first().is_some_and(|row| row.max_iter > POLL_STEPS) {
        rows_bits_with::<true>(rows, shortcuts, bits, budget)
    } else {
        rows_bits_with::<false>(rows, shortcuts, bits, budget)
    }
}

/// [`rows_bits`] with tiles run in stretches (`STRETCH`, for budgets beyond
/// [`POLL_STEPS`]) or in one go. Two copies of the loop: with both in one function,
/// the AVX2 kernel ran about 3 % more instructions at 50 iterations.
///
/// # Safety
/// The CPU must support AVX-512F.
#[inline(never)]
#[target_feature(enable = "avx512f")]
fn rows_bits_with<const STRETCH: bool>(
    rows: &[Row],
    shortcuts: bool,
    bits: &mut [u8],
    budget: &mut StepBudget,
) -> Result<(), Cancelled> {
    let width = rows.first().map_or(0, |row| row.width as usize);
    let row_bytes = width.div_ceil(8);
    for (band, out) in rows.chunks(GROUP).zip(bits.chunks_mut(row_bytes * GROUP)) {
        let discs = discs_crossing_rows::<GROUP>(band);
        for (byte, x0) in (0..width).step_by(LANES).enumerate() {
            let valid = (width - x0).min(LANES);
            let result =
                compute_group::<false, STRETCH>(band, &discs, x0, valid, shortcuts, budget)?;
            for (v, mask) in result.in_set.iter().enumerate().take(band.len()) {
                // Lane 0 is the leftmost pixel, which P4 stores in the most significant bit.
                out[v * row_bytes + byte] = mask.reverse_bits();
            }
        }
    }
    Ok(())
}

/// The lanes of `candidates` inside one of the discs in `discs` (a set from
/// [`discs_crossing_rows`]; same formula as
/// [`Disc::contains`](super::shortcut::Disc::contains)); discs the vector's columns
/// (`cr_span`, first and last lane) cannot reach are not tested.
#[inline]
#[target_feature(enable = "avx512f")]
fn disc_lanes(
    candidates: __mmask8,
    cr: __m512d,
    ci: __m512d,
    discs: u8,
    cr_span: (f64, f64),
) -> __mmask8 {
    let mut claimed = 0;
    for disc in DISCS
        .iter()
        .enumerate()
        .filter(|(i, _)| discs & 1 << i != 0)
        .map(|(_, d)| d)
    {
        let reaches = cr_span.1 >= disc.cr - disc.radius && cr_span.0 <= disc.cr + disc.radius;
        if reaches {
            let dr = _mm512_sub_pd(cr, _mm512_set1_pd(disc.cr));
            let di = _mm512_sub_pd(ci, _mm512_set1_pd(disc.ci));
            let lhs = _mm512_add_pd(_mm512_mul_pd(dr, dr), _mm512_mul_pd(di, di));
            let radius_sq = disc.radius * disc.radius;
            claimed |=
                _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(candidates, lhs, _mm512_set1_pd(radius_sq));
        }
    }
    claimed
}

#[inline]
#[target_feature(enable = "avx512f")]
fn bounded_lanes(cr: __m512d, ci: __m512d) -> __mmask8 {
    let one = _mm512_set1_pd(1.0);
    let half = _mm512_set1_pd(0.5);
    let four = _mm512_set1_pd(4.0);
    let cr1 = _mm512_add_pd(cr, one);
    let bulb_lhs = _mm512_add_pd(_mm512_mul_pd(cr1, cr1), _mm512_mul_pd(ci, ci));
    let bulb = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(bulb_lhs, _mm512_set1_pd(BULB_RADIUS_SQ));
    let wr = _mm512_sub_pd(one, _mm512_mul_pd(four, cr));
    let wi = _mm512_sub_pd(_mm512_setzero_pd(), _mm512_mul_pd(four, ci));
    let modulus = _mm512_sqrt_pd(_mm512_add_pd(_mm512_mul_pd(wr, wr), _mm512_mul_pd(wi, wi)));
    let a = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_add_pd(modulus, wr), half));
    let b_sq = _mm512_mul_pd(_mm512_sub_pd(modulus, wr), half);
    let one_minus_a = _mm512_sub_pd(one, a);
    let lambda_sq = _mm512_add_pd(_mm512_mul_pd(one_minus_a, one_minus_a), b_sq);
    let cardioid = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(lambda_sq, _mm512_set1_pd(CARDIOID_LAMBDA_SQ));
    bulb | cardioid
}

/// Iterates a tile of `valid` (<= LANES) columns from `x0` by `band.len()` (<= GROUP)
/// rows, one vector per row: a compact tile's pixels escape at similar steps, so less
/// work waits for the slowest lane than in a long strip of one row.
/// Its steps are charged to `budget`, which it polls between stretches when
/// `STRETCH` (see [`rows_counts_with`]).
#[inline]
#[target_feature(enable = "avx512f")]
fn compute_group<const COUNTS: bool, const STRETCH: bool>(
    band: &[Row],
    discs: &[u8; GROUP],
    x0: usize,
    valid: usize,
    shortcuts: bool,
    budget: &mut StepBudget,
) -> Result<GroupResult, Cancelled> {
    let first_row = &band[0];
    let max_iter = first_row.max_iter;
    let dx = _mm512_set1_pd(first_row.dx);
    let x_min = _mm512_set1_pd(first_row.x_min);
    let lane_index = _mm512_setr_pd(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    let four = _mm512_set1_pd(4.0);
    let two = _mm512_set1_pd(2.0);
    let (box_left, box_right) = (_mm512_set1_pd(-1.26), _mm512_set1_pd(0.38));
    // Integers below 2^53: the sum is exact, so cr matches the scalar formula.
    let first = f64::from(first_row.x_offset) + x0 as f64;
    let x = _mm512_add_pd(_mm512_set1_pd(first), lane_index);
    let cr_row = _mm512_add_pd(_mm512_mul_pd(x, dx), x_min);
    let cr_span = (
        first_row.cr(x0 as u32),
        first_row.cr((x0 + valid - 1) as u32),
    );
    let valid_lanes = ((1u32 << valid) - 1) as __mmask8;

    let cr = [cr_row; GROUP];
    let mut ci = [_mm512_setzero_pd(); GROUP];
    let mut zr = [cr_row; GROUP];
    let mut zi = [_mm512_setzero_pd(); GROUP];
    let mut zrq = [_mm512_mul_pd(cr_row, cr_row); GROUP];
    let mut ziq = [_mm512_setzero_pd(); GROUP];
    let mut active = [0 as __mmask8; GROUP];
    let mut escaped = [0 as __mmask8; GROUP];
    let mut count = [_mm512_set1_pd(f64::from(max_iter)); GROUP];
    for (v, row) in band.iter().enumerate() {
        ci[v] = _mm512_set1_pd(row.ci);
        zi[v] = ci[v];
        ziq[v] = _mm512_mul_pd(ci[v], ci[v]);
        active[v] = valid_lanes;
        if shortcuts && discs[v] != 0 {
            active[v] &= !disc_lanes(active[v], cr[v], ci[v], discs[v], cr_span);
        }
        // Both shortcut regions lie in the box -1.26 < cr < 0.38, |ci| < 0.66: vectors
        // outside it skip the (square-root heavy) test.
        let in_box = _mm512_mask_cmp_pd_mask::<_CMP_GT_OQ>(active[v], cr[v], box_left)
            & _mm512_cmp_pd_mask::<_CMP_LT_OQ>(cr[v], box_right);
        if shortcuts && row.ci.abs() < 0.66 && in_box != 0 {
            // The inner disk (inside the claimed cardioid, see the shortcut tests) and
            // the bulb often settle every lane without the square roots.
            let dr = _mm512_add_pd(cr[v], _mm512_set1_pd(INNER_DISK_CENTER));
            let disk_lhs = _mm512_add_pd(_mm512_mul_pd(dr, dr), _mm512_mul_pd(ci[v], ci[v]));
            let disk =
                _mm512_cmp_pd_mask::<_CMP_LE_OQ>(disk_lhs, _mm512_set1_pd(INNER_DISK_RADIUS_SQ));
            let settled = if in_box & !disk == 0 {
                disk
            } else {
                disk | bounded_lanes(cr[v], ci[v])
            };
            active[v] &= !settled;
        }
    }
    let mut saved_r = zr;
    let mut saved_i = zi;
    let mut next_save = FIRST_SAVE;

    let mut step = 1u32;
    // Periodicity checking pays off only for long budgets (it never changes a result).
    let check_periods = shortcuts && max_iter >= PERIODICITY_FROM;
    // Runs steps while lanes are active, up to step `$limit`.
    macro_rules! iterate_until {
        ($limit:expr) => {
            while step < $limit && active.iter().any(|&m| m != 0) {
                let step_value = _mm512_set1_pd(f64::from(step));
                for v in 0..GROUP {
                    // `t * 2.0` is exact, like the contract's `zr*zi*2`; the multiplier has
                    // spare capacity, the adder does not.
                    let t = _mm512_mul_pd(zr[v], zi[v]);
                    zi[v] = _mm512_add_pd(_mm512_mul_pd(t, two), ci[v]);
                    zr[v] = _mm512_add_pd(_mm512_sub_pd(zrq[v], ziq[v]), cr[v]);
                    ziq[v] = _mm512_mul_pd(zi[v], zi[v]);
                    zrq[v] = _mm512_mul_pd(zr[v], zr[v]);
                    let magnitude = _mm512_add_pd(zrq[v], ziq[v]);
                    // `> 4.0` is false for NaN, so a NaN magnitude keeps iterating, as in the
                    // contract. An unmasked compare: the mask is applied in a general register
                    // anyway, and this saves moving `active` into a mask register every step.
                    let now = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(magnitude, four) & active[v];
                    active[v] &= !now;
                    if COUNTS {
                        count[v] = _mm512_mask_mov_pd(count[v], now, step_value);
                    } else {
                        escaped[v] |= now;
                    }
                }
                if check_periods && step.is_multiple_of(PERIOD_CHECK) {
                    for v in 0..GROUP {
                        let same_r =
                            _mm512_mask_cmp_pd_mask::<_CMP_EQ_OQ>(active[v], zr[v], saved_r[v]);
                        let same_i =
                            _mm512_mask_cmp_pd_mask::<_CMP_EQ_OQ>(same_r, zi[v], saved_i[v]);
                        // A repeated state repeats forever: in the set, count stays max_iter.
                        active[v] &= !same_i;
                    }
                    if step == next_save {
                        saved_r = zr;
                        saved_i = zi;
                        next_save = next_save.saturating_mul(2);
                    }
                }
                step += 1;
            }
        };
    }
    if STRETCH {
        // Stretches of at most the budget's steps with a poll between two, so a tile
        // of slow lanes can be stopped; the split changes no number.
        budget.charge(GROUP_COST)?;
        while step < max_iter && active.iter().any(|&m| m != 0) {
            let stretch_start = step;
            let stretch_end = max_iter.min(step.saturating_add(budget.left()));
            iterate_until!(stretch_end);
            budget.charge(step - stretch_start)?;
        }
    } else {
        // `max_iter <= POLL_STEPS`: the tile runs in one go, at most one budget's
        // steps past the poll point.
        iterate_until!(max_iter);
        budget.charge(GROUP_COST + (step - 1))?;
    }

    let mut result = GroupResult {
        in_set: [0; GROUP],
        counts: [[0; LANES]; GROUP],
    };
    for v in 0..GROUP {
        // Still active after the last step: never escaped.
        result.in_set[v] = valid_lanes & !escaped[v];
        if COUNTS {
            let as_u32 = _mm512_cvtpd_epu32(count[v]);
            // SAFETY: `counts[v]` is LANES (8) u32s, exactly the 32 bytes the store
            // writes; the unaligned store needs no alignment.
            unsafe { _mm256_storeu_si256(result.counts[v].as_mut_ptr().cast(), as_u32) };
        }
    }
    Ok(result)
}
