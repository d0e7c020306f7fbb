//! AVX2 row kernel: 4 pixels per vector, [`GROUP`] vectors in flight; lane masks are
//! vectors of all-ones / all-zeros doubles. Same structure as the AVX-512 kernel.

use std::arch::x86_64::*;

use super::shortcut::{BULB_RADIUS_SQ, CARDIOID_LAMBDA_SQ, FIRST_SAVE, PERIOD_CHECK};
use super::Row;

const LANES: usize = 4;
/// Vectors iterated together (16 ymm registers: more would spill the hot state).
const GROUP: usize = 3;
const PIXELS: usize = LANES * GROUP;

struct GroupResult {
    /// Bit `j` of entry `v`: lane `j` of vector `v` is in the set.
    in_set: [u8; GROUP],
    counts: [[u32; LANES]; GROUP],
}

/// Escape counts of `row` into `counts`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn row_counts(row: &Row, shortcuts: bool, counts: &mut [u32]) {
    for (group, out) in counts.chunks_mut(PIXELS).enumerate() {
        let result = compute_group::<true>(row, group * PIXELS, out.len(), shortcuts);
        let flat = result.counts.as_flattened();
        out.copy_from_slice(&flat[..out.len()]);
    }
}

/// In-set bits of `row` (PBM P4 row) into `bits`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn row_bits(row: &Row, shortcuts: bool, bits: &mut [u8]) {
    let width = row.width as usize;
    bits.fill(0);
    for x0 in (0..width).step_by(PIXELS) {
        let result = compute_group::<false>(row, x0, (width - x0).min(PIXELS), shortcuts);
        for (v, mask) in result.in_set.iter().enumerate() {
            for lane in 0..LANES {
                let x = x0 + v * LANES + lane;
                if mask & (1 << lane) != 0 {
                    bits[x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
    }
}

#[inline]
#[target_feature(enable = "avx2")]
unsafe fn bounded_lanes(cr: __m256d, ci: __m256d) -> __m256d {
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

/// Iterates the `valid` (<= PIXELS) pixels starting at column `x0`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn compute_group<const COUNTS: bool>(
    row: &Row,
    x0: usize,
    valid: usize,
    shortcuts: bool,
) -> GroupResult {
    let ci = _mm256_set1_pd(row.ci);
    let dx = _mm256_set1_pd(row.dx);
    let x_min = _mm256_set1_pd(row.x_min);
    let lane_index = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
    let four = _mm256_set1_pd(4.0);
    let ziq0 = _mm256_mul_pd(ci, ci);
    let all_ones = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));

    let mut cr = [_mm256_setzero_pd(); GROUP];
    let mut zr = [_mm256_setzero_pd(); GROUP];
    let mut zi = [ci; GROUP];
    let mut zrq = [_mm256_setzero_pd(); GROUP];
    let mut ziq = [ziq0; GROUP];
    let mut active = [_mm256_setzero_pd(); GROUP];
    let mut escaped = [_mm256_setzero_pd(); GROUP];
    let mut count = [_mm256_set1_pd(f64::from(row.max_iter)); GROUP];
    let mut valid_lanes = [0u8; GROUP];
    for v in 0..GROUP {
        let first = f64::from(row.x_offset) + (x0 + v * LANES) as f64;
        let x = _mm256_add_pd(_mm256_set1_pd(first), lane_index);
        cr[v] = _mm256_add_pd(_mm256_mul_pd(x, dx), x_min);
        zr[v] = cr[v];
        zrq[v] = _mm256_mul_pd(cr[v], cr[v]);
        let lanes_here = valid.saturating_sub(v * LANES).min(LANES);
        valid_lanes[v] = ((1u32 << lanes_here) - 1) as u8;
        let lane_limit = _mm256_set1_pd(lanes_here as f64);
        active[v] = _mm256_cmp_pd::<_CMP_LT_OQ>(lane_index, lane_limit);
        if shortcuts && lanes_here > 0 {
            active[v] = _mm256_andnot_pd(bounded_lanes(cr[v], ci), active[v]);
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
    while step < row.max_iter && any_active(&active) {
        let step_value = _mm256_set1_pd(f64::from(step));
        for v in 0..GROUP {
            let t = _mm256_mul_pd(zr[v], zi[v]);
            zi[v] = _mm256_add_pd(_mm256_add_pd(t, t), ci);
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
        if shortcuts && step.is_multiple_of(PERIOD_CHECK) {
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

    let mut result = GroupResult {
        in_set: [0; GROUP],
        counts: [[0; LANES]; GROUP],
    };
    for v in 0..GROUP {
        let escaped_bits = _mm256_movemask_pd(_mm256_and_pd(escaped[v], all_ones)) as u8;
        result.in_set[v] = valid_lanes[v] & !escaped_bits;
        if COUNTS {
            let mut lanes = [0f64; LANES];
            _mm256_storeu_pd(lanes.as_mut_ptr(), count[v]);
            for (out, lane) in result.counts[v].iter_mut().zip(lanes) {
                *out = lane as u32;
            }
        }
    }
    result
}
