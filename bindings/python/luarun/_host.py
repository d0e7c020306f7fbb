"""Python callables and objects seen from Lua.

Plain functions become Lua functions (``luarun_function_new``); any other object becomes
a host object (``luarun_host_object_new``) whose ``obj.name``, ``obj[key]``,
``obj[key] = v``, ``obj(...)``, ``obj:method(...)``, ``tostring(obj)``, ``#obj`` and
``pairs(obj)`` dispatch back here.

Every C callback below is created once per process and never freed, so Lua can call it
whatever Python collects. The ``user_data`` Lua keeps is a token: its high bits name the
runtime's context in ``_contexts`` (weakly: a runtime no longer used from Python is
collected even when its callbacks refer back to it), the whole token the object in that
context's ``objects``. The C side calls ``_release`` with it once Lua drops the function
or object. A callback catches every exception: Lua sees the exception object itself as
the error value (``pcall`` returns it), and the exception is also stashed in the
context, so that it is re-raised when the Lua call returns to Python.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import re
import secrets
import types
import weakref
from collections.abc import Mapping, MutableMapping, Sequence
from ctypes import byref
from typing import Any

from . import _ffi
from ._convert import Context, push_results, read_args
from ._errors import check
from ._ffi import luarun_value

#: Context number -> weak reference to the context (see the module doc).
_contexts: dict[int, Any] = {}
_context_numbers = itertools.count(1)
#: Bits of a token that count objects within one context.
_TOKEN_BITS = 40

PRIVATE_PREFIX = "_"

# Public names that still lead to frames, and from there to globals and builtins
# (a generator's gi_frame.f_globals, a traceback's tb_frame, a class's mro()).
INTROSPECTION_NAMES = frozenset(
    """gi_frame gi_code gi_yieldfrom cr_frame cr_code cr_await cr_origin ag_frame ag_code
    ag_await tb_frame tb_next f_back f_builtins f_code f_globals f_locals f_trace
    co_code co_consts func_globals func_code mro""".split()
)


def default_attribute_filter(obj: Any, name: str, is_setting: bool) -> str:
    """The default ``attribute_filter``: refuses names starting with ``_`` so that Lua
    cannot reach ``__class__``, ``__globals__`` and the like, and the introspection
    attributes that lead to frames (``gi_frame``, ``f_globals``, ``tb_frame``, ``mro``
    ...). A best effort: hand Lua only objects you mean to expose."""
    if name.startswith(PRIVATE_PREFIX):
        raise AttributeError(
            f"access to '{name}' is refused: names starting with '_' are private "
            "(pass attribute_filter= to luarun.Lua to choose what Lua may reach)"
        )
    if name in INTROSPECTION_NAMES:
        raise AttributeError(
            f"access to '{name}' is refused: it leads to interpreter internals "
            "(pass attribute_filter= to luarun.Lua to choose what Lua may reach)"
        )
    return name


class BoundMethodCall:
    """A bound method fetched from a host object. Lua's ``obj:method(x)`` passes ``obj``
    first; it is dropped when it is the method's own object, so both ``obj:method(x)``
    and ``obj.method(x)`` work (as in lupa)."""

    __slots__ = ("method", "owner")

    def __init__(self, method: Any, owner: Any) -> None:
        self.method = method
        self.owner = owner

    def __call__(self, *args: Any) -> Any:
        if args and args[0] is self.owner:
            args = args[1:]
        return self.method(*args)


_PLAIN_FUNCTIONS = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
    BoundMethodCall,
)


def is_plain_function(obj: Any) -> bool:
    """Functions and methods become Lua functions; other callables (classes, objects
    with ``__call__``) become host objects, which are callable too."""
    return isinstance(obj, _PLAIN_FUNCTIONS)


def _register(ctx: Context, obj: Any) -> int:
    number = ctx.host_number
    if number is None:
        number = ctx.host_number = next(_context_numbers)
        _contexts[number] = weakref.ref(ctx)
    token = (number << _TOKEN_BITS) | next(ctx.host_tokens)
    ctx.objects[token] = obj
    return token


def _entry(user_data: int | None) -> tuple[Context, Any]:
    """The context and object a token names (KeyError once either is gone)."""
    token = user_data or 0
    ctx = _contexts[token >> _TOKEN_BITS]()
    if ctx is None:
        raise KeyError(token)
    return ctx, ctx.objects[token]


def forget_context(ctx: Context) -> None:
    """Drops a closed runtime's objects (its state freed them on the C side)."""
    if ctx.host_number is not None:
        _contexts.pop(ctx.host_number, None)
    ctx.objects.clear()


