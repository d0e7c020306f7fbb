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
import itertools
import sys
import threading
import weakref
from ctypes import byref
from typing import Any, Callable

from . import _ffi, _frame
from ._errors import Error, InvalidArgument, last_error
from ._ffi import Library, luarun_value

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
        #: Free frames for the lean call path (see ``_frame``); one is taken per
        #: operation, so nested calls and other threads never share one.
        self.frames: list[_frame.Frame] = []
        self.fast = _fast_functions(library)
        #: The codec ``str`` arguments are encoded with.
        self.str_encoding = encoding or "utf-8"
        #: How many threads hold a stashed callback exception (see ``stash``): the
        #: lean path clears a stale one only when this is non-zero.
        self.stashed = 0
        #: Python objects Lua holds (host objects, functions) by token; see ``_host``.
        self.objects: dict[int, Any] = {}
        self.host_number: int | None = None
        self.host_tokens = itertools.count(1)
        #: A Python function's tuple result becomes several Lua values (else one).
        self.unpack_tuples = True
        #: ``attribute_handlers``: replace item and attribute access on Python objects.
        self.attribute_getter: Callable[[Any, Any], Any] | None = None
        self.attribute_setter: Callable[[Any, Any, Any], None] | None = None
        #: ``overflow_handler``: converts ints beyond 64 bits (else OverflowError).
        self.overflow_handler: Callable[[int], Any] | None = None
        #: Python functions reach Lua as callable objects (lupa) rather than functions.
        self.functions_as_objects = False
        #: Python asked the running call to stop (KeyboardInterrupt in a callback,
        #: Ctrl-C); a stop that arrived after the call ended is consumed afterwards.
        self.stop_requested = False
        #: Ctrl-C stopped the running call: raise KeyboardInterrupt for it.
        self.sigint = False
        #: The runtime's ``python.none`` object, made on first use.
        self.none_proxy: Any = None
        #: The Lua helpers behind coroutines from Python, compiled on first use.
        self.coroutine_helpers: Any = None

    def enter_call(self) -> None:
        if self.stop_requested and not self.calls:
            self.consume_stop()
        self.calls.append(None)

    def leave_call(self) -> None:
        self.calls.pop()
        if not self.calls and self.deferred:
            self.free_deferred()

    def request_stop(self) -> None:
        """Stops the running call the way :meth:`Lua.interrupt` does (Lua cannot catch
        it); a no-op where the state cannot be interrupted (LuaJIT with the JIT on)."""
        self.stop_requested = True
        self.lib.luarun_state_interrupt(self.state)

    def consume_stop(self) -> None:
        """Before the next outermost call: a requested stop that came too late to stop
        the call it was meant for would stop this one; an empty chunk takes it."""
        self.stop_requested = False
        self.sigint = False
        if not self.closed:
            self.lib.luarun_exec(self.state, b"", 0)

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

    def stash(self, exception: BaseException, message: str) -> None:
        """Keeps an exception raised inside a Python callback, to re-raise it when the
        Lua call it escaped from returns."""
        if getattr(self.local, "pending", None) is None:
            self.stashed += 1
        self.local.pending = (exception, message)

    def take_pending(self) -> tuple[BaseException, str] | None:
        """This thread's stashed callback exception, cleared."""
        pending = getattr(self.local, "pending", None)
        if pending is not None:
            self.local.pending = None
            self.stashed -= 1
        return pending

    def check_call(self, status: int, frame: _frame.Frame | None = None) -> None:
        """Raises for a failed call that may have run Lua (and thus Python callbacks).

        ``frame``: the frame of a ``luarun_frame_pcall``, whose first value is then the
        Lua error's value. A Python exception that value is (raised by a callback and
        passed through Lua) is re-raised itself, chained from the Lua error; so is a
        stashed exception whose message the error carries, and a KeyboardInterrupt or
        SystemExit raised in a callback. Ctrl-C raises KeyboardInterrupt. Otherwise
        the Lua error is raised, with ``value`` the error's value."""
        pending = self.take_pending() if self.stashed else None
        if status == _ffi.OK:
            return
        error = last_error(status, self.lib)
        if self.sigint and status == _ffi.ERR_INTERRUPTED:
            self.sigint = False
            _signals.raise_pending()  # the SIGINT handler's KeyboardInterrupt
        if frame is not None and status == _ffi.ERR_RUNTIME and frame.head[5] == 1:
            value = take_value(self, frame, 0)
            if isinstance(value, BaseException):
                _reraise(value, error)
            error.value = value
        if pending is not None and (
            not isinstance(pending[0], Exception) or pending[1] in error.message
        ):
            _reraise(pending[0], error)
        raise error

    def decode(self, data: bytes) -> str | bytes:
        if self.encoding is None:
            return data
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            return data


