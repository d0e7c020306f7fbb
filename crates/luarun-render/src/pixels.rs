//! Output formats: how escape counts become bytes in the caller's buffer.

/// How a render stores pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// PBM P4 body: 1 bit per pixel, 1 = in the set, most significant bit first, each row
    /// padded to a whole byte.
    Bits,
    /// One native-endian `u32` count per pixel (`uint32_t` in C).
    CountsU32,
    /// Three bytes (red, green, blue) per pixel through [`rgb`]; in-set pixels black.
    Rgb8,
    /// One native-endian `u16` count per pixel, saturated at 65535.
    CountsU16,
    /// One `u8` count per pixel, saturated at 255.
    CountsU8,
}

impl PixelFormat {
    /// Bytes one row of `width` pixels takes.
    pub fn row_bytes(self, width: usize) -> usize {
        match self {
            PixelFormat::Bits => width.div_ceil(8),
            PixelFormat::CountsU32 => width * 4,
            PixelFormat::Rgb8 => width * 3,
            PixelFormat::CountsU16 => width * 2,
            PixelFormat::CountsU8 => width,
        }
    }
}

/// Writes one row of `counts` (count == `max_iter` means in the set) as `format` into
/// `out`, which holds exactly one row.
pub fn write_row(format: PixelFormat, counts: &[u32], max_iter: u32, out: &mut [u8]) {
    match format {
        PixelFormat::Bits => {
            out.fill(0);
            for (x, &count) in counts.iter().enumerate() {
                if count == max_iter {
                    out[x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        PixelFormat::CountsU32 => {
            for (chunk, &count) in out.chunks_exact_mut(4).zip(counts) {
                chunk.copy_from_slice(&count.to_ne_bytes());
            }
        }
        PixelFormat::CountsU16 => {
            for (chunk, &count) in out.chunks_exact_mut(2).zip(counts) {
                let count = count.min(u32::from(u16::MAX)) as u16;
                chunk.copy_from_slice(&count.to_ne_bytes());
            }
        }
        PixelFormat::CountsU8 => {
            for (byte, &count) in out.iter_mut().zip(counts) {
                *byte = count.min(255) as u8;
            }
        }
        PixelFormat::Rgb8 => {
            for (chunk, &count) in out.chunks_exact_mut(3).zip(counts) {
                chunk.copy_from_slice(&rgb(count, max_iter));
            }
        }
    }
}

/// The RGB8 palette: black inside the set; outside, `t = 0.9 * sqrt(count / max_iter)`
/// runs through the Bernstein polynomials `r = 9(1-t)t^3`, `g = 15(1-t)^2 t^2`,
/// `b = 8.5(1-t)^3 t`: deep blue far out, through white-gold to orange at the boundary.
/// The square root spreads the few low counts of a large `max_iter` over the gradient.
/// Only correctly rounded operations, so every machine gets the same bytes.
pub fn rgb(count: u32, max_iter: u32) -> [u8; 3] {
    if count >= max_iter {
        return [0, 0, 0];
    }
    let t = 0.9 * (f64::from(count) / f64::from(max_iter)).sqrt();
    let s = 1.0 - t;
    let channel = |v: f64| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    [
        channel(9.0 * s * t * t * t),
        channel(15.0 * s * s * t * t),
        channel(8.5 * s * s * s * t),
    ]
}
