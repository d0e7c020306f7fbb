//! The plain iteration of the numeric contract, one pixel at a time, with no shortcuts.
//! It is the definition every engine is tested against, not a fast path.

use super::{Params, PixelFormat};

/// The escape count of `c = cr + ci*i`: the first step (1 ..= max_iter-1) at which
/// `|z|^2 > 4`, or `max_iter` when the orbit never escapes.
pub fn escape_count(cr: f64, ci: f64, max_iter: u32) -> u32 {
    let (mut zr, mut zi) = (cr, ci);
    let (mut zrq, mut ziq) = (cr * cr, ci * ci);
    for step in 1..max_iter {
        zi = zr * zi * 2.0 + ci;
        zr = zrq - ziq + cr;
        ziq = zi * zi;
        zrq = zr * zr;
        if zrq + ziq > 4.0 {
            return step;
        }
    }
    max_iter
}

/// Renders `params` pixel by pixel with [`escape_count`] into a new buffer (single
/// thread; `params.engine` and `params.threads` are ignored).
pub fn render(params: &Params) -> Vec<u8> {
    let row_bytes = params.row_bytes();
    let mut out = vec![0u8; row_bytes * params.height as usize];
    let mut counts = vec![0u32; params.width as usize];
    for (y, out_row) in out.chunks_exact_mut(row_bytes).enumerate() {
        let row = params.row(y as u32);
        for (x, count) in counts.iter_mut().enumerate() {
            *count = escape_count(row.cr(x as u32), row.ci, row.max_iter);
        }
        super::write_row(params.format, &counts, params.max_iter, out_row);
    }
    out
}

/// Pixel formats, for tests that loop over all of them.
pub const ALL_FORMATS: [PixelFormat; 5] = [
    PixelFormat::Bits,
    PixelFormat::CountsU32,
    PixelFormat::Rgb8,
    PixelFormat::CountsU16,
    PixelFormat::CountsU8,
];
