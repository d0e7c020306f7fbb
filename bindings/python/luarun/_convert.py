"""Conversion of values between Python and ``luarun_value``, and the per-runtime
context that conversions and callbacks share.

Python -> Lua: None, bool, int (64-bit), float, str (encoded with the runtime's
``encoding``, UTF-8 when it is None), bytes / bytearray / memoryview (raw bytes), proxies
of this runtime's Lua objects (passed back as they are), plain functions (Lua
functions), and anything else as a host object (see ``_host``).

Lua -> Python: nil -> None, booleans, integers -> int, floats -> float, strings -> str
decoded with ``encoding`` (bytes when ``encoding`` is None or the bytes are not valid in
it), tables -> LuaTable, functions -> LuaFunction, host objects -> the original Python
object, other userdata and coroutines -> LuaObject.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from ctypes import byref
from typing import Any, Callable

from . import _ffi
from ._errors import Error, InvalidArgument, error_for_status, last_error_message
from ._ffi import Library, luarun_value

MAX_RESULTS = 256
_FREE_LOCK = threading.Lock()
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class Context:
    """What conversions and callbacks of one runtime share. It does not own the state
    (the ``Lua`` object does), so callbacks registered with Lua can hold it without
    keeping the runtime alive."""

    def __init__(
        self,
        state: ctypes.c_void_p,
        encoding: str | None,
        attribute_filter: Callable[[Any, str, bool], str] | None,
        runtime: Any,
        library: Library,
    ) -> None:
        self.state = state
        #: The library of the runtime's flavor: every C call for this runtime uses it.
        self.lib = library
        self.encoding = encoding
        self.attribute_filter = attribute_filter
        self.runtime_ref = weakref.ref(runtime)
        self.local = threading.local()
        self.proxies: weakref.WeakSet[Any] = weakref.WeakSet()
        self.closed = False
        # One entry per C call in progress that may run Lua (list append/pop are atomic
        # under the GIL). While any runs, released values wait in `deferred`: the call
        # may be using the very handle a callback or the collector lets go of.
        self.calls: list[None] = []
        self.deferred: list[luarun_value] = []

    def enter_call(self) -> None:
        self.calls.append(None)

    def leave_call(self) -> None:
        self.calls.pop()
        if not self.calls and self.deferred:
            self.free_deferred()

    def release(self, value: luarun_value) -> None:
        """Frees a proxy's value now, or after the calls in progress."""
        if not self.calls:
            self.lib.luarun_value_free(byref(value))
            return
        self.deferred.append(value)
        if not self.calls:  # the last call ended meanwhile
            self.free_deferred()

    def free_deferred(self) -> None:
        with _FREE_LOCK:
            values, self.deferred = self.deferred, []
        for value in values:
            self.lib.luarun_value_free(byref(value))

    def runtime(self) -> Any:
        runtime = self.runtime_ref()
        if runtime is None or self.closed:
            raise Error("this Lua runtime is closed")
        return runtime

    def check_open(self) -> None:
        if self.closed:
            raise Error("this Lua runtime is closed")

    def results_buffer(self) -> ctypes.Array[luarun_value]:
        """A per-thread array for call results. Nested calls on one thread may share it:
        each call's results are converted before the enclosing call writes its own."""
        buffer = getattr(self.local, "results", None)
        if buffer is None:
            buffer = (luarun_value * MAX_RESULTS)()
            self.local.results = buffer
        return buffer

    def stash(self, exception: BaseException, message: str) -> None:
        """Keeps an exception raised inside a Python callback, to re-raise it when the
        Lua call it escaped from returns."""
        self.local.pending = (exception, message)

    def check_call(self, status: int) -> None:
        """Raises for a failed call that may have run Lua (and thus Python callbacks).
        A stashed Python exception whose message the Lua error carries is re-raised
        itself, chained from the Lua error; otherwise the Lua error is raised."""
        pending = getattr(self.local, "pending", None)
        self.local.pending = None
        if status == _ffi.OK:
            return
        error = error_for_status(status, last_error_message(self.lib))
        if pending is not None and pending[1] in error.message:
            exception = pending[0]
            if exception.__cause__ is None:
                raise exception from error
            raise exception
        raise error

    def decode(self, data: bytes) -> str | bytes:
        if self.encoding is None:
            return data
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            return data


