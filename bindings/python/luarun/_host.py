"""Python callables and objects seen from Lua.

Plain functions become Lua functions (``luarun_function_new``); any other object becomes
a host object (``luarun_host_object_new``) whose ``obj.name``, ``obj[key]``,
``obj[key] = v``, ``obj(...)``, ``obj:method(...)``, ``tostring(obj)``, ``#obj`` and
``pairs(obj)`` dispatch back here.

Every C callback below is created once per process and never freed, so Lua can call it
whatever Python collects. The ``user_data`` Lua keeps is a token into ``_registry``; the
C side calls ``_release`` with it once Lua drops the function or object. A callback
catches every exception: the exception is stashed in the runtime's context (and
re-raised when the Lua call returns to Python) while Lua sees an ordinary error.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import types
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from ctypes import byref
from typing import Any

from . import _ffi
from ._convert import Context, push_results, read_args
from ._errors import check
from ._ffi import luarun_value

_registry: dict[int, tuple[Context, Any]] = {}
_tokens = itertools.count(1)

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
            f"access to '{name}' is refused: names starting with '_' are private"
        )
    if name in INTROSPECTION_NAMES:
        raise AttributeError(f"access to '{name}' is refused: it leads to interpreter internals")
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
    token = next(_tokens)
    _registry[token] = (ctx, obj)
    return token


def _error_message(exception: BaseException) -> str:
    return f"{type(exception).__name__}: {exception}"


def _fail(ctx: Context | None, context: int, exception: BaseException) -> int:
    message = _error_message(exception)
    if ctx is None:
        # No registry entry, so no runtime and no library to hand the message to (the
        # context belongs to one library); Lua reports a generic callback failure.
        return _ffi.ERR_RUNTIME
    ctx.stash(exception, message)
    data = message.encode("utf-8", "replace")
    ctx.lib.luarun_callback_set_error(context, data, len(data))
    return _ffi.ERR_RUNTIME


def _args(ctx: Context, args: int | None, nargs: int) -> Any:
    return read_args(ctx, args or 0, nargs) if nargs else ()


@_ffi.luarun_user_data_free
def _release(user_data: int | None) -> None:
    try:
        _registry.pop(user_data or 0, None)
    except BaseException:  # noqa: BLE001 - nothing may escape into C
        pass


@_ffi.luarun_callback
def _call_function(user_data: int | None, args: Any, nargs: int, context: int) -> int:
    ctx = None
    try:
        ctx, function = _registry[user_data or 0]
        result = function(*_args(ctx, args, nargs))
        if result is None:
            return _ffi.OK
        push_results(ctx, context, result if isinstance(result, tuple) else (result,))
        return _ffi.OK
    except BaseException as exception:  # noqa: BLE001 - handed back, see module doc
        return _fail(ctx, context, exception)


def _get(ctx: Context, obj: Any, key: Any) -> Any:
    if isinstance(obj, (Mapping, Sequence)):
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError):
            if not isinstance(key, str):
                if isinstance(obj, Mapping):
                    return None
                raise
        name = _check_attribute(ctx, obj, key, False)
        return getattr(obj, name, None)
    if isinstance(key, str):
        return getattr(obj, _check_attribute(ctx, obj, key, False))
    return obj[key]


def _set(ctx: Context, obj: Any, key: Any, value: Any) -> None:
    if isinstance(obj, MutableMapping):
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    elif isinstance(obj, MutableSequence) and isinstance(key, int):
        obj[key] = value
    elif isinstance(key, str):
        setattr(obj, _check_attribute(ctx, obj, key, True), value)
    else:
        obj[key] = value


def _check_attribute(ctx: Context, obj: Any, name: str, is_setting: bool) -> str:
    check_name = ctx.attribute_filter or default_attribute_filter
    return check_name(obj, name, is_setting)


def _operation(function: Any) -> Any:
    """Wraps a host-object operation as a C callback: looks up the object, converts the
    arguments, reports failures to Lua."""

    def callback(user_data: int | None, args: Any, nargs: int, context: int) -> int:
        ctx = None
        try:
            ctx, obj = _registry[user_data or 0]
            results = function(ctx, obj, *_args(ctx, args, nargs))
            push_results(ctx, context, results)
            return _ffi.OK
        except BaseException as exception:  # noqa: BLE001 - handed back to the caller
            return _fail(ctx, context, exception)

    return _ffi.luarun_callback(callback)


def _index(ctx: Context, obj: Any, key: Any) -> tuple[Any]:
    value = _get(ctx, obj, key)
    if getattr(value, "__self__", None) is obj and callable(value):
        value = BoundMethodCall(value, obj)
    return (value,)


def _newindex(ctx: Context, obj: Any, key: Any, value: Any) -> tuple[()]:
    _set(ctx, obj, key, value)
    return ()


def _call(ctx: Context, obj: Any, *args: Any) -> tuple[Any, ...]:
    result = obj(*args)
    if result is None:
        return ()
    return result if isinstance(result, tuple) else (result,)


def _tostring(ctx: Context, obj: Any) -> tuple[str]:
    return (str(obj),)


def _length(ctx: Context, obj: Any) -> tuple[int]:
    return (len(obj),)


def _pairs(ctx: Context, obj: Any) -> tuple[Any]:
    """``pairs(obj)``: mappings give their items, other iterables ``(index, item)``
    from 0, as Python indexes them."""
    items = iter(obj.items()) if isinstance(obj, Mapping) else enumerate(obj)

    def step(*_ignored: Any) -> tuple[Any, Any] | None:
        return next(items, None)

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


# Never freed: Lua may call these until the last state is gone.
for _callback in (_release, _call_function, *_CALLBACKS.values()):
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(_callback))


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
    guarded = ctx.attribute_filter is None and not isinstance(obj, (Mapping, Sequence))
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


def lookup_host_object(ctx: Context, value: luarun_value) -> tuple[bool, Any]:
    """``(True, obj)`` when ``value`` is a host object this runtime made for ``obj``."""
    user_data = ctypes.c_void_p()
    if ctx.lib.luarun_host_object_user_data(byref(value), byref(user_data)) != _ffi.OK:
        return False, None
    entry = _registry.get(user_data.value or 0)
    if entry is None or entry[0] is not ctx:
        return False, None
    return True, entry[1]
