//! Compiling source runs in Lua's parser, where no count hook reaches: a 400 KB
//! `a or a or ...` chain (quadratic in its length) took 6-8 s and returned OK past a
//! 100 ms time limit, also through `load` inside a call. The parser is now fed in small
//! pieces, and the time limit and interrupts are checked between them.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use luarun_core::error::ErrorKind;
use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

/// `return a or a or ... or a` with `terms` terms: 5 bytes a term.
fn or_chain(terms: usize) -> String {
    let mut code = String::from("return ");
    code.push_str(&"a or ".repeat(terms));
    code.push('a');
    code
}

/// 80 000 terms (400 KB): seconds of parsing on Lua 5.4.
const TERMS: usize = 80_000;

fn timed(ms: u64) -> Arc<State> {
    State::new(&Options {
        call_limits: CallLimits {
            time: Some(Duration::from_millis(ms)),
            instructions: None,
        },
        ..Options::default()
    })
    .expect("state")
}

/// Runs `work` on a thread of its own: its result and how long it took; fails the
/// test after 120 s instead of hanging.
fn timed_run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> (T, Duration) {
    let (done, result) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let started = Instant::now();
        let value = work();
        let _ = done.send((value, started.elapsed()));
    });
    result
        .recv_timeout(Duration::from_secs(120))
        .expect("finished within 120 s")
}

/// Generous for a noisy host; the unguarded parse took 6-8 s and returned OK.
const BOUND: Duration = Duration::from_secs(3);

/// The ways source reaches the parser: the host API's exec, eval and load, and Lua's
/// own `load` of a string (with and without a chunk name, and by pcall).
/// One way to compile the chain on a state.
type Compilation = Box<dyn Fn(&State) -> luarun_core::error::Result<()> + Send>;

fn compilations() -> Vec<(&'static str, Compilation)> {
    vec![
        (
            "exec",
            Box::new(|state: &State| state.exec(or_chain(TERMS).as_bytes(), None)),
        ),
        (
            "eval",
            Box::new(|state: &State| {
                let expression = &or_chain(TERMS)["return ".len()..];
                state.eval(expression.as_bytes(), None).map(|_| ())
            }),
        ),
        (
            "load",
            Box::new(|state: &State| state.load(or_chain(TERMS).as_bytes(), None).map(|_| ())),
        ),
        (
            "Lua load",
            Box::new(|state: &State| {
                state.exec(
                    format!("local f = load('return ' .. ('a or '):rep({TERMS}) .. 'a')")
                        .as_bytes(),
                    None,
                )
            }),
        ),
        (
            "Lua load with a name and pcall",
            Box::new(|state: &State| {
                state.exec(
                    format!(
                        "local ok, f = pcall(load, 'return ' .. ('a or '):rep({TERMS}) .. 'a', \
                         '=chain', 't', {{}})"
                    )
                    .as_bytes(),
                    None,
                )
            }),
        ),
    ]
}

#[test]
fn a_time_limit_stops_compilation() {
    for (how, compile) in compilations() {
        let state = timed(100);
        let (result, took) = timed_run(move || compile(&state));
        let err = result.expect_err(how);
        assert_eq!(err.kind, ErrorKind::Interrupted, "{how}: {}", err.message);
        assert!(err.message.contains("time limit"), "{how}: {}", err.message);
        assert!(took < BOUND, "{how}: compiled for {took:?}");
    }
}

#[test]
fn an_interrupt_stops_compilation() {
    for (how, compile) in compilations() {
        // LuaJIT: a limit turns the JIT off, which makes the state interruptible.
        let state = timed(3_600_000);
        let stopper = Arc::clone(&state);
        let interrupter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            stopper.interrupt().unwrap();
        });
        let (result, took) = timed_run(move || compile(&state));
        interrupter.join().unwrap();
        let err = result.expect_err(how);
        assert_eq!(err.kind, ErrorKind::Interrupted, "{how}: {}", err.message);
        assert!(took < BOUND, "{how}: compiled for {took:?}");
    }
}

#[test]
fn source_fed_in_pieces_compiles_exactly_as_before() {
    let state = State::new(&Options::default()).unwrap();
    // Tokens, long strings and comments across every piece boundary.
    let mut code = String::from("local t = {}\n");
    for i in 0..3000 {
        code.push_str(&format!(
            "t[#t + 1] = 'item {i}' .. [[long {i}]] --[==[ comment {i} ]==] .. ({i}.5 + 0x10)\n"
        ));
    }
    code.push_str("return #t, t[3000]");
    state.exec(code.as_bytes(), None).unwrap();
    let value = state
        .eval(
            format!("(function() {} end)()", &code).as_bytes(),
            Some("=pieces"),
        )
        .unwrap();
    assert_eq!(value, mlua::Value::Integer(3000));
    // Syntax errors still name their line, and are syntax errors.
    let err = state
        .exec(format!("{code}\nlocal = 1").as_bytes(), Some("=pieces"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Syntax, "{}", err.message);
    assert!(err.message.contains("pieces:3003:"), "{}", err.message);
    // Lua's load of a long string keeps its default chunk name.
    let message = state
        .eval(
            b"select(2, load(string.rep('x = 1 ', 2000) .. 'error'))",
            None,
        )
        .unwrap()
        .to_string()
        .unwrap();
    assert!(message.starts_with("[string \"x = 1 x = 1"), "{message}");
    // A binary chunk is still refused by mode as before.
    let err = state.exec(b"\x1bLua", None).unwrap_err();
    assert_ne!(err.kind, ErrorKind::Interrupted, "{}", err.message);
}
