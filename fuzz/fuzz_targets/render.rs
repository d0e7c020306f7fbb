//! Arbitrary render parameters and buffer sizes through the C API, differentially: when
//! both engines accept the same parameters their bytes must be identical, and a render
//! must never write past the length it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use luarun::ffi::mandelbrot::{
    luarun_mandelbrot, luarun_mandelbrot_buffer_size, luarun_mandelbrot_default,
    luarun_mandelbrot_render,
};

/// Bytes after the buffer that must stay untouched.
const CANARY: usize = 64;

fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = N.min(data.len());
    out[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    out
}

fn render(params: &luarun_mandelbrot, len: usize) -> (i32, Vec<u8>) {
    let mut buf = vec![0xA5u8; len + CANARY];
    let status = unsafe { luarun_mandelbrot_render(params, buf.as_mut_ptr().cast(), len) };
    assert!(buf[len..].iter().all(|&b| b == 0xA5), "render wrote past buf_len");
    buf.truncate(len);
    (status as i32, buf)
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let mut params: luarun_mandelbrot = unsafe { std::mem::zeroed() };
    unsafe { luarun_mandelbrot_default(&mut params) };
    // Small images (the Lua engine is slow), any viewport bits (NaN, inf, tiny, huge).
    params.width = u32::from(take::<1>(&mut data)[0] % 40);
    params.height = u32::from(take::<1>(&mut data)[0] % 40);
    params.max_iter = u32::from(u16::from_le_bytes(take::<2>(&mut data))) % 600;
    let viewport_mode = take::<1>(&mut data)[0];
    if viewport_mode & 1 == 1 {
        params.x_min = f64::from_le_bytes(take::<8>(&mut data));
        params.x_max = f64::from_le_bytes(take::<8>(&mut data));
        params.y_min = f64::from_le_bytes(take::<8>(&mut data));
        params.y_max = f64::from_le_bytes(take::<8>(&mut data));
    } else {
        // A nearby window of the interesting region, scaled by a fuzzed zoom.
        let [zx, zy, zoom] = take::<3>(&mut data);
        let scale = 2.0 / f64::from(1u32 << (zoom % 40));
        params.x_min = -2.0 + f64::from(zx) / 100.0;
        params.x_max = params.x_min + scale;
        params.y_min = -1.2 + f64::from(zy) / 100.0;
        params.y_max = params.y_min + scale;
    }
    params.threads = u32::from(take::<1>(&mut data)[0] % 5);
    params.format = u32::from(take::<1>(&mut data)[0] % 7);
    let [ox, oy, iw, ih] = take::<4>(&mut data);
    if ox & 0x80 != 0 {
        params.x_offset = u32::from(ox % 8);
        params.y_offset = u32::from(oy % 8);
        params.image_width = u32::from(iw % 48);
        params.image_height = u32::from(ih % 48);
    }
    let slack = u32::from(take::<1>(&mut data)[0]);

    let needed = unsafe { luarun_mandelbrot_buffer_size(&params) };
    // Short, exact and long buffers.
    let len = match slack % 3 {
        0 => needed.saturating_sub(1 + slack as usize % 7),
        1 => needed,
        _ => needed + slack as usize,
    }
    .min(1 << 20);

    params.engine = 0;
    let (native_status, native) = render(&params, len);
    params.engine = 1;
    let (lua_status, lua) = render(&params, len);
    assert_eq!(native_status, lua_status, "engines disagree on validity");
    if native_status == 0 {
        assert_eq!(native[..needed], lua[..needed], "engines disagree on pixels");
    }
});
