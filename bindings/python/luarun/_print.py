"""Routing Lua's ``print`` to a Python callable (``luarun.Lua(print=...)``)."""

from __future__ import annotations

import ctypes
from typing import Any, Callable

from ._ffi import ERR_RUNTIME, OK, luarun_print_callback

# Any status but OK makes the Lua print call that reached a failing callable an error.
_FAILED = ERR_RUNTIME


def print_callback(
    write: Callable[[Any], Any], encoding: str | None
) -> luarun_print_callback:
    """A C print callback calling ``write(line)`` once per Lua ``print``: the line
    without its newline, decoded with ``encoding`` (``bytes`` when that is None or the
    bytes are not valid in it). An exception from ``write`` fails that ``print``. Keep
    the returned object alive as long as the state may print."""

    def on_print(_user_data: Any, text: Any, length: int) -> int:
        try:
            line = ctypes.string_at(text, length) if length else b""
            if line.endswith(b"\n"):
                line = line[:-1]
            shown: Any = line
            if encoding is not None:
                try:
                    shown = line.decode(encoding)
                except UnicodeDecodeError:
                    pass
            write(shown)
            return OK
        except BaseException:  # never let an exception cross the C frames
            return _FAILED

    return luarun_print_callback(on_print)
