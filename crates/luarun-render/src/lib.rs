//! Mandelbrot renders into caller buffers: parameters, validation, output formats and
//! the numeric contract every engine follows bit for bit.
//!
//! The contract (see DESIGN.md), for pixel `(x, y)` of an image `image_width` x
//! `image_height` whose rendered part starts at `(x_offset, y_offset)`:
//!
//! ```text
//! dx = (x_max - x_min) / image_width       dy = (y_max - y_min) / image_height
//! cr = (x_offset + x)*dx + x_min           ci = (y_offset + y)*dy + y_min
//! zr = cr; zi = ci; zrq = cr*cr; ziq = ci*ci
//! for step = 1 .. max_iter-1:
//!     zi = zr*zi*2 + ci;  zr = zrq - ziq + cr;  ziq = zi*zi;  zrq = zr*zr
//!     if zrq + ziq > 4.0: count = step; stop
//! never escaped: count = max_iter (in the set)
//! ```
//!
//! IEEE doubles, no fused multiply-add, no reassociation. The engines may skip work only
//! where the skipped iterations provably cannot change the count (see [`shortcut`]).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

pub mod idle_pools;
pub mod lua;
pub mod mirror;
pub mod native;
mod pixels;
pub mod reference;
mod scalar;
pub mod shortcut;
#[cfg(target_arch = "x86_64")]
mod simd_avx2;
#[cfg(target_arch = "x86_64")]
mod simd_avx512;

use luarun_core::error::{Error, ErrorKind, Result};

pub use luarun_core::pool::resolve_threads;
pub use luarun_core::progress::{Cancelled, Progress, StepBudget, POLL_STEPS};
pub use pixels::{write_row, PixelFormat};

/// Largest width or height (of the image or of the rendered tile) a render accepts.
pub const MAX_SIDE: u32 = 1 << 20;
/// Largest thread count a render accepts.
pub const MAX_THREADS: u32 = 1024;

/// Which engine computes the pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Rust kernels: AVX-512F, AVX2 or scalar, chosen at run time.
    Native,
    /// A Lua kernel run on a pool of Lua states, one per thread.
    Lua,
}

/// A validated render request.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Pixels per row of the rendered part.
    pub width: u32,
    /// Rows of the rendered part.
    pub height: u32,
    /// Iteration budget; pixels that do not escape within it count as in the set.
    pub max_iter: u32,
    /// Left edge of the whole image in the complex plane.
    pub x_min: f64,
    /// Right edge (exclusive) of the whole image.
    pub x_max: f64,
    /// Top edge (row 0) of the whole image.
    pub y_min: f64,
    /// Bottom edge (exclusive) of the whole image.
    pub y_max: f64,
    /// Worker threads, already resolved (never 0).
    pub threads: u32,
    /// Which engine renders.
    pub engine: Engine,
    /// How pixels are stored.
    pub format: PixelFormat,
    /// Column of the whole image where the rendered part starts.
    pub x_offset: u32,
    /// Row of the whole image where the rendered part starts.
    pub y_offset: u32,
    /// Width of the whole image (equals `width` for an untiled render).
    pub image_width: u32,
    /// Height of the whole image (equals `height` for an untiled render).
    pub image_height: u32,
}

impl Default for Params {
    /// The Benchmarks Game render: 1280 x 1280, 50 iterations, [-1.5, 0.5) x [-1, 1).
    fn default() -> Self {
        Params {
            width: 1280,
            height: 1280,
            max_iter: 50,
            x_min: -1.5,
            x_max: 0.5,
            y_min: -1.0,
            y_max: 1.0,
            threads: 1,
            engine: Engine::Native,
            format: PixelFormat::Bits,
            x_offset: 0,
            y_offset: 0,
            image_width: 1280,
            image_height: 1280,
        }
    }
}

impl Params {
    /// The request with its "0 = default" fields filled: `threads` 0 is every core,
    /// `image_width` / `image_height` 0 are the rendered part's own size (no tiling).
    pub fn with_defaults_resolved(mut self) -> Self {
        self.threads = resolve_threads(self.threads);
        if self.image_width == 0 {
            self.image_width = self.width;
        }
        if self.image_height == 0 {
            self.image_height = self.height;
        }
        self
    }

