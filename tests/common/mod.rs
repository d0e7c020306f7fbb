//! Helpers shared by the Mandelbrot tests: an MD5 (for the published P4 oracles), a
//! plain scalar reference written from the contract, and render shorthands.
#![allow(dead_code)]

use luarun_render::{Engine, Params, PixelFormat, RenderOptions};

/// MD5 of `data` as lowercase hex, for the published P4 oracles.
pub fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The contract's plain iteration, written again here so the tests do not trust the
/// library's own reference.
pub fn plain_count(cr: f64, ci: f64, max_iter: u32) -> u32 {
    let (mut zr, mut zi, mut zrq, mut ziq) = (cr, ci, cr * cr, ci * ci);
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

/// Escape counts of a whole render, row-major, by [`plain_count`].
pub fn plain_counts(p: &Params) -> Vec<u32> {
    let dx = (p.x_max - p.x_min) / f64::from(p.image_width);
    let dy = (p.y_max - p.y_min) / f64::from(p.image_height);
    let mut counts = Vec::with_capacity((p.width * p.height) as usize);
    for y in 0..p.height {
        let ci = f64::from(p.y_offset + y) * dy + p.y_min;
        for x in 0..p.width {
            let cr = f64::from(p.x_offset + x) * dx + p.x_min;
            counts.push(plain_count(cr, ci, p.max_iter));
        }
    }
    counts
}

/// The expected bytes of a render, from [`plain_counts`].
pub fn plain_render(p: &Params) -> Vec<u8> {
    let counts = plain_counts(p);
    let row_bytes = p.format.row_bytes(p.width as usize);
    let mut out = vec![0u8; row_bytes * p.height as usize];
    for (row, counts) in out
        .chunks_exact_mut(row_bytes)
        .zip(counts.chunks_exact(p.width as usize))
    {
        luarun_render::write_row(p.format, counts, p.max_iter, row);
    }
    out
}

/// Params for a `width` x `height` render of the default viewport.
pub fn params(width: u32, height: u32, engine: Engine, threads: u32) -> Params {
    Params {
        width,
        height,
        image_width: width,
        image_height: height,
        engine,
        threads,
        ..Params::default()
    }
}

/// Renders and returns the bytes, panicking with the error message on failure.
pub fn render(p: &Params) -> Vec<u8> {
    let mut buf = vec![0u8; p.buffer_size().expect("valid params")];
    luarun_render::render(p, &mut buf, &RenderOptions::default()).expect("render succeeds");
    buf
}

/// `P4\n<w> <h>\n` + body, the file whose md5 the Benchmarks Game publishes.
pub fn pbm_md5(p: &Params) -> String {
    assert_eq!(p.format, PixelFormat::Bits);
    let mut file = format!("P4\n{} {}\n", p.width, p.height).into_bytes();
    file.extend_from_slice(&render(p));
    md5_hex(&file)
}