class Temps:
    """Python objects that must outlive a C call (string buffers) and owned values to
    free after it (functions and host objects created for the call, by ``library``)."""

    __slots__ = ("keep", "lib", "owned")

    def __init__(self, library: Library) -> None:
        self.lib = library
        self.keep: list[Any] = []
        self.owned: list[luarun_value] = []

    def free(self) -> None:
        for value in self.owned:
            self.lib.luarun_value_free(byref(value))
        self.owned.clear()
        self.keep.clear()


def _string_value(data: bytes, temps: Temps) -> luarun_value:
    pointer = ctypes.c_char_p(data)
    temps.keep.append(pointer)
    value = luarun_value()
    value.kind = _ffi.STRING
    value.string = ctypes.cast(pointer, ctypes.c_void_p).value
    value.string_len = len(data)
    return value


def to_lua(ctx: Context, obj: Any, temps: Temps) -> luarun_value:
    """Converts ``obj`` for a C call. Anything the value needs lives in ``temps``."""
    value = luarun_value()
    if obj is None:
        return value
    if obj is True or obj is False:
        value.kind = _ffi.BOOLEAN
        value.boolean = obj
    elif isinstance(obj, int):
        if not _INT64_MIN <= obj <= _INT64_MAX:
            raise OverflowError(f"{obj} does not fit in a Lua integer (64-bit)")
        value.kind = _ffi.INTEGER
        value.integer = obj
        value.number = float(obj)
    elif isinstance(obj, float):
        value.kind = _ffi.NUMBER
        value.number = obj
    elif isinstance(obj, str):
        return _string_value(obj.encode(ctx.encoding or "utf-8"), temps)
    elif isinstance(obj, bytes):
        return _string_value(obj, temps)
    elif isinstance(obj, (bytearray, memoryview)):
        return _string_value(bytes(obj), temps)
    elif isinstance(obj, _objects.LuaObject):
        return obj._borrow(ctx)
    elif _host.is_plain_function(obj):
        value = _host.new_function(ctx, obj)
        temps.owned.append(value)
    else:
        value = _host.new_host_object(ctx, obj)
        temps.owned.append(value)
    return value


def to_python(ctx: Context, value: luarun_value, owned: bool) -> Any:
    """Converts a C value. ``owned``: the value is ours and is consumed (freed, or moved
    into a proxy); otherwise it is borrowed (callback arguments) and left alone."""
    kind = value.kind
    if kind == _ffi.NIL:
        return None
    if kind == _ffi.BOOLEAN:
        return bool(value.boolean)
    if kind == _ffi.INTEGER:
        return value.integer
    if kind == _ffi.NUMBER:
        return value.number
    if kind == _ffi.STRING:
        data = ctypes.string_at(value.string, value.string_len) if value.string_len else b""
        if owned:
            ctx.lib.luarun_value_free(byref(value))
        return ctx.decode(data)
    if kind == _ffi.USERDATA:
        found, obj = _host.lookup_host_object(ctx, value)
        if found:
            if owned:
                ctx.lib.luarun_value_free(byref(value))
            return obj
    if owned:
        mine = luarun_value.from_buffer_copy(value)
    else:
        mine = luarun_value()
        status = ctx.lib.luarun_value_copy(byref(value), byref(mine))
        if status != _ffi.OK:
            raise error_for_status(status, last_error_message(ctx.lib))
    cls = {_ffi.TABLE: _objects.LuaTable, _ffi.FUNCTION: _objects.LuaFunction}.get(
        kind, _objects.LuaObject
    )
    runtime = ctx.runtime_ref()
    if runtime is None:
        ctx.lib.luarun_value_free(byref(mine))
        raise Error("this Lua runtime is closed")
    return cls._adopt(runtime, mine)


def results_to_python(ctx: Context, results: Any, count: int) -> Any:
    """Converts ``count`` owned results: none -> None, one -> the value, more -> tuple
    (as lupa does)."""
    if count > MAX_RESULTS:
        for i in range(MAX_RESULTS):
            ctx.lib.luarun_value_free(byref(results[i]))
        raise InvalidArgument(
            f"the Lua function returned {count} values; Python receives at most "
            f"{MAX_RESULTS}: return a table instead"
        )
    values = []
    try:
        for i in range(count):
            values.append(to_python(ctx, results[i], owned=True))
    except BaseException:
        for j in range(len(values) + 1, count):
            ctx.lib.luarun_value_free(byref(results[j]))
        raise
    if count == 0:
        return None
    if count == 1:
        return values[0]
    return tuple(values)


# Imported last: both modules use the conversions above.
from . import _host, _objects  # noqa: E402
