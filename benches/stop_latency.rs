//! How quickly runaway Lua code stops after an interrupt or a deadline, and how close
//! the memory limit stops an allocation loop. Run with `make bench-limits`.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

const SHAPES: &[(&str, &str)] = &[
    ("plain loop", "while true do end"),
    (
        "pcall loop",
        "while true do pcall(function() while true do end end) end",
    ),
    (
        "coroutine loop",
        "coroutine.wrap(function() while true do end end)()",
    ),
    (
        "gsub callback loop",
        "string.gsub(string.rep('a', 1e6), '.', function() while true do end end)",
    ),
    // Single C calls in Lua itself; stoppable because luarun ports them (the luarun-pattern crate).
    #[cfg(feature = "lua54")]
    (
        "pattern bomb (find)",
        "return ('a'):rep(1e5):find('.-.-.-.-b')",
    ),
    #[cfg(feature = "lua54")]
    (
        "pattern bomb (gsub)",
        "return ('a'):rep(1e5):gsub('.-.-.-.-b', '')",
    ),
    #[cfg(feature = "lua54")]
    ("2 GB string.rep", "return #string.rep('ab', 1e9)"),
];

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn interrupt_latency(code: &str, runs: usize) -> (Duration, Duration) {
    let state = State::new(&Options::default()).unwrap();
    let mut samples = Vec::new();
    for _ in 0..runs {
        let stopper = Arc::clone(&state);
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            let sent = Instant::now();
            stopper.interrupt().unwrap();
            sent
        });
        let result = state.exec(code.as_bytes(), None);
        let returned = Instant::now();
        let sent = sender.join().unwrap();
        assert!(result.is_err());
        samples.push(returned.saturating_duration_since(sent));
    }
    let max = *samples.iter().max().unwrap();
    (median(samples), max)
}

fn deadline_overshoot(code: &str, runs: usize) -> (Duration, Duration) {
    let limit = Duration::from_millis(20);
    let state = State::new(&Options {
        call_limits: CallLimits {
            time: Some(limit),
            instructions: None,
        },
        ..Options::default()
    })
    .unwrap();
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        assert!(state.exec(code.as_bytes(), None).is_err());
        samples.push(started.elapsed().saturating_sub(limit));
    }
    let max = *samples.iter().max().unwrap();
    (median(samples), max)
}

fn memory_limit_accuracy(limit: usize) -> usize {
    let state = State::new(&Options {
        memory_limit: Some(limit),
        ..Options::default()
    })
    .unwrap();
    let result = state.exec(b"t = {} for i = 1, 1e9 do t[i] = i end", None);
    assert!(result.is_err());
    state.used_memory()
}

/// Seconds for a tight Lua loop in a luarun state without limits (no hook until an
/// interrupt), one with a time limit (hook always on) and a bare mlua state, measured
/// back to back. Returns (no limits, time limit, bare).
fn hook_overhead() -> (f64, f64, f64) {
    const LOOP: &[u8] = b"local x = 0 for i = 1, 3e7 do x = x + i end";
    let time = |run: &dyn Fn()| {
        let mut samples: Vec<f64> = (0..5)
            .map(|_| {
                let started = Instant::now();
                run();
                started.elapsed().as_secs_f64()
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        samples[2]
    };
    let state = State::new(&Options::default()).unwrap();
    let limited = State::new(&Options {
        call_limits: CallLimits {
            time: Some(Duration::from_secs(60)),
            instructions: None,
        },
        ..Options::default()
    })
    .unwrap();
    let bare = mlua::Lua::new();
    let unlimited = time(&|| state.exec(LOOP, None).unwrap());
    let with_hook = time(&|| limited.exec(LOOP, None).unwrap());
    let without = time(&|| bare.load(LOOP).exec().unwrap());
    (unlimited, with_hook, without)
}

/// Ordinary pattern work: seconds in a luarun state (the Rust port) and in a bare mlua
/// state (Lua's C functions), measured back to back, median of 5.
#[cfg(feature = "lua54")]
fn pattern_costs() -> Vec<(&'static str, f64, f64)> {
    const SETUP: &str = "local text = ('hello world, lua patterns! '):rep(43691) -- 1 MiB\n";
    const WORK: &[(&str, &str)] = &[
        (
            "1e6 short plain finds",
            "local s, n = 'hello world', 0 for i = 1, 1e6 do \
             if s:find('wor', 1, true) then n = n + 1 end end",
        ),
        (
            "1e6 short pattern finds",
            "local s, n = 'key = value', 0 for i = 1, 1e6 do \
             if s:find('(%w+)%s*=%s*(%w+)') then n = n + 1 end end",
        ),
        ("gsub over 1 MiB", "local r, n = text:gsub('%w+', '<%0>')"),
        (
            "gmatch word split of 1 MiB",
            "local n = 0 for w in text:gmatch('%a+') do n = n + 1 end",
        ),
        (
            "plain find through 1 MiB",
            "local i = text:find('absent', 1, true)",
        ),
        ("string.rep 100 MiB", "local s = ('x'):rep(100 * 2^20)"),
    ];
    let median = |run: &dyn Fn()| {
        let mut samples: Vec<f64> = (0..5)
            .map(|_| {
                let started = Instant::now();
                run();
                started.elapsed().as_secs_f64()
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        samples[2]
    };
    let state = State::new(&Options::default()).unwrap();
    let bare = mlua::Lua::new();
    WORK.iter()
        .map(|(name, work)| {
            let code = format!("{SETUP}{work}");
            let ported = median(&|| state.exec(code.as_bytes(), None).unwrap());
            let original = median(&|| bare.load(&code).exec().unwrap());
            (*name, ported, original)
        })
        .collect()
}

fn main() {
    #[cfg(feature = "lua54")]
    {
        println!("pattern functions: luarun's Rust port vs Lua's C functions (median of 5)");
        println!("| work | port | C | ratio |");
        println!("|---|---|---|---|");
        for (name, ported, original) in pattern_costs() {
            println!(
                "| {name} | {:.1} ms | {:.1} ms | {:.2}x |",
                ported * 1e3,
                original * 1e3,
                ported / original
            );
        }
    }
    println!("stop latency (20 runs each; median / max)");
    println!("| shape | interrupt -> return | time limit overshoot |");
    println!("|---|---|---|");
    for (name, code) in SHAPES {
        let (im, ix) = interrupt_latency(code, 20);
        let (dm, dx) = deadline_overshoot(code, 20);
        println!("| {name} | {im:?} / {ix:?} | {dm:?} / {dx:?} |");
    }
    let limit = 64 << 20;
    let used = memory_limit_accuracy(limit);
    println!(
        "memory limit {} MiB: allocation loop stopped at {:.1} MiB ({:.1} % of the limit)",
        limit >> 20,
        used as f64 / (1 << 20) as f64,
        100.0 * used as f64 / limit as f64
    );
    let (unlimited, with_hook, without) = hook_overhead();
    println!(
        "tight 3e7-iteration loop: bare mlua {:.1} ms; luarun without limits {:.1} ms \
         ({:.2}x); luarun with a time limit {:.1} ms ({:.2}x)",
        without * 1e3,
        unlimited * 1e3,
        unlimited / without,
        with_hook * 1e3,
        with_hook / without
    );
}
