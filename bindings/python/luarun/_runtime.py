"""``luarun.Lua``: one Lua state with limits, in a lupa-like API."""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterable, Mapping
from ctypes import byref
from typing import Any, Callable

from . import _checks, _ffi, _host, _signals
from ._convert import Context, run_frame, take_results, to_python
from ._errors import Error, InterruptUnsupported, InvalidArgument, LuaError, LuaSyntaxError
from ._errors import Unsupported, check, flavor_library
from ._ffi import luarun_value
from ._managed import Managed
from ._objects import LuaFunction, LuaTable

#: Standard library bits by name: the ``LUARUN_LIB_*`` constants in lower case.
_LIBRARY_BITS = _ffi.named_constants("LIB")

#: Compiled ``eval``/``execute`` chunks kept per runtime (oldest dropped first).
CHUNK_CACHE_SIZE = 256

#: The libraries a new state opens by default (plus the base library, always):
#: ``LUARUN_LIBS_SAFE`` by name.
SAFE_LIBS = tuple(name for name, bit in _LIBRARY_BITS.items() if bit & _ffi.LIBS_SAFE)
#: Every standard library, including ``os``, ``io``, ``package`` and ``debug``:
#: ``LUARUN_LIBS_ALL`` by name.
ALL_LIBS = tuple(name for name, bit in _LIBRARY_BITS.items() if bit & _ffi.LIBS_ALL)


