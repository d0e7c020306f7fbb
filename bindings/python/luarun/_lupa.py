"""lupa's API on luarun: ``LuaRuntime`` with lupa's keyword arguments, and lupa's
module-level helpers. A lupa program ports by changing its import::

    from luarun import LuaRuntime          # was: from lupa import LuaRuntime

Where lupa's defaults are unsafe, ``LuaRuntime`` keeps luarun's and names the option
that gives lupa's behaviour (see the README's "Coming from lupa"): the standard
libraries ``os``, ``io``, ``package`` and ``debug`` are opened only with
``libs=luarun.ALL_LIBS``; ``python.eval`` and ``python.builtins`` exist only with
``register_eval=True`` / ``register_builtins=True``; precompiled chunks need
``allow_bytecode=True``; ``__gc`` finalizers need ``allow_finalizers=True``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ._host import ProtocolWrapper
from ._objects import LuaTable
from ._python_lib import table_arguments
from ._runtime import Lua

#: The largest and smallest Lua integer (64-bit in both flavors' conversions).
LUA_MAXINTEGER = 2**63 - 1
LUA_MININTEGER = -(2**63)


class LuaRuntime(Lua):
    """A Lua runtime created the way ``lupa.LuaRuntime`` is.

    Takes lupa's keyword arguments: ``encoding`` (default ``"UTF-8"``; None returns Lua
    strings as bytes), ``source_encoding``, ``attribute_filter``, ``attribute_handlers``,
    ``register_eval`` and ``register_builtins`` (both default **False** here: they hand
    Lua code all of Python), ``unpack_returned_tuples`` (default False, as lupa),
    ``overflow_handler``, ``max_memory`` (bytes allowed beyond what the fresh runtime
    holds, as lupa counts it) and ``string_hash_seed`` (accepted and ignored: it has
    no effect before Lua 5.5, which no flavor is). Every keyword argument of
    :class:`luarun.Lua` works too (``timeout``, ``max_instructions``, ``libs``,
    ``flavor``...).

    As in lupa, the ``python`` table is defined in Lua, Python functions reach Lua as
    callable Python objects (``type(f) == "userdata"``), ``lua_version`` is a tuple
    such as ``(5, 4)``, and the ``lua_implementation`` a string such as ``"Lua 5.4"``.
    """

    def __init__(
        self,
        encoding: str | None = "UTF-8",
        source_encoding: str | None = None,
        attribute_filter: Callable[[Any, str, bool], str] | None = None,
        attribute_handlers: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
        register_eval: bool = False,
        unpack_returned_tuples: bool = False,
        register_builtins: bool = False,
        overflow_handler: Callable[[int], Any] | None = None,
        max_memory: int | None = None,
        string_hash_seed: int | None = None,
        **luarun_options: Any,
    ) -> None:
        del string_hash_seed  # no effect before Lua 5.5
        if "memory_limit" in luarun_options and max_memory is not None:
            raise TypeError("give max_memory (lupa's) or memory_limit (luarun's), not both")
        super().__init__(
            encoding=encoding,
            source_encoding=source_encoding,
            attribute_filter=attribute_filter,
            attribute_handlers=attribute_handlers,
            register_eval=register_eval,
            register_builtins=register_builtins,
            unpack_returned_tuples=unpack_returned_tuples,
            overflow_handler=overflow_handler,
            python_helpers=True,
            **luarun_options,
        )
        self._ctx.functions_as_objects = True
        if max_memory:
            self.set_max_memory(max_memory)

    @property
    def lua_version(self) -> tuple[int, int]:  # type: ignore[override]
        """The Lua language version as a tuple: ``(5, 4)``, or ``(5, 1)`` for LuaJIT."""
        return (5, 1) if self.flavor == "luajit" else (5, 4)

    @property
    def lua_implementation(self) -> str:
        """``"Lua 5.4"`` or ``"LuaJIT 2.1.<release>"``: Lua's ``_VERSION``, or LuaJIT's
        ``jit.version``."""
        text = self._ctx.lib.lua_version
        if self.flavor == "lua54":
            return ".".join(text.split(".")[:2])
        return text


def as_attrgetter(obj: Any) -> ProtocolWrapper:
    """``obj`` for Lua with attribute access: Lua's ``obj[k]`` and ``obj.k`` are
    ``getattr(obj, k)`` even when ``obj`` supports item access (as lupa's)."""
    return ProtocolWrapper(obj, items=False)


def as_itemgetter(obj: Any) -> ProtocolWrapper:
    """``obj`` for Lua with item access: Lua's ``obj[k]`` and ``obj.k`` are
    ``obj[k]`` (as lupa's)."""
    return ProtocolWrapper(obj, items=True)


def _split_table_call(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if len(args) == 1 and isinstance(args[0], LuaTable):
        return table_arguments(args[0])
    return args, {}


def unpacks_lua_table(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: called from Lua with one table argument, ``function`` receives the
    table's items 1..n as positional and its string keys as keyword arguments, so Lua
    can call ``f{x, y = 2}``; other calls pass through (as lupa's). Avoid it for
    functions whose first argument may be a table."""

    @functools.wraps(function)
    def wrapper(*args: Any) -> Any:
        positional, named = _split_table_call(args)
        return function(*positional, **named)

    return wrapper


def unpacks_lua_table_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`unpacks_lua_table` for methods: ``self`` stays the first argument."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any) -> Any:
        positional, named = _split_table_call(args)
        return method(self, *positional, **named)

    return wrapper


#: The Lua language version of each flavor.
LUA_VERSIONS = {"lua54": (5, 4), "luajit": (5, 1)}
#: The Lua language version of the default flavor, as lupa's ``LUA_VERSION``.
LUA_VERSION = LUA_VERSIONS["lua54"]


def flavor_runtime(flavor: str) -> type[LuaRuntime]:
    """:class:`LuaRuntime` with ``flavor`` as its default, for the modules that stand
    for lupa's per-Lua modules (``luarun.lua54``, ``luarun.luajit21``)."""

    class FlavorRuntime(LuaRuntime):
        __doc__ = f":class:`luarun.LuaRuntime` with ``flavor={flavor!r}``."

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("flavor", flavor)
            super().__init__(*args, **kwargs)

    FlavorRuntime.__name__ = FlavorRuntime.__qualname__ = "LuaRuntime"
    return FlavorRuntime

__all__ = [
    "LUA_MAXINTEGER",
    "LUA_MININTEGER",
    "LUA_VERSION",
    "LuaRuntime",
    "as_attrgetter",
    "as_itemgetter",
    "unpacks_lua_table",
    "unpacks_lua_table_method",
]
