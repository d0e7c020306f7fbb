//! `luarun_pool_*`: N Lua states run in parallel over an index range, results written
//! into a caller buffer.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::mandelbrot::luarun_progress_callback;
use super::progress::CProgress;
use super::state::{luarun_options, read_options};
use super::{arg_bytes, arg_name, arg_ref, boundary, boundary_or, check_out, luarun_status};
use luarun_core::error::{Error, ErrorKind};
use luarun_core::pool::{resolve_threads, Pool};

/// A pool of Lua states, one worker thread each during `luarun_pool_run`. Create with
/// `luarun_pool_new`, release with `luarun_pool_free`.
pub struct luarun_pool {
    /// Shared with running calls, so a progress callback may free the pool: it is then
    /// released when the run returns.
    pub(crate) inner: Arc<Pool>,
}

/// Creates a pool of `size` states (0 = one per core), each built with `options` (NULL =
/// defaults; limits and libraries apply to every state). On success `*pool_out` receives
/// the pool.
///
/// # Safety
/// `options` must be NULL or valid; `pool_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_pool_new(
    options: *const luarun_options,
    size: u32,
    pool_out: *mut *mut luarun_pool,
) -> luarun_status {
    boundary(|| {
        check_out(pool_out, "pool_out")?;
        // SAFETY: the caller guarantees `options` is NULL or a valid `luarun_options`.
        let options = unsafe { read_options(options)? };
        let inner = Pool::new(resolve_threads(size) as usize, &options)?;
        let pool = Box::into_raw(Box::new(luarun_pool {
            inner: Arc::new(inner),
        }));
        // SAFETY: `pool_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { pool_out.write(pool) };
        Ok(())
    })
}

/// Releases a pool and its states. NULL is a no-op. May be called from the progress
/// callback of a run on the pool: the release is then deferred until the run returns
/// (which finishes normally); the pointer must not be used again.
///
/// # Safety
/// `pool` must be NULL or a pointer from `luarun_pool_new` not yet freed, with no call
/// on it running on another thread.
#[no_mangle]
pub unsafe extern "C" fn luarun_pool_free(pool: *mut luarun_pool) {
    boundary_or((), || {
        if !pool.is_null() {
            // SAFETY: the caller guarantees a non-NULL `pool` came from `luarun_pool_new`
            // (`Box::into_raw`) and is freed only this once.
            drop(unsafe { Box::from_raw(pool) });
        }
    })
}

/// Writes the number of states in `pool` to `*size_out`.
///
/// # Safety
/// `pool` must be valid; `size_out` writable.
#[no_mangle]
pub unsafe extern "C" fn luarun_pool_size(
    pool: *const luarun_pool,
    size_out: *mut u32,
) -> luarun_status {
    boundary(|| {
        check_out(size_out, "size_out")?;
        // SAFETY: the caller guarantees `pool` is NULL or a live pool.
        let pool = unsafe { arg_ref(pool, "pool")? };
        // SAFETY: `size_out` is not NULL (checked), so writable: the caller's guarantee.
        unsafe { size_out.write(pool.inner.size() as u32) };
        Ok(())
    })
}

/// Runs `len` bytes of Lua code on every state of the pool (define functions and
/// globals there). Stops at the first state that fails; the message names it.
///
/// # Safety
/// `pool` must be valid; `code` must point to `len` bytes (NULL when `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn luarun_pool_exec(
    pool: *mut luarun_pool,
    code: *const c_char,
    len: usize,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `pool` is NULL or a live pool.
        let pool = unsafe { arg_ref(pool, "pool")? };
        // SAFETY: the caller guarantees `code` points to `len` bytes (NULL only with 0).
        let code = unsafe { arg_bytes(code, len, "code")? };
        pool.inner.exec(code, None)
    })
}

/// Calls the global Lua function `function(i)` for every `i` in `first .. first+count-1`,
/// in parallel on all states (indexes handed out one at a time), and copies the string
/// each call returns, which must be exactly `stride` bytes, to
/// `buf + (i - first) * stride`. `buf_len` must be at least `count * stride`
/// (`LUARUN_ERR_BUFFER_TOO_SMALL` otherwise; the buffer is then untouched). `progress`
/// (may be NULL) works as in `luarun_mandelbrot`, counting indexes, but is called only
/// when indexes finish (never in between), so a cancel waits for the running calls: bound
/// slow functions with the pool's limits (`luarun_options`). The first error
/// stops the run: Lua errors with their status, a wrong result length or type with
/// `LUARUN_ERR_RUNTIME`; the message names the index.
///
/// # Safety
/// `pool` must be valid; `function` NUL-terminated; `buf` must point to `buf_len`
/// writable bytes that nothing else touches during the call; `progress` NULL or callable
/// with `progress_user_data` from worker threads (see `luarun_progress_callback`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn luarun_pool_run(
    pool: *mut luarun_pool,
    function: *const c_char,
    first: i64,
    count: u32,
    buf: *mut c_void,
    buf_len: usize,
    stride: usize,
    progress: luarun_progress_callback,
    progress_user_data: *mut c_void,
) -> luarun_status {
    boundary(|| {
        // SAFETY: the caller guarantees `pool` is NULL or a live pool.
        let pool = Arc::clone(&unsafe { arg_ref(pool, "pool")? }.inner);
        // SAFETY: the caller guarantees `function` is NULL or NUL-terminated.
        let function = unsafe { arg_name(function, "function")? };
        let needed = (count as usize).checked_mul(stride).ok_or_else(|| {
            Error::invalid_argument(format!("count ({count}) * stride ({stride}) overflows"))
        })?;
        if buf.is_null() && needed > 0 {
            return Err(Error::invalid_argument("buf must not be NULL"));
        }
        if buf_len < needed {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!(
                    "buffer has {buf_len} bytes, {count} results of {stride} bytes need \
                     {needed}"
                ),
            ));
        }
        if needed == 0 {
            return Ok(());
        }
        // SAFETY: the caller gave `buf_len` >= `needed` writable bytes at `buf` (non-NULL:
        // checked above), not touched by anything else during the call.
        let buf = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), needed) };
        let callback = CProgress::new(progress, progress_user_data);
        let report =
            |done: u32, total: u32| callback.as_ref().is_some_and(|c| c.report(done, total));
        let report: Option<&(dyn Fn(u32, u32) -> bool + Sync)> =
            callback.is_some().then_some(&report);
        pool.run_into(function, first, buf, stride, report)
    })
}
