//! The pattern functions of Lua 5.4 states (the `luarun-pattern` crate, a Rust port that limits can
//! stop) return and raise exactly what Lua 5.4's C functions do. Each case runs in a
//! luarun state and in a bare mlua state (the C originals) and their outcomes, described
//! value by value, must be equal.
#![cfg(feature = "lua54")]

mod patterns_support;

use std::sync::Arc;

use luarun_core::state::{Options, State};
use mlua::{Function, Lua, MultiValue, Table, Value};
use patterns_support::{pattern, subject, Rng, DRIVER, INITS, REPLACEMENTS};

/// An argument of a case.
#[derive(Clone, Debug)]
enum Arg {
    Nil,
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    EmptyTable,
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Arg::Nil, Arg::Int)
    }
}

#[derive(Clone, Debug)]
struct Case {
    kind: &'static str,
    subject: Arg,
    pattern: Vec<u8>,
    a: Arg,
    b: Arg,
}

fn case(kind: &'static str, subject: &[u8], pattern: &[u8], a: Arg, b: Arg) -> Case {
    Case {
        kind,
        subject: Arg::Bytes(subject.to_vec()),
        pattern: pattern.to_vec(),
        a,
        b,
    }
}

fn to_value(lua: &Lua, arg: &Arg) -> Value {
    match arg {
        Arg::Nil => Value::Nil,
        Arg::Int(i) => Value::Integer(*i),
        Arg::Float(f) => Value::Number(*f),
        Arg::Bool(b) => Value::Boolean(*b),
        Arg::Bytes(b) => Value::String(lua.create_string(b).unwrap()),
        Arg::EmptyTable => Value::Table(lua.create_table().unwrap()),
    }
}

fn case_table(lua: &Lua, cases: &[Case]) -> Table {
    let table = lua.create_table().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let row = lua.create_table().unwrap();
        row.raw_set(1, case.kind).unwrap();
        row.raw_set(2, to_value(lua, &case.subject)).unwrap();
        row.raw_set(3, lua.create_string(&case.pattern).unwrap())
            .unwrap();
        row.raw_set(4, to_value(lua, &case.a)).unwrap();
        row.raw_set(5, to_value(lua, &case.b)).unwrap();
        table.raw_set(i + 1, row).unwrap();
    }
    table
}

fn outcomes(results: Table) -> Vec<Vec<u8>> {
    results
        .sequence_values::<mlua::LuaString>()
        .map(|s| s.unwrap().as_bytes().to_vec())
        .collect()
}

/// The C originals (a bare mlua state) and the port (a luarun state), each with the
/// driver loaded.
struct Both {
    reference: Lua,
    reference_driver: Function,
    ported: Arc<State>,
    ported_driver: Function,
}

impl Both {
    fn new() -> Self {
        let reference = Lua::new();
        let reference_driver = reference
            .load(DRIVER)
            .set_name("=driver")
            .call::<Function>(())
            .unwrap();
        let ported = State::new(&Options::default()).unwrap();
        let chunk = ported.load(DRIVER.as_bytes(), Some("=driver")).unwrap();
        let ported_driver = match ported.call(&chunk, MultiValue::new()).unwrap().pop_front() {
            Some(Value::Function(f)) => f,
            other => panic!("driver: {other:?}"),
        };
        Both {
            reference,
            reference_driver,
            ported,
            ported_driver,
        }
    }

    /// Runs every case on both sides; panics listing the first differences.
    fn compare(&self, cases: &[Case]) {
        let mut differences = Vec::new();
        for batch in cases.chunks(400) {
            let expected = outcomes(
                self.reference_driver
                    .call(case_table(&self.reference, batch))
                    .unwrap(),
            );
            let args =
                MultiValue::from_vec(vec![Value::Table(case_table(self.ported.lua(), batch))]);
            let actual = match self.ported.call(&self.ported_driver, args) {
                Ok(mut values) => match values.pop_front() {
                    Some(Value::Table(t)) => outcomes(t),
                    other => panic!("driver returned {other:?}"),
                },
                Err(e) => panic!("driver failed: {}", e.message),
            };
            for ((case, want), got) in batch.iter().zip(&expected).zip(&actual) {
                if want != got {
                    differences.push(format!(
                        "{case:?}\n  C:    {}\n  port: {}",
                        String::from_utf8_lossy(want),
                        String::from_utf8_lossy(got)
                    ));
                }
            }
        }
        assert!(
            differences.is_empty(),
            "{} of {} cases differ; first ones:\n{}",
            differences.len(),
            cases.len(),
            differences[..differences.len().min(8)].join("\n")
        );
    }
}

