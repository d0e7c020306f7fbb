//! `__gc` finalizers run where no limit can stop them, so a state refuses every way of
//! installing one unless `allow_finalizers` is set, in both flavors.

use std::sync::Arc;
use std::time::Duration;

use luarun_core::error::ErrorKind;
use luarun_core::limits::CallLimits;
use luarun_core::state::{Options, State};

fn state(allow_finalizers: bool) -> Arc<State> {
    State::new(&Options {
        allow_finalizers,
        call_limits: CallLimits {
            time: Some(Duration::from_millis(200)),
            instructions: None,
        },
        ..Options::default()
    })
    .unwrap()
}

/// Each shape tries to get `ran = true` set by a finalizer, then collects.
const SHAPES: &[&str] = &[
    "setmetatable({}, {__gc = function() ran = true end})",
    "local mt = {} mt.__gc = function() ran = true end setmetatable({}, mt)",
    // LuaJIT (Lua 5.1): a userdata whose metatable script code may fill in.
    "local u = newproxy(true) getmetatable(u).__gc = function() ran = true end",
    "local u = newproxy(true) rawset(getmetatable(u), '__gc', function() ran = true end)",
    "local u = newproxy(newproxy(true)) getmetatable(u).__gc = function() ran = true end",
];

fn collect(state: &State) {
    state
        .exec(b"collectgarbage() collectgarbage()", None)
        .expect("collect");
}

#[test]
fn no_finalizer_can_be_installed_unless_allowed() {
    let state = state(false);
    for code in SHAPES {
        let _ = state.exec(code.as_bytes(), None);
        collect(&state);
        assert_eq!(
            state.eval(b"ran", None).unwrap(),
            mlua::Value::Nil,
            "{code}: a finalizer ran"
        );
    }
    // A finalizer that loops would never stop, whatever the limits.
    let runaway = "local u = newproxy and newproxy(true) \
                   if u then getmetatable(u).__gc = function() while true do end end end";
    let _ = state.exec(runaway.as_bytes(), None);
    let stopper = Arc::clone(&state);
    let collected = std::thread::spawn(move || stopper.exec(b"collectgarbage()", None));
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(collected.join());
    });
    let outcome = result
        .recv_timeout(Duration::from_secs(20))
        .expect("a finalizer looped where the limits cannot stop it");
    assert!(outcome.is_ok());
}

#[test]
fn allowed_finalizers_run() {
    // The control: with the option a finalizer runs, so the test above fails for the
    // right reason.
    let allowing = state(true);
    // LuaJIT (Lua 5.1) has no finalizers on tables, only on userdata.
    let shape = if cfg!(feature = "luajit") {
        SHAPES[2]
    } else {
        SHAPES[0]
    };
    allowing.exec(shape.as_bytes(), None).unwrap();
    collect(&allowing);
    let ran = allowing.eval(b"ran", None).unwrap();
    assert_eq!(ran, mlua::Value::Boolean(true));
    let err = state(false).exec(SHAPES[0].as_bytes(), None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Runtime);
    assert!(err.message.contains("allow_finalizers"), "{}", err.message);
}
