"""The ``python`` table in Lua (``Lua(python_helpers=True)``, ``LuaRuntime``), as lupa
defines it:

- ``for x in python.iter(obj)``: Python's ``iter(obj)``; a None item is ``python.none``
  (nil would end the loop), a tuple item is one value.
- ``for a, b in python.iterex(obj)``: the same, with tuple items unpacked.
- ``for i, x in python.enumerate(obj[, start])``: Python's ``enumerate`` (start 0).
- ``python.none``: Python's None where nil cannot stand (in tables, first loop values).
- ``python.as_attrgetter(obj)`` / ``python.as_itemgetter(obj)``: ``obj`` whose Lua
  indexing is Python attribute / item access, whatever its type.
- ``python.as_function(obj)``: a Python callable as a real Lua function.
- ``python.args{1, 2, key = 3}``: as the last argument of a call of a Python function,
  passes ``1, 2`` positionally and ``key=3`` by name.
- Only when asked for: ``python.eval`` (Python's ``eval``) and ``python.builtins``
  (Python's ``builtins`` module). Either lets Lua code run any Python code.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

from ._host import PYTHON_NONE, AsFunction, ProtocolWrapper, PyArgs, Results


def _iterate(obj: Any, unpack: bool) -> Callable[..., Any]:
    items = iter(obj)

    def step(*_state: Any) -> Any:
        for item in items:
            if unpack and type(item) is tuple and item:
                first = PYTHON_NONE if item[0] is None else item[0]
                return Results((first, *item[1:]))
            return Results((PYTHON_NONE if item is None else item,))
        return None

    return step


def _iter(obj: Any) -> Callable[..., Any]:
    return _iterate(obj, unpack=False)


def _iterex(obj: Any) -> Callable[..., Any]:
    return _iterate(obj, unpack=True)


def _enumerate(obj: Any, start: int | None = None) -> Callable[..., Any]:
    pairs = enumerate(obj, 0 if start is None else start)

    def step(*_state: Any) -> Any:
        for index, item in pairs:
            return Results((index, item))
        return None

    return step


def _as_attrgetter(obj: Any) -> ProtocolWrapper:
    return ProtocolWrapper(obj, items=False)


def _as_itemgetter(obj: Any) -> ProtocolWrapper:
    return ProtocolWrapper(obj, items=True)


def _as_function(obj: Any) -> AsFunction:
    if not callable(obj):
        raise TypeError(f"python.as_function needs a callable, not {type(obj).__name__}")
    return AsFunction(obj)


def table_arguments(table: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A Lua table's items as positional arguments (keys 1..n, which must have no gaps)
    and keyword arguments (string keys); other keys are an error."""
    positional: dict[int, Any] = {}
    named: dict[str, Any] = {}
    for key, value in table.items():
        if type(key) is int:
            positional[key] = value
        elif isinstance(key, (str, bytes)):
            named[key.decode() if isinstance(key, bytes) else key] = value
        else:
            raise TypeError(f"argument tables take integer and string keys, not {key!r}")
    count = len(positional)
    if sorted(positional) != list(range(1, count + 1)):
        raise IndexError(
            f"positional arguments must be at keys 1..{count} without gaps, got keys "
            f"{sorted(positional)}"
        )
    return tuple(positional[i] for i in range(1, count + 1)), named


def _args(table: Any) -> PyArgs:
    from ._objects import LuaTable

    if not isinstance(table, LuaTable):
        raise TypeError(f"python.args takes a table, not {type(table).__name__}")
    return PyArgs(*table_arguments(table))


def _set_function(table: Any, name: str, function: Any) -> None:
    table[name] = function
    function.close()


def install(runtime: Any, *, register_eval: bool, register_builtins: bool) -> None:
    """Defines the global ``python`` table in ``runtime``."""
    python = runtime.table()
    for name, function in (
        ("iter", _iter),
        ("iterex", _iterex),
        ("enumerate", _enumerate),
        ("as_attrgetter", _as_attrgetter),
        ("as_itemgetter", _as_itemgetter),
        ("as_function", _as_function),
        ("args", _args),
    ):
        _set_function(python, name, runtime.function(function))
    python["none"] = PYTHON_NONE
    if register_eval:
        _set_function(python, "eval", runtime.function(builtins.eval))
    if register_builtins:
        python["builtins"] = builtins
    runtime.globals()["python"] = python
    python.close()