def error_message(exception: BaseException) -> str:
    """How a Python exception reads in Lua (``tostring(err)``) and in Lua messages."""
    return f"{type(exception).__name__}: {exception}"


def _fail(ctx: Context | None, context: int, exception: BaseException) -> int:
    message = error_message(exception)
    if ctx is None:
        # No registry entry, so no runtime and no library to hand the message to (the
        # context belongs to one library); Lua reports a generic callback failure.
        return _ffi.ERR_RUNTIME
    ctx.stash(exception, message)
    if not isinstance(exception, Exception):
        # KeyboardInterrupt, SystemExit: Lua code must not be able to swallow them
        # with pcall, so the whole call is stopped (see Context.request_stop).
        ctx.request_stop()
    try:
        # Lua's pcall receives the exception object itself (as lupa hands it).
        value = new_host_object(ctx, exception)
        try:
            status = ctx.lib.luarun_callback_set_error_value(context, byref(value))
        finally:
            ctx.lib.luarun_value_free(byref(value))
        if status == _ffi.OK:
            return _ffi.ERR_RUNTIME
    except Exception:  # noqa: BLE001 - out of memory: fall back to the message
        pass
    data = message.encode("utf-8", "replace")
    ctx.lib.luarun_callback_set_error(context, data, len(data))
    return _ffi.ERR_RUNTIME


def _args(ctx: Context, args: int | None, nargs: int) -> Any:
    return read_args(ctx, args or 0, nargs) if nargs else ()


@_ffi.luarun_user_data_free
def _release(user_data: int | None) -> None:
    try:
        token = user_data or 0
        ctx = _contexts[token >> _TOKEN_BITS]()
        if ctx is not None:
            ctx.objects.pop(token, None)
    except BaseException:  # noqa: BLE001 - nothing may escape into C
        pass


class PythonNone:
    """``python.none`` in Lua: stands for Python's None where Lua's nil cannot (in a
    table, as the first value of an iteration); it is None again in Python."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "python.none"

    def __str__(self) -> str:
        return "None"

    def __bool__(self) -> bool:
        return False


#: The one ``python.none``.
PYTHON_NONE = PythonNone()


class AsFunction:
    """``python.as_function(obj)``: ``obj`` as a real Lua function."""

    __slots__ = ("function",)

    def __init__(self, function: Any) -> None:
        self.function = function


class PyArgs:
    """``python.args{1, 2, key = 3}``: as the last argument of a call of a Python
    function from Lua, its items become positional and keyword arguments."""

    __slots__ = ("args", "kwargs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs


def call_python(function: Any, args: Any) -> Any:
    """``function(*args)``, expanding a last :class:`PyArgs` argument."""
    if args and type(args[-1]) is PyArgs:
        extra = args[-1]
        return function(*args[:-1], *extra.args, **extra.kwargs)
    return function(*args)


class Results(tuple):
    """Several results of a Python function called from Lua, whatever the runtime's
    ``unpack_returned_tuples`` says (the ``python`` table's iterators return these)."""

    __slots__ = ()


def _result_values(ctx: Context, result: Any) -> tuple[Any, ...]:
    """What a Python function's return value gives Lua: None nothing, a tuple its items
    when the runtime unpacks tuples (else the tuple itself), anything else itself."""
    if result is None:
        return ()
    if type(result) is Results or (ctx.unpack_tuples and isinstance(result, tuple)):
        return result
    return (result,)


@_ffi.luarun_callback
def _call_function(user_data: int | None, args: Any, nargs: int, context: int) -> int:
    ctx = None
    try:
        ctx, function = _entry(user_data)
        result = call_python(function, _args(ctx, args, nargs))
        if result is None:
            return _ffi.OK
        push_results(ctx, context, _result_values(ctx, result))
        return _ffi.OK
    except BaseException as exception:  # noqa: BLE001 - handed back, see module doc
        return _fail(ctx, context, exception)


class ProtocolWrapper:
    """An object handed to Lua with a fixed indexing protocol (see
    :func:`luarun.as_attrgetter`, :func:`luarun.as_itemgetter`). Lua sees the object
    itself; coming back to Python it is the object again, not the wrapper."""

    __slots__ = ("obj", "items")

    def __init__(self, obj: Any, items: bool) -> None:
        self.obj = obj
        #: True: ``obj[key]`` for every key; False: ``getattr(obj, key)``.
        self.items = items


def unwrapped(obj: Any) -> Any:
    """The object itself, without a :class:`ProtocolWrapper` around it."""
    return obj.obj if type(obj) is ProtocolWrapper else obj


def uses_items(obj: Any) -> bool:
    """Whether Lua's ``obj[key]`` / ``obj.key`` means Python's ``obj[key]`` first (for
    objects that support item access, as lupa does) rather than an attribute."""
    return hasattr(type(obj), "__getitem__")


def _attribute_name(ctx: Context, key: Any) -> Any:
    """A key as an attribute name: bytes (``encoding=None`` runtimes) are decoded."""
    if isinstance(key, bytes):
        return key.decode(ctx.str_encoding, "replace")
    return key


def _get(ctx: Context, obj: Any, key: Any) -> Any:
    items = uses_items(obj)
    if type(obj) is ProtocolWrapper:
        obj, items = obj.obj, obj.items
    if ctx.attribute_getter is not None:
        return ctx.attribute_getter(obj, _attribute_name(ctx, key))
    if items:
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError):
            if not isinstance(key, (str, bytes)):
                if isinstance(obj, Mapping):
                    return None
                raise
            # Strings fall back to attributes (``d.get``, ``lst.append``); a mapping
            # without the key and without such an attribute gives nil.
            name = _check_attribute(ctx, obj, _attribute_name(ctx, key), False)
            if isinstance(obj, Mapping):
                return getattr(obj, name, None)
            return getattr(obj, name)
    name = _attribute_name(ctx, key)
    if isinstance(name, str):
        return getattr(obj, _check_attribute(ctx, obj, name, False))
    return obj[key]