def _reraise(exception: BaseException, error: Error) -> None:
    """Raises a Python exception that came back through Lua, chained from the Lua error
    (which carries Lua's traceback) unless it already has a cause."""
    if exception.__cause__ is None:
        raise exception from error
    raise exception


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
            return to_lua(ctx, overflowed(ctx, obj), temps)
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
    elif _host.is_plain_function(obj) and not ctx.functions_as_objects:
        value = _host.new_function(ctx, obj)
        temps.owned.append(value)
    elif obj is _host.PYTHON_NONE:
        return _host.none_value(ctx)
    elif type(obj) is _host.AsFunction:
        value = _host.new_function(ctx, obj.function)
        temps.owned.append(value)
    else:
        value = _host.new_host_object(ctx, obj)
        temps.owned.append(value)
    return value


def overflowed(ctx: Context, number: int) -> Any:
    """What an int beyond 64 bits becomes: the runtime's ``overflow_handler(number)``
    (which must return something that fits, such as a float), else OverflowError."""
    handler = ctx.overflow_handler
    if handler is None:
        raise OverflowError(
            f"{number} does not fit in a Lua integer (64-bit); convert it (float(n), "
            "str(n)) or give the runtime an overflow_handler"
        )
    replacement = handler(number)
    if type(replacement) is int and not _INT64_MIN <= replacement <= _INT64_MAX:
        raise OverflowError(f"overflow_handler({number}) returned {replacement}, which "
                            "does not fit in a Lua integer either")
    return replacement


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
            raise last_error(status, ctx.lib)
    cls = _PROXY_CLASSES.get(kind, _objects.LuaObject)
    runtime = ctx.runtime_ref()
    if runtime is None:
        ctx.lib.luarun_value_free(byref(mine))
        raise Error("this Lua runtime is closed")
    return cls._adopt(runtime, mine)


# --- The lean path: operations through a reusable frame (see ``_frame``) -------------


def _fast_functions(library: Library) -> _frame.FastFunctions:
    found = _FAST.get(library.flavor)
    if found is None:
        found = _FAST[library.flavor] = _frame.FastFunctions(library)
    return found


_FAST: dict[str, _frame.FastFunctions] = {}
_NIL, _BOOLEAN, _INTEGER, _NUMBER, _STRING = (
    _ffi.NIL,
    _ffi.BOOLEAN,
    _ffi.INTEGER,
    _ffi.NUMBER,
    _ffi.STRING,
)
_KIND_MASK = _frame.KIND_MASK
_WORDS = _frame.WORDS
_VALUE_SIZE = ctypes.sizeof(luarun_value)


# Where a ``bytes`` object keeps its bytes, relative to ``id()``: CPython's
# ``PyBytesObject.ob_sval`` (its header's size). Elsewhere (PyPy) strings are copied.
_BYTES_OFFSET = sys.getsizeof(b"") - 1 if sys.implementation.name == "cpython" else None


