"""luarun.Lua(print=callable): Lua's print routed to Python, one call per line."""

from __future__ import annotations

import re

import pytest

import luarun


def test_print_goes_to_the_callable_one_line_per_call() -> None:
    lines: list = []
    with luarun.Lua(print=lines.append) as lua:
        lua.execute("print('hello', 42) print() print('caf\\xc3\\xa9', nil)")
        assert lines == ["hello\t42", "", "café\tnil"]
        # A printed table shows what tostring shows: no real address.
        lua.execute("t = {} print(t)")
        assert lines[3] == lua.eval("tostring(t)")
        assert re.fullmatch(r"table: 0x[0-9a-f]{16}", lines[3])


def test_without_an_encoding_lines_are_bytes() -> None:
    lines: list = []
    with luarun.Lua(print=lines.append, encoding=None) as lua:
        lua.execute("print('a\\0b')")
    assert lines == [b"a\0b"]


def test_a_raising_callable_makes_print_a_lua_error() -> None:
    def refuse(line: object) -> None:
        raise OSError("no room")

    with luarun.Lua(print=refuse) as lua:
        with pytest.raises(luarun.LuaError):
            lua.execute("print('x')")
        assert lua.eval("pcall(print, 'x') == false") is True


def test_by_default_print_writes_to_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    with luarun.Lua() as lua:
        lua.execute("print('to stdout', 1)")
    assert "to stdout\t1" in capfd.readouterr().out
