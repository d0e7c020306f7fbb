//! `luarun_mandelbrot_*`: threaded Mandelbrot renders into caller buffers.

use std::ffi::{c_char, c_int, c_void};

use super::progress::CProgress;
use super::{
    arg_bytes, boundary, boundary_or, check_out, luarun_status, read_sized_struct,
    sized_struct_fields, Field, SizedStruct,
};
use luarun_core::error::{Error, Result};
use luarun_render::{Engine, Params, PixelFormat, RenderOptions};

/// Which engine renders (`luarun_mandelbrot.engine`).
pub type luarun_engine = u32;
/// Rust kernels (AVX-512F / AVX2 / scalar, chosen at run time) on a rayon pool.
pub const LUARUN_ENGINE_NATIVE: luarun_engine = 0;
/// A Lua kernel on a pool of Lua states, one per thread.
pub const LUARUN_ENGINE_LUA: luarun_engine = 1;

/// How pixels are stored (`luarun_mandelbrot.format`).
pub type luarun_pixel_format = u32;
/// PBM P4 body: 1 bit per pixel, 1 = in the set, most significant bit first, each row
/// padded to a whole byte: `ceil(width/8) * height` bytes. Write `"P4\n<w> <h>\n"` first
/// to get a .pbm file.
pub const LUARUN_PIXELS_BITS: luarun_pixel_format = 0;
/// One `uint32_t` escape count per pixel, row-major: the first step (1 .. max_iter-1) at
/// which |z|^2 > 4, or `max_iter` for pixels in the set.
pub const LUARUN_PIXELS_COUNTS_U32: luarun_pixel_format = 1;
/// Three bytes (R, G, B) per pixel. In the set: black. Outside:
/// `t = 0.9 * sqrt(count / max_iter)`, `r = 9(1-t)t^3`, `g = 15(1-t)^2 t^2`,
/// `b = 8.5(1-t)^3 t`, each times 255, rounded (deep blue far out, gold near the set).
pub const LUARUN_PIXELS_RGB8: luarun_pixel_format = 2;
/// One `uint16_t` count per pixel, saturated at 65535.
pub const LUARUN_PIXELS_COUNTS_U16: luarun_pixel_format = 3;
/// One `uint8_t` count per pixel, saturated at 255.
pub const LUARUN_PIXELS_COUNTS_U8: luarun_pixel_format = 4;

/// Largest width or height a render accepts (image or tile).
pub const LUARUN_MANDELBROT_MAX_SIDE: u32 = 1 << 20;
const _: () = assert!(LUARUN_MANDELBROT_MAX_SIDE == luarun_render::MAX_SIDE);

/// Progress callback: `rows_done` of `rows_total` rows are finished. Return non-zero to
/// cancel (the call then returns `LUARUN_ERR_CANCELLED`, within about a millisecond even
/// when rows are slow). Called from worker threads, one call at a time, with `rows_done`
/// never decreasing: when rows finish (at most about 256 times per render), about every
/// 10 ms of work in between (with the rows finished so far, possibly the same number
/// again), and with `rows_done == rows_total` at the end unless cancelled. It must not
/// call luarun functions that render.
pub type luarun_progress_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, rows_done: u32, rows_total: u32) -> c_int>;

/// Parameters of a render. Fill with `luarun_mandelbrot_default`, then change fields.
///
/// Pixel `(x, y)` is `c = cr + ci*i` with `dx = (x_max - x_min) / image_width`,
/// `cr = (x_offset + x)*dx + x_min` and likewise for rows (row 0 is `y_min`); every
/// engine iterates it bit-exactly as described in README.md ("Rendering").
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct luarun_mandelbrot {
    /// `sizeof(luarun_mandelbrot)`, set by `luarun_mandelbrot_default`.
    pub struct_size: u32,
    /// Pixels per row to render (default 1280), 1 ..= `LUARUN_MANDELBROT_MAX_SIDE`.
    pub width: u32,
    /// Rows to render (default 1280), 1 ..= `LUARUN_MANDELBROT_MAX_SIDE`.
    pub height: u32,
    /// Iteration budget, at least 1 (default 50).
    pub max_iter: u32,
    /// Left edge of the image (default -1.5). The viewport must be finite and non-empty.
    pub x_min: f64,
    /// Right edge, exclusive (default 0.5).
    pub x_max: f64,
    /// Top edge: row 0 (default -1.0).
    pub y_min: f64,
    /// Bottom edge, exclusive (default 1.0).
    pub y_max: f64,
    /// Worker threads, 0 = one per core (default 0). Honoured exactly.
    pub threads: u32,
    /// `LUARUN_ENGINE_NATIVE` (default) or `LUARUN_ENGINE_LUA`.
    pub engine: luarun_engine,
    /// A `LUARUN_PIXELS_*` constant (default `LUARUN_PIXELS_BITS`).
    pub format: luarun_pixel_format,
    /// Optional progress callback (default NULL).
    pub progress: luarun_progress_callback,
    /// Passed to `progress` unchanged.
    pub progress_user_data: *mut c_void,
    /// Lua engine only: kernel source defining `mandelbrot_row(y, p)` (see README.md,
    /// "Rendering"); NULL = the built-in `crates/luarun-render/lua/mandelbrot.lua`.
    pub lua_kernel: *const c_char,
    /// Bytes in `lua_kernel`.
    pub lua_kernel_len: usize,
    /// Tiles: column of the whole image where this render starts (default 0).
    pub x_offset: u32,
    /// Tiles: row of the whole image where this render starts (default 0).
    pub y_offset: u32,
    /// Tiles: width of the whole image; 0 (default) = `width`. Tiles of one image give
    /// exactly the bits of rendering it whole.
    pub image_width: u32,
    /// Tiles: height of the whole image; 0 (default) = `height`.
    pub image_height: u32,
}