/// Patterns exercising each feature once, plus every malformed form Lua reports.
const HANDWRITTEN: &[&[u8]] = &[
    b"",
    b"a",
    b"ab",
    b"^a",
    b"^",
    b"$",
    b"a$",
    b"^$",
    b"a$b",
    b"^a$",
    b"a^",
    b".",
    b"..",
    b"%a+",
    b"%A+",
    b"%c",
    b"%C+",
    b"%d+",
    b"%D",
    b"%g+",
    b"%G",
    b"%l+",
    b"%L+",
    b"%p+",
    b"%P",
    b"%s+",
    b"%S+",
    b"%u+",
    b"%U",
    b"%w+",
    b"%W+",
    b"%x+",
    b"%X",
    b"%z",
    b"%Z+",
    b"%.",
    b"%%",
    b"%]",
    b"%q",
    b"%Q",
    b"[abc]",
    b"[^abc]+",
    b"[a-c]+",
    b"[^a-c]",
    b"[%a_]+",
    b"[]]",
    b"[^]]+",
    b"[a-]",
    b"[-a]",
    b"[%]]",
    b"[%-]",
    b"[a%-z]",
    b"[\0-\x10]",
    b"[\x80-\xff]+",
    b"[%w%s]+",
    b"[^%w%s]",
    b"[.]",
    b"[%d-z]",
    b"[z-a]",
    b"a*",
    b"a+",
    b"a-",
    b"a?",
    b".*",
    b".-",
    b".+",
    b".?",
    b"a*b",
    b"a-b",
    b"a+b",
    b"a?b",
    b".-b",
    b".*b",
    b"[ab]*c",
    b"%a*%d+",
    b"()",
    b"()a()",
    b"(a)",
    b"(a*)",
    b"(a)(b)",
    b"((a)(b))",
    b"(a(b)c)",
    b"(.-)b",
    b"(%a+)%s*=%s*(%w+)",
    b"(a)%1",
    b"(a*)b%1",
    b"()%1",
    b"(.)%1",
    b"(%a)(%a)%2%1",
    b"%b()",
    b"%b[]",
    b"%bab",
    b"%b\0\xff",
    b"%b()x",
    b"%f[%w]%w+",
    b"%f[%W]",
    b"%f[%a]%a+%f[%A]",
    b"%f[\0]",
    b"%f[^\0]",
    b"%f[%z]",
    b"\0",
    b"a\0b",
    b"\xff",
    b"[\0]",
    b"%z+",
    b"^(a)",
    b"^()",
    b"(^a)",
    b"a(",
    b"a)",
    b"(()",
    b"%",
    b"a%",
    b"[a",
    b"[^",
    b"[",
    b"[a%",
    b"[%",
    b"%b",
    b"%ba",
    b"%f",
    b"%fa",
    b"%f[a",
    b"%1",
    b"%0",
    b"(a)%2",
    b"(a%1)",
    b"%9",
    b"(()())",
    b"((((((((((a))))))))))",
    b"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)%9%10",
    b"^(%d+)%.(%d+)$",
    b"%s*(.-)%s*$",
];

const FIXED_SUBJECTS: &[&[u8]] = &[
    b"",
    b"a",
    b"aaa",
    b"ab",
    b"abcabc",
    b"hello world from Lua",
    b"key = value",
    b"  padded  ",
    b"3.14",
    b"f(a(b)c) [x] ]",
    b"a\0b\0\0c",
    b"\xff\xe9\x80abc\xff",
    b"THE (quick) fox",
    b"aaab",
    b"abba",
    b"^$%.[]*+-?()",
];