def _put_string(frame: _frame.Frame, base: int, data: bytes) -> None:
    """Writes a string argument into slot ``base``, pointing at ``data``'s own bytes
    (CPython) or at a copy; either way ``frame.keep`` holds it until the operation ends."""
    words = frame.words
    words[base] = _STRING
    words[base + 4] = len(data)
    words[base + 5] = 0
    frame.keep.append(data)
    if _BYTES_OFFSET is not None:
        words[base + 3] = id(data) + _BYTES_OFFSET
    else:
        pointer = ctypes.c_char_p(data)
        frame.keep.append(pointer)
        words[base + 3] = ctypes.cast(pointer, ctypes.c_void_p).value or 0


def _put_converted(
    ctx: Context, frame: _frame.Frame, base: int, obj: Any, temps: Temps | None
) -> Temps:
    """Writes ``obj`` into slot ``base`` through :func:`to_lua` (what the word-writing
    fast cases of :func:`put_values` do not cover); returns ``temps``, made if needed."""
    if temps is None:
        temps = Temps(ctx.lib)
    value = to_lua(ctx, obj, temps)
    if value.kind == _STRING:  # bytearray, memoryview, str subclasses
        _put_string(frame, base, ctypes.string_at(value.string, value.string_len))
    else:
        frame.words[base : base + _WORDS] = memoryview(value).cast("B").cast("q")
    return temps


def put_values(ctx: Context, frame: _frame.Frame, items: Any) -> Temps | None:
    """Writes ``items`` as the frame's arguments. Scalars are written straight into the
    values array; other objects go through :func:`to_lua`, and the owned values made for
    them are returned (free them after the operation)."""
    words = frame.words
    base = 0
    temps = None
    try:
        for obj in items:
            kind = type(obj)
            if kind is int:
                words[base] = _INTEGER
                try:
                    words[base + 1] = obj
                except ValueError:  # beyond 64 bits: to_lua applies the overflow handler
                    temps = _put_converted(ctx, frame, base, obj, temps)
            elif kind is str:
                _put_string(frame, base, obj.encode(ctx.str_encoding))
            elif kind is float:
                words[base] = _NUMBER
                frame.floats[base + 2] = obj
            elif obj is None:
                words[base] = _NIL
            elif kind is bool:
                words[base] = _BOOLEAN | (obj << 32)
            elif kind is bytes:
                _put_string(frame, base, obj)
            else:
                temps = _put_converted(ctx, frame, base, obj, temps)
            base += _WORDS
    except (ValueError, IndexError):
        if temps is not None:
            temps.free()
        frame.keep.clear()
        if base >= len(words):
            raise InvalidArgument(
                f"{len(items)} arguments; one call from Python passes at most "
                f"{_frame.VALUES_CAP}"
            ) from None
        raise
    return temps


def take_value(ctx: Context, frame: _frame.Frame, base: int) -> Any:
    """Converts the owned result in slot ``base`` (consuming it)."""
    words = frame.words
    kind = words[base] & _KIND_MASK
    if kind == _INTEGER:
        return words[base + 1]
    if kind == _NUMBER:
        return frame.floats[base + 2]
    if kind == _STRING:
        size = words[base + 4]
        if words[base + 5] == 0:  # copied into the frame's result buffer
            start = words[base + 3] - frame.result_base
            view = frame.result_bytes[start : start + size]
        else:
            view = ctypes.string_at(words[base + 3], size)
            ctx.fast.free(ctypes.byref(frame.values, base * 8))
        encoding = ctx.encoding
        if encoding is None:
            return bytes(view)
        try:
            return str(view, encoding)
        except UnicodeDecodeError:
            return bytes(view)
    if kind == _NIL:
        return None
    if kind == _BOOLEAN:
        return bool(words[base] >> 32 & 0xFF)
    value = luarun_value.from_buffer_copy(frame.values, base * 8)
    return to_python(ctx, value, owned=True)


