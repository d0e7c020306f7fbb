//! The sandbox's guarded functions look exactly like Lua's own (issue 15): names in
//! errors and `debug.getinfo`, hook events, tracebacks, return and error values. Lua 5.4
//! flavor: there they are C functions (src guards.rs, coroutines.rs, the pattern port's
//! C closures).
#![cfg(not(feature = "luajit"))]

use luarun_core::state::{Libraries, Options, State};

fn state_with(libraries: u32) -> std::sync::Arc<State> {
    State::new(&Options {
        libraries: Libraries(libraries),
        ..Options::default()
    })
    .unwrap()
}

fn eval_string(state: &State, expr: &str) -> String {
    match state.eval(expr.as_bytes(), Some("=test")) {
        Ok(value) => value.to_string().unwrap(),
        Err(e) => panic!("{expr}: {}", e.message),
    }
}

#[test]
fn wrap_adds_the_callers_position_to_string_errors() {
    let state = state_with(Libraries::SAFE);
    let message = eval_string(
        &state,
        "select(2, pcall(function() coroutine.wrap(function() error('plain', 0) end)() end))",
    );
    assert_eq!(message, "test:1: plain");
}

#[test]
fn wrap_reports_an_error_raised_while_closing_the_coroutine() {
    let state = state_with(Libraries::SAFE);
    let message = eval_string(
        &state,
        "select(2, pcall(function() coroutine.wrap(function()
            local x <close> = setmetatable({}, {__close = function() error('in close', 0) end})
            error('original', 0)
        end)() end))",
    );
    assert_eq!(message, "test:4: in close");
}

#[test]
fn load_with_mode_b_refuses_text() {
    let state = State::new(&Options {
        allow_bytecode: true,
        ..Options::default()
    })
    .unwrap();
    let message = eval_string(&state, "select(2, load('return 1', 'chunk', 'b'))");
    assert_eq!(message, "attempt to load a text chunk (mode is 'b')");
    // Without bytecode, a binary chunk is refused whatever the mode.
    let sandboxed = state_with(Libraries::SAFE);
    let message = eval_string(&sandboxed, "select(2, load('\\27Lua', 'chunk', 'b'))");
    assert_eq!(message, "attempt to load a binary chunk (mode is 't')");
    let message = eval_string(
        &sandboxed,
        "select(2, load(coroutine.wrap(function() coroutine.yield('\\27Lua') end), 'c', 'bt'))",
    );
    assert_eq!(message, "attempt to load a binary chunk (mode is 't')");
}

#[test]
fn errors_name_the_functions_as_lua_does() {
    let state = state_with(Libraries::SAFE);
    assert_eq!(
        eval_string(&state, "select(2, pcall(setmetatable, 1, {}))"),
        "bad argument #1 to 'setmetatable' (table expected, got number)"
    );
    assert_eq!(
        eval_string(&state, "select(2, pcall(setmetatable, {}, 1))"),
        "bad argument #2 to 'setmetatable' (nil or table expected, got number)"
    );
    assert_eq!(
        eval_string(&state, "select(2, pcall(coroutine.resume, 1))"),
        "bad argument #1 to 'coroutine.resume' (thread expected, got number)"
    );
    assert_eq!(
        eval_string(&state, "select(2, pcall(xpcall, print))"),
        "bad argument #2 to 'xpcall' (function expected, got no value)"
    );
    // Finalizers are still refused, at the caller's line.
    let message = eval_string(
        &state,
        "select(2, pcall(function() setmetatable({}, {__gc = print}) end))",
    );
    assert!(
        message.starts_with("test:1: __gc metamethods are disabled"),
        "{message}"
    );
}