#[test]
fn handwritten_patterns_agree_with_lua_for_find_match_and_gmatch() {
    let both = Both::new();
    let mut cases = Vec::new();
    for pattern in HANDWRITTEN {
        for subject in FIXED_SUBJECTS {
            for init in [None, Some(2), Some(-2), Some(0), Some(50)] {
                cases.push(case("find", subject, pattern, init.into(), Arg::Nil));
                cases.push(case("match", subject, pattern, init.into(), Arg::Nil));
                cases.push(case("gmatch", subject, pattern, init.into(), Arg::Nil));
            }
            cases.push(case("find", subject, pattern, Arg::Nil, Arg::Bool(true)));
            cases.push(case("method", subject, pattern, Arg::Nil, Arg::Nil));
        }
    }
    both.compare(&cases);
}

#[test]
fn gsub_agrees_with_lua_for_every_replacement_kind_and_limit() {
    let both = Both::new();
    let mut cases = Vec::new();
    for pattern in HANDWRITTEN {
        for subject in FIXED_SUBJECTS {
            for replacement in 1..=REPLACEMENTS as i64 {
                for limit in [None, Some(1), Some(0), Some(-1)] {
                    cases.push(case(
                        "gsub",
                        subject,
                        pattern,
                        limit.into(),
                        Arg::Int(replacement),
                    ));
                }
            }
        }
    }
    both.compare(&cases);
}

#[test]
fn random_patterns_agree_with_lua() {
    let both = Both::new();
    let mut rng = Rng::new(0x5eed_1234);
    let mut cases = Vec::new();
    for _ in 0..1500 {
        let pattern = pattern(&mut rng);
        for _ in 0..4 {
            let subject = subject(&mut rng, 24);
            let init = Arg::from(*rng.pick(INITS));
            let plain = Arg::Bool(rng.below(5) == 0);
            cases.push(case("find", &subject, &pattern, init.clone(), plain));
            cases.push(case("match", &subject, &pattern, init.clone(), Arg::Nil));
            cases.push(case("gmatch", &subject, &pattern, init, Arg::Nil));
            let replacement = Arg::Int(rng.below(REPLACEMENTS) as i64 + 1);
            let limit = Arg::from(*rng.pick(&[None, Some(1), Some(2), Some(-5)]));
            cases.push(case("gsub", &subject, &pattern, limit, replacement));
        }
    }
    both.compare(&cases);
}

#[test]
fn long_subjects_agree_with_lua() {
    let both = Both::new();
    let mut long = b"word ".repeat(2000);
    long.extend_from_slice(b"(nested (parens)) end\0tail\xff");
    let many_a = b"a".repeat(3000);
    let mut cases = Vec::new();
    for subject in [&long, &many_a] {
        for pattern in [
            &b"%a+"[..],
            b"(%a+) ",
            b"%b()",
            b"%f[%w]%w+",
            b"end%z",
            b"a-$",
            b"^(a*)$",
            b"(a+)%1",
            b"\xff",
            b"tail",
            b"[^ ]+$",
            b".-(parens)",
        ] {
            for init in [None, Some(-30), Some(1000)] {
                cases.push(case("find", subject, pattern, init.into(), Arg::Nil));
                cases.push(case("match", subject, pattern, init.into(), Arg::Nil));
                cases.push(case("gmatch", subject, pattern, init.into(), Arg::Nil));
            }
            cases.push(case("find", subject, pattern, Arg::Nil, Arg::Bool(true)));
            for replacement in [1, 3, 11, 13] {
                cases.push(case(
                    "gsub",
                    subject,
                    pattern,
                    Arg::Nil,
                    Arg::Int(replacement),
                ));
            }
        }
    }
    both.compare(&cases);
}

