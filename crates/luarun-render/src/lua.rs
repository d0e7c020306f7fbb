//! The Lua engine: a kernel (`lua/mandelbrot.lua` or the caller's) run on a [`Pool`]
//! with one state per thread, rows handed out dynamically, each row's bytes copied once
//! into its place in the caller's buffer.
//!
//! Kernel shape: the source defines a global `mandelbrot_row(y, p)` returning row `y`
//! (0-based row of the whole image) as a string. `p` is a table with `width`,
//! `max_iter`, `x_min`, `dx`, `x_offset`, `y_min`, `dy` and `format`: `"bits"` (PBM P4
//! row, `ceil(width/8)` bytes) or `"counts"` (4 bytes per pixel, little-endian). Other
//! pixel formats are made from counts by the library.
//!
//! `p.poll` is a function a kernel calls every few thousand iteration steps: it raises an
//! error once the render is cancelled (stopping the row where it is) and calls the
//! progress callback when it has not been called for 10 ms. A kernel that never calls
//! it still works, but is cancelled and reported only between rows.

use std::sync::Arc;

use mlua::MultiValue;
use parking_lot::{Mutex, RwLock};

use super::{idle_pools, mirror, write_row, Cancelled, Params, PixelFormat, Progress};
use luarun_core::error::{Error, ErrorKind, Result};
use luarun_core::fallible;
use luarun_core::pool::Pool;
use luarun_core::state::Options;

/// The built-in kernel.
pub const BUILTIN_KERNEL: &str = include_str!("../lua/mandelbrot.lua");
/// The global function a kernel defines.
pub const KERNEL_FUNCTION: &str = "mandelbrot_row";

/// Renders `params` into `buf` (exactly `params.buffer_size()` bytes).
pub fn render(
    params: &Params,
    buf: &mut [u8],
    progress: &Progress,
    kernel: Option<&[u8]>,
) -> Result<()> {
    // Only the built-in kernel is known to follow the numeric contract, which makes
    // mirrored rows equal (see `mirror`); a caller's kernel computes every row.
    let mirror = kernel.is_none();
    let kernel = kernel.unwrap_or(BUILTIN_KERNEL.as_bytes());
    let pool = take_pool(params.threads, kernel)?;
    let result = render_on(&pool, params, buf, progress, mirror);
    idle_pools::put_back(params.threads, kernel, pool);
    result
}

fn take_pool(threads: u32, kernel: &[u8]) -> Result<Pool> {
    if let Some(pool) = idle_pools::take(threads, kernel) {
        return Ok(pool);
    }
    // No limits: such states run without any count hook (see hook.rs), at full speed.
    // These states are never exposed; the kernel's `p.poll` stops a cancelled render.
    let pool = Pool::new(threads as usize, &Options::default())?;
    pool.exec(kernel, Some("=mandelbrot kernel"))?;
    Ok(pool)
}