    /// Checks every field; returns a message saying what to change.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| Err(Error::invalid_argument(message));
        for (name, value) in [
            ("width", self.width),
            ("height", self.height),
            ("image_width", self.image_width),
            ("image_height", self.image_height),
        ] {
            if value == 0 || value > MAX_SIDE {
                return bad(format!("{name} is {value}; it must be 1 ..= {MAX_SIDE}"));
            }
        }
        if u64::from(self.x_offset) + u64::from(self.width) > u64::from(self.image_width) {
            return bad(format!(
                "x_offset {} + width {} exceeds image_width {}",
                self.x_offset, self.width, self.image_width
            ));
        }
        if u64::from(self.y_offset) + u64::from(self.height) > u64::from(self.image_height) {
            return bad(format!(
                "y_offset {} + height {} exceeds image_height {}",
                self.y_offset, self.height, self.image_height
            ));
        }
        if self.max_iter == 0 {
            return bad("max_iter is 0; it must be at least 1 (50 is the classic)".into());
        }
        for (name, value) in [
            ("x_min", self.x_min),
            ("x_max", self.x_max),
            ("y_min", self.y_min),
            ("y_max", self.y_max),
        ] {
            if !value.is_finite() {
                return bad(format!("{name} is {value}; the viewport must be finite"));
            }
        }
        if self.x_min >= self.x_max || self.y_min >= self.y_max {
            return bad(format!(
                "viewport [{}, {}) x [{}, {}) is empty or inverted; need x_min < x_max \
                 and y_min < y_max",
                self.x_min, self.x_max, self.y_min, self.y_max
            ));
        }
        let (dx, dy) = self.steps();
        if !(dx.is_finite() && dx > 0.0 && dy.is_finite() && dy > 0.0) {
            return bad(format!(
                "viewport is too wide or too narrow for doubles: pixel size is {dx} x {dy}"
            ));
        }
        if self.threads == 0 || self.threads > MAX_THREADS {
            return bad(format!(
                "threads is {}; it must be 1 ..= {MAX_THREADS}",
                self.threads
            ));
        }
        self.buffer_size().map(|_| ())
    }

    /// Pixel size in the complex plane: `(dx, dy)` of the contract.
    pub fn steps(&self) -> (f64, f64) {
        (
            (self.x_max - self.x_min) / f64::from(self.image_width),
            (self.y_max - self.y_min) / f64::from(self.image_height),
        )
    }

    /// Bytes of one row in the output format.
    pub fn row_bytes(&self) -> usize {
        self.format.row_bytes(self.width as usize)
    }

    /// Bytes the whole render needs.
    pub fn buffer_size(&self) -> Result<usize> {
        self.row_bytes()
            .checked_mul(self.height as usize)
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "a {} x {} render in this format does not fit in memory",
                    self.width, self.height
                ))
            })
    }

    /// The row description engines compute from: `ci` and the column mapping of row `y`
    /// (0-based within the rendered part).
    pub fn row(&self, y: u32) -> Row {
        let (dx, dy) = self.steps();
        Row {
            ci: f64::from(self.y_offset + y) * dy + self.y_min,
            x_min: self.x_min,
            dx,
            x_offset: self.x_offset,
            width: self.width,
            max_iter: self.max_iter,
        }
    }
}

/// One row to compute: pixel `x` has `cr = (x_offset + x)*dx + x_min` and `ci`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Imaginary part shared by the whole row.
    pub ci: f64,
    /// Left edge of the image.
    pub x_min: f64,
    /// Pixel width.
    pub dx: f64,
    /// Column of the image where this row's first pixel lies.
    pub x_offset: u32,
    /// Pixels in the row.
    pub width: u32,
    /// Iteration budget.
    pub max_iter: u32,
}

impl Row {
    /// `cr` of pixel `x`, exactly as the contract computes it.
    #[inline]
    pub fn cr(&self, x: u32) -> f64 {
        f64::from(self.x_offset + x) * self.dx + self.x_min
    }
}

/// Options of a render that are not pixel parameters.
#[derive(Default)]
pub struct RenderOptions<'a> {
    /// Called with (rows done, rows total); returns true to cancel.
    pub progress: Option<&'a (dyn Fn(u32, u32) -> bool + Sync)>,
    /// Lua kernel source for the Lua engine; `None` = the built-in `lua/mandelbrot.lua`.
    pub lua_kernel: Option<&'a [u8]>,
}

/// Validates `params` and renders into `buf`, which must hold at least
/// [`Params::buffer_size`] bytes (more is fine; the rest is left untouched).
pub fn render(params: &Params, buf: &mut [u8], options: &RenderOptions) -> Result<()> {
    params.validate()?;
    let needed = params.buffer_size()?;
    if buf.len() < needed {
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!(
                "buffer has {} bytes, a {} x {} render in this format needs {needed}",
                buf.len(),
                params.width,
                params.height
            ),
        ));
    }
    let buf = &mut buf[..needed];
    let progress = Progress::new(params.height, options.progress);
    match params.engine {
        Engine::Native => native::render(params, buf, &progress)?,
        Engine::Lua => lua::render(params, buf, &progress, options.lua_kernel)?,
    }
    progress.finish()
}
