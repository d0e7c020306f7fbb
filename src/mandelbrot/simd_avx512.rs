//! AVX-512F row kernel: 8 pixels per vector, [`GROUP`] vectors in flight, one mask
//! register per vector tracking which lanes still iterate.
//!
//! The loop is latency-bound (each step is a chain of multiply, add, add, multiply), so
//! several independent vectors are interleaved to keep the FPU busy. Operation order is
//! exactly the contract's; `t + t` equals `t * 2.0` bit for bit.

use std::arch::x86_64::*;

use super::shortcut::{
    BULB_RADIUS_SQ, CARDIOID_LAMBDA_SQ, FIRST_SAVE, INNER_DISK_CENTER, INNER_DISK_RADIUS_SQ,
    PERIOD_CHECK,
};
use super::Row;

const LANES: usize = 8;
/// Vectors iterated together.
const GROUP: usize = 4;
const PIXELS: usize = LANES * GROUP;

/// Lanes of one group: which ones are in the set, and (when asked) their counts.
struct GroupResult {
    in_set: [u8; GROUP],
    counts: [[u32; LANES]; GROUP],
}

/// Escape counts of `row` into `counts`.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
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
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn row_bits(row: &Row, shortcuts: bool, bits: &mut [u8]) {
    let width = row.width as usize;
    for (group, out) in bits.chunks_mut(GROUP).enumerate() {
        let x0 = group * PIXELS;
        let result = compute_group::<false>(row, x0, (width - x0).min(PIXELS), shortcuts);
        for (byte, mask) in out.iter_mut().zip(result.in_set) {
            // Lane 0 is the leftmost pixel, which P4 stores in the most significant bit.
            *byte = mask.reverse_bits();
        }
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn bounded_lanes(cr: __m512d, ci: __m512d) -> __mmask8 {
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

/// Iterates the `valid` (<= PIXELS) pixels starting at column `x0`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn compute_group<const COUNTS: bool>(
    row: &Row,
    x0: usize,
    valid: usize,
    shortcuts: bool,
) -> GroupResult {
    let ci = _mm512_set1_pd(row.ci);
    let dx = _mm512_set1_pd(row.dx);
    let x_min = _mm512_set1_pd(row.x_min);
    let lane_index = _mm512_setr_pd(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    let four = _mm512_set1_pd(4.0);
    let ziq0 = _mm512_mul_pd(ci, ci);
    let two = _mm512_set1_pd(2.0);
    let row_in_box = row.ci.abs() < 0.66;
    let (box_left, box_right) = (_mm512_set1_pd(-1.26), _mm512_set1_pd(0.38));

    let mut cr = [_mm512_setzero_pd(); GROUP];
    let mut zr = [_mm512_setzero_pd(); GROUP];
    let mut zi = [ci; GROUP];
    let mut zrq = [_mm512_setzero_pd(); GROUP];
    let mut ziq = [ziq0; GROUP];
    let mut active = [0 as __mmask8; GROUP];
    let mut escaped = [0 as __mmask8; GROUP];
    let mut count = [_mm512_set1_pd(f64::from(row.max_iter)); GROUP];
    for v in 0..GROUP {
        let first = f64::from(row.x_offset) + (x0 + v * LANES) as f64;
        // Integers below 2^53: the sum is exact, so cr matches the scalar formula.
        let x = _mm512_add_pd(_mm512_set1_pd(first), lane_index);
        cr[v] = _mm512_add_pd(_mm512_mul_pd(x, dx), x_min);
        zr[v] = cr[v];
        zrq[v] = _mm512_mul_pd(cr[v], cr[v]);
        let lanes_here = valid.saturating_sub(v * LANES).min(LANES);
        active[v] = ((1u32 << lanes_here) - 1) as __mmask8;
        // Both shortcut regions lie in the box -1.26 < cr < 0.38, |ci| < 0.66: vectors
        // outside it skip the (square-root heavy) test.
        let in_box = _mm512_mask_cmp_pd_mask::<_CMP_GT_OQ>(active[v], cr[v], box_left)
            & _mm512_cmp_pd_mask::<_CMP_LT_OQ>(cr[v], box_right);
        if shortcuts && row_in_box && in_box != 0 {
            // The inner disk (inside the claimed cardioid, see the shortcut tests) and
            // the bulb often settle every lane without the square roots.
            let dr = _mm512_add_pd(cr[v], _mm512_set1_pd(INNER_DISK_CENTER));
            let disk_lhs = _mm512_add_pd(_mm512_mul_pd(dr, dr), _mm512_mul_pd(ci, ci));
            let disk =
                _mm512_cmp_pd_mask::<_CMP_LE_OQ>(disk_lhs, _mm512_set1_pd(INNER_DISK_RADIUS_SQ));
            let settled = if in_box & !disk == 0 {
                disk
            } else {
                disk | bounded_lanes(cr[v], ci)
            };
            active[v] &= !settled;
        }
    }
    let mut saved_r = zr;
    let mut saved_i = zi;
    let mut next_save = FIRST_SAVE;

    let mut step = 1u32;
    while step < row.max_iter && active.iter().any(|&m| m != 0) {
        let step_value = _mm512_set1_pd(f64::from(step));
        for v in 0..GROUP {
            // `t * 2.0` is exact, like the contract's `zr*zi*2`; the multiplier has
            // spare capacity, the adder does not.
            let t = _mm512_mul_pd(zr[v], zi[v]);
            zi[v] = _mm512_add_pd(_mm512_mul_pd(t, two), ci);
            zr[v] = _mm512_add_pd(_mm512_sub_pd(zrq[v], ziq[v]), cr[v]);
            ziq[v] = _mm512_mul_pd(zi[v], zi[v]);
            zrq[v] = _mm512_mul_pd(zr[v], zr[v]);
            let magnitude = _mm512_add_pd(zrq[v], ziq[v]);
            let now = _mm512_mask_cmp_pd_mask::<_CMP_GT_OQ>(active[v], magnitude, four);
            active[v] &= !now;
            if COUNTS {
                count[v] = _mm512_mask_mov_pd(count[v], now, step_value);
            } else {
                escaped[v] |= now;
            }
        }
        if shortcuts && step.is_multiple_of(PERIOD_CHECK) {
            for v in 0..GROUP {
                let same_r = _mm512_mask_cmp_pd_mask::<_CMP_EQ_OQ>(active[v], zr[v], saved_r[v]);
                let same_i = _mm512_mask_cmp_pd_mask::<_CMP_EQ_OQ>(same_r, zi[v], saved_i[v]);
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

    let mut result = GroupResult {
        in_set: [0; GROUP],
        counts: [[0; LANES]; GROUP],
    };
    for v in 0..GROUP {
        // Lanes skipped by the shortcuts were never active, hence never escaped.
        let lanes_here = valid.saturating_sub(v * LANES).min(LANES);
        let valid_lanes = ((1u32 << lanes_here) - 1) as __mmask8;
        result.in_set[v] = valid_lanes & !escaped[v];
        if COUNTS {
            let as_u32 = _mm512_cvtpd_epu32(count[v]);
            _mm256_storeu_si256(result.counts[v].as_mut_ptr().cast(), as_u32);
        }
    }
    result
}