def _set(ctx: Context, obj: Any, key: Any, value: Any) -> None:
    items = uses_items(obj)
    if type(obj) is ProtocolWrapper:
        obj, items = obj.obj, obj.items
    if ctx.attribute_setter is not None:
        ctx.attribute_setter(obj, _attribute_name(ctx, key), value)
    elif items and hasattr(type(obj), "__setitem__"):
        if value is None and isinstance(obj, MutableMapping):
            obj.pop(key, None)  # assigning nil removes, as in a Lua table
        else:
            obj[key] = value
    else:
        name = _attribute_name(ctx, key)
        if not isinstance(name, str):
            raise TypeError(
                f"cannot set key {key!r} on a {type(obj).__name__} object: it has no item "
                "assignment, and only string keys name attributes"
            )
        setattr(obj, _check_attribute(ctx, obj, name, True), value)


def _check_attribute(ctx: Context, obj: Any, name: str, is_setting: bool) -> str:
    check_name = ctx.attribute_filter or default_attribute_filter
    return check_name(obj, name, is_setting)


def _operation(function: Any) -> Any:
    """Wraps a host-object operation as a C callback: looks up the object, converts the
    arguments, reports failures to Lua."""

    def callback(user_data: int | None, args: Any, nargs: int, context: int) -> int:
        ctx = None
        try:
            ctx, obj = _entry(user_data)
            results = function(ctx, obj, *_args(ctx, args, nargs))
            push_results(ctx, context, results)
            return _ffi.OK
        except BaseException as exception:  # noqa: BLE001 - handed back to the caller
            return _fail(ctx, context, exception)

    return _ffi.luarun_callback(callback)


def _index(ctx: Context, obj: Any, key: Any) -> tuple[Any]:
    value = _get(ctx, obj, key)
    owner = unwrapped(obj)
    if getattr(value, "__self__", None) is owner and callable(value):
        value = BoundMethodCall(value, owner)
    return (value,)


def _newindex(ctx: Context, obj: Any, key: Any, value: Any) -> tuple[()]:
    _set(ctx, obj, key, value)
    return ()


def _call(ctx: Context, obj: Any, *args: Any) -> tuple[Any, ...]:
    obj = unwrapped(obj)
    return _result_values(ctx, call_python(obj, args))


#: Python's default reprs show heap addresses (``<X object at 0x7f...>``).
_ADDRESS = re.compile(r" at 0x([0-9a-fA-F]+)")
#: A random odd multiplier and mask per process: multiplying by an odd number modulo
#: 2^64 is one-to-one, so scrambled addresses still tell objects apart.
_SCRAMBLE = secrets.randbits(64) | 1, secrets.randbits(64)


def _scrambled(match: re.Match[str]) -> str:
    multiplier, mask = _SCRAMBLE
    return f" at 0x{(int(match.group(1), 16) * multiplier ^ mask) & 0xFFFFFFFFFFFFFFFF:016x}"


