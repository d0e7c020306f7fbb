//! What a new sandboxed state costs: `luarun_state_new` + `luarun_state_free` with the
//! default options, through the C API, and the Lua heap a fresh state holds
//! (`luarun_state_memory_used`). Run with `make bench-state` (both flavors).
//!
//! Two baselines run in the same process, in alternating rounds so that drift in the
//! machine's speed hits every row alike:
//! - the Lua C API alone: `lua_newstate` with a Rust-allocator `lua_Alloc`, the same
//!   standard libraries opened with `luaL_requiref`, `lua_close`: what any embedding
//!   pays before it adds anything;
//! - mlua's `Lua::new_with` with those libraries, dropped: what luarun's Lua binding
//!   pays before luarun's own setup (allocator, limits, guards, pattern port, print).
//!
//! The ratio columns divide by those rows' medians.

use std::ffi::{c_void, CStr};
use std::hint::black_box;
use std::ptr;
use std::time::{Duration, Instant};

use luarun::ffi::luarun_status::LUARUN_OK;
use luarun::ffi::state::{
    luarun_state, luarun_state_free, luarun_state_memory_used, luarun_state_new,
};
use luarun::luarun_core::mlua::{self, ffi};

/// The budget issue 15 set for one create + free.
const TARGET_MICROS: f64 = 30.0;
const TARGET_KIB: f64 = 40.0;

const ROUNDS: usize = 20;
const RUNS_PER_ROUND: usize = 250;

/// The libraries a default luarun state opens, as `luaL_requiref` arguments.
#[cfg(not(feature = "luajit"))]
const LIBRARIES: &[(&CStr, ffi::lua_CFunction)] = &[
    (c"_G", ffi::luaopen_base),
    (c"coroutine", ffi::luaopen_coroutine),
    (c"table", ffi::luaopen_table),
    (c"string", ffi::luaopen_string),
    (c"math", ffi::luaopen_math),
    (c"utf8", ffi::luaopen_utf8),
];
/// The libraries a default luarun state opens (LuaJIT: coroutine is part of base, and
/// bit and jit are always open), as `luaL_requiref` arguments.
#[cfg(feature = "luajit")]
const LIBRARIES: &[(&CStr, ffi::lua_CFunction)] = &[
    (c"_G", ffi::luaopen_base),
    (c"table", ffi::luaopen_table),
    (c"string", ffi::luaopen_string),
    (c"math", ffi::luaopen_math),
    (c"bit", ffi::luaopen_bit),
    (c"jit", ffi::luaopen_jit),
];

/// The same libraries for mlua.
fn mlua_libraries() -> mlua::StdLib {
    let common = mlua::StdLib::TABLE | mlua::StdLib::STRING | mlua::StdLib::MATH;
    #[cfg(not(feature = "luajit"))]
    return common | mlua::StdLib::COROUTINE | mlua::StdLib::UTF8;
    #[cfg(feature = "luajit")]
    return common | mlua::StdLib::BIT | mlua::StdLib::JIT;
}

/// A `lua_Alloc` on Rust's global allocator, as mlua's and luarun's are (the system
/// allocator would favour the baseline).
///
/// # Safety
/// Lua's allocator contract.
unsafe extern "C" fn rust_alloc(
    _ud: *mut c_void,
    block: *mut c_void,
    old_size: usize,
    new_size: usize,
) -> *mut c_void {
    let align = ffi::SYS_MIN_ALIGN;
    // SAFETY: Lua's contract: a non-NULL `block` has `old_size` bytes from this
    // allocator; sizes are valid layouts with `align`.
    unsafe {
        if new_size == 0 {
            if !block.is_null() {
                std::alloc::dealloc(
                    block.cast(),
                    std::alloc::Layout::from_size_align_unchecked(old_size, align),
                );
            }
            return ptr::null_mut();
        }
        if block.is_null() {
            return std::alloc::alloc(std::alloc::Layout::from_size_align_unchecked(
                new_size, align,
            ))
            .cast();
        }
        std::alloc::realloc(
            block.cast(),
            std::alloc::Layout::from_size_align_unchecked(old_size, align),
            new_size,
        )
        .cast()
    }
}

/// A Lua state with the default libraries, straight from the C API. Returns the state.
fn c_api_state() -> *mut ffi::lua_State {
    // SAFETY: a fresh state with room on its stack; each requiref pushes one value,
    // popped at once.
    unsafe {
        let state = ffi::lua_newstate(rust_alloc, ptr::null_mut());
        assert!(!state.is_null());
        for (name, open) in LIBRARIES {
            ffi::luaL_requiref(state, name.as_ptr(), *open, 1);
            ffi::lua_pop(state, 1);
        }
        state
    }
}

/// One create + free of each kind, timed.
fn c_api_create_and_free() -> Duration {
    let start = Instant::now();
    let state = c_api_state();
    // SAFETY: the state just created, closed once.
    unsafe { ffi::lua_close(black_box(state)) };
    start.elapsed()
}

