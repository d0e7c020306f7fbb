"""Python proxies of Lua objects: tables, functions, and other userdata / coroutines.

A proxy owns a reference (a ``luarun_value`` handle) that keeps its Lua object alive; it
is released by ``close()``, by the garbage collector, or when its runtime is closed.
"""

from __future__ import annotations

import ctypes
import threading
from ctypes import byref
from typing import Any, Iterator

from ._convert import Context, run_frame, take_results, take_value, to_python
from ._errors import Error, InvalidArgument
from . import _ffi
from ._ffi import luarun_value
from ._frame import KIND_MASK
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
        object.__setattr__(proxy, "_ctx", runtime._ctx)
        object.__setattr__(proxy, "_value", value)
        # The frame operations name their target by address.
        object.__setattr__(proxy, "_address", ctypes.addressof(value))
        object.__setattr__(proxy, "_closed", False)
        runtime._ctx.proxies.add(proxy)
        return proxy

    def __init__(self) -> None:
        raise TypeError(f"{type(self).__name__} objects come from a luarun.Lua runtime")

    _ctx: Context

    def _release(self) -> None:
        self._ctx.release(self._value)

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
        if self._closed:
            self._check_open()
        ctx = self._ctx
        return run_frame(ctx, ctx.fast.pcall, self._address, args, take_results)

    def coroutine(self, *args: Any) -> LuaThread:
        """A new Lua coroutine running this function, as a Python generator: each
        ``next()`` resumes it and returns what it yields (None, a value or a tuple); the
        first resume passes ``args``. ``send(value)`` resumes it with ``value`` (a tuple
        passes several values). When the function returns, its results are the last
        item; then ``StopIteration``. An error inside raises here, as a call would."""
        create = coroutine_helpers(self._ctx)[0]
        thread = create(self)
        thread._arguments = args
        return thread

    def map(self, xs: Any, out: Any = None, *, out_type: str | None = None) -> Any:
        """Calls the function on every element of ``xs`` and returns the results, in
        one crossing of the FFI with the GIL released: ``out[i] = f(xs[i])``.

        ``xs`` is a buffer of numbers (numpy array, ``array.array``, ``bytearray``,
        memoryview) of float64, float32 or (u)int8..64; integers go into Lua as
        integers, floats as floats. ``out`` is a writable buffer of at least as many
        elements (any of those types; integer outputs take only integral results that
        fit). By default a new buffer of ``out_type`` (a numpy array for numpy input,
        else an ``array.array``; default: ``xs``'s type) is returned. The whole map is
        one call under the runtime's limits; an error names the element index."""
        from ._map import prepare

        self._check_open()
        ctx = self._ctx
        ctx.check_open()
        source, target, out = prepare(xs, out, out_type)
        ctx.enter_call()
        try:
            status = ctx.lib.luarun_map(
                byref(self._value),
                source.address or None,
                source.nbytes,
                source.element,
                target.address or None,
                target.nbytes,
                target.element,
            )
        finally:
            ctx.leave_call()
        ctx.check_call(status)
        return out


_COROUTINE_HELPERS = """
local create, resume, status = coroutine.create, coroutine.resume, coroutine.status
local function finish(co, ok, ...)
  if not ok then error((...), 0) end
  return status(co) == "dead", ...
end
return create, function(co, ...)
  if status(co) == "dead" then return true end
  return finish(co, resume(co, ...))
end, status
"""


def coroutine_helpers(ctx: Context) -> tuple[LuaFunction, LuaFunction, LuaFunction]:
    """``(create, resume, status)`` for coroutines driven from Python, compiled once
    per runtime from the ``coroutine`` library as it is at the first use. ``resume``
    returns whether the coroutine is done, then what it yielded or returned."""
    helpers = ctx.coroutine_helpers
    if helpers is None:
        runtime = ctx.runtime()
        if runtime.eval("type(coroutine)") != "table":
            raise Error(
                "coroutines need Lua's coroutine library, which this runtime was created "
                "without: add 'coroutine' to libs"
            )
        helpers = ctx.coroutine_helpers = runtime.execute(
            _COROUTINE_HELPERS, name="=luarun coroutines"
        )
    return helpers


class LuaThread(LuaObject):
    """A Lua coroutine (from :meth:`LuaFunction.coroutine`, or a thread value from Lua)
    as a Python generator: iterate it, or ``send()`` values into it. Calling it sets
    the arguments its first resume passes and returns it (so ``for x in co(1, 2)``
    works on a coroutine Lua created but has not started)."""

    _lua_type = "thread"
    _arguments: tuple[Any, ...] | None = None

    def __iter__(self) -> LuaThread:
        return self

    def __next__(self) -> Any:
        args = self._arguments
        if args is not None:
            self._arguments = None
        return self._resume(args or ())

    def send(self, value: Any) -> Any:
        """Resumes the coroutine with ``value`` (a tuple: its items) and returns what it
        yields next. As for generators, a coroutine not started yet takes only None
        (then it starts with its arguments)."""
        args = self._arguments
        if value is not None:
            if args is not None:
                raise TypeError("can't send non-None value to a just-started coroutine")
            values = value if isinstance(value, tuple) else (value,)
        else:
            values = args or ()
            self._arguments = None
        return self._resume(values)

    def __call__(self, *args: Any) -> LuaThread:
        self._arguments = args
        return self

    def _resume(self, args: tuple[Any, ...]) -> Any:
        self._check_open()
        outcome = coroutine_helpers(self._ctx)[1](self, *args)
        if type(outcome) is tuple:
            done, values = outcome[0], outcome[1:]
        else:
            done, values = outcome, ()
        if done and not values:
            raise StopIteration  # finished, nothing (more) to give
        if not values:
            return None
        return values[0] if len(values) == 1 else values

    def __bool__(self) -> bool:
        """Whether the coroutine can still be resumed."""
        self._check_open()
        return coroutine_helpers(self._ctx)[2](self) != "dead"