def _tostring(ctx: Context, obj: Any) -> tuple[str]:
    """``tostring(obj)``: ``str(obj)``, with the addresses Python's default reprs show
    scrambled (Lua code must not learn heap addresses, as luarun's own ``tostring``
    shows none)."""
    obj = unwrapped(obj)
    if isinstance(obj, BaseException):
        return (error_message(obj),)
    return (_ADDRESS.sub(_scrambled, str(obj)),)


def _length(ctx: Context, obj: Any) -> tuple[int]:
    obj = unwrapped(obj)
    return (len(obj),)


def _pairs(ctx: Context, obj: Any) -> tuple[Any]:
    """``pairs(obj)``: mappings give their items, other iterables ``(index, item)``
    from 0, as Python indexes them."""
    obj = unwrapped(obj)
    items = iter(obj.items()) if isinstance(obj, Mapping) else enumerate(obj)

    def step(*_ignored: Any) -> Results | None:
        pair = next(items, None)
        return None if pair is None else Results(pair)

    return (step,)


_CALLBACKS = {
    "index": _operation(_index),
    "newindex": _operation(_newindex),
    "call": _operation(_call),
    "tostring": _operation(_tostring),
    "length": _operation(_length),
    "pairs": _operation(_pairs),
}


def _host_class(
    library: _ffi.Library, refused_prefix: bytes | None
) -> _ffi.luarun_host_object_class:
    object_class = _ffi.filled_defaults(
        _ffi.luarun_host_object_class, library.luarun_host_object_class_default
    )
    for name, callback in _CALLBACKS.items():
        setattr(object_class, name, callback)
    object_class.refused_prefix = refused_prefix
    return object_class


# Attribute-style objects: the core itself refuses "_" names before Python runs (the
# Python filter checks again). Containers: item keys are data, so the core lets every
# key through and only the attribute fallback is filtered. With a custom filter the core
# refuses nothing and the filter decides. Built on first use, per flavor (each library
# fills the defaults of its own struct).
_classes: dict[tuple[str, bool], _ffi.luarun_host_object_class] = {}


def _class_for(library: _ffi.Library, guarded: bool) -> _ffi.luarun_host_object_class:
    key = (library.flavor, guarded)
    if key not in _classes:
        _classes[key] = _host_class(library, PRIVATE_PREFIX.encode() if guarded else None)
    return _classes[key]


# Never freed: Lua may call these until the last state is gone. A module-level reference
# keeps them for the life of the process (the module is never unloaded) and works on
# every Python, PyPy included, which has no ctypes.pythonapi.
_KEPT_FOR_THE_PROCESS = (_release, _call_function, *_CALLBACKS.values())


def new_function(ctx: Context, function: Any) -> luarun_value:
    """A Lua function calling ``function`` (an owned value)."""
    ctx.check_open()
    out = luarun_value()
    token = _register(ctx, function)
    check(
        ctx.lib.luarun_function_new(ctx.state, _call_function, token, _release, byref(out)),
        ctx.lib,
    )
    return out


def new_host_object(ctx: Context, obj: Any) -> luarun_value:
    """A host object for ``obj`` (an owned value)."""
    ctx.check_open()
    inner = unwrapped(obj)
    items = obj.items if type(obj) is ProtocolWrapper else uses_items(inner)
    guarded = (
        ctx.attribute_filter is None
        and ctx.attribute_getter is None
        and not items
        and not isinstance(inner, (Mapping, Sequence))
    )
    object_class = _class_for(ctx.lib, guarded)
    out = luarun_value()
    token = _register(ctx, obj)
    check(
        ctx.lib.luarun_host_object_new(
            ctx.state, byref(object_class), token, _release, byref(out)
        ),
        ctx.lib,
    )
    return out


def none_value(ctx: Context) -> luarun_value:
    """The runtime's ``python.none`` (a borrowed value: every use is the same Lua
    object, so ``x == python.none`` works in Lua)."""
    proxy = ctx.none_proxy
    if proxy is None or proxy._closed:
        from ._objects import LuaObject

        proxy = ctx.none_proxy = LuaObject._adopt(ctx.runtime(), new_host_object(ctx, PYTHON_NONE))
    return proxy._borrow(ctx)


def lookup_host_object(ctx: Context, value: luarun_value) -> tuple[bool, Any]:
    """``(True, obj)`` when ``value`` is a host object this runtime made for ``obj``."""
    user_data = ctypes.c_void_p()
    if ctx.lib.luarun_host_object_user_data(byref(value), byref(user_data)) != _ffi.OK:
        return False, None
    token = user_data.value or 0
    if token >> _TOKEN_BITS != ctx.host_number or token not in ctx.objects:
        return False, None
    obj = unwrapped(ctx.objects[token])
    return True, None if obj is PYTHON_NONE else obj