/// Renders on a pool whose states already define [`KERNEL_FUNCTION`]. With `mirror`
/// (only for kernels that follow the numeric contract), rows that exactly mirror
/// another row are copied instead of computed.
pub fn render_on(
    pool: &Pool,
    params: &Params,
    buf: &mut [u8],
    progress: &Progress,
    mirror: bool,
) -> Result<()> {
    let row_bytes = params.row_bytes();
    let sources = mirror::plan(params, mirror)?;
    let rows: Vec<Mutex<&mut [u8]>> = fallible::collect(
        buf.chunks_mut(row_bytes).map(Mutex::new),
        params.height as usize,
        "the render's rows",
    )?;
    let kernel_format = if params.format == PixelFormat::Bits {
        "bits"
    } else {
        "counts"
    };
    let kernel_row_bytes = if params.format == PixelFormat::Bits {
        row_bytes
    } else {
        params.width as usize * 4
    };
    let (dx, dy) = params.steps();
    let link = Arc::new(ProgressLink::connect(progress));
    let _disconnect = Disconnect(&link);
    let args = |lua: &mlua::Lua| -> mlua::Result<MultiValue> {
        let p = lua.create_table()?;
        let link = Arc::clone(&link);
        p.set("poll", lua.create_function(move |_, ()| link.poll())?)?;
        p.set("width", params.width)?;
        p.set("max_iter", params.max_iter)?;
        p.set("x_min", params.x_min)?;
        p.set("dx", dx)?;
        p.set("x_offset", params.x_offset)?;
        p.set("y_min", params.y_min)?;
        p.set("dy", dy)?;
        p.set("format", kernel_format)?;
        Ok(MultiValue::from_vec(vec![mlua::Value::Table(p)]))
    };
    let first_row = i64::from(params.y_offset);
    let sink = |y: i64, bytes: &[u8]| -> Result<()> {
        if bytes.len() != kernel_row_bytes {
            return Err(Error::new(
                ErrorKind::Runtime,
                format!(
                    "{KERNEL_FUNCTION} returned {} bytes for a {kernel_format} row, \
                     expected {kernel_row_bytes}",
                    bytes.len()
                ),
            ));
        }
        let mut out = rows[(y - first_row) as usize].lock();
        if params.format == PixelFormat::Bits {
            out.copy_from_slice(bytes);
        } else {
            let counts: Vec<u32> = fallible::collect(
                bytes
                    .chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                params.width as usize,
                "a row's counts",
            )?;
            write_row(params.format, &counts, params.max_iter, &mut out);
        }
        Ok(())
    };
    let after_each = || {
        progress.rows_done(1);
        progress.is_cancelled()
    };
    let computed: Vec<i64> = fallible::collect(
        mirror::computed_rows(&sources).map(|y| first_row + i64::from(y)),
        sources.len(),
        "the render's rows",
    )?;
    match pool.run_each(KERNEL_FUNCTION, &computed, &args, &sink, &after_each) {
        // Reported by `progress.finish`. Kernels stopped by `p.poll` fail with its error,
        // and any other error after a cancel is a consequence of it.
        Err(_) if progress.is_cancelled() => return Ok(()),
        other => other?,
    }
    drop(rows);
    mirror::copy_mirrors(&sources, buf, row_bytes, progress);
    Ok(())
}

/// What `p.poll` raises in a cancelled render (the caller sees `Cancelled` instead).
const CANCELLED_MESSAGE: &str = "the render was cancelled";

/// The render a kernel's `p.poll` reports to. Lua functions must be `'static` and the
/// render's [`Progress`] is not, so the function reaches it through this link, which
/// holds it only while the render runs: a kernel that keeps `p.poll` and calls it later
/// finds the link empty, and the call does nothing.
struct ProgressLink(RwLock<*const ()>);

// SAFETY: the pointer is only dereferenced in `poll`, under the read lock, while it is
// not null; `Progress` is `Sync`, so any thread may use it.
unsafe impl Send for ProgressLink {}
// SAFETY: as above.
unsafe impl Sync for ProgressLink {}

impl ProgressLink {
    /// A link to `progress`, which must stay alive until the [`Disconnect`] guarding
    /// this link is dropped.
    fn connect(progress: &Progress) -> Self {
        ProgressLink(RwLock::new((progress as *const Progress).cast()))
    }

    /// `p.poll`: an error once the render is cancelled; reports progress when due.
    fn poll(&self) -> mlua::Result<()> {
        let progress = self.0.read();
        if progress.is_null() {
            return Ok(());
        }
        // SAFETY: not null, so the render is still running: `Disconnect` nulls the
        // pointer (taking the write lock, so after this read ends) before the render
        // returns and its `Progress` goes away.
        let progress = unsafe { &*progress.cast::<Progress>() };
        progress
            .poll()
            .map_err(|Cancelled| mlua::Error::runtime(CANCELLED_MESSAGE))
    }
}

/// Empties a [`ProgressLink`] when the render ends, however it ends.
struct Disconnect<'a>(&'a ProgressLink);

impl Drop for Disconnect<'_> {
    fn drop(&mut self) {
        *self.0 .0.write() = std::ptr::null();
    }
}
