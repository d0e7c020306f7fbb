//! The prelude replaces coroutine.resume / wrap / close (to track the running coroutine
//! and keep stops unswallowable); they must behave exactly like Lua's own.

use luarun_core::error::ErrorKind;
use luarun_core::state::{Options, State};

fn eval_string(state: &State, expr: &str) -> String {
    match state.eval(expr.as_bytes(), None) {
        Ok(value) => value.to_string().unwrap(),
        Err(e) => panic!("{expr}: {}", e.message),
    }
}

#[test]
fn resume_and_wrap_pass_values_both_ways() {
    let state = State::new(&Options::default()).unwrap();
    state
        .exec(
            b"function gen(a, b)
                local c = coroutine.yield(a + b)
                local d, e = coroutine.yield(c * 2)
                return d .. e, 'done'
              end",
            None,
        )
        .unwrap();
    let trace = "(function()
        local unpack = table.unpack or unpack
        local function pack(...) return {n = select('#', ...), ...} end
        local co = coroutine.create(gen)
        local out = {}
        for _, args in ipairs({{1, 2}, {10}, {'x', 'y'}, {}}) do
          local r = pack(coroutine.resume(co, unpack(args)))
          for i = 1, r.n do out[#out + 1] = tostring(r[i]) end
          out[#out + 1] = coroutine.status(co)
        end
        return table.concat(out, ',')
      end)()";
    assert_eq!(
        eval_string(&state, trace),
        "true,3,suspended,true,20,suspended,true,xy,done,dead,false,cannot resume dead coroutine,dead"
    );
    assert_eq!(
        eval_string(
            &state,
            "(function() local f = coroutine.wrap(gen) return f(1, 2) .. f(5) .. f('a', 'b') end)()"
        ),
        "310ab"
    );
}

#[test]
fn errors_keep_their_values_and_messages() {
    let state = State::new(&Options::default()).unwrap();
    // A table error value comes back from resume unchanged.
    assert_eq!(
        eval_string(
            &state,
            "(function() local e = {} local ok, got = coroutine.resume(coroutine.create(function() error(e) end)) return tostring(not ok and got == e) end)()"
        ),
        "true"
    );
    // wrap propagates the error; pcall sees the original message.
    let message = eval_string(
        &state,
        "select(2, pcall(coroutine.wrap(function() error('boom') end)))",
    );
    assert!(message.ends_with("boom"), "{message}");
    // Misuse is reported as Lua reports it.
    let err = state.exec(b"coroutine.resume(42)", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Runtime);
    assert!(err.message.contains("thread expected"), "{}", err.message);
    // Resuming the running coroutine from inside itself fails cleanly.
    let inside = eval_string(
        &state,
        "(function() local co co = coroutine.create(function() return coroutine.resume(co) end) return tostring(select(3, coroutine.resume(co))) end)()",
    );
    assert!(inside.contains("non-suspended"), "{inside}");
}

#[test]
fn deep_nesting_of_coroutines_is_an_error_not_a_crash() {
    // With a limit, so that interrupt() works on LuaJIT too (the JIT is then off).
    let state = State::new(&Options {
        call_limits: luarun_core::state::call_limits(0, 3_600_000),
        ..Options::default()
    })
    .unwrap();
    let err = state
        .exec(
            b"local function nest() return coroutine.wrap(nest)() end nest()",
            None,
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Runtime, "{}", err.message);
    // The state, and interrupting it, still work afterwards.
    state.exec(b"x = 1", None).unwrap();
    state.interrupt().unwrap();
    assert_eq!(
        state.exec(b"x = 2", None).unwrap_err().kind,
        ErrorKind::Interrupted
    );
}

#[test]
fn wrap_adds_the_callers_position_to_string_errors_as_lua_does() {
    // Called from a Lua function, Lua's wrap prefixes string errors with that call's
    // position; called by pcall directly there is no Lua caller and no prefix.
    for body in ["error('boom', 0)", "error('boom')", "error(42)"] {
        for code in [
            // A second call after the failure: the coroutine is dead.
            format!(
                "(function() local f = coroutine.wrap(function() {body} end) pcall(f) \
                 local _, e = pcall(function() local r = f() return r end) \
                 return tostring(e) end)()"
            ),
            format!(
                "(function() local f = coroutine.wrap(function() {body} end) \
                 local _, e = pcall(function() local r = f() return r end) \
                 return tostring(e) end)()"
            ),
            format!(
                "(function() local _, e = pcall(coroutine.wrap(function() {body} end)) \
                 return tostring(e) end)()"
            ),
        ] {
            let plain: String = mlua::Lua::new()
                .load(format!("return {code}"))
                .set_name("=test")
                .eval()
                .unwrap();
            let state = State::new(&Options::default()).unwrap();
            let ours = state.eval(code.as_bytes(), Some("=test")).unwrap();
            assert_eq!(ours.to_string().unwrap(), plain, "{code}");
        }
    }
}
