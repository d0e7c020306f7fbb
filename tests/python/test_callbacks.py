"""Python functions called from Lua, and exceptions crossing both ways."""

from __future__ import annotations

import gc

import pytest

import luarun
from luarun import _host


def test_python_functions_are_callable_from_lua(lua):
    lua.globals().add = lambda a, b: a + b
    assert lua.eval("add(2, 3)") == 5
    assert lua.eval("type(add)") == "function"


def test_register_makes_a_global_function(lua):
    lua.register("greet", lambda name: "hello, " + name)
    assert lua.eval("greet('lua')") == "hello, lua"


def test_returned_tuples_become_multiple_results_and_none_no_result(lua):
    lua.globals().pair = lambda: (1, 2)
    lua.globals().nothing = lambda: None
    assert lua.eval("select('#', pair())") == 2
    assert lua.eval("select('#', nothing())") == 0


def test_methods_partials_and_builtins_work(lua):
    import functools

    items = []
    lua.globals().append = items.append
    lua.globals().power = functools.partial(pow, 2)
    lua.globals().length = len
    lua.execute("append(power(10)) append(length('abc'))")
    assert items == [1024, 3]


def test_lua_can_pcall_a_failing_python_function(lua):
    error = ValueError("bad input")

    def fail():
        raise error

    lua.globals().fail = fail
    ok, caught, text = lua.eval("(function() local ok, e = pcall(fail) return ok, e, tostring(e) end)()")
    assert ok is False
    assert caught is error  # the exception object itself, as lupa hands it to Lua
    assert text == "ValueError: bad input"
    assert lua.eval("1") == 1  # a caught exception is not re-raised later


def test_an_escaping_python_exception_is_re_raised_chained_from_the_lua_error(lua):
    class Custom(Exception):
        pass

    def fail():
        raise Custom("deep")

    lua.globals().fail = fail
    with pytest.raises(Custom) as error:
        lua.execute("local function inner() fail() end inner()")
    assert isinstance(error.value.__cause__, luarun.LuaError)
    assert "in local 'inner'" in error.value.__cause__.traceback


def test_a_lua_error_unrelated_to_the_caught_exception_stays_a_lua_error(lua):
    def fail():
        raise KeyError("k")

    lua.globals().fail = fail
    with pytest.raises(luarun.LuaError, match="other"):
        lua.execute("pcall(fail) error('other')")


def test_base_exceptions_like_keyboard_interrupt_cross_too(lua):
    def stop():
        raise KeyboardInterrupt

    lua.globals().stop = stop
    with pytest.raises(KeyboardInterrupt):
        lua.execute("stop()")


def test_callbacks_receive_tables_and_functions_as_proxies(lua):
    seen = []
    lua.globals().keep = lambda t, f: seen.append((dict(t.items()), f(3)))
    lua.execute("keep({a = 1}, function(x) return x * x end)")
    assert seen == [({"a": 1}, 9)]


def test_callbacks_may_call_back_into_the_same_state(lua):
    lua.globals().twice = lambda expression: 2 * lua.eval(expression)
    assert lua.eval("twice('20 + 1')") == 42


def test_nested_exceptions_propagate_through_two_levels(lua):
    def outer():
        return lua.eval("inner()")

    def inner():
        raise RuntimeError("innermost")

    lua.globals().outer, lua.globals().inner = outer, inner
    with pytest.raises(RuntimeError, match="innermost"):
        lua.execute("outer()")


def test_lua_releases_python_callables_it_no_longer_references(lua):
    before = len(lua._ctx.objects)
    lua.globals().f = lambda: 1
    lua.execute("f()")
    assert len(lua._ctx.objects) > before
    lua.execute("f = nil collectgarbage() collectgarbage()")
    gc.collect()
    assert len(lua._ctx.objects) == before


def test_function_wraps_any_callable_as_a_lua_function_value(lua):
    class Doubler:
        def __call__(self, x):
            return 2 * x

    f = lua.function(Doubler())
    assert isinstance(f, luarun.LuaFunction)
    assert lua.eval("type(...) .. (...)(4)", f) == "function8"


def test_closing_the_called_function_from_its_own_callback_is_safe(lua):
    f = lua.eval("function() close_me() return 'finished' end")
    lua.globals().close_me = f.close
    assert f() == "finished"
    assert f.closed


def test_closing_the_runtime_from_one_of_its_callbacks_is_refused(lua):
    lua.globals().close_runtime = lua.close
    with pytest.raises(luarun.Error, match="cannot close this Lua runtime"):
        lua.execute("close_runtime()")
    assert lua.eval("'still open'") == "still open"


def test_proxies_released_during_a_call_are_freed_when_it_returns(lua):
    def drop(t):
        t.close()

    lua.globals().drop = drop
    lua.execute("for i = 1, 100 do drop({}) end")
    assert lua._ctx.deferred == []