fn mlua_create_and_free() -> Duration {
    let start = Instant::now();
    let lua = mlua::Lua::new_with(mlua_libraries(), mlua::LuaOptions::new()).unwrap();
    drop(black_box(lua));
    start.elapsed()
}

fn luarun_create_and_free() -> Duration {
    let mut state: *mut luarun_state = ptr::null_mut();
    let start = Instant::now();
    // SAFETY: NULL options are the defaults; `state` is writable.
    let status = unsafe { luarun_state_new(ptr::null(), &mut state) };
    // SAFETY: a state just created, freed once.
    unsafe { luarun_state_free(black_box(state)) };
    let elapsed = start.elapsed();
    assert_eq!(status, LUARUN_OK, "luarun_state_new failed");
    elapsed
}

/// Bytes a fresh state of each kind holds in its Lua heap.
fn c_api_bytes() -> usize {
    let state = c_api_state();
    // SAFETY: a valid state; LUA_GCCOUNT(B) only read the collector's accounting.
    unsafe {
        let kib = ffi::lua_gc(state, ffi::LUA_GCCOUNT, 0) as usize;
        let bytes = ffi::lua_gc(state, ffi::LUA_GCCOUNTB, 0) as usize;
        ffi::lua_close(state);
        kib * 1024 + bytes
    }
}

fn mlua_bytes() -> usize {
    mlua::Lua::new_with(mlua_libraries(), mlua::LuaOptions::new())
        .unwrap()
        .used_memory()
}

fn luarun_bytes() -> usize {
    let mut state: *mut luarun_state = ptr::null_mut();
    let mut bytes = 0usize;
    // SAFETY: as in `luarun_create_and_free`; `bytes` is writable.
    unsafe {
        assert_eq!(luarun_state_new(ptr::null(), &mut state), LUARUN_OK);
        assert_eq!(luarun_state_memory_used(state, &mut bytes), LUARUN_OK);
        luarun_state_free(state);
    }
    bytes
}

struct Row {
    name: &'static str,
    run: fn() -> Duration,
    samples: Vec<Duration>,
    measure_bytes: fn() -> usize,
    bytes: usize,
}

fn median_micros(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

fn p90_micros(sorted: &[Duration]) -> f64 {
    sorted[(sorted.len() - 1) * 9 / 10].as_secs_f64() * 1e6
}

fn main() {
    let flavor = if cfg!(feature = "luajit") {
        "LuaJIT"
    } else {
        "Lua 5.4"
    };
    let mut rows = [
        Row {
            name: "Lua C API (baseline)",
            run: c_api_create_and_free,
            samples: Vec::new(),
            bytes: 0,
            measure_bytes: c_api_bytes,
        },
        Row {
            name: "mlua Lua::new_with",
            run: mlua_create_and_free,
            samples: Vec::new(),
            bytes: 0,
            measure_bytes: mlua_bytes,
        },
        Row {
            name: "luarun_state_new + free",
            run: luarun_create_and_free,
            samples: Vec::new(),
            bytes: 0,
            measure_bytes: luarun_bytes,
        },
    ];
    // Warm up first: the first LuaJIT state compiles the prelude the others load as
    // bytecode, and leaves that garbage behind.
    for row in &mut rows {
        for _ in 0..RUNS_PER_ROUND {
            (row.run)();
        }
        row.bytes = (row.measure_bytes)();
    }
    for _ in 0..ROUNDS {
        for row in &mut rows {
            let run = row.run;
            row.samples.extend((0..RUNS_PER_ROUND).map(|_| run()));
        }
    }
    let medians: Vec<f64> = rows
        .iter_mut()
        .map(|row| median_micros(&mut row.samples))
        .collect();

    println!(
        "state create + free, default libraries, {flavor}; {} runs each, rounds \
         alternating (target for luarun: <= {TARGET_MICROS} us, <= {TARGET_KIB} KiB)",
        ROUNDS * RUNS_PER_ROUND
    );
    println!(
        "{:<26} {:>10} {:>9} {:>9} {:>11} {:>9}",
        "path", "median us", "p90 us", "heap KiB", "vs C API", "vs mlua"
    );
    for (row, median) in rows.iter().zip(&medians) {
        println!(
            "{:<26} {:>10.1} {:>9.1} {:>9.1} {:>10.2}x {:>8.2}x",
            row.name,
            median,
            p90_micros(&row.samples),
            row.bytes as f64 / 1024.0,
            median / medians[0],
            median / medians[1],
        );
    }
    let luarun = medians[2];
    let kib = rows[2].bytes as f64 / 1024.0;
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    println!(
        "target: time {} ({luarun:.1} us), memory {} ({kib:.1} KiB)",
        verdict(luarun <= TARGET_MICROS),
        verdict(kib <= TARGET_KIB)
    );
}
