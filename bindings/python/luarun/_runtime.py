"""``luarun.Lua``: one Lua state with limits, in a lupa-like API."""

from __future__ import annotations

import ctypes
import functools
import math
from collections.abc import Iterable, Mapping
from ctypes import byref
from typing import Any, Callable

from . import _checks, _ffi, _host
from ._convert import Context, Temps, run_frame, take_results, to_lua, to_python
from ._errors import Error, InterruptUnsupported, InvalidArgument, Unsupported, check
from ._errors import flavor_library
from ._ffi import luarun_value
from ._managed import Managed
from ._objects import LuaFunction, LuaTable

_LIBRARY_BITS = {
    "coroutine": _ffi.LIB_COROUTINE,
    "table": _ffi.LIB_TABLE,
    "string": _ffi.LIB_STRING,
    "math": _ffi.LIB_MATH,
    "utf8": _ffi.LIB_UTF8,
    "os": _ffi.LIB_OS,
    "io": _ffi.LIB_IO,
    "package": _ffi.LIB_PACKAGE,
    "debug": _ffi.LIB_DEBUG,
}

#: Compiled ``eval``/``execute`` chunks kept per runtime (oldest dropped first).
CHUNK_CACHE_SIZE = 256

#: The libraries a new state opens by default (plus the base library, always).
SAFE_LIBS = ("coroutine", "table", "string", "math", "utf8")
#: Every standard library, including ``os``, ``io``, ``package`` and ``debug``.
ALL_LIBS = tuple(_LIBRARY_BITS)


def _library_bits(libs: Iterable[str] | int | None) -> int:
    if libs is None:
        return _ffi.LIBS_SAFE
    if isinstance(libs, int) and not isinstance(libs, bool):
        return _checks.integer("libs", libs, 0, _ffi.LIBS_ALL)
    if isinstance(libs, str):
        libs = [libs]
    bits = 0
    for name in libs:
        if name not in _LIBRARY_BITS:
            raise InvalidArgument(
                f"unknown Lua library {name!r}; choose from {', '.join(_LIBRARY_BITS)}"
            )
        bits |= _LIBRARY_BITS[name]
    return bits


def state_options(
    memory_limit: int | None,
    timeout: float | None,
    max_instructions: int | None,
    libs: Iterable[str] | int | None,
    allow_bytecode: bool,
    library: _ffi.Library,
) -> _ffi.luarun_options:
    """``luarun_options`` from the keyword arguments :class:`Lua` and :class:`Pool`
    share, for a state of ``library``'s flavor."""
    options = _ffi.filled_defaults(_ffi.luarun_options, library.luarun_options_default)
    options.libraries = _library_bits(libs)
    if memory_limit is not None:
        options.memory_limit = _checks.integer("memory_limit", memory_limit, 1, _checks.UINT64_MAX)
    if timeout is not None:
        seconds = _checks.finite("timeout", timeout)
        if not seconds > 0:
            raise InvalidArgument(f"timeout must be a positive number of seconds, not {timeout}")
        options.time_limit_ms = _checks.integer(
            "timeout in milliseconds", max(1, math.ceil(seconds * 1000)), 1, _checks.UINT64_MAX
        )
    if max_instructions is not None:
        options.instruction_limit = _checks.integer(
            "max_instructions", max_instructions, 1, _checks.UINT64_MAX
        )
    options.allow_bytecode = allow_bytecode
    return options


def _chunk_name(code: bytes) -> bytes:
    """The name Lua shows for a string chunk (as the C library derives it)."""
    first_line = code.split(b"\n", 1)[0]
    shown = first_line[:40]
    ellipsis = "..." if len(shown) < len(code) else ""
    text = shown.decode("utf-8", "replace").replace('"', "'").replace("\0", "\\0")
    return f'=[string "{text}{ellipsis}"]'.encode()


