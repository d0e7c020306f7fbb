//! AVX2 kernel: tiles of 4 columns by [`GROUP`] rows, one vector of 4 pixels per row;
//! lane masks are vectors of all-ones / all-zeros doubles. Same structure as the AVX-512
//! kernel.

use std::arch::x86_64::*;

use super::shortcut::{
    discs_crossing_rows, BULB_RADIUS_SQ, CARDIOID_LAMBDA_SQ, DISCS, FIRST_SAVE, PERIODICITY_FROM,
    PERIOD_CHECK,
};
use super::{Cancelled, Row, StepBudget, POLL_STEPS};

const LANES: usize = 4;
/// Vectors iterated together (16 ymm registers: more would spill the hot state).
const GROUP: usize = 3;
/// Steps a tile's setup is charged, so tiles the shortcuts settle still use up the
/// budget.
const GROUP_COST: u32 = 8;

struct GroupResult {
    /// Bit `j` of entry `v`: lane `j` of vector `v` is in the set.
    in_set: [u8; GROUP],
    counts: [[u32; LANES]; GROUP],
}

/// Escape counts of consecutive `rows` into `counts` (`width` per row), charging the
/// steps to `budget`; stops early (`counts` partly written) once it says the render is
/// cancelled.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
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
/// The CPU must support AVX2.
#[inline(never)]
#[target_feature(enable = "avx2")]
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
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
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
/// The CPU must support AVX2.
#[inline(never)]
#[target_feature(enable = "avx2")]
fn rows_bits_with<const STRETCH: bool>(
    rows: &[Row],
    shortcuts: bool,
    bits: &mut [u8],
    budget: &mut StepBudget,
) -> Result<(), Cancelled> {
    let width = rows.first().map_or(0, |row| row.width as usize);
    let row_bytes = width.div_ceil(8);
    bits.fill(0);
    for (band, out) in rows.chunks(GROUP).zip(bits.chunks_mut(row_bytes * GROUP)) {
        let discs = discs_crossing_rows::<GROUP>(band);
        for x0 in (0..width).step_by(LANES) {
            let valid = (width - x0).min(LANES);
            let result =
                compute_group::<false, STRETCH>(band, &discs, x0, valid, shortcuts, budget)?;
            for (v, mask) in result.in_set.iter().enumerate().take(band.len()) {
                // 4 lanes are half a byte: lane 0 (leftmost) goes to the highest bit.
                let nibble = (mask.reverse_bits() >> 4) << 4;
                out[v * row_bytes + x0 / 8] |= nibble >> (x0 % 8);
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
#[target_feature(enable = "avx2")]
fn disc_lanes(
    candidates: __m256d,
    cr: __m256d,
    ci: __m256d,
    discs: u8,
    cr_span: (f64, f64),
) -> __m256d {
    let mut claimed = _mm256_setzero_pd();
    for disc in DISCS
        .iter()
        .enumerate()
        .filter(|(i, _)| discs & 1 << i != 0)
        .map(|(_, d)| d)
    {
        let reaches = cr_span.1 >= disc.cr - disc.radius && cr_span.0 <= disc.cr + disc.radius;
        if reaches {
            let dr = _mm256_sub_pd(cr, _mm256_set1_pd(disc.cr));
            let di = _mm256_sub_pd(ci, _mm256_set1_pd(disc.ci));
            let lhs = _mm256_add_pd(_mm256_mul_pd(dr, dr), _mm256_mul_pd(di, di));
            let radius_sq = disc.radius * disc.radius;
            claimed = _mm256_or_pd(
                claimed,
                _mm256_and_pd(
                    candidates,
                    _mm256_cmp_pd::<_CMP_LE_OQ>(lhs, _mm256_set1_pd(radius_sq)),
                ),
            );
        }
    }
    claimed
}

#[inline]
#[target_feature(enable = "avx2")]
fn bounded_lanes(cr: __m256d, ci: __m256d) -> __m256d {
    let one = _mm256_set1_pd(1.0);
    let half = _mm256_set1_pd(0.5);
    let four = _mm256_set1_pd(4.0);
    let cr1 = _mm256_add_pd(cr, one);
    let bulb_lhs = _mm256_add_pd(_mm256_mul_pd(cr1, cr1), _mm256_mul_pd(ci, ci));
    let bulb = _mm256_cmp_pd::<_CMP_LE_OQ>(bulb_lhs, _mm256_set1_pd(BULB_RADIUS_SQ));
    let wr = _mm256_sub_pd(one, _mm256_mul_pd(four, cr));
    let wi = _mm256_sub_pd(_mm256_setzero_pd(), _mm256_mul_pd(four, ci));
    let modulus = _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(wr, wr), _mm256_mul_pd(wi, wi)));
    let a = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_add_pd(modulus, wr), half));
    let b_sq = _mm256_mul_pd(_mm256_sub_pd(modulus, wr), half);
    let one_minus_a = _mm256_sub_pd(one, a);
    let lambda_sq = _mm256_add_pd(_mm256_mul_pd(one_minus_a, one_minus_a), b_sq);
    let cardioid = _mm256_cmp_pd::<_CMP_LE_OQ>(lambda_sq, _mm256_set1_pd(CARDIOID_LAMBDA_SQ));
    _mm256_or_pd(bulb, cardioid)
}

