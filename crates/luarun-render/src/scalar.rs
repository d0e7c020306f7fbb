//! The scalar kernel: the contract's iteration one pixel at a time, in stretches of at
//! most the budget's steps so that a long orbit can be stopped between two of them.
//!
//! Splitting the loop changes nothing about the numbers: a stretch ends after some
//! step and the next one starts with the following step, from the same state.

use super::shortcut::{is_bounded, FIRST_SAVE, PERIOD_CHECK};
use super::{Cancelled, Row, StepBudget};

/// Steps a pixel's setup (and a settled pixel) is charged, so a row of pixels the
/// shortcuts settle still uses up the budget.
const PIXEL_COST: u32 = 4;

/// Escape counts of consecutive `rows` into `counts` (`width` per row); stops early
/// when `budget` says the render is cancelled.
pub(crate) fn rows_counts(
    rows: &[Row],
    shortcuts: bool,
    counts: &mut [u32],
    budget: &mut StepBudget,
) -> Result<(), Cancelled> {
    let width = rows.first().map_or(0, |row| row.width as usize);
    for (row, row_counts) in rows.iter().zip(counts.chunks_mut(width.max(1))) {
        for (x, count) in row_counts.iter_mut().enumerate() {
            *count = escape_count(row.cr(x as u32), row.ci, row.max_iter, shortcuts, budget)?;
        }
    }
    Ok(())
}

/// The escape count of the contract. With `shortcuts`, pixels [`is_bounded`] settles
/// are not iterated and orbits are checked for exact periodicity (see
/// [`super::shortcut`]); without, this is [`super::reference::escape_count`].
pub(crate) fn escape_count(
    cr: f64,
    ci: f64,
    max_iter: u32,
    shortcuts: bool,
    budget: &mut StepBudget,
) -> Result<u32, Cancelled> {
    budget.charge(PIXEL_COST)?;
    if shortcuts && is_bounded(cr, ci) {
        return Ok(max_iter);
    }
    let (mut zr, mut zi) = (cr, ci);
    let (mut zrq, mut ziq) = (cr * cr, ci * ci);
    let (mut saved_r, mut saved_i) = (zr, zi);
    let mut next_save = FIRST_SAVE;
    let mut step = 1;
    while step < max_iter {
        let stretch_end = max_iter.min(step.saturating_add(budget.left()));
        for s in step..stretch_end {
            zi = zr * zi * 2.0 + ci;
            zr = zrq - ziq + cr;
            ziq = zi * zi;
            zrq = zr * zr;
            if zrq + ziq > 4.0 {
                budget.charge(s + 1 - step)?;
                return Ok(s);
            }
            if shortcuts && s.is_multiple_of(PERIOD_CHECK) {
                if zr == saved_r && zi == saved_i {
                    budget.charge(s + 1 - step)?;
                    return Ok(max_iter);
                }
                if s == next_save {
                    (saved_r, saved_i) = (zr, zi);
                    next_save = next_save.saturating_mul(2);
                }
            }
        }
        budget.charge(stretch_end - step)?;
        step = stretch_end;
    }
    Ok(max_iter)
}
