//! `make bench`: Mandelbrot render times, as medians over repeats and as ratios against
//! baselines measured in the same run. Prints a table and writes `build/bench.json`.
//!
//! Native rows compare against the scalar brute-force kernel on one thread; Lua rows
//! against the seed (the lupa README's kernel: one Lua state per thread, each thread's
//! rows concatenated into one string, returned, copied and joined).
//!
//! `LUARUN_BENCH_SIZES=320,1280` picks sizes; `LUARUN_BENCH_QUICK=1` does one repeat.

use std::time::Instant;

use luarun_core::pool::Pool;
use luarun_core::state::{Options, State};
use luarun_render::lua::{render_on, BUILTIN_KERNEL};
use luarun_render::native::{self, Isa, Kernel};
use luarun_render::{resolve_threads, Engine, Params, Progress};
use mlua::MultiValue;

const SEED: &str = include_str!("seed_kernel.lua");

struct Measurement {
    size: u32,
    case: String,
    threads: u32,
    median_s: f64,
    baseline: &'static str,
    baseline_s: f64,
}

fn median_seconds(repeats: usize, mut work: impl FnMut() -> Vec<u8>, expected: &[u8]) -> f64 {
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            let image = work();
            let elapsed = start.elapsed().as_secs_f64();
            assert!(image == expected, "benchmark produced a wrong image");
            elapsed
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn params(size: u32, engine: Engine, threads: u32) -> Params {
    Params {
        width: size,
        height: size,
        image_width: size,
        image_height: size,
        threads,
        engine,
        ..Params::default()
    }
}

fn native(size: u32, threads: u32, kernel: Kernel) -> Vec<u8> {
    let p = params(size, Engine::Native, threads);
    let mut buf = vec![0u8; p.buffer_size().unwrap()];
    native::render_with(&p, &mut buf, &Progress::new(size, None), kernel).expect("render");
    buf
}

/// The seed's way: one state per thread, a contiguous share of rows each, strings
/// concatenated in Lua, copied out, joined.
fn seed_style(states: &[std::sync::Arc<State>], size: u32) -> Vec<u8> {
    let total = states.len();
    let parts: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = states
            .iter()
            .enumerate()
            .map(|(i, state)| {
                scope.spawn(move || {
                    state
                        .run(|lua| {
                            let f: mlua::Function = lua.globals().get("seed_rows")?;
                            let s: mlua::LuaString = f.call((size, i + 1, total))?;
                            Ok(s.as_bytes().to_vec())
                        })
                        .expect("seed kernel runs")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    parts.concat()
}

fn pool_with(threads: u32, code: &str) -> Pool {
    let pool = Pool::new(threads as usize, &Options::default()).unwrap();
    pool.exec(code.as_bytes(), None).unwrap();
    pool
}

fn seed_through_pool(pool: &Pool, size: u32) -> Vec<u8> {
    let row_bytes = size.div_ceil(8) as usize;
    let mut image = vec![0u8; row_bytes * size as usize];
    let slots: Vec<parking_lot::Mutex<&mut [u8]>> = image
        .chunks_mut(row_bytes)
        .map(parking_lot::Mutex::new)
        .collect();
    let args = |_: &mlua::Lua| {
        Ok(MultiValue::from_vec(vec![mlua::Value::Integer(
            size.into(),
        )]))
    };
    let sink = |y: i64, bytes: &[u8]| {
        slots[y as usize].lock().copy_from_slice(bytes);
        Ok(())
    };
    pool.run("seed_row", 0..i64::from(size), &args, &sink, &|| false)
        .unwrap();
    drop(slots);
    image
}

fn shipped_through_pool(pool: &Pool, size: u32, mirror: bool) -> Vec<u8> {
    let p = params(size, Engine::Lua, pool.size() as u32);
    let mut buf = vec![0u8; p.buffer_size().unwrap()];
    render_on(pool, &p, &mut buf, &Progress::new(size, None), mirror).unwrap();
    buf
}

fn main() {
    let sizes: Vec<u32> = std::env::var("LUARUN_BENCH_SIZES")
        .unwrap_or_else(|_| "320,640,1280,4000,16000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let quick = std::env::var_os("LUARUN_BENCH_QUICK").is_some();
    let all = resolve_threads(0);
    let mut thread_counts = vec![1, 2, all];
    thread_counts.dedup();
    let best = Kernel::best();
    let scalar_brute = Kernel {
        isa: Isa::Scalar,
        shortcuts: false,
        mirror: false,
    };
    let mut results = Vec::new();
    println!("kernel: {:?}; cores: {all}", best.isa);
    for &size in &sizes {
        let repeats = if quick || size >= 4000 { 1 } else { 5 };
        let repeats = if size >= 16000 { 1 } else { repeats.max(3) };
        let expected = native(size, all, best);
        let time = |work: &mut dyn FnMut() -> Vec<u8>| median_seconds(repeats, work, &expected);

        let baseline_s = time(&mut || native(size, 1, scalar_brute));
        let cases = [
            ("native scalar brute force", scalar_brute),
            (
                "native scalar + shortcuts",
                Kernel {
                    shortcuts: true,
                    mirror: false,
                    isa: Isa::Scalar,
                },
            ),
            (
                "native SIMD brute force",
                Kernel {
                    shortcuts: false,
                    mirror: false,
                    ..best
                },
            ),
            (
                "native SIMD + shortcuts",
                Kernel {
                    mirror: false,
                    ..best
                },
            ),
            ("native SIMD + shortcuts + mirror", best),
        ];
        for (case, kernel) in cases {
            for &threads in &thread_counts {
                let median_s = if kernel == scalar_brute && threads == 1 {
                    baseline_s
                } else {
                    time(&mut || native(size, threads, kernel))
                };
                results.push(Measurement {
                    size,
                    case: case.into(),
                    threads,
                    median_s,
                    baseline: "native scalar brute force, 1 thread",
                    baseline_s,
                });
            }
        }
        if size > 4000 {
            continue; // Lua at 16000 takes minutes.
        }
        for &threads in &thread_counts {
            let states: Vec<_> = (0..threads)
                .map(|_| {
                    // As in the seed: plain Lua states (no limits, so no count hook).
                    let state = State::new(&Options::default()).unwrap();
                    state.exec(SEED.as_bytes(), None).unwrap();
                    state
                })
                .collect();
            let seed_s = if size % (8 * threads) == 0 {
                time(&mut || seed_style(&states, size))
            } else {
                f64::NAN // the seed's row split is wrong when threads do not divide N
            };
            let seed_pool = pool_with(threads, SEED);
            let shipped_pool = pool_with(threads, BUILTIN_KERNEL);
            let lua_cases = [
                ("lua seed-style baseline", seed_s),
                (
                    "lua seed kernel on pool",
                    time(&mut || seed_through_pool(&seed_pool, size)),
                ),
                (
                    "lua shipped kernel on pool",
                    time(&mut || shipped_through_pool(&shipped_pool, size, false)),
                ),
                (
                    "lua shipped kernel + mirror",
                    time(&mut || shipped_through_pool(&shipped_pool, size, true)),
                ),
            ];
            for (case, median_s) in lua_cases {
                results.push(Measurement {
                    size,
                    case: case.into(),
                    threads,
                    median_s,
                    baseline: "lua seed-style baseline, same threads",
                    baseline_s: seed_s,
                });
            }
        }
    }
    print_table(&results);
    write_json(&results);
}

fn print_table(results: &[Measurement]) {
    println!(
        "{:>6}  {:<33} {:>7} {:>11} {:>9} {:>9}  baseline",
        "size", "case", "threads", "median ms", "Mpix/s", "speedup"
    );
    for m in results {
        let mpix = f64::from(m.size) * f64::from(m.size) / m.median_s / 1e6;
        println!(
            "{:>6}  {:<33} {:>7} {:>11.1} {:>9.1} {:>8.2}x  {}",
            m.size,
            m.case,
            m.threads,
            m.median_s * 1e3,
            mpix,
            m.baseline_s / m.median_s,
            m.baseline
        );
    }
}

fn write_json(results: &[Measurement]) {
    let rows: Vec<String> = results
        .iter()
        .map(|m| {
            format!(
                "  {{\"size\": {}, \"case\": \"{}\", \"threads\": {}, \"median_s\": {}, \
                 \"baseline\": \"{}\", \"baseline_s\": {}}}",
                m.size,
                m.case,
                m.threads,
                json_number(m.median_s),
                m.baseline,
                json_number(m.baseline_s)
            )
        })
        .collect();
    let json = format!("[\n{}\n]\n", rows.join(",\n"));
    std::fs::create_dir_all("build").expect("create build/");
    std::fs::write("build/bench.json", json).expect("write build/bench.json");
    println!("wrote build/bench.json");
}

fn json_number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        "null".into()
    }
}