def _library_bits(libs: Iterable[str] | int | None) -> int:
    if libs is None:
        return _ffi.LIBS_SAFE
    if isinstance(libs, int) and not isinstance(libs, bool):
        return _checks.integer("libs", libs, 0, _ffi.LIBS_ALL)
    if isinstance(libs, str):
        raise TypeError(
            f"libs={libs!r} is one name; libs replaces the whole set, so pass a list: "
            f"luarun.SAFE_LIBS + ({libs!r},) adds {libs!r} to the safe libraries"
        )
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
    allow_finalizers: bool = False,
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
            raise InvalidArgument(
                f"timeout must be a positive number of seconds, not {timeout} "
                "(None means no time limit)"
            )
        options.time_limit_ms = _checks.integer(
            "timeout in milliseconds", max(1, math.ceil(seconds * 1000)), 1, _checks.UINT64_MAX
        )
    if max_instructions is not None:
        options.instruction_limit = _checks.integer(
            "max_instructions", max_instructions, 1, _checks.UINT64_MAX
        )
    options.allow_bytecode = allow_bytecode
    options.allow_finalizers = allow_finalizers
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
    :param libs: standard libraries to open, the whole set: a list of names (see
        ``SAFE_LIBS``, ``ALL_LIBS``; ``SAFE_LIBS + ("os",)`` adds one) or ``LIB_*`` bits.
        Default: the safe set, without ``os``, ``io``, ``package``, ``debug``.
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
    :param unpack_returned_tuples: a tuple returned by a Python function called from
        Lua becomes several Lua values (default True); False hands Lua the tuple as one
        object, as lupa does by default.
    :param overflow_handler: ``f(n)`` converts Python ints that do not fit in 64 bits
        (return a float, a string...); without it they raise ``OverflowError``.
    :param attribute_handlers: ``(getter, setter)``: ``getter(obj, key)`` and
        ``setter(obj, key, value)`` replace every index and attribute access Lua makes
        on Python objects (instead of ``attribute_filter``, which they exclude).
    :param allow_finalizers: let Lua code set ``__gc`` finalizers (default False: they
        run at moments no limit covers).
    :param python_helpers: define the global table ``python`` in Lua: ``python.iter``,
        ``iterex``, ``enumerate``, ``none``, ``as_attrgetter``, ``as_itemgetter``,
        ``as_function``, ``args`` (see the README). Default False.
    :param register_eval: also ``python.eval`` (Python's ``eval``: Lua code can then
        run any Python code). Implies ``python_helpers``. Default False.
    :param register_builtins: also ``python.builtins`` (Python's ``builtins`` module:
        ``open``, ``__import__``...). Implies ``python_helpers``. Default False.
    :param source_encoding: how ``str`` Lua source is encoded (default: ``encoding``,
        UTF-8 when that is None).
    :param print: a callable that receives each line Lua's ``print`` writes (without
        the newline; ``str`` decoded with ``encoding``, else ``bytes``) instead of
        stdout; what it raises makes that ``print`` a Lua error.
    :param module_path: ``package.path`` for ``require``'s Lua modules (a str of
        ``;``-separated templates, or a list of templates). Opens ``package``.
    :param c_module_path: ``package.cpath``; lets ``require`` load C modules (native
        code, outside every sandbox guarantee; see the README's "Lua modules"). Opens
        ``package``. Raises :class:`Unsupported` where another Lua in this process
        already serves C modules (the other flavor, once it loaded one).

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
        *,
        unpack_returned_tuples: bool = True,
        overflow_handler: Callable[[int], Any] | None = None,
        attribute_handlers: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
        allow_finalizers: bool = False,
        python_helpers: bool = False,
        register_eval: bool = False,
        register_builtins: bool = False,
        source_encoding: str | None = None,
        print: Callable[[Any], Any] | None = None,  # noqa: A002 (lupa-like keyword)
        module_path: str | Iterable[str] | None = None,
        c_module_path: str | Iterable[str] | None = None,
    ) -> None:
        library = flavor_library(flavor)
        options = state_options(
            memory_limit, timeout, max_instructions, libs, allow_bytecode, library,
            allow_finalizers,
        )
        module_paths = _module_paths(module_path, c_module_path)
        if module_paths:
            # Modules from disk need the package library: a path asks for it.
            options.libraries |= _ffi.LIB_PACKAGE
        for codec in (encoding, source_encoding):
            if codec is not None:
                "".encode(codec)  # fails early (LookupError) on an unknown codec
        getter, setter = _attribute_handlers(attribute_handlers, attribute_filter)
        if overflow_handler is not None and not callable(overflow_handler):
            raise TypeError(f"overflow_handler must be callable, not {overflow_handler!r}")
        if print is not None and not callable(print):
            raise TypeError(f"print must be callable (it receives each line), not {print!r}")
        state = ctypes.c_void_p()
        check(library.luarun_state_new(byref(options), byref(state)), library)
        self._state = state
        self._closed = False
        ctx = self._ctx = Context(state, encoding, attribute_filter, self, library)
        ctx.unpack_tuples = bool(unpack_returned_tuples)
        ctx.overflow_handler = overflow_handler
        ctx.attribute_getter, ctx.attribute_setter = getter, setter
        #: The codec ``str`` source code is encoded with.
        self._source_encoding = source_encoding or encoding or "utf-8"
        #: Compiled chunks of ``eval``/``execute`` by (source, name): running a cached
        #: chunk is the same as loading it again, minus the compile.
        self._chunks: dict[Any, LuaFunction] = {}
        self._globals: LuaTable | None = None
        self._nogc_depth = 0
        #: What the fresh state holds: ``get_memory_used()`` counts above it.
        self._base_memory = self.memory_used
        _signals.watch(ctx)
        if python_helpers or register_eval or register_builtins:
            from ._python_lib import install

            install(self, register_eval=register_eval, register_builtins=register_builtins)
        self._print_callback = None
        if print is not None:
            from ._print import print_callback

            self._print_callback = print_callback(print, encoding)
            check(library.luarun_state_set_print(state, self._print_callback, None), library)
        for setter, path in module_paths:
            try:
                check(getattr(library, setter)(state, path), library)
            except BaseException:
                self.close()
                raise

    def preload(self, name: str, source: str | bytes) -> None:
        """Registers ``source`` as the Lua module ``name``: ``require(name)`` compiles
        it as text (never bytecode) under this runtime's limits and runs it. Works in
        sandboxed runtimes too: without the ``package`` library, ``require`` exists once
        a module is preloaded and sees only preloaded modules."""
        ctx = self._check()
        if not isinstance(name, str):
            raise TypeError(f"module name must be a str, not {type(name).__name__}")
        if isinstance(source, str):
            source = source.encode(self._source_encoding)
        elif not isinstance(source, (bytes, bytearray, memoryview)):
            raise TypeError(f"module source must be str or bytes, not {type(source).__name__}")
        data = bytes(source)
        check(
            ctx.lib.luarun_state_preload(self._state, name.encode("utf-8"), data, len(data)),
            ctx.lib,
        )

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
        _host.forget_context(ctx)

    def _check(self) -> Context:
        ctx = self._ctx
        ctx.check_open()
        if ctx.stop_requested and not ctx.calls:
            ctx.consume_stop()
        return ctx

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

    def _load(
        self, code: str | bytes, name: str | bytes | None, mode: str | None = None
    ) -> luarun_value:
        ctx = self._check()
        if not isinstance(code, (str, bytes, bytearray, memoryview)):
            raise TypeError(
                f"Lua code must be str or bytes (or a bytearray/memoryview), "
                f"not {type(code).__name__}"
            )
        data = code.encode(self._source_encoding) if isinstance(code, str) else bytes(code)
        if mode is not None:
            _check_mode(data, mode)
        # Named here, not by the library: a binary chunk's first "line" may hold NULs.
        name = _chunk_name(data) if name is None else name
        if isinstance(name, str):
            name = name.encode()
        function = luarun_value()
        check(ctx.lib.luarun_load(ctx.state, data, len(data), name, byref(function)), ctx.lib)
        return function

    def execute(
        self, code: str | bytes, *args: Any, name: str | None = None, mode: str | None = None
    ) -> Any:
        """Runs a chunk of Lua code; ``args`` are its ``...``. Returns what the chunk
        returns (None, a value, or a tuple). ``name`` labels it in error messages;
        ``mode`` (``"t"``, ``"b"``, ``"bt"``) restricts what the chunk may be, as in
        Lua's ``load`` (bytecode also needs ``allow_bytecode``)."""
        if mode is not None:
            return self.compile(code, name, mode)(*args)
        try:
            function = self._chunks.get((code, name, False))
        except TypeError:  # bytearray, memoryview, wrong types: not cached
            function = None
        if function is None:
            function = self._compile_cached(code, name, False)
        ctx = self._ctx
        return run_frame(ctx, ctx.fast.pcall, function._address, args, take_results)

    def eval(
        self,
        expression: str | bytes,
        *args: Any,
        name: str | None = None,
        mode: str | None = None,
    ) -> Any:
        """Evaluates a Lua expression (``args`` are its ``...``) and returns its value(s).
        ``name`` labels it in error messages; ``mode`` as for :meth:`execute`."""
        if mode is not None:
            _check_mode(expression if isinstance(expression, bytes) else b"", mode)
        try:
            function = self._chunks.get((expression, name, True))
        except TypeError:  # bytearray, memoryview, wrong types: not cached
            function = None
        if function is None:
            function = self._compile_cached(expression, name, True)
        ctx = self._ctx
        return run_frame(ctx, ctx.fast.pcall, function._address, args, take_results)

    def _compile_cached(self, code: str | bytes, name: str | None, expression: bool) -> LuaFunction:
        ctx = self._check()
        if not isinstance(code, (str, bytes)):
            if not isinstance(code, (bytearray, memoryview)):
                what = "expression" if expression else "code"
                raise TypeError(
                    f"Lua {what} must be str or bytes (or a bytearray/memoryview), "
                    f"not {type(code).__name__}"
                )
            code = bytes(code)  # not hashable: not cached
            cacheable = False
        else:
            cacheable = True
        data = code.encode(self._source_encoding) if isinstance(code, str) else code
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

    def compile(
        self, code: str | bytes, name: str | None = None, mode: str | None = None
    ) -> LuaFunction:
        """Compiles Lua code into a function without running it (``mode`` as for
        :meth:`execute`)."""
        ctx = self._check()
        return to_python(ctx, self._load(code, name, mode), owned=True)

    def require(self, modulename: str | bytes) -> Any:
        """Lua's ``require(modulename)``: loads a module and returns it (only the module:
        Lua 5.4's second result, where it was found, is dropped). Needs the ``package``
        library (``libs=[..., "package"]``)."""
        if not isinstance(modulename, (str, bytes)):
            raise TypeError(f"modulename must be a string, not {type(modulename).__name__}")
        require = self.globals().require
        if require is None:
            raise LuaError(
                "require is not defined: open the 'package' library "
                "(luarun.Lua(libs=luarun.SAFE_LIBS + ('package',)))"
            )
        module = require(modulename)
        return module[0] if type(module) is tuple else module

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
        """A new table filled from mappings and Lua tables (their keys and values) and
        other iterables (appended as a sequence). ``recursive``: nested dicts, lists
        and tuples become tables too (instead of Python objects); an object met twice
        becomes the same table, so self-references and shared parts are kept."""
        return self._table_from(sources, recursive, {})

    def _table_from(self, sources: Any, recursive: bool, made: dict[int, LuaTable]) -> LuaTable:
        table = self.table()
        position = 1
        for source in sources:
            if isinstance(source, (Mapping, LuaTable)):
                for key, value in source.items():
                    table[self._nested(key, recursive, made)] = self._nested(
                        value, recursive, made
                    )
            else:
                for value in source:
                    table[position] = self._nested(value, recursive, made)
                    position += 1
        return table

    def _nested(self, value: Any, recursive: bool, made: dict[int, LuaTable]) -> Any:
        if not (recursive and isinstance(value, (Mapping, list, tuple))):
            return value
        found = made.get(id(value))
        if found is None:
            # Registered before filling: a reference back to `value` finds this table.
            found = made[id(value)] = self.table()
            filled = self._table_from((value,), True, made)
            for key, item in filled.items():
                found[key] = item
            filled.close()
        return found

    def register(self, name: str, function: Callable[..., Any]) -> None:
        """Makes ``function`` callable from Lua as the global ``name`` (the same as
        ``lua.globals()[name] = function``)."""
        self.globals()[name] = function

    def function(self, function: Callable[..., Any]) -> LuaFunction:
        """``function`` as a Lua function value (for tables of callbacks)."""
        ctx = self._check()
        if not callable(function):
            raise TypeError(f"function must be callable, not {function!r}")
        return to_python(ctx, _host.new_function(ctx, function), owned=True)

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

    @property
    def lua_implementation(self) -> str:
        """The Lua implementation and version, e.g. ``"Lua 5.4.8"`` or ``"LuaJIT 2.1..."``
        (the same as :attr:`lua_version` here; lupa's name for it)."""
        return self._ctx.lib.lua_version

    def get_memory_used(self, total: bool = False) -> int:
        """Bytes the state holds beyond what it held when it was created (``total``:
        including that base)."""
        used = self.memory_used
        return used if total else max(0, used - self._base_memory)

    def get_max_memory(self, total: bool = False) -> int:
        """The memory limit: 0 for none; else the bytes allowed beyond what the fresh
        state held (``total``: the limit on everything the state holds)."""
        ctx = self._check()
        limit = ctypes.c_uint64()
        check(ctx.lib.luarun_state_memory_limit(ctx.state, byref(limit)), ctx.lib)
        if limit.value == 0 or total:
            return limit.value
        return max(0, limit.value - self._base_memory)

    def set_max_memory(self, max_memory: int, total: bool = False) -> None:
        """Sets the memory limit: ``max_memory`` bytes beyond what the fresh state held
        (``total``: on everything it holds); 0 lifts it. A limit below what the state
        holds now raises :class:`InvalidArgument`; see :meth:`gccollect`."""
        ctx = self._check()
        bytes_ = _checks.integer("max_memory", max_memory, 0, _checks.UINT64_MAX)
        if bytes_ and not total:
            bytes_ = min(bytes_ + self._base_memory, _checks.UINT64_MAX)
        check(ctx.lib.luarun_state_set_memory_limit(ctx.state, bytes_), ctx.lib)

    def gccollect(self) -> None:
        """A full garbage collection (finalizers it runs are under the state's limits)."""
        self._gc(_ffi.GC_COLLECT)

    def nogc(self) -> _NoGC:
        """A context manager that stops the automatic garbage collector while it is
        entered (nested uses restart it when the outermost one exits)::

            with lua.nogc():
                lua.execute(code_that_must_not_pause)
        """
        return _NoGC(self)

    def _gc(self, operation: int) -> None:
        ctx = self._check()
        ctx.enter_call()
        try:
            status = ctx.lib.luarun_state_gc(ctx.state, operation)
        finally:
            ctx.leave_call()
        ctx.check_call(status)

    def __repr__(self) -> str:
        if self._closed:
            return "<luarun.Lua (closed)>"
        return "<luarun.Lua>" if self.flavor == "lua54" else f"<luarun.Lua {self.flavor}>"


