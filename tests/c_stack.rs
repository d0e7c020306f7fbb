//! Recursion through C functions that call back into Lua (LuaJIT bounds none of them)
//! is an error, not a host stack overflow, on the thread sizes the README promises:
//! every shape runs on threads with 1 MiB and with 512 KiB of stack, in both flavors.

use std::sync::Arc;

use luarun_core::error::ErrorKind;
use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

/// Each shape recurses without end through a C function that calls Lua back.
const SHAPES: &[(&str, &str)] = &[
    (
        "gsub with a function replacement",
        "local function f(s) return (s:gsub('.', f)) end return f('x')",
    ),
    (
        "gsub with a table replacement whose __index recurses",
        "local t t = setmetatable({}, {__index = function(_, k) return (k:gsub('.', t)) end}) \
         return (('x'):gsub('.', t))",
    ),
    (
        "table.sort comparator",
        "local function f() table.sort({3, 2, 1}, function(a, b) f() return a < b end) end f()",
    ),
    (
        "table.sort through __lt",
        "local mt = {} mt.__lt = function(a, b) \
         table.sort({setmetatable({}, mt), setmetatable({}, mt)}) return false end \
         table.sort({setmetatable({}, mt), setmetatable({}, mt)})",
    ),
    (
        "string.format('%s') calling __tostring",
        "local t t = setmetatable({}, {__tostring = function() return string.format('%s', t) end}) \
         return string.format('%s', t)",
    ),
    (
        "tostring calling __tostring",
        "local t t = setmetatable({}, {__tostring = function() return 'x' .. tostring(t) end}) \
         return tostring(t)",
    ),
    (
        // load returns a reader's error instead of raising it: assert re-raises it.
        "load with a reader function",
        "local function f() return assert(load(function() f() return nil end)) end return f()",
    ),
    (
        "print calling __tostring",
        "local t t = setmetatable({}, {__tostring = function() print(t) end}) print(t)",
    ),
    (
        "coroutines resumed inside each other",
        "local function f() coroutine.wrap(f)() end f()",
    ),
    (
        "pcall around each level of gsub",
        "local function f(s) local ok, r = pcall(string.gsub, s, '.', f) \
         if not ok then error(r, 0) end return r end return f('x')",
    ),
    (
        "pcall recursion",
        "local function f() assert(pcall(f)) end f()",
    ),
    (
        "xpcall recursion",
        "local function f() assert(xpcall(f, function(e) return e end)) end f()",
    ),
    (
        "error objects with __tostring",
        "local mt = {} mt.__tostring = function(e) \
         return 'e' .. tostring(setmetatable({}, mt)) end \
         error(setmetatable({}, mt))",
    ),
    (
        "__index functions calling each other (Lua 5.4 calls them from C)",
        "local t t = setmetatable({}, {__index = function(_, k) return t[k .. 'x'] end}) \
         return t.x",
    ),
    (
        "__concat recursion",
        "local mt = {} mt.__concat = function(a, b) return setmetatable({}, mt) .. 'x' end \
         return setmetatable({}, mt) .. 'x'",
    ),
    (
        "mixed: sort inside gsub inside format",
        "local t local function f(s) table.sort({1, 2}, function(a, b) \
         s:gsub('.', function() return string.format('%s', t) end) return a < b end) end \
         t = setmetatable({}, {__tostring = function() f('x') return 'x' end}) f('x')",
    ),
];

/// Lua 5.4 only: its `ipairs` and table functions honour `__index` and `__len` (LuaJIT's
/// are raw).
const LUA54_SHAPES: &[(&str, &str)] = &[
    (
        "table.concat through a recursing __index",
        "local t t = setmetatable({}, {__index = function() return table.concat(t) end, \
         __len = function() return 1 end}) return table.concat(t)",
    ),
    (
        "ipairs through a recursing __index",
        "local t t = setmetatable({}, {__index = function(_, k) for _ in ipairs(t) do end end}) \
         for _ in ipairs(t) do end",
    ),
];

/// A host function that calls a Lua function which calls it again.
fn host_recursion(state: &Arc<State>) {
    let weak = Arc::downgrade(state);
    let host = state
        .create_host_function(move |_, _| {
            let state = weak.upgrade().ok_or("closed")?;
            let again = state
                .run(|lua| lua.globals().get::<mlua::Function>("again"))
                .map_err(|e| e.message)?;
            Ok(state
                .call(&again, mlua::MultiValue::new())
                .map_err(|e| e.message)?)
        })
        .unwrap();
    state.run(|lua| lua.globals().set("host", host)).unwrap();
    state.exec(b"function again() host() end", None).unwrap();
}

fn states() -> Vec<(&'static str, Arc<State>)> {
    let limited = Options {
        call_limits: CallLimits {
            instructions: Some(1 << 40),
            time: None,
        },
        ..Options::default()
    };
    // On LuaJIT the default state runs with the JIT compiler on, a limited one without.
    vec![
        ("default", State::new(&Options::default()).unwrap()),
        ("limited", State::new(&limited).unwrap()),
    ]
}

fn run_every_shape_on_a_thread_of(stack: usize) {
    let worker = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            for (kind, state) in states() {
                host_recursion(&state);
                let lua54 = if cfg!(feature = "lua54") {
                    LUA54_SHAPES
                } else {
                    &[]
                };
                let shapes = SHAPES
                    .iter()
                    .chain(lua54)
                    .copied()
                    .chain([("host callback calling back into Lua", "again()")]);
                for (name, code) in shapes {
                    let err = state
                        .exec(code.as_bytes(), None)
                        .expect_err(&format!("{name} ({kind}) ran to completion"));
                    assert!(
                        matches!(err.kind, ErrorKind::Runtime | ErrorKind::Syntax),
                        "{name} ({kind}, {stack} bytes): {:?} {}",
                        err.kind,
                        err.message
                    );
                    let value = state.eval(b"#string.format('%s', 'usable')", None).unwrap();
                    assert_eq!(value, mlua::Value::Integer(6), "{name} ({kind})");
                }
                // Overflows caught inside one call leave nothing behind: legitimate
                // nesting 10 deep still works in the same call afterwards.
                let value = state
                    .eval(
                        b"(function() \
                          local function deep(s) return (s:gsub('.', deep)) end \
                          for i = 1, 50 do pcall(deep, 'x') end \
                          local function nest(n) if n == 0 then return 'ok' end \
                            return (('x'):gsub('x', function() return nest(n - 1) end)) end \
                          return nest(10) end)()",
                        None,
                    )
                    .unwrap_or_else(|e| panic!("{kind}: {}", e.message));
                assert_eq!(value.to_string().unwrap(), "ok", "{kind}");
            }
        })
        .unwrap();
    worker.join().expect("no crash and no failed assertion");
}

#[test]
fn recursion_through_c_functions_is_an_error_on_a_1_mib_thread() {
    run_every_shape_on_a_thread_of(1 << 20);
}

#[test]
fn recursion_through_c_functions_is_an_error_on_a_512_kib_thread() {
    run_every_shape_on_a_thread_of(512 << 10);
}

#[test]
fn errors_of_guarded_functions_still_name_them() {
    let state = State::new(&Options::default()).unwrap();
    for (code, name) in [
        ("string.gsub()", "'gsub'"),
        ("string.format()", "'format'"),
        ("table.sort()", "'sort'"),
    ] {
        let err = state.exec(code.as_bytes(), None).unwrap_err();
        assert!(err.message.contains(name), "{code}: {}", err.message);
    }
}
