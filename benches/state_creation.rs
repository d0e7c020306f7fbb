//! What a new sandboxed state costs: `luarun_state_new` + `luarun_state_free` with the
//! default options, through the C API, and the Lua heap a fresh state holds
//! (`luarun_state_memory_used`). Run with `make bench-state`.
//!
//! The "prelude from source" row is the old path, measured in the same run: every state
//! compiles `lua/prelude.lua` (see `luarun_core::prelude`); the default row loads the
//! bytecode compiled once per process. Rows alternate in rounds so that drift in the
//! machine's speed hits both alike.

use std::hint::black_box;
use std::ptr;
use std::time::{Duration, Instant};

use luarun::ffi::luarun_status::LUARUN_OK;
use luarun::ffi::state::{
    luarun_state, luarun_state_free, luarun_state_memory_used, luarun_state_new,
};
use luarun::luarun_core::prelude::{set_prelude_source, PreludeSource};

/// The budget the README states for one create + free.
const TARGET_MICROS: f64 = 30.0;
const TARGET_KIB: f64 = 40.0;

const ROUNDS: usize = 10;
const RUNS_PER_ROUND: usize = 500;

/// One create + free through the C API, timed.
fn create_and_free() -> Duration {
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

/// Bytes a fresh default state holds.
fn fresh_state_bytes() -> usize {
    let mut state: *mut luarun_state = ptr::null_mut();
    let mut bytes = 0usize;
    // SAFETY: as in `create_and_free`; `bytes` is writable.
    unsafe {
        assert_eq!(luarun_state_new(ptr::null(), &mut state), LUARUN_OK);
        assert_eq!(luarun_state_memory_used(state, &mut bytes), LUARUN_OK);
        luarun_state_free(state);
    }
    bytes
}

struct Row {
    name: &'static str,
    source: PreludeSource,
    samples: Vec<Duration>,
    bytes: usize,
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    sorted[(sorted.len() - 1) * p / 100].as_secs_f64() * 1e6
}

fn main() {
    let flavor = if cfg!(feature = "luajit") {
        "LuaJIT"
    } else {
        "Lua 5.4"
    };
    let mut rows = [
        Row {
            name: "prelude from source (before)",
            source: PreludeSource::CompilePerState,
            samples: Vec::new(),
            bytes: 0,
        },
        Row {
            name: "prelude bytecode (default)",
            source: PreludeSource::Bytecode,
            samples: Vec::new(),
            bytes: 0,
        },
    ];
    for row in &mut rows {
        set_prelude_source(row.source);
        for _ in 0..RUNS_PER_ROUND {
            create_and_free();
        }
        row.bytes = fresh_state_bytes();
    }
    for _ in 0..ROUNDS {
        for row in &mut rows {
            set_prelude_source(row.source);
            row.samples
                .extend((0..RUNS_PER_ROUND).map(|_| create_and_free()));
        }
    }
    set_prelude_source(PreludeSource::Bytecode);

    println!(
        "state create + free, default options, {flavor}, C API; {} runs each \
         (target <= {TARGET_MICROS} us, <= {TARGET_KIB} KiB)",
        ROUNDS * RUNS_PER_ROUND
    );
    println!(
        "{:<30} {:>10} {:>10} {:>12} {:>10}",
        "path", "median us", "p90 us", "heap KiB", "vs before"
    );
    let before = {
        let mut sorted = rows[0].samples.clone();
        sorted.sort();
        percentile(&sorted, 50)
    };
    for row in &mut rows {
        row.samples.sort();
        let median = percentile(&row.samples, 50);
        println!(
            "{:<30} {:>10.1} {:>10.1} {:>12.1} {:>9.2}x",
            row.name,
            median,
            percentile(&row.samples, 90),
            row.bytes as f64 / 1024.0,
            before / median
        );
    }
}