class Lua(Managed):
    """A Lua state.

    :param memory_limit: most bytes the state may hold (None: unlimited); beyond it calls
        raise :class:`LuaMemoryError` and the state stays usable.
    :param timeout: seconds one call from Python may run (None: unlimited); beyond it
        :class:`LuaTimeoutError`.
    :param max_instructions: VM instructions one call may run (None: unlimited); beyond it
        :class:`LuaInstructionLimitError`.
    :param libs: standard libraries to open: names (see ``SAFE_LIBS``, ``ALL_LIBS``) or
        ``LIB_*`` bits. Default: the safe set, without ``os``, ``io``, ``package``,
        ``debug``.
    :param encoding: how ``str`` crosses into Lua and Lua strings come back; None: Lua
        strings come back as ``bytes`` (``str`` still goes in as UTF-8). Strings that are
        not valid in ``encoding`` come back as ``bytes``.
    :param allow_bytecode: allow precompiled chunks and ``string.dump`` (malicious
        bytecode can crash Lua; default False).
    :param attribute_filter: ``f(obj, name, is_setting) -> name`` decides which Python
        attributes Lua may use on Python objects (raise ``AttributeError`` to refuse).
        Default: names starting with ``_`` are refused.
    :param flavor: which Lua runs the code: ``"lua54"`` (Lua 5.4, the default) or
        ``"luajit"`` (LuaJIT 2.1: Lua 5.1 language, no ``utf8``, much faster on numeric
        code; integral numbers come back as ``int``). A LuaJIT runtime without
        ``timeout`` / ``max_instructions`` runs with the JIT on and cannot be
        interrupted (:class:`InterruptUnsupported`); with a limit the JIT is off and
        every limit holds. Values of one runtime never move to another.
    :param print: a callable that receives each line Lua's ``print`` writes (without
        the newline; ``str`` decoded with ``encoding``, else ``bytes``) instead of
        stdout; what it raises makes that ``print`` a Lua error.

    Close the runtime (``close()`` or ``with``) when done: a Python function handed to
    Lua that refers back to its runtime keeps both alive until then. Proxies
    (:class:`LuaTable`, :class:`LuaFunction`) keep their runtime open while they live,
    and are released when it closes.
    """

    def __init__(
        self,
        memory_limit: int | None = None,
        timeout: float | None = None,
        max_instructions: int | None = None,
        libs: Iterable[str] | int | None = None,
        encoding: str | None = "utf-8",
        allow_bytecode: bool = False,
        attribute_filter: Callable[[Any, str, bool], str] | None = None,
        flavor: str = "lua54",
        print: Callable[[Any], Any] | None = None,  # noqa: A002 (lupa-like keyword)
    ) -> None:
        library = flavor_library(flavor)
        options = state_options(
            memory_limit, timeout, max_instructions, libs, allow_bytecode, library
        )
        if encoding is not None:
            "".encode(encoding)  # fails early (LookupError) on an unknown codec
        state = ctypes.c_void_p()
        check(library.luarun_state_new(byref(options), byref(state)), library)
        self._state = state
        self._closed = False
        self._ctx = Context(state, encoding, attribute_filter, self, library)
        #: Compiled chunks of ``eval``/``execute`` by (source, name): running a cached
        #: chunk is the same as loading it again, minus the compile.
        self._chunks: dict[Any, LuaFunction] = {}
        self._globals: LuaTable | None = None
        self._print_callback = None
        if print is not None:
            from ._print import print_callback

            self._print_callback = print_callback(print, encoding)
            check(library.luarun_state_set_print(state, self._print_callback, None), library)

    def close(self) -> None:
        """Closes the state and releases every proxy of it. Refused while a call on this
        runtime is running (from one of its callbacks, or on another thread)."""
        if not self._closed and self._ctx.calls:
            raise Error(
                "cannot close this Lua runtime while a call on it is running; close it "
                "after the call returns"
            )
        super().close()

    def _release(self) -> None:
        ctx = self._ctx
        ctx.closed = True
        for proxy in list(ctx.proxies):
            proxy.close()
        ctx.lib.luarun_state_free(self._state)

    def _check(self) -> Context:
        self._ctx.check_open()
        return self._ctx

    @property
    def encoding(self) -> str | None:
        """The string encoding given to the constructor."""
        return self._ctx.encoding

    @property
    def flavor(self) -> str:
        """``"lua54"`` or ``"luajit"``, as given to the constructor."""
        return self._ctx.lib.flavor

    @property
    def lua_version(self) -> str:
        """Which Lua runs this runtime's code (``"Lua 5.4.8"``, ``"LuaJIT 2.1..."``)."""
        return self._ctx.lib.lua_version

    def _load(self, code: str | bytes, name: str | bytes | None) -> luarun_value:
        ctx = self._check()
        data = code.encode(ctx.encoding or "utf-8") if isinstance(code, str) else bytes(code)
        # Named here, not by the library: a binary chunk's first "line" may hold NULs.
        name = _chunk_name(data) if name is None else name
        if isinstance(name, str):
            name = name.encode()
        function = luarun_value()
        check(ctx.lib.luarun_load(ctx.state, data, len(data), name, byref(function)), ctx.lib)
        return function

    def execute(self, code: str | bytes, *args: Any, name: str | None = None) -> Any:
        """Runs a chunk of Lua code; ``args`` are its ``...``. Returns what the chunk
        returns (None, a value, or a tuple). ``name`` labels it in error messages."""
        function = self._chunks.get((code, name, False))
        if function is None:
            function = self._compile_cached(code, name, False)
        ctx = self._ctx
        return run_frame(ctx, ctx.fast.call, function._address, args, take_results)

    def eval(self, expression: str | bytes, *args: Any, name: str | None = None) -> Any:
        """Evaluates a Lua expression (``args`` are its ``...``) and returns its value(s).
        ``name`` labels it in error messages."""
        function = self._chunks.get((expression, name, True))
        if function is None:
            function = self._compile_cached(expression, name, True)
        ctx = self._ctx
        return run_frame(ctx, ctx.fast.call, function._address, args, take_results)

    def _compile_cached(self, code: str | bytes, name: str | None, expression: bool) -> LuaFunction:
        ctx = self._check()
        if not isinstance(code, (str, bytes)):
            code = bytes(code)  # bytearray, memoryview: not hashable, not cached
            cacheable = False
        else:
            cacheable = True
        data = code.encode(ctx.str_encoding) if isinstance(code, str) else code
        if expression:
            chunk_name = _chunk_name(data) if name is None else name
            data = b"return " + data
        else:
            chunk_name = name
        function: LuaFunction = to_python(ctx, self._load(data, chunk_name), owned=True)
        if cacheable:
            if len(self._chunks) >= CHUNK_CACHE_SIZE:
                self._chunks.pop(next(iter(self._chunks))).close()
            self._chunks[(code, name, expression)] = function
        return function

    def compile(self, code: str | bytes, name: str | None = None) -> LuaFunction:
        """Compiles Lua code into a function without running it."""
        ctx = self._check()
        return to_python(ctx, self._load(code, name), owned=True)

    def globals(self) -> LuaTable:
        """The table of globals (``_G``; the same proxy each time)."""
        found = self._globals
        if found is not None and not found._closed:
            return found
        ctx = self._check()
        out = luarun_value()
        check(ctx.lib.luarun_globals(ctx.state, byref(out)), ctx.lib)
        self._globals = to_python(ctx, out, owned=True)
        return self._globals

    def table(self, *items: Any, **fields: Any) -> LuaTable:
        """A new table: ``items`` at 1, 2, ...; ``fields`` as string keys (as lupa)."""
        ctx = self._check()
        out = luarun_value()
        check(ctx.lib.luarun_table_new(ctx.state, len(items), len(fields), byref(out)), ctx.lib)
        table: LuaTable = to_python(ctx, out, owned=True)
        for i, item in enumerate(items, 1):
            table[i] = item
        for key, value in fields.items():
            table[key] = value
        return table

    def table_from(self, *sources: Any, recursive: bool = False) -> LuaTable:
        """A new table filled from mappings (their keys and values) and other iterables
        (appended as a sequence). ``recursive``: nested dicts, lists and tuples become
        tables too (instead of Python objects)."""
        table = self.table()
        position = 1
        for source in sources:
            if isinstance(source, Mapping):
                for key, value in source.items():
                    table[self._nested(key, recursive)] = self._nested(value, recursive)
            else:
                for value in source:
                    table[position] = self._nested(value, recursive)
                    position += 1
        return table

    def _nested(self, value: Any, recursive: bool) -> Any:
        if recursive and isinstance(value, (Mapping, list, tuple)):
            return self.table_from(value, recursive=True)
        return value

    def register(self, name: str, function: Callable[..., Any]) -> None:
        """Makes ``function`` callable from Lua as the global ``name`` (the same as
        ``lua.globals()[name] = function``)."""
        self.globals()[name] = function

    def function(self, function: Callable[..., Any]) -> LuaFunction:
        """``function`` as a Lua function value (for tables of callbacks)."""
        ctx = self._check()
        temps = Temps(ctx.lib)
        try:
            if not _host.is_plain_function(function):
                function = functools.partial(function)
            value = to_lua(ctx, function, temps)
            copy = luarun_value()
            check(ctx.lib.luarun_value_copy(byref(value), byref(copy)), ctx.lib)
        finally:
            temps.free()
        return to_python(ctx, copy, owned=True)

    def interrupt(self) -> None:
        """Stops the call running on this state (from any thread), or the next call if
        none is running: it raises :class:`LuaInterrupted`. Lua cannot catch it.

        A LuaJIT runtime created without ``timeout`` or ``max_instructions`` runs its
        loops JIT-compiled, where no stop can be delivered: there this raises
        :class:`InterruptUnsupported` (an :class:`Unsupported`) and does nothing."""
        ctx = self._check()
        try:
            check(ctx.lib.luarun_state_interrupt(ctx.state), ctx.lib)
        except Unsupported as error:
            raise InterruptUnsupported(error.message, error.status) from None

    @property
    def memory_used(self) -> int:
        """Bytes the state's Lua heap holds now."""
        ctx = self._check()
        used = ctypes.c_size_t()
        check(ctx.lib.luarun_state_memory_used(ctx.state, byref(used)), ctx.lib)
        return used.value

    def __repr__(self) -> str:
        if self._closed:
            return "<luarun.Lua (closed)>"
        return "<luarun.Lua>" if self.flavor == "lua54" else f"<luarun.Lua {self.flavor}>"
