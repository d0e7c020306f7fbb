"""``luarun.Pool``: N Lua states driven in parallel over index ranges, writing fixed-size
results straight into a caller buffer (``luarun_pool_*``)."""

from __future__ import annotations

import ctypes
from ctypes import byref
from typing import Any, Callable, Iterable

from . import _checks
from ._errors import InvalidArgument, check, flavor_library
from ._managed import Managed
from ._render import ProgressReporter, writable_address
from ._runtime import state_options


class Pool(Managed):
    """``size`` Lua states (0 = one per core) for data-parallel work: load the same code
    into every state with :meth:`execute`, then :meth:`run` a global function over an
    index range on all states at once. The GIL is released while they work.

    The limits (``memory_limit``, ``timeout``, ``max_instructions``), ``libs`` and
    ``allow_bytecode`` apply to every state, as for :class:`Lua`; so does ``flavor``
    (``"lua54"`` or ``"luajit"``).
    """

    def __init__(
        self,
        size: int = 0,
        *,
        memory_limit: int | None = None,
        timeout: float | None = None,
        max_instructions: int | None = None,
        libs: Iterable[str] | int | None = None,
        allow_bytecode: bool = False,
        flavor: str = "lua54",
    ) -> None:
        size = _checks.integer("size", size, 0, _checks.UINT32_MAX)
        library = flavor_library(flavor)
        options = state_options(
            memory_limit, timeout, max_instructions, libs, allow_bytecode, library
        )
        pool = ctypes.c_void_p()
        check(library.luarun_pool_new(byref(options), size, byref(pool)), library)
        self._lib = library
        self._pool = pool
        #: Global names given to the function sources passed to :meth:`map`.
        self._mapped: dict[str, str] = {}
        self._closed = False

    def _release(self) -> None:
        self._lib.luarun_pool_free(self._pool)

    def _handle(self) -> ctypes.c_void_p:
        if self._closed:
            raise InvalidArgument("this Pool is closed")
        return self._pool

    @property
    def flavor(self) -> str:
        """``"lua54"`` or ``"luajit"``, as given to the constructor."""
        return self._lib.flavor

    @property
    def size(self) -> int:
        """The number of states."""
        size = ctypes.c_uint32()
        check(self._lib.luarun_pool_size(self._handle(), byref(size)), self._lib)
        return size.value

    def execute(self, code: str | bytes) -> None:
        """Runs ``code`` on every state (define the functions :meth:`run` calls)."""
        data = code.encode() if isinstance(code, str) else bytes(code)
        check(self._lib.luarun_pool_exec(self._handle(), data, len(data)), self._lib)

    def run(
        self,
        function: str,
        count: int,
        stride: int,
        *,
        first: int = 0,
        out: Any = None,
        progress: Callable[[int, int], Any] | None = None,
    ) -> Any:
        """Calls the global Lua ``function(i)`` for ``i`` in ``first .. first+count-1`` on
        all states in parallel; each call returns a string of exactly ``stride`` bytes,
        copied to ``out[(i - first) * stride:]``. ``out`` is any writable buffer (a new
        ``bytearray`` when None) and is returned. ``progress(done, total)`` as in
        :func:`luarun.mandelbrot`."""
        first = _checks.integer("first", first, _checks.INT64_MIN, _checks.INT64_MAX)
        count = _checks.integer("count", count, 0, _checks.UINT32_MAX)
        stride = _checks.integer("stride", stride, 0, _checks.INT64_MAX)
        if out is None:
            out = bytearray(count * stride)
        address, length, keepalive = writable_address(out)
        reporter = ProgressReporter(progress, self._lib)
        status = self._lib.luarun_pool_run(
            self._handle(),
            function.encode(),
            first,
            count,
            address or None,
            length,
            stride,
            reporter.callback,
            None,
        )
        del keepalive
        reporter.check(status)
        return out

    def map(
        self,
        function: str | bytes,
        xs: Any,
        out: Any = None,
        *,
        out_type: str | None = None,
    ) -> Any:
        """``out[i] = f(xs[i])`` on all states in parallel, with the GIL released.
        ``function`` is the source of a Lua function expression (``"function(x) return
        x * x end"``), compiled once per state and kept, or the name of a global
        function loaded with :meth:`execute`. Buffers and types as in
        :meth:`LuaFunction.map`. Chunks of elements are handed out dynamically; each
        state's share is one call under its limits; the first error stops every state
        and names the element index."""
        from ._map import prepare

        name = self._map_function(function)
        source, target, out = prepare(xs, out, out_type)
        status = self._lib.luarun_pool_map(
            self._handle(),
            name,
            source.address or None,
            source.nbytes,
            source.element,
            target.address or None,
            target.nbytes,
            target.element,
        )
        check(status, self._lib)
        return out

    def _map_function(self, function: str | bytes) -> bytes:
        text = function.decode() if isinstance(function, bytes) else function
        if text.isidentifier():
            return text.encode()
        name = self._mapped.get(text)
        if name is None:
            name = f"__luarun_map_{len(self._mapped) + 1}"
            self.execute(f"{name} = {text}\n")
            self._mapped[text] = name
        return name.encode()

    def __repr__(self) -> str:
        return "<luarun.Pool (closed)>" if self._closed else f"<luarun.Pool of {self.size}>"