impl SizedStruct for luarun_mandelbrot {
    const NAME: &'static str = "luarun_mandelbrot";
    fn fields() -> Vec<Field> {
        sized_struct_fields!(luarun_mandelbrot {
            struct_size,
            width,
            height,
            max_iter,
            x_min,
            x_max,
            y_min,
            y_max,
            threads,
            engine,
            format,
            progress,
            progress_user_data,
            lua_kernel,
            lua_kernel_len,
            x_offset,
            y_offset,
            image_width,
            image_height,
        })
    }
}

impl luarun_mandelbrot {
    fn defaults() -> Self {
        let core = Params::default();
        luarun_mandelbrot {
            struct_size: std::mem::size_of::<luarun_mandelbrot>() as u32,
            width: core.width,
            height: core.height,
            max_iter: core.max_iter,
            x_min: core.x_min,
            x_max: core.x_max,
            y_min: core.y_min,
            y_max: core.y_max,
            threads: 0,
            engine: LUARUN_ENGINE_NATIVE,
            format: LUARUN_PIXELS_BITS,
            progress: None,
            progress_user_data: std::ptr::null_mut(),
            lua_kernel: std::ptr::null(),
            lua_kernel_len: 0,
            x_offset: 0,
            y_offset: 0,
            image_width: 0,
            image_height: 0,
        }
    }

    fn to_core(self) -> Result<Params> {
        let engine = match self.engine {
            LUARUN_ENGINE_NATIVE => Engine::Native,
            LUARUN_ENGINE_LUA => Engine::Lua,
            other => {
                return Err(Error::invalid_argument(format!(
                    "engine is {other}; use LUARUN_ENGINE_NATIVE (0) or LUARUN_ENGINE_LUA (1)"
                )))
            }
        };
        let format = match self.format {
            LUARUN_PIXELS_BITS => PixelFormat::Bits,
            LUARUN_PIXELS_COUNTS_U32 => PixelFormat::CountsU32,
            LUARUN_PIXELS_RGB8 => PixelFormat::Rgb8,
            LUARUN_PIXELS_COUNTS_U16 => PixelFormat::CountsU16,
            LUARUN_PIXELS_COUNTS_U8 => PixelFormat::CountsU8,
            other => {
                return Err(Error::invalid_argument(format!(
                    "format is {other}; use a LUARUN_PIXELS_* constant (0 ..= 4)"
                )))
            }
        };
        let params = Params {
            width: self.width,
            height: self.height,
            max_iter: self.max_iter,
            x_min: self.x_min,
            x_max: self.x_max,
            y_min: self.y_min,
            y_max: self.y_max,
            threads: self.threads,
            engine,
            format,
            x_offset: self.x_offset,
            y_offset: self.y_offset,
            image_width: self.image_width,
            image_height: self.image_height,
        }
        .with_defaults_resolved();
        params.validate()?;
        Ok(params)
    }
}

/// Fills `*params_out` with the defaults: the Benchmarks Game render (1280 x 1280, 50
/// iterations, x in [-1.5, 0.5), y in [-1, 1), bits), all cores, native engine.
/// Does nothing when `params_out` is NULL.
///
/// # Safety
/// `params_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_mandelbrot_default(params_out: *mut luarun_mandelbrot) {
    boundary_or((), || {
        if !params_out.is_null() {
            // SAFETY: not NULL, so writable: the caller's guarantee (`# Safety`).
            unsafe { params_out.write(luarun_mandelbrot::defaults()) };
        }
    })
}

/// The caller's parameters as given (for the pointers) and as the renderer takes them.
///
/// # Safety
/// `params` must be NULL or point to a `luarun_mandelbrot` of at least its `struct_size`.
unsafe fn read_params(params: *const luarun_mandelbrot) -> Result<(luarun_mandelbrot, Params)> {
    // SAFETY: our caller guarantees `params` is NULL or holds `struct_size` bytes.
    let raw = unsafe { read_sized_struct(params, luarun_mandelbrot::defaults())? };
    let core = raw.to_core()?;
    Ok((raw, core))
}

