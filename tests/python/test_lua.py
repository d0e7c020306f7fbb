"""luarun.Lua: running code, values both ways, lifetime."""

from __future__ import annotations

import gc
import weakref

import pytest

import luarun
from luarun import _ffi


def test_eval_returns_the_value_of_an_expression(lua):
    assert lua.eval("1 + 2") == 3
    assert lua.eval("'a' .. 'b'") == "ab"


def test_execute_returns_what_the_chunk_returns(lua):
    assert lua.execute("x = 1") is None
    assert lua.execute("return 42") == 42
    assert lua.execute("return 1, 'two', nil") == (1, "two", None)


def test_chunk_arguments_arrive_as_varargs(lua):
    assert lua.execute("local a, b = ... return a * b", 6, 7) == 42
    assert lua.eval("select('#', ...)", 1, None, 3) == 3


def test_scalars_round_trip_with_their_types(lua):
    identity = lua.eval("function(...) return ... end")
    values = (None, True, False, 0, -(2**63), 2**63 - 1, 1.5, float("inf"), "", "héllo")
    assert identity(*values) == values
    assert type(identity(3)) is int and type(identity(3.0)) is float


def test_integers_beyond_64_bits_are_refused(lua):
    with pytest.raises(OverflowError):
        lua.eval("...", 2**63)


def test_bytes_go_in_as_lua_strings_with_any_byte(lua):
    assert lua.eval("#...", b"a\x00b") == 3
    assert lua.eval("...", bytearray(b"xy")) == "xy"
    assert lua.eval("...", memoryview(b"mv")) == "mv"


def test_strings_come_back_decoded_with_the_encoding():
    with luarun.Lua(encoding="latin-1") as lua:
        assert lua.eval("'\\xe9'") == "é"
        assert lua.eval("#...", "é") == 1


def test_encoding_none_gives_bytes_back_as_lupa_does():
    with luarun.Lua(encoding=None) as lua:
        assert lua.eval("'abc'") == b"abc"
        assert lua.eval("...", "é") == "é".encode()


def test_strings_invalid_in_the_encoding_come_back_as_bytes(lua):
    assert lua.eval("'\\xff\\xfe'") == b"\xff\xfe"


def test_an_unknown_encoding_fails_at_construction():
    with pytest.raises(LookupError):
        luarun.Lua(encoding="no-such-codec")


def test_compile_returns_a_function_without_running_it(lua):
    f = lua.compile("counter = (counter or 0) + 1 return counter")
    assert lua.eval("counter") is None
    assert f() == 1 and f() == 2


def test_chunk_names_show_in_error_messages(lua):
    with pytest.raises(luarun.LuaError) as error:
        lua.execute("error('x')", name="=config.lua")
    assert error.value.lua_message == "config.lua:1: x"


def test_safe_libraries_by_default_and_more_on_request(lua):
    assert lua.eval("os") is None and lua.eval("io") is None
    assert lua.eval("type(string.format)") == "function"
    with luarun.Lua(libs=luarun.SAFE_LIBS + ("os",)) as with_os:
        assert with_os.eval("type(os.time())") == "number"
    with pytest.raises(luarun.InvalidArgument):
        luarun.Lua(libs=["sockets"])


def test_library_names_are_the_c_constant_suffixes_in_lower_case():
    names = ["coroutine", "table", "string", "math", "utf8", "os", "io", "package", "debug"]
    assert luarun.ALL_LIBS == tuple(names)
    assert luarun.SAFE_LIBS == tuple(names[:5])
    for name in names:
        with luarun.Lua(libs=[name]) as by_name:
            with luarun.Lua(libs=getattr(_ffi, f"LIB_{name.upper()}")) as by_bit:
                assert by_name.eval(f"type({name})") == by_bit.eval(f"type({name})")


def test_an_unknown_library_is_refused_with_the_accepted_names():
    with pytest.raises(luarun.InvalidArgument) as error:
        luarun.Lua(libs=["sockets"])
    assert "unknown Lua library 'sockets'; choose from coroutine, table, string" in str(error.value)


def test_bytecode_is_refused_unless_allowed(lua):
    assert lua.eval("string.dump") is None
    with luarun.Lua(allow_bytecode=True) as permissive:
        dumped = permissive.eval("string.dump(function() return 7 end)")
        assert isinstance(dumped, bytes)
        assert permissive.eval("load(...)()", dumped) == 7
        with pytest.raises(luarun.LuaSyntaxError):
            lua.execute(dumped)


def test_limits_are_validated():
    for bad in ({"timeout": 0}, {"memory_limit": -1}, {"max_instructions": 0}):
        with pytest.raises(luarun.InvalidArgument):
            luarun.Lua(**bad)


def test_memory_used_grows_with_data(lua):
    before = lua.memory_used
    lua.execute("big = string.rep('x', 4000000)")
    assert lua.memory_used >= before + 3000000


def test_close_is_idempotent_and_later_use_fails():
    lua = luarun.Lua()
    table = lua.eval("{1}")
    lua.close()
    lua.close()
    assert lua.closed and table.closed
    with pytest.raises(luarun.Error, match="closed"):
        lua.eval("1")
    with pytest.raises(luarun.Error, match="released"):
        table[1]


def test_context_manager_closes():
    with luarun.Lua() as lua:
        assert not lua.closed
    assert lua.closed


def test_the_finalizer_releases_the_state_and_its_callbacks():
    class Payload:
        pass

    payload = Payload()
    alive = weakref.ref(payload)
    lua = luarun.Lua()
    lua.globals().payload = payload
    del payload, lua
    gc.collect()
    assert alive() is None


def test_proxies_keep_their_runtime_alive():
    table = luarun.Lua().eval("{answer = 42}")
    gc.collect()
    assert table.answer == 42
