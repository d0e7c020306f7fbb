//! Mirror rows: rows whose pixels are provably those of another row.
//!
//! The iteration is exactly symmetric under `ci -> -ci` in IEEE arithmetic: negating
//! `ci` negates every `zi` bit for bit (`fl(-a) = -fl(a)` for products and sums under
//! round-to-nearest), leaves `zr`, `zrq` and `ziq` unchanged (they only see squares),
//! and so leaves every comparison, every count and every shortcut decision unchanged. A
//! row whose `ci` is *exactly* the negation of another rendered row's `ci` therefore has
//! exactly that row's bytes, in every format and for every budget, and can be copied.
//!
//! Exactness is checked row by row: `ci = (y_offset + y)*dy + y_min` rounds, so in a
//! viewport symmetric about the real axis only part of the rows find an exact partner
//! (216 of 1280 rows and 4541 of 16000 rows at the default view); the others are
//! computed.
//!
//! Only engines that follow the numeric contract may copy; a user's Lua kernel might
//! not, so the Lua engine copies only for its built-in kernel.

use super::{Params, Progress};
use luarun_core::error::Result;
use luarun_core::fallible;

/// For each row of the rendered part, the row (also of the rendered part) whose bytes it
/// repeats, or `None` when it must be computed. A source row is never itself a copy.
pub fn mirror_sources(params: &Params) -> Vec<Option<u32>> {
    (0..params.height)
        .map(|y| mirror_source(params, y))
        .collect()
}

/// The row whose bytes row `y` repeats (see [`mirror_sources`]).
fn mirror_source(params: &Params, y: u32) -> Option<u32> {
    let height = params.height;
    let ci = |y: u32| params.row(y).ci;
    let (_, dy) = params.steps();
    let c = ci(y);
    // Copies are the rows above the axis (NaN cannot occur: the viewport is finite);
    // their sources lie below it.
    if c <= 0.0 {
        return None;
    }
    let target = -c;
    let guess = ((target - params.y_min) / dy).round() - f64::from(params.y_offset);
    if guess <= -2.0 || guess >= f64::from(height) + 1.0 {
        return None;
    }
    let guess = guess as i64;
    (guess - 1..=guess + 1)
        .filter(|&candidate| (0..i64::from(height)).contains(&candidate))
        .map(|candidate| candidate as u32)
        .find(|&candidate| ci(candidate).to_bits() == target.to_bits())
}

/// [`mirror_sources`] when the engine may copy (`enabled`), else no mirror rows at all.
/// One entry per row, allocated fallibly (up to 2^20 rows).
pub fn plan(params: &Params, enabled: bool) -> Result<Vec<Option<u32>>> {
    let rows = (0..params.height).map(|y| {
        if enabled {
            mirror_source(params, y)
        } else {
            None
        }
    });
    fallible::collect(rows, params.height as usize, "the render's row plan")
}

/// The rows of `sources` that must be computed, in order.
pub fn computed_rows(sources: &[Option<u32>]) -> impl Iterator<Item = u32> + '_ {
    (0u32..)
        .zip(sources)
        .filter(|(_, s)| s.is_none())
        .map(|(y, _)| y)
}

/// Copies every mirror row of `buf` (rows of `row_bytes`) from its source, once the
/// computed rows are in place, and counts the copies as done rows.
pub fn copy_mirrors(
    sources: &[Option<u32>],
    buf: &mut [u8],
    row_bytes: usize,
    progress: &Progress,
) {
    let mut copied = 0;
    for (y, source) in sources.iter().enumerate() {
        if let Some(source) = *source {
            let from = source as usize * row_bytes;
            buf.copy_within(from..from + row_bytes, y * row_bytes);
            copied += 1;
        }
    }
    progress.rows_done(copied);
}