class _NoGC:
    """:meth:`Lua.nogc`'s context manager."""

    def __init__(self, runtime: Lua) -> None:
        self._runtime = runtime

    def __enter__(self) -> _NoGC:
        runtime = self._runtime
        if runtime._nogc_depth == 0:
            runtime._gc(_ffi.GC_STOP)
        runtime._nogc_depth += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        runtime = self._runtime
        runtime._nogc_depth -= 1
        if runtime._nogc_depth == 0 and not runtime.closed:
            runtime._gc(_ffi.GC_RESTART)


#: Lua's signature of a precompiled chunk.
_BYTECODE_SIGNATURE = b"\x1bLua"


def _check_mode(data: bytes, mode: str) -> None:
    """Refuses ``data`` the ``mode`` of Lua's ``load`` does not allow, with Lua's words."""
    if not isinstance(mode, str) or not mode or set(mode) - {"b", "t"}:
        raise InvalidArgument(f"mode must be 't', 'b' or 'bt', not {mode!r}")
    binary = data.startswith(_BYTECODE_SIGNATURE) or data.startswith(b"\x1bLJ")
    if binary and "b" not in mode:
        raise LuaSyntaxError(f"attempt to load a binary chunk (mode is '{mode}')")
    if not binary and "t" not in mode:
        raise LuaSyntaxError(f"attempt to load a text chunk (mode is '{mode}')")


