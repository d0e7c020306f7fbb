"""Python proxies of Lua objects: tables, functions, and other userdata / coroutines.

A proxy owns a reference (a ``luarun_value`` handle) that keeps its Lua object alive; it
is released by ``close()``, by the garbage collector, or when its runtime is closed.
"""

from __future__ import annotations

import ctypes
from ctypes import byref
from typing import Any, Iterator

from ._convert import MAX_RESULTS, Context, Temps, results_to_python, to_lua, to_python
from ._errors import Error, InvalidArgument
from . import _ffi
from ._ffi import luarun_value
from ._managed import Managed


class LuaObject(Managed):
    """A Lua value Python cannot represent natively (userdata, coroutine); the base of
    :class:`LuaTable` and :class:`LuaFunction`."""

    _lua_type = "userdata"

    @classmethod
    def _adopt(cls, runtime: Any, value: luarun_value) -> LuaObject:
        """Wraps an owned value; the proxy frees it."""
        proxy = cls.__new__(cls)
        object.__setattr__(proxy, "_runtime", runtime)
        object.__setattr__(proxy, "_value", value)
        object.__setattr__(proxy, "_closed", False)
        if value.kind == _ffi.THREAD:
            object.__setattr__(proxy, "_lua_type", "thread")
        runtime._ctx.proxies.add(proxy)
        return proxy

    def __init__(self) -> None:
        raise TypeError(f"{type(self).__name__} objects come from a luarun.Lua runtime")

    def _release(self) -> None:
        self._ctx.release(self._value)

    @property
    def _ctx(self) -> Context:
        return self._runtime._ctx

    def _borrow(self, ctx: Context) -> luarun_value:
        """The value to pass into a C call (a borrowed copy of the struct)."""
        if ctx is not self._ctx:
            raise InvalidArgument(
                "this Lua object belongs to another Lua runtime; values cannot move "
                "between runtimes"
            )
        self._check_open()
        return luarun_value.from_buffer_copy(self._value)

    def _check_open(self) -> None:
        if self._closed:
            raise Error(
                f"this Lua {self._lua_type} was released (closed, or its runtime closed)"
            )

    def __str__(self) -> str:
        self._check_open()
        ctx = self._ctx
        ctx.check_open()
        out = luarun_value()
        ctx.enter_call()
        try:
            status = ctx.lib.luarun_value_tostring(ctx.state, byref(self._value), byref(out))
        finally:
            ctx.leave_call()
        ctx.check_call(status)
        text = to_python(ctx, out, owned=True)
        return text if isinstance(text, str) else text.decode("utf-8", "replace")

    def __repr__(self) -> str:
        if self._closed:
            return f"<{type(self).__name__} (released)>"
        try:
            return f"<{type(self).__name__} {self}>"
        except Error:
            return f"<{type(self).__name__}>"


def lua_type(obj: Any) -> str | None:
    """The Lua type of a proxy (``"table"``, ``"function"``, ``"userdata"``,
    ``"thread"``), None for anything else (as ``lupa.lua_type``)."""
    return obj._lua_type if isinstance(obj, LuaObject) else None


class LuaFunction(LuaObject):
    """A Lua function. Calling it returns None for no results, the value for one, a
    tuple for several (as lupa does)."""

    _lua_type = "function"

    def __call__(self, *args: Any) -> Any:
        self._check_open()
        return call_value(self._ctx, self._value, args)


def call_value(ctx: Context, function: luarun_value, args: tuple[Any, ...]) -> Any:
    """Calls a Lua function value with Python arguments; converts the results."""
    ctx.check_open()
    temps = Temps(ctx.lib)
    count = ctypes.c_size_t()
    results = ctx.results_buffer()
    ctx.enter_call()
    try:
        c_args = None
        if args:
            c_args = (luarun_value * len(args))(*[to_lua(ctx, a, temps) for a in args])
        status = ctx.lib.luarun_call(
            byref(function), c_args, len(args), results, MAX_RESULTS, byref(count)
        )
    finally:
        temps.free()
        ctx.leave_call()
    ctx.check_call(status)
    return results_to_python(ctx, results, count.value)


class LuaTable(LuaObject):
    """A Lua table as a mapping-like proxy: ``t[k]``, ``t[k] = v``, ``del t[k]``,
    ``len(t)`` (Lua's ``#``), ``k in t``, iteration over keys, ``keys()``, ``values()``,
    ``items()``, and ``t.name`` for names not starting with ``_``. Indexing honours
    metatables, as Lua code indexing the table would."""

    _lua_type = "table"

    def __getitem__(self, key: Any) -> Any:
        self._check_open()
        ctx = self._ctx
        temps = Temps(ctx.lib)
        out = luarun_value()
        ctx.enter_call()
        try:
            c_key = to_lua(ctx, key, temps)
            status = ctx.lib.luarun_table_get(byref(self._value), byref(c_key), byref(out))
        finally:
            temps.free()
            ctx.leave_call()
        ctx.check_call(status)
        return to_python(ctx, out, owned=True)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_open()
        ctx = self._ctx
        temps = Temps(ctx.lib)
        ctx.enter_call()
        try:
            c_key = to_lua(ctx, key, temps)
            c_value = to_lua(ctx, value, temps)
            status = ctx.lib.luarun_table_set(byref(self._value), byref(c_key), byref(c_value))
        finally:
            temps.free()
            ctx.leave_call()
        ctx.check_call(status)

    def __delitem__(self, key: Any) -> None:
        self[key] = None

    def __contains__(self, key: Any) -> bool:
        return self[key] is not None

    def __len__(self) -> int:
        self._check_open()
        ctx = self._ctx
        length = ctypes.c_size_t()
        ctx.enter_call()
        try:
            status = ctx.lib.luarun_table_length(byref(self._value), byref(length))
        finally:
            ctx.leave_call()
        ctx.check_call(status)
        return length.value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            self[name] = None

    def items(self) -> Iterator[tuple[Any, Any]]:
        """Yields ``(key, value)`` pairs in Lua's ``next`` order (raw, no ``__pairs``)."""
        self._check_open()
        ctx = self._ctx
        key = luarun_value()
        try:
            while True:
                self._check_open()  # the loop body may have closed the table
                next_key = luarun_value()
                value = luarun_value()
                ctx.check_call(
                    ctx.lib.luarun_table_next(
                        byref(self._value), byref(key), byref(next_key), byref(value)
                    )
                )
                ctx.lib.luarun_value_free(byref(key))
                key = next_key
                if key.kind == 0:
                    return
                key_copy = luarun_value()
                ctx.lib.luarun_value_copy(byref(key), byref(key_copy))
                yield to_python(ctx, key_copy, owned=True), to_python(ctx, value, owned=True)
        finally:
            ctx.lib.luarun_value_free(byref(key))

    def keys(self) -> Iterator[Any]:
        """Yields the keys."""
        for key, _ in self.items():
            yield key

    def values(self) -> Iterator[Any]:
        """Yields the values."""
        for _, value in self.items():
            yield value

    def __iter__(self) -> Iterator[Any]:
        return self.keys()