#[test]
fn limits_of_the_matcher_raise_lua_s_errors() {
    let both = Both::new();
    let deep = b"a?".repeat(300);
    let captures = b"()".repeat(33);
    let subject = b"a".repeat(300);
    let mut cases = Vec::new();
    for pattern in [&deep, &captures, &b"()".repeat(32), &b"(a)".repeat(32)] {
        for kind in ["find", "match", "gmatch"] {
            cases.push(case(kind, &subject, pattern, Arg::Nil, Arg::Nil));
        }
        cases.push(case("gsub", &subject, pattern, Arg::Nil, Arg::Int(1)));
    }
    both.compare(&cases);
}

#[test]
fn bad_arguments_raise_lua_s_messages_with_the_caller_s_name() {
    let both = Both::new();
    let mut cases = Vec::new();
    let odd = [
        Arg::Nil,
        Arg::Int(12),
        Arg::Float(1.5),
        Arg::Float(3.0),
        Arg::Bytes(b"2".to_vec()),
        Arg::Bytes(b"x".to_vec()),
        Arg::Bool(true),
        Arg::EmptyTable,
    ];
    for subject in &odd {
        for a in &odd {
            for kind in ["find", "match", "gmatch", "method"] {
                cases.push(Case {
                    kind,
                    subject: subject.clone(),
                    pattern: b"%d".to_vec(),
                    a: a.clone(),
                    b: Arg::Nil,
                });
            }
            // Called by name through string[...] (no call-site name: "string.x").
            for function in ["find", "match", "gmatch", "gsub", "rep"] {
                cases.push(Case {
                    kind: "raw",
                    subject: subject.clone(),
                    pattern: function.as_bytes().to_vec(),
                    a: a.clone(),
                    b: Arg::Nil,
                });
            }
        }
    }
    both.compare(&cases);
}

#[test]
fn rep_agrees_with_lua() {
    let both = Both::new();
    let mut cases = Vec::new();
    for unit in [&b""[..], b"a", b"ab\0", b"xyz"] {
        for count in [
            Arg::Nil,
            Arg::Int(-1),
            Arg::Int(0),
            Arg::Int(1),
            Arg::Int(2),
            Arg::Int(7),
            Arg::Int(100_000),
            Arg::Float(2.0),
            Arg::Float(2.5),
            Arg::Bytes(b"3".to_vec()),
            Arg::Int(1 << 40),
        ] {
            for separator in [
                Arg::Nil,
                Arg::Bytes(b"".to_vec()),
                Arg::Bytes(b", ".to_vec()),
                Arg::Int(0),
                Arg::EmptyTable,
            ] {
                // C's str_rep loops n times even when every copy is empty: skip what
                // would take it hours.
                let empty_separator = matches!(&separator, Arg::Nil)
                    || matches!(&separator, Arg::Bytes(b) if b.is_empty());
                if unit.is_empty() && empty_separator && matches!(count, Arg::Int(n) if n > 1 << 20)
                {
                    continue;
                }
                cases.push(Case {
                    kind: "rep",
                    subject: Arg::Bytes(unit.to_vec()),
                    pattern: Vec::new(),
                    a: count.clone(),
                    b: separator,
                });
            }
        }
    }
    both.compare(&cases);
}

#[test]
fn the_port_is_what_scripts_call() {
    // The string table is also the strings' metatable __index: both reach the port, and a
    // replacement function's error value arrives unchanged.
    let state = State::new(&Options::default()).unwrap();
    let same = state
        .eval(
            b"string.find == ('').find and debug == nil and select(2, pcall(string.find)) ",
            None,
        )
        .unwrap();
    assert_eq!(
        same.to_string().unwrap(),
        "bad argument #1 to 'string.find' (string expected, got no value)"
    );
    let kept = state
        .eval(
            b"(function() local e = {} local ok, got = pcall(string.gsub, 'a', '.', \
              function() error(e) end) return got == e end)()",
            None,
        )
        .unwrap();
    assert_eq!(kept, Value::Boolean(true));
    let is_lua_function = state
        .eval(b"not pcall(string.dump, string.find)", None)
        .unwrap();
    assert_eq!(is_lua_function, Value::Boolean(true));
}
