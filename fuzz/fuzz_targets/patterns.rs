//! Differential fuzzing of the pattern port (the `luarun-pattern` crate): each input is decoded into
//! one call of string.find, match, gmatch, gsub or rep, run in a luarun state (the port)
//! and in a bare mlua state (Lua 5.4's C functions); any difference in what they return
//! or raise is a crash.
#![no_main]

#[path = "../../tests/patterns_support/mod.rs"]
mod patterns_support;

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use luarun_core::state::{Options, State};
use mlua::{Function, Lua, MultiValue, Value};
use patterns_support::{DRIVER, INITS, REPLACEMENTS};

const KINDS: &[&str] = &["find", "match", "gmatch", "gsub", "method", "rep"];

struct Both {
    reference: Lua,
    reference_driver: Function,
    ported: Arc<State>,
    ported_driver: Function,
}

fn both() -> &'static Both {
    static BOTH: OnceLock<Both> = OnceLock::new();
    BOTH.get_or_init(|| {
        let reference = Lua::new();
        let reference_driver = reference.load(DRIVER).set_name("=driver").call(()).unwrap();
        let ported = State::new(&Options::default()).unwrap();
        let chunk = ported.load(DRIVER.as_bytes(), Some("=driver")).unwrap();
        let Some(Value::Function(ported_driver)) =
            ported.call(&chunk, MultiValue::new()).unwrap().pop_front()
        else {
            panic!("driver")
        };
        Both { reference, reference_driver, ported, ported_driver }
    })
}

fn run(lua: &Lua, driver: &Function, case: [Value; 5], call: impl Fn(&Function, mlua::Table) -> Vec<u8>) -> Vec<u8> {
    let row = lua.create_sequence_from(case).unwrap();
    let cases = lua.create_sequence_from([row]).unwrap();
    call(driver, cases)
}

fn case_values(lua: &Lua, kind: &str, subject: &[u8], pattern: &[u8], a: Value, b: Value) -> [Value; 5] {
    [
        Value::String(lua.create_string(kind).unwrap()),
        Value::String(lua.create_string(subject).unwrap()),
        Value::String(lua.create_string(pattern).unwrap()),
        a,
        b,
    ]
}

fuzz_target!(|data: &[u8]| {
    let [kind, init, extra, pattern_len, rest @ ..] = data else {
        return;
    };
    let kind = KINDS[*kind as usize % KINDS.len()];
    let (pattern, subject) = rest.split_at((*pattern_len as usize).min(rest.len()));
    // Bounds that keep Lua's C matcher (which nothing can stop) fast on any input.
    let quantifiers = pattern.iter().filter(|c| b"*+-?".contains(c)).count();
    if subject.len() > 40 || quantifiers > 3 {
        return;
    }
    let init = INITS[*init as usize % INITS.len()];
    let both = both();
    let arguments = |lua: &Lua| -> (Value, Value) {
        match kind {
            "gsub" => (
                init.map_or(Value::Nil, Value::Integer),
                Value::Integer((*extra as u64 % REPLACEMENTS) as i64 + 1),
            ),
            // Small counts: the point is the separator and the edge cases, not size.
            "rep" => (
                Value::Integer(i64::from(*extra as i8) % 9),
                if pattern.is_empty() { Value::Nil } else { Value::String(lua.create_string(pattern).unwrap()) },
            ),
            _ => (init.map_or(Value::Nil, Value::Integer), Value::Boolean(extra & 1 == 1)),
        }
    };
    let (a, b) = arguments(&both.reference);
    let expected = run(
        &both.reference,
        &both.reference_driver,
        case_values(&both.reference, kind, subject, pattern, a, b),
        |driver, cases| {
            let results: mlua::Table = driver.call(cases).unwrap();
            results.get::<mlua::LuaString>(1).unwrap().as_bytes().to_vec()
        },
    );
    let lua = both.ported.lua();
    let (a, b) = arguments(lua);
    let actual = run(
        lua,
        &both.ported_driver,
        case_values(lua, kind, subject, pattern, a, b),
        |driver, cases| {
            let mut results = both
                .ported
                .call(driver, MultiValue::from_vec(vec![Value::Table(cases)]))
                .unwrap();
            let Some(Value::Table(results)) = results.pop_front() else { panic!("driver") };
            results.get::<mlua::LuaString>(1).unwrap().as_bytes().to_vec()
        },
    );
    // Collect now: gmatch iterators and their strings are freed within this input, so
    // libFuzzer's per-input leak check does not count them.
    both.reference.gc_collect().unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(&actual),
        "{kind} subject {subject:?} pattern {pattern:?}"
    );
});