class LuaTable(LuaObject):
    """A Lua table as a mapping-like proxy: ``t[k]``, ``t[k] = v``, ``del t[k]``,
    ``len(t)`` (Lua's ``#``), ``k in t``, iteration over keys, ``keys()``, ``values()``,
    ``items()``, and ``t.name`` for names not starting with ``_``. Indexing honours
    metatables, as Lua code indexing the table would."""

    _lua_type = "table"

    def __getitem__(self, key: Any) -> Any:
        if self._closed:
            self._check_open()
        ctx = self._ctx
        return run_frame(ctx, ctx.fast.get, self._address, (key,), take_results)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._closed:
            self._check_open()
        ctx = self._ctx
        run_frame(ctx, ctx.fast.set, self._address, (key, value), None)

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
        if name[:1] == "_":
            raise AttributeError(name)
        if self._closed:
            self._check_open()
        ctx = self._ctx
        return run_frame(ctx, ctx.fast.get, self._address, (name,), take_results)

    def __setattr__(self, name: str, value: Any) -> None:
        if name[:1] == "_":
            object.__setattr__(self, name, value)
            return
        if self._closed:
            self._check_open()
        ctx = self._ctx
        run_frame(ctx, ctx.fast.set, self._address, (name, value), None)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            self[name] = None

    def items(self) -> Iterator[tuple[Any, Any]]:
        """``(key, value)`` pairs in Lua's ``next`` order (raw, no ``__pairs``). The
        iterator may be shared by threads: each pair goes to exactly one of them."""
        return TableIterator(self, TableIterator.ITEMS)

    def keys(self) -> Iterator[Any]:
        """The keys, as :meth:`items`."""
        return TableIterator(self, TableIterator.KEYS)

    def values(self) -> Iterator[Any]:
        """The values, as :meth:`items`."""
        return TableIterator(self, TableIterator.VALUES)

    def __iter__(self) -> Iterator[Any]:
        return self.keys()


class TableIterator:
    """Raw iteration over a :class:`LuaTable`, one ``luarun_frame_next`` per pair. A lock
    makes it safe to share between threads (a generator would raise "generator already
    executing" there)."""

    KEYS, VALUES, ITEMS = range(3)

    def __init__(self, table: LuaTable, what: int) -> None:
        table._check_open()
        self._table = table
        self._what = what
        #: The previous key as it goes back into ``next``: a scalar, the bytes of a
        #: string (so invalid UTF-8 and ``encoding=None`` round-trip exactly), or a
        #: proxy of the Lua object itself (a host object's key must stay that userdata).
        self._key: Any = None
        self._done = False
        self._lock = threading.Lock()

    def __iter__(self) -> TableIterator:
        return self

    def __next__(self) -> Any:
        with self._lock:
            if self._done:
                raise StopIteration
            table = self._table
            table._check_open()  # the loop body may have closed the table
            ctx = table._ctx
            pair = run_frame(ctx, ctx.fast.next, table._address, (self._key,), _take_pair)
            if pair is None:
                self._done = True
                raise StopIteration
            key, value = pair
            self._key = _raw_key(ctx, key)
        if self._what == self.KEYS:
            return _python_key(key)
        if self._what == self.VALUES:
            return value
        return _python_key(key), value


class _Key:
    """A key as ``next`` returned it, with its Python form and what to pass back."""

    __slots__ = ("python", "raw")

    def __init__(self, python: Any, raw: Any) -> None:
        self.python = python
        self.raw = raw


def _take_pair(ctx: Context, frame: Any, count: int) -> Any:
    """The ``(key, value)`` a ``next`` step left in the frame, or None at the end. A
    userdata key (a host object) also keeps a proxy of itself to pass back."""
    if count == 0:
        return None
    if frame.words[0] & KIND_MASK == _ffi.USERDATA:
        raw = luarun_value.from_buffer_copy(frame.values, 0)
        again = luarun_value()
        ctx.lib.luarun_value_copy(byref(raw), byref(again))
        runtime = ctx.runtime()
        key: Any = _Key(to_python(ctx, raw, owned=True), LuaObject._adopt(runtime, again))
    else:
        key = take_value(ctx, frame, 0)
    return key, take_value(ctx, frame, 6)


def _raw_key(ctx: Context, key: Any) -> Any:
    if isinstance(key, _Key):
        return key.raw
    if isinstance(key, str):
        return key.encode(ctx.str_encoding)
    return key


def _python_key(key: Any) -> Any:
    return key.python if isinstance(key, _Key) else key
