//! Runs the files of Lua 5.4's official test suite (`testes/all.lua`) through luarun
//! states, one file per child process, and prints each file's result (`make
//! test-lua-suite LUA_TESTES=<path>`).
//!
//! Each file runs as all.lua runs it with its default settings (`_soft`, `_port` and
//! `_nomsg` false; loaded by `loadfile`, then through `string.dump` and `load` unless
//! all.lua uses the plain `dofile`; the same checks of what it returns), in a fresh state
//! with every library, bytecode and finalizers allowed. Two configurations: no limits,
//! then an instruction and a time limit (which keep luarun's count hook installed).
//!
//! Usage: `lua_suite <testes dir> [--lua <interpreter>]`. main.lua tests the stand-alone
//! interpreter (it runs `arg[-1]` through `os.execute`); without `--lua` it is skipped.
//! files.lua only runs `arg[-1] -e <code>`: without `--lua` this program answers that
//! itself (`lua_suite -e <code>` runs the code in a luarun state with every library).
//! Lua's files are never part of this repository: pass a copy of `testes/`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use luarun_core::state::{call_limits, Libraries, Options, State};

/// How all.lua runs a file.
#[derive(Clone, Copy)]
enum Mode {
    /// `loadfile`, `string.dump`, `load` (all.lua's own `dofile`).
    Dumped,
    /// The same with `string.dump(f, true)`.
    Stripped,
    /// The base library's `dofile`.
    Plain,
    /// `loadfile`, then the function is called.
    Loaded,
    /// big.lua: a `coroutine.wrap` of the loaded file that yields 'b', then returns 'a'.
    Wrapped,
}

/// all.lua's files in its order, how it runs each, and what it checks each returns.
const FILES: [(&str, Mode, Option<&str>); 29] = [
    ("main.lua", Mode::Dumped, None),
    ("gc.lua", Mode::Loaded, None),
    ("db.lua", Mode::Dumped, None),
    ("calls.lua", Mode::Dumped, Some("deep")),
    ("strings.lua", Mode::Plain, None),
    ("literals.lua", Mode::Plain, None),
    ("tpack.lua", Mode::Dumped, None),
    ("attrib.lua", Mode::Dumped, Some("27")),
    ("gengc.lua", Mode::Dumped, None),
    ("locals.lua", Mode::Dumped, Some("5")),
    ("constructs.lua", Mode::Dumped, None),
    ("code.lua", Mode::Stripped, None),
    ("big.lua", Mode::Wrapped, None),
    ("cstack.lua", Mode::Dumped, None),
    ("nextvar.lua", Mode::Dumped, None),
    ("pm.lua", Mode::Dumped, None),
    ("utf8.lua", Mode::Dumped, None),
    ("api.lua", Mode::Dumped, None),
    ("events.lua", Mode::Dumped, Some("12")),
    ("vararg.lua", Mode::Dumped, None),
    ("closure.lua", Mode::Dumped, None),
    ("coroutine.lua", Mode::Dumped, None),
    ("goto.lua", Mode::Stripped, None),
    ("errors.lua", Mode::Dumped, None),
    ("math.lua", Mode::Dumped, None),
    ("sort.lua", Mode::Stripped, None),
    ("bitwise.lua", Mode::Dumped, None),
    ("verybig.lua", Mode::Stripped, Some("10")),
    ("files.lua", Mode::Dumped, None),
];

/// The configurations every file runs in: luarun without limits, luarun with limits,
/// and (with `--lua`) the plain interpreter, as the baseline.
const CONFIGS: [&str; 3] = ["luarun", "luarun+limits", "plain lua"];