def _module_paths(
    module_path: str | Iterable[str] | None, c_module_path: str | Iterable[str] | None
) -> list[tuple[str, bytes]]:
    """The module path setters to call and their ``;``-joined paths (a list of
    templates is joined; a str is taken as it is)."""
    setters = []
    for setter, path in (
        ("luarun_state_set_module_path", module_path),
        ("luarun_state_set_c_module_path", c_module_path),
    ):
        if path is None:
            continue
        if not isinstance(path, str):
            path = ";".join(path)
        setters.append((setter, path.encode("utf-8")))
    return setters


def _attribute_handlers(
    handlers: Any, attribute_filter: Any
) -> tuple[Callable[..., Any] | None, Callable[..., Any] | None]:
    """``attribute_handlers`` checked: a ``(getter, setter)`` pair of callables (either
    may be None), not together with ``attribute_filter``."""
    if handlers is None:
        return None, None
    if attribute_filter is not None:
        raise InvalidArgument("attribute_filter and attribute_handlers are mutually exclusive")
    try:
        getter, setter = handlers
    except (TypeError, ValueError):
        raise InvalidArgument(
            "attribute_handlers must be a (getter, setter) pair of callables"
        ) from None
    for name, handler in (("getter", getter), ("setter", setter)):
        if handler is not None and not callable(handler):
            raise InvalidArgument(f"attribute_handlers' {name} must be callable, not {handler!r}")
    return getter, setter