/// Bytes a render with `params` writes, or 0 when `params` are invalid (then
/// `luarun_last_error` says why; `luarun_mandelbrot_buffer_size_checked` returns the
/// reason as a status too).
///
/// # Safety
/// `params` must be NULL or point to a `luarun_mandelbrot` of `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn luarun_mandelbrot_buffer_size(params: *const luarun_mandelbrot) -> usize {
    boundary_or(0, || {
        let mut size = 0;
        // SAFETY: the caller's guarantee for `params` is the one `_checked` needs, and
        // `size` is ours; on failure (error recorded) it stays 0.
        unsafe { luarun_mandelbrot_buffer_size_checked(params, &mut size) };
        size
    })
}

/// Writes the bytes a render with `params` writes to `*size_out`, or fails with
/// `LUARUN_ERR_INVALID_ARGUMENT` and a message saying which field to change (then
/// `*size_out` is untouched): `luarun_mandelbrot_buffer_size` with a status.
///
/// # Safety
/// `params` as for `luarun_mandelbrot_buffer_size`; `size_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_mandelbrot_buffer_size_checked(
    params: *const luarun_mandelbrot,
    size_out: *mut usize,
) -> luarun_status {
    boundary(|| {
        check_out(size_out, "size_out")?;
        // SAFETY: the caller guarantees `params` is NULL or holds `struct_size` bytes.
        let size = unsafe { read_params(params)? }.1.buffer_size()?;
        // SAFETY: `size_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { size_out.write(size) };
        Ok(())
    })
}

/// Renders into `buf` (`buf_len` bytes, at least `luarun_mandelbrot_buffer_size`; extra
/// bytes are left untouched). Errors: `LUARUN_ERR_INVALID_ARGUMENT` (bad parameters,
/// NULL), `LUARUN_ERR_BUFFER_TOO_SMALL` (the message gives the size needed): in both
/// cases the buffer is untouched. `LUARUN_ERR_CANCELLED` when the progress callback asked
/// to stop (the buffer is then partly written); Lua engine: `LUARUN_ERR_SYNTAX`,
/// `LUARUN_ERR_RUNTIME`, `LUARUN_ERR_MEMORY` from the kernel.
///
/// # Safety
/// `params` as for `luarun_mandelbrot_buffer_size`, with `lua_kernel` NULL or pointing to
/// `lua_kernel_len` bytes and `progress` NULL or callable with `progress_user_data` from
/// worker threads (see `luarun_progress_callback`); `buf` must point to `buf_len` writable
/// bytes that nothing else touches during the call (NULL only with `buf_len` 0, which
/// gives `LUARUN_ERR_BUFFER_TOO_SMALL` with the size needed).
#[no_mangle]
pub unsafe extern "C" fn luarun_mandelbrot_render(
    params: *const luarun_mandelbrot,
    buf: *mut c_void,
    buf_len: usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `params` is NULL or holds `struct_size` bytes.
        let (raw, core) = unsafe { read_params(params)? };
        if buf.is_null() && buf_len != 0 {
            return Err(Error::invalid_argument(format!(
                "buf is NULL but buf_len is {buf_len}"
            )));
        }
        let kernel = if raw.lua_kernel.is_null() {
            None
        } else {
            // SAFETY: the caller guarantees a non-NULL `lua_kernel` points to
            // `lua_kernel_len` bytes.
            Some(unsafe { arg_bytes(raw.lua_kernel, raw.lua_kernel_len, "lua_kernel")? })
        };
        let callback = CProgress::new(raw.progress, raw.progress_user_data);
        let report =
            |done: u32, total: u32| callback.as_ref().is_some_and(|c| c.report(done, total));
        let options = RenderOptions {
            progress: callback.is_some().then_some(&report as _),
            lua_kernel: kernel,
        };
        // NULL with length 0 is an empty buffer: the size check reports what is needed.
        let buf: &mut [u8] = if buf.is_null() {
            &mut []
        } else {
            // SAFETY: not NULL, so the caller guarantees `buf_len` writable bytes that
            // nothing else touches during the call (`# Safety`); `u8` needs no alignment.
            unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), buf_len) }
        };
        luarun_render::render(&core, buf, &options)
    })
}

/// Closes the Lua states the Lua engine keeps between renders. Each render with
/// `LUARUN_ENGINE_LUA` takes a pool of one state per thread, loaded with its kernel,
/// and gives it back for the next render with the same thread count and kernel; the
/// kept pools hold at most 64 states together (the oldest go first) and one left
/// unused for 60 s is closed at the next render. Call this to close them all now (at
/// shutdown, or after a burst of renders); renders running meanwhile keep their pools.
/// Any thread, any time.
#[no_mangle]
pub extern "C" fn luarun_mandelbrot_release_pools() {
    boundary_or((), || {
        luarun_render::idle_pools::release();
    })
}