#[test]
fn guarded_functions_are_c_functions() {
    let state = state_with(Libraries::ALL);
    for name in [
        "pcall",
        "xpcall",
        "load",
        "setmetatable",
        "coroutine.resume",
        "coroutine.wrap",
        "coroutine.close",
        "string.find",
        "string.match",
        "string.gmatch",
        "string.gsub",
        "string.rep",
        "string.gmatch('a', 'a')",
        "coroutine.wrap(print)",
    ] {
        assert_eq!(
            eval_string(&state, &format!("debug.getinfo({name}).what")),
            "C",
            "{name}"
        );
    }
    assert_eq!(eval_string(&state, "debug.getinfo(print, 'u').nups"), "0");
    assert_eq!(
        eval_string(&state, "debug.getupvalue(string.gmatch('x', 'x'), 1)"),
        ""
    );
}

#[test]
fn tracebacks_show_no_luarun_frames() {
    let state = state_with(Libraries::ALL);
    let traceback = eval_string(
        &state,
        "select(2, xpcall(function() error('x') end, debug.traceback))",
    );
    assert!(!traceback.contains("luarun"), "{traceback}");
    assert!(!traceback.contains("raw_"), "{traceback}");
    assert!(
        traceback.contains("[C]: in function 'xpcall'"),
        "{traceback}"
    );
    // Inside a __close handler run under pcall, the caller is pcall itself.
    let name = eval_string(
        &state,
        "(function()
            local name
            pcall(function()
              local x <close> = setmetatable({}, {__close = function() name = debug.getinfo(2).name end})
              error('e')
            end)
            return name
          end)()",
    );
    assert_eq!(name, "pcall");
}

#[test]
fn pattern_functions_raise_no_tail_call_events() {
    let state = state_with(Libraries::ALL);
    let events = eval_string(
        &state,
        "(function()
            local events = {}
            debug.sethook(function(e) events[#events + 1] = e end, 'cr')
            string.find('abc', 'b')
            debug.sethook()
            return table.concat(events, ',')
          end)()",
    );
    assert!(!events.contains("tail call"), "{events}");
    // A pattern error names the caller's line, as luaL_error does.
    assert_eq!(
        eval_string(
            &state,
            "select(2, pcall(function() return ('x'):find('%') end))"
        ),
        "test:1: malformed pattern (ends with '%')"
    );
}

#[test]
fn coroutines_nest_as_deeply_as_lua_allows() {
    let state = state_with(Libraries::SAFE);
    let depth = eval_string(
        &state,
        "(function()
            local depth = 0
            local function nest()
              depth = depth + 1
              coroutine.wrap(nest)()
            end
            pcall(nest)
            return depth
          end)()",
    );
    let depth: u32 = depth.parse().unwrap();
    assert!(depth > 150, "{depth}");
}

#[test]
fn a_c_stack_overflow_in_recursive_gsub_is_a_plain_string() {
    let state = state_with(Libraries::SAFE);
    for code in [
        // A function replacement calling gsub again, and a table whose __index does.
        "local function f() string.gsub('a', '.', f) end \
         local ok, e = pcall(f) return type(e) .. ':' .. e",
        "local f local t = setmetatable({}, {__index = function() return f() end}) \
         f = function() string.gsub('a', '.', t) end \
         local ok, e = pcall(f) return type(e) .. ':' .. e",
    ] {
        let result = eval_string(&state, &format!("(function() {code} end)()"));
        assert!(result.starts_with("string:"), "{result}");
        assert!(result.contains("stack overflow"), "{result}");
        assert!(!result.contains("stack traceback"), "{result}");
    }
}

