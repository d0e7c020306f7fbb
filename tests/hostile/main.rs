//! Slow hostile tests, run by `make test-hostile` (not by `cargo test`: `test = false`).
//!
//! Each scenario runs in a child process of its own (this binary again, with
//! `--child NAME`), because what they test would kill or hang the test process if it
//! failed: a real allocation failure under `RLIMIT_AS` used to abort the host, and an
//! interrupt storm used to keep a call from ever stopping. The parent checks that every
//! child exited normally and that nothing reported an abort. The memory scenarios need
//! Linux (`RLIMIT_AS`).
//!
//! `cargo test --test hostile [-- FILTER]` runs the scenarios whose names contain FILTER.

#[cfg(target_os = "linux")]
mod memory;
mod storms;

use std::process::{Command, ExitCode};

/// A scenario: a name and a body that returns what went wrong, if anything.
pub struct Scenario {
    pub name: &'static str,
    pub run: fn() -> Result<(), String>,
}

fn scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    #[cfg(target_os = "linux")]
    all.extend(memory::scenarios());
    all.extend(storms::scenarios());
    all
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--child") {
        return run_child(args.get(at + 1).map(String::as_str).unwrap_or_default());
    }
    // Arguments cargo's harness would take (`--nocapture`, ...) are not filters.
    let filter = args.iter().skip(1).find(|arg| !arg.starts_with('-'));
    let all = scenarios();
    let me = std::env::current_exe().expect("own path");
    let mut failed = 0;
    let mut ran = 0;
    for scenario in all
        .iter()
        .filter(|s| filter.is_none_or(|f| s.name.contains(f.as_str())))
    {
        ran += 1;
        let output = Command::new(&me)
            .args(["--child", scenario.name])
            .output()
            .expect("start a child");
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Rust's abort on allocation failure prints this before SIGABRT.
        let aborted = stderr.contains("memory allocation of");
        if output.status.success() && !aborted {
            println!("ok   {}", scenario.name);
        } else {
            failed += 1;
            println!("FAIL {} ({})", scenario.name, output.status);
            print!("{}", String::from_utf8_lossy(&output.stdout));
            print!("{stderr}");
        }
    }
    println!("hostile: {ran} scenarios, {failed} failed");
    if failed == 0 && ran > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_child(name: &str) -> ExitCode {
    let Some(scenario) = scenarios().into_iter().find(|s| s.name == name) else {
        eprintln!("no scenario named {name:?}");
        return ExitCode::FAILURE;
    };
    match (scenario.run)() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{name}: {message}");
            ExitCode::FAILURE
        }
    }
}
