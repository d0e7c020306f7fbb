//! Helpers shared by the Mandelbrot tests: an MD5 (for the published P4 oracles), a
//! plain scalar reference written from the contract, and render shorthands.
#![allow(dead_code)]

use luarun_render::{Engine, Params, PixelFormat, RenderOptions};

/// MD5 of `data` as lowercase hex (RFC 1321), enough for test oracles.
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    let mut h: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    for block in message.chunks_exact(64) {
        let m: Vec<u32> = block
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            (a, d, c) = (d, c, b);
            b = b.wrapping_add(rotated);
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d]) {
            *state = state.wrapping_add(add);
        }
    }
    h.iter()
        .flat_map(|w| w.to_le_bytes())
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