def take_results(ctx: Context, frame: _frame.Frame, count: int) -> Any:
    """Converts the frame's ``count`` owned results: none -> None, one -> the value, more
    -> a tuple (as lupa does)."""
    if count == 1:
        return take_value(ctx, frame, 0)
    if count == 0:
        return None
    if count > _frame.VALUES_CAP:
        free_results(ctx, frame, 0, _frame.VALUES_CAP)
        raise InvalidArgument(
            f"the Lua function returned {count} values; Python receives at most "
            f"{_frame.VALUES_CAP}: return a table instead"
        )
    values = []
    try:
        for i in range(count):
            values.append(take_value(ctx, frame, i * _WORDS))
    except BaseException:
        free_results(ctx, frame, len(values) + 1, count)
        raise
    return tuple(values)


def free_results(ctx: Context, frame: _frame.Frame, first: int, end: int) -> None:
    """Frees the owned results ``first .. end`` left in the frame."""
    for i in range(first, end):
        if frame.words[i * _WORDS + 5]:
            ctx.fast.free(ctypes.byref(frame.values, i * _WORDS * 8))


def read_args(ctx: Context, address: int, count: int) -> list[Any]:
    """Converts the ``count`` borrowed callback arguments at ``address`` (a
    ``luarun_value`` array owned by the library for the duration of the callback)."""
    data = ctypes.string_at(address, count * _VALUE_SIZE)
    words = memoryview(data).cast("q")
    args: list[Any] = []
    for base in range(0, count * _WORDS, _WORDS):
        kind = words[base] & _KIND_MASK
        if kind == _INTEGER:
            args.append(words[base + 1])
        elif kind == _STRING:
            size = words[base + 4]
            raw = ctypes.string_at(words[base + 3], size) if size else b""
            args.append(ctx.decode(raw))
        elif kind == _NUMBER:
            args.append(memoryview(data).cast("d")[base + 2])
        elif kind == _NIL:
            args.append(None)
        elif kind == _BOOLEAN:
            args.append(bool(words[base] >> 32 & 0xFF))
        else:
            value = luarun_value.from_buffer_copy(data, base * 8)
            args.append(to_python(ctx, value, owned=False))
    return args


def push_results(ctx: Context, context: int, results: Any) -> None:
    """Hands a callback's ``results`` to the library, one ``luarun_callback_return_value``
    each, written through a frame's values array."""
    frames = ctx.frames
    frame = frames.pop() if frames else _frame.Frame()
    try:
        temps = put_values(ctx, frame, results)
        try:
            push = ctx.fast.return_value
            for i in range(len(results)):
                status = push(context, frame.slot(i))
                if status:
                    raise last_error(status, ctx.lib)
        finally:
            if temps is not None:
                temps.free()
            frame.keep.clear()
    finally:
        frames.append(frame)


def run_frame(ctx: Context, operation: Any, target: int, items: Any, convert: Any) -> Any:
    """Runs one frame ``operation`` on the object at address ``target`` with ``items``
    as its arguments; returns ``convert(ctx, frame, nresults)`` (None: nothing)."""
    if ctx.closed:
        raise Error("this Lua runtime is closed")
    frames = ctx.frames
    frame = frames.pop() if frames else _frame.Frame()
    try:
        temps = put_values(ctx, frame, items) if items else None
        head = frame.head
        head[1] = target
        head[4] = len(items)
        calls = ctx.calls
        if ctx.stop_requested and not calls:
            ctx.consume_stop()
        calls.append(None)
        try:
            status = operation(frame.ref)
        finally:
            calls.pop()
            if temps is not None:
                temps.free()
            if frame.keep:
                frame.keep.clear()
            if ctx.deferred and not calls:
                ctx.free_deferred()
        if status:
            ctx.check_call(status, frame if operation is ctx.fast.pcall else None)
        elif ctx.stashed:
            ctx.take_pending()
        return None if convert is None else convert(ctx, frame, head[5])
    finally:
        frames.append(frame)


# Imported last: both modules use the conversions above.
from . import _host, _objects, _signals  # noqa: E402

_PROXY_CLASSES = {
    _ffi.TABLE: _objects.LuaTable,
    _ffi.FUNCTION: _objects.LuaFunction,
    _ffi.THREAD: _objects.LuaThread,
}