/// Longest a file may run before it counts as hung.
const FILE_TIMEOUT: Duration = Duration::from_secs(600);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--one") {
        // Child: --one <config> <file> <interpreter or "">
        return run_one(&args[2], &args[3], &args[4]);
    }
    if args.get(1).map(String::as_str) == Some("-e") {
        // files.lua's `<interpreter> -e <code>`.
        return run_code(&args[1..]);
    }
    let Some(testes) = args.get(1).map(PathBuf::from) else {
        eprintln!("usage: lua_suite <testes dir> [--lua <interpreter>]");
        return ExitCode::from(2);
    };
    if !testes.join("all.lua").is_file() {
        eprintln!("{}: no all.lua there", testes.display());
        return ExitCode::from(2);
    }
    let interpreter = match args.iter().position(|a| a == "--lua") {
        Some(i) => match args.get(i + 1) {
            Some(path) => std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path)),
            None => {
                eprintln!("--lua needs the path of a Lua 5.4 interpreter");
                return ExitCode::from(2);
            }
        },
        None => PathBuf::new(),
    };
    // Without an interpreter, files.lua's `arg[-1] -e ...` runs this program.
    let stand_in = std::env::current_exe().unwrap_or_default();
    let mut failed = 0;
    for config in CONFIGS {
        if config == "plain lua" && interpreter.as_os_str().is_empty() {
            continue;
        }
        let mut passed = 0;
        let mut ran = 0;
        println!("== configuration: {config}");
        for (file, _, _) in FILES {
            if file == "main.lua" && interpreter.as_os_str().is_empty() {
                println!("  SKIP {file} (tests the stand-alone interpreter: pass --lua)");
                continue;
            }
            ran += 1;
            let started = Instant::now();
            let progname = if interpreter.as_os_str().is_empty() {
                &stand_in
            } else {
                &interpreter
            };
            let (ok, output) = run_child(&testes, config, file, &interpreter, progname);
            let seconds = started.elapsed().as_secs_f64();
            if ok {
                passed += 1;
                println!("  ok   {file} ({seconds:.1} s)");
            } else {
                failed += 1;
                println!("  FAIL {file} ({seconds:.1} s)");
                for line in last_lines(&output, 6) {
                    println!("         | {line}");
                }
            }
        }
        println!("== {config}: {passed}/{ran} files passed");
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs one file in a child process; whether it passed, and its output. `progname` is
/// what the file sees as `arg[-1]` in luarun's configurations.
fn run_child(
    testes: &Path,
    config: &str,
    file: &str,
    interpreter: &Path,
    progname: &Path,
) -> (bool, String) {
    let mut command = if config == "plain lua" {
        let Some(&(_, mode, expected)) = FILES.iter().find(|(name, _, _)| *name == file) else {
            return (false, format!("{file} is not one of all.lua's files"));
        };
        let mut command = Command::new(interpreter);
        command
            .arg("-e")
            .arg(driver(file, mode, expected, &interpreter.to_string_lossy()));
        command
    } else {
        let mut command = Command::new(std::env::current_exe().expect("own path"));
        command.args(["--one", config, file]).arg(progname);
        command
    };
    // Output goes to a file, not a pipe: main.lua leaves programs running in the
    // background that would hold a pipe open. The child leads its own process group,
    // which is killed afterwards with whatever it left behind.
    let log_path = std::env::temp_dir().join(format!("lua_suite.{}.log", std::process::id()));
    let log = match std::fs::File::create(&log_path) {
        Ok(log) => log,
        Err(e) => return (false, format!("cannot create {}: {e}", log_path.display())),
    };
    let child = command
        .current_dir(testes)
        // A pipe, as under a shell: files.lua expects seeking stdin to fail.
        .stdin(Stdio::piped())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return (false, format!("cannot start: {e}")),
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > FILE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let mut output = std::fs::read(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    output.truncate(output.len().min(1 << 20));
    let mut output = String::from_utf8_lossy(&output).into_owned();
    match status {
        Some(status) if status.success() => (true, output),
        Some(status) => {
            output.push_str(&format!("\n(exit: {status})"));
            (false, output)
        }
        None => {
            output.push_str(&format!("\n(killed after {} s)", FILE_TIMEOUT.as_secs()));
            (false, output)
        }
    }
}

fn last_lines(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// Child: runs `file` in a new state of `config`, as all.lua would.
fn run_one(config: &str, file: &str, interpreter: &str) -> ExitCode {
    let Some(&(_, mode, expected)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        eprintln!("{file} is not one of all.lua's files");
        return ExitCode::from(2);
    };
    let mut options = Options {
        libraries: Libraries(Libraries::ALL),
        allow_bytecode: true,
        allow_finalizers: true,
        ..Options::default()
    };
    if config == "luarun+limits" {
        // Far above what any file runs, but present: the count hook stays installed.
        options.call_limits = call_limits(1 << 40, 20 * 60 * 1000);
    }
    let state = match State::new(&options) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("cannot create the state: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = driver(file, mode, expected, interpreter);
    match state.exec(code.as_bytes(), Some("=all.lua")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{file}: {:?}: {}", e.kind, e.message);
            ExitCode::FAILURE
        }
    }
}

/// `lua_suite -e <code> [-e <code> ...]`: each code in turn in one luarun state with
/// every library, as `lua -e` runs it; an error is printed and fails the process.
fn run_code(args: &[String]) -> ExitCode {
    let state = match State::new(&Options {
        libraries: Libraries(Libraries::ALL),
        ..Options::default()
    }) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("cannot create the state: {e}");
            return ExitCode::FAILURE;
        }
    };
    for pair in args.chunks(2) {
        let [flag, code] = pair else {
            eprintln!("usage: lua_suite -e <code> [-e <code> ...]");
            return ExitCode::from(2);
        };
        if flag != "-e" {
            eprintln!("usage: lua_suite -e <code> [-e <code> ...]");
            return ExitCode::from(2);
        }
        if let Err(e) = state.exec(code.as_bytes(), Some("=(command line)")) {
            eprintln!("lua_suite: {}", e.message);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// all.lua's setup and its way of running `file`, as Lua code.
fn driver(file: &str, mode: Mode, expected: Option<&str>, interpreter: &str) -> String {
    let run = match mode {
        Mode::Dumped | Mode::Stripped => {
            let strip = matches!(mode, Mode::Stripped);
            format!(
                "local f = assert(loadfile('{file}'))\n\
                 f = assert(load(string.dump(f, {strip})))\n\
                 return f()"
            )
        }
        Mode::Plain => format!("return dofile('{file}')"),
        Mode::Loaded => format!("return assert(loadfile('{file}'))()"),
        Mode::Wrapped => format!(
            "local f = coroutine.wrap(assert(loadfile('{file}')))\n\
             assert(f() == 'b')\n\
             assert(f() == 'a')"
        ),
    };
    let check = match expected {
        Some(value) => format!(
            "local result = ...\n\
             assert(result == {value} and {value}, '{file} returned ' .. tostring(result))"
        ),
        None => String::new(),
    };
    format!(
        "arg = {{[-1] = {interpreter:?}, [0] = 'all.lua'}}\n\
         _G.ARG = arg\n\
         _soft, _port, _nomsg = false, false, false\n\
         debug = nil\n\
         T = nil\n\
         function Message(m) print(m) end\n\
         assert(os.setlocale('C'))\n\
         local function run() {run} end\n\
         (function(...) {check} end)(run())\n\
         print('OK')\n"
    )
}