/// A state with io and package (loadfile, dofile, require) that refuses bytecode, and a
/// directory of module files for it.
fn loader_state(test: &str) -> (std::sync::Arc<State>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("luarun-loaders-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("two.lua"), "return 1, 2, ...").unwrap();
    std::fs::write(dir.join("broken.lua"), "return +").unwrap();
    std::fs::write(dir.join("fails.lua"), "\nerror('in file')").unwrap();
    std::fs::write(dir.join("binary.lua"), b"#!/bin/lua\n\x1bLua").unwrap();
    let state = state_with(Libraries::ALL);
    let path = format!("{}/?.lua", dir.display());
    state.set_module_path(path.as_bytes()).unwrap();
    state
        .exec(
            format!("dir = {:?}", dir.display().to_string()).as_bytes(),
            None,
        )
        .unwrap();
    (state, dir)
}

#[test]
fn text_only_loaders_answer_as_lua_does() {
    let (state, dir) = loader_state("answers");
    // Results and arguments pass through dofile and loadfile's chunks.
    assert_eq!(
        eval_string(&state, "select('#', dofile(dir .. '/two.lua'))"),
        "2"
    );
    assert_eq!(
        eval_string(&state, "select(3, loadfile(dir .. '/two.lua')(7))"),
        "7"
    );
    // loadfile's env argument becomes the chunk's _ENV.
    assert_eq!(
        eval_string(
            &state,
            "(function() local f = loadfile(dir .. '/two.lua', 't', {}) \
             return debug.getupvalue(f, 1) end)()"
        ),
        "_ENV"
    );
    // Lua's messages: a missing file, a syntax error, a mode that refuses text, and a
    // binary file (refused whatever mode is asked, after a #! line as Lua skips it).
    let missing = eval_string(&state, "select(2, loadfile(dir .. '/none.lua'))");
    assert!(missing.starts_with("cannot open "), "{missing}");
    let broken = eval_string(&state, "select(2, loadfile(dir .. '/broken.lua'))");
    assert!(
        broken.contains("broken.lua:1: unexpected symbol"),
        "{broken}"
    );
    assert_eq!(
        eval_string(&state, "select(2, loadfile(dir .. '/two.lua', 'b'))"),
        "attempt to load a text chunk (mode is 'b')"
    );
    for mode in ["'b'", "'bt'", "nil"] {
        assert_eq!(
            eval_string(
                &state,
                &format!("select(2, loadfile(dir .. '/binary.lua', {mode}))")
            ),
            "attempt to load a binary chunk (mode is 't')",
            "{mode}"
        );
    }
    // dofile raises the load error as it is, and the chunk's own errors keep its lines.
    let raised = eval_string(&state, "select(2, pcall(dofile, dir .. '/binary.lua'))");
    assert_eq!(raised, "attempt to load a binary chunk (mode is 't')");
    let raised = eval_string(&state, "select(2, pcall(dofile, dir .. '/fails.lua'))");
    assert!(raised.ends_with("fails.lua:2: in file"), "{raised}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn require_loads_text_modules_and_refuses_binary_ones() {
    let (state, dir) = loader_state("require");
    let data = eval_string(
        &state,
        "(function() local value, data = require('two') assert(value == 1) return data end)()",
    );
    // The loader data: the file's path, as Lua's searcher gives it.
    assert!(data.ends_with("two.lua"), "{data}");
    let data = eval_string(&state, "select(2, package.searchers[2]('two'))");
    assert!(data.ends_with("two.lua"), "{data}");
    let refused = eval_string(&state, "select(2, pcall(require, 'binary'))");
    assert!(
        refused.starts_with("error loading module 'binary' from file '")
            && refused.ends_with("binary.lua':\n\tattempt to load a binary chunk (mode is 't')"),
        "{refused}"
    );
    let missing = eval_string(&state, "select(2, pcall(require, 'none'))");
    assert!(missing.contains("no file '"), "{missing}");
    let bad_path = eval_string(
        &state,
        "(function() package.path = {} return select(2, pcall(require, 'other')) end)()",
    );
    assert!(
        bad_path.contains("'package.path' must be a string"),
        "{bad_path}"
    );
    // No Lua wrapper: the loaders are C functions, like Lua's.
    for name in ["loadfile", "dofile", "package.searchers[2]"] {
        assert_eq!(
            eval_string(&state, &format!("debug.getinfo({name}).what")),
            "C",
            "{name}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn host_functions_raise_at_the_callers_line_without_a_lua_frame() {
    use luarun_core::state::HostFailure;
    let state = state_with(Libraries::ALL);
    let fail = state
        .create_host_function(|_, _| Err(HostFailure::Message("host says no".into())))
        .unwrap();
    let table = state
        .create_host_function(|lua, _| {
            let value = lua.create_table().unwrap();
            value.raw_set("code", 7).unwrap();
            Err(HostFailure::Value(mlua::Value::Table(value)))
        })
        .unwrap();
    let echo = state.create_host_function(|_, args| Ok(args)).unwrap();
    let globals = state.lua().globals();
    globals.raw_set("fail", fail).unwrap();
    globals.raw_set("fail_with_table", table).unwrap();
    globals.raw_set("echo", echo).unwrap();
    assert_eq!(
        eval_string(&state, "select(2, pcall(function()\n fail() end))"),
        "test:2: host says no"
    );
    assert_eq!(
        eval_string(&state, "select(2, pcall(fail_with_table)).code"),
        "7"
    );
    assert_eq!(
        eval_string(&state, "select('#', echo(1, nil, 3, nil))"),
        "4"
    );
    assert_eq!(eval_string(&state, "debug.getinfo(fail).what"), "C");
    let traceback = eval_string(&state, "select(2, xpcall(fail, debug.traceback))");
    assert!(!traceback.contains("luarun"), "{traceback}");
}

/// What a script's call and return hook records of `code`: event, name and kind of
/// each function (Lua 5.4.8 gives the expected strings below for the same code).
fn hook_events(state: &State, code: &str) -> String {
    eval_string(
        state,
        &format!(
            "(function()
               local seen = {{}}
               debug.sethook(function(event)
                 local info = debug.getinfo(2, 'nS')
                 seen[#seen + 1] = event .. ':' .. tostring(info.name) .. ':' .. info.what
               end, 'cr')
               {code}
               debug.sethook()
               return table.concat(seen, ' ')
             end)()"
        ),
    )
}

#[test]
fn pattern_and_host_functions_cause_the_hook_events_of_one_c_function() {
    let state = state_with(Libraries::ALL);
    assert_eq!(
        hook_events(&state, "string.find('abc', 'b')"),
        "return:sethook:C call:find:C return:find:C call:sethook:C"
    );
    assert_eq!(
        hook_events(&state, "for w in string.gmatch('a b', '%a') do end"),
        "return:sethook:C call:gmatch:C return:gmatch:C \
         call:for iterator:C return:for iterator:C call:for iterator:C \
         return:for iterator:C call:for iterator:C return:for iterator:C call:sethook:C"
    );
    assert_eq!(
        hook_events(&state, "string.gsub('ab', '%a', function(c) return c end)"),
        "return:sethook:C call:gsub:C call:nil:Lua return:nil:Lua call:nil:Lua \
         return:nil:Lua return:gsub:C call:sethook:C"
    );
    let host = state
        .create_host_function(|lua, _| {
            let table = lua.create_table().map_err(|e| e.to_string())?;
            Ok(mlua::MultiValue::from_vec(vec![mlua::Value::Table(table)]))
        })
        .unwrap();
    state.lua().globals().raw_set("host", host).unwrap();
    assert_eq!(
        hook_events(&state, "host()"),
        "return:sethook:C call:host:C return:host:C call:sethook:C"
    );
}

#[test]
fn a_traceback_inside_a_host_callback_shows_it_as_one_c_frame() {
    let state = state_with(Libraries::ALL);
    let callback = state
        .create_host_function(|lua, args| {
            let f: mlua::Function = args
                .into_iter()
                .next()
                .and_then(|v| v.as_function().cloned())
                .ok_or("a function expected")?;
            let traceback: mlua::Value = f.call(()).map_err(|e| e.to_string())?;
            let _ = lua;
            Ok(mlua::MultiValue::from_vec(vec![traceback]))
        })
        .unwrap();
    state.lua().globals().raw_set("host", callback).unwrap();
    let traceback = eval_string(&state, "host(debug.traceback)");
    let frames: Vec<&str> = traceback.lines().skip(1).map(str::trim).collect();
    assert_eq!(
        frames.first(),
        Some(&"[C]: in function 'host'"),
        "{traceback}"
    );
}