/// Iterates a tile of `valid` (<= LANES) columns from `x0` by `band.len()` (<= GROUP)
/// rows, one vector per row (compact tiles waste less work than strips, see the AVX-512
/// kernel).
/// Its steps are charged to `budget`, which it polls between stretches when
/// `STRETCH` (see [`rows_counts_with`]).
#[inline]
#[target_feature(enable = "avx2")]
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
    let dx = _mm256_set1_pd(first_row.dx);
    let x_min = _mm256_set1_pd(first_row.x_min);
    let lane_index = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
    let four = _mm256_set1_pd(4.0);
    let all_ones = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    // Integers below 2^53: the sum is exact, so cr matches the scalar formula.
    let first = f64::from(first_row.x_offset) + x0 as f64;
    let x = _mm256_add_pd(_mm256_set1_pd(first), lane_index);
    let cr_row = _mm256_add_pd(_mm256_mul_pd(x, dx), x_min);
    let cr_span = (
        first_row.cr(x0 as u32),
        first_row.cr((x0 + valid - 1) as u32),
    );
    let valid_mask = _mm256_cmp_pd::<_CMP_LT_OQ>(lane_index, _mm256_set1_pd(valid as f64));

    let cr = [cr_row; GROUP];
    let mut ci = [_mm256_setzero_pd(); GROUP];
    let mut zr = [cr_row; GROUP];
    let mut zi = [_mm256_setzero_pd(); GROUP];
    let mut zrq = [_mm256_mul_pd(cr_row, cr_row); GROUP];
    let mut ziq = [_mm256_setzero_pd(); GROUP];
    let mut active = [_mm256_setzero_pd(); GROUP];
    let mut escaped = [_mm256_setzero_pd(); GROUP];
    let mut count = [_mm256_set1_pd(f64::from(max_iter)); GROUP];
    let valid_lanes = ((1u32 << valid) - 1) as u8;
    for (v, row) in band.iter().enumerate() {
        ci[v] = _mm256_set1_pd(row.ci);
        zi[v] = ci[v];
        ziq[v] = _mm256_mul_pd(ci[v], ci[v]);
        active[v] = valid_mask;
        if shortcuts {
            let mut settled = bounded_lanes(cr[v], ci[v]);
            if discs[v] != 0 {
                let in_discs = disc_lanes(active[v], cr[v], ci[v], discs[v], cr_span);
                settled = _mm256_or_pd(settled, in_discs);
            }
            active[v] = _mm256_andnot_pd(settled, active[v]);
        }
    }
    let mut saved_r = zr;
    let mut saved_i = zi;
    let mut next_save = FIRST_SAVE;

    let any_active = |active: &[__m256d; GROUP]| {
        let mut any = _mm256_setzero_pd();
        for mask in active {
            any = _mm256_or_pd(any, *mask);
        }
        _mm256_movemask_pd(any) != 0
    };
    let mut step = 1u32;
    // Periodicity checking pays off only for long budgets (it never changes a result).
    let check_periods = shortcuts && max_iter >= PERIODICITY_FROM;
    // Runs steps while lanes are active, up to step `$limit`.
    macro_rules! iterate_until {
        ($limit:expr) => {
            while step < $limit && any_active(&active) {
                let step_value = _mm256_set1_pd(f64::from(step));
                for v in 0..GROUP {
                    let t = _mm256_mul_pd(zr[v], zi[v]);
                    zi[v] = _mm256_add_pd(_mm256_add_pd(t, t), ci[v]);
                    zr[v] = _mm256_add_pd(_mm256_sub_pd(zrq[v], ziq[v]), cr[v]);
                    ziq[v] = _mm256_mul_pd(zi[v], zi[v]);
                    zrq[v] = _mm256_mul_pd(zr[v], zr[v]);
                    let magnitude = _mm256_add_pd(zrq[v], ziq[v]);
                    let outside = _mm256_cmp_pd::<_CMP_GT_OQ>(magnitude, four);
                    let now = _mm256_and_pd(outside, active[v]);
                    active[v] = _mm256_andnot_pd(now, active[v]);
                    if COUNTS {
                        count[v] = _mm256_blendv_pd(count[v], step_value, now);
                    } else {
                        escaped[v] = _mm256_or_pd(escaped[v], now);
                    }
                }
                if check_periods && step.is_multiple_of(PERIOD_CHECK) {
                    for v in 0..GROUP {
                        let same_r = _mm256_cmp_pd::<_CMP_EQ_OQ>(zr[v], saved_r[v]);
                        let same_i = _mm256_cmp_pd::<_CMP_EQ_OQ>(zi[v], saved_i[v]);
                        // A repeated state repeats forever: in the set, count stays max_iter.
                        active[v] = _mm256_andnot_pd(_mm256_and_pd(same_r, same_i), active[v]);
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
        while step < max_iter && any_active(&active) {
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
        let escaped_bits = _mm256_movemask_pd(_mm256_and_pd(escaped[v], all_ones)) as u8;
        result.in_set[v] = valid_lanes & !escaped_bits;
        if COUNTS {
            let mut lanes = [0f64; LANES];
            // SAFETY: `lanes` is LANES (4) f64s, exactly the 32 bytes the store writes;
            // the unaligned store needs no alignment.
            unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), count[v]) };
            for (out, lane) in result.counts[v].iter_mut().zip(lanes) {
                *out = lane as u32;
            }
        }
    }
    Ok(result)
}
