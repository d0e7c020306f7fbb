"""luarun: Lua states with limits and threaded Mandelbrot renders, from Python.

A lupa-like API over the luarun C library (pure Python, ``ctypes``)::

    import luarun

    with luarun.Lua(timeout=1.0, memory_limit=64 << 20) as lua:
        lua.execute("function add(a, b) return a + b end")
        print(lua.globals().add(1, 2))         # 3
        lua.globals().greet = lambda name: "hello, " + name
        print(lua.eval("greet('luarun')"))    # hello, luarun

The GIL is released while Lua runs and while renders work, so separate ``Lua`` objects
run in parallel on Python threads, and :meth:`Lua.interrupt` works from another thread.

Two flavors of the library share the API: ``"lua54"`` (the default) and ``"luajit"``;
pick one per runtime (``Lua(flavor="luajit")``), pool or render (``mandelbrot(...,
engine="lua", flavor="luajit")``). The LuaJIT library loads on first use.
"""

from ._errors import (
    BufferTooSmall,
    Cancelled,
    Error,
    InternalError,
    InterruptUnsupported,
    InvalidArgument,
    LuaError,
    LuaInstructionLimitError,
    LuaInterrupted,
    LuaMemoryError,
    LuaSyntaxError,
    LuaTimeoutError,
    LuaTypeError,
    Unsupported,
)
from ._errors import flavor_library as _flavor_library
from ._ffi import lib as _library
from ._lib import FLAVORS as _FLAVORS
from ._host import default_attribute_filter
from ._lupa import LUA_MAXINTEGER, LUA_MININTEGER, LUA_VERSION, LuaRuntime
from ._lupa import as_attrgetter, as_itemgetter, unpacks_lua_table, unpacks_lua_table_method
from ._objects import LuaFunction, LuaObject, LuaTable, LuaThread, lua_type
from ._pool import Pool
from ._render import mandelbrot, mandelbrot_buffer_size, release_render_pools, to_image, to_pbm
from ._runtime import ALL_LIBS, SAFE_LIBS, Lua

__version__ = _library.luarun_version().decode()
#: Path of the loaded shared library.
library_path = _library.path
#: The library flavors: ``"lua54"`` (Lua 5.4, the default) and ``"luajit"`` (LuaJIT 2.1).
FLAVORS = tuple(_FLAVORS)


def lua_version(flavor: str = "lua54") -> str:
    """Which Lua the library of ``flavor`` holds (``luarun_lua_version()``), e.g.
    ``"Lua 5.4.8"`` or ``"LuaJIT 2.1.<release>"``. Loads that library if needed: raises
    ``OSError`` listing where it looked when it is not installed."""
    return _flavor_library(flavor).lua_version


def watch_sigint() -> bool:
    """Makes Ctrl-C stop running Lua code, renders and pool runs (and raise
    ``KeyboardInterrupt``). luarun does this itself the first time a runtime or render
    is created on the main thread; call this again after installing something that
    replaces the signal wakeup fd (an asyncio loop started later). Returns whether it
    is in place (it needs the main thread, and SIGINT handled by Python)."""
    from . import _signals

    return _signals.install()


__all__ = [
    "ALL_LIBS",
    "LUA_MAXINTEGER",
    "LUA_MININTEGER",
    "LUA_VERSION",
    "BufferTooSmall",
    "Cancelled",
    "Error",
    "FLAVORS",
    "InternalError",
    "InterruptUnsupported",
    "InvalidArgument",
    "Lua",
    "LuaError",
    "LuaFunction",
    "LuaInstructionLimitError",
    "LuaInterrupted",
    "LuaMemoryError",
    "LuaObject",
    "LuaRuntime",
    "LuaSyntaxError",
    "LuaTable",
    "LuaThread",
    "LuaTimeoutError",
    "LuaTypeError",
    "Pool",
    "SAFE_LIBS",
    "as_attrgetter",
    "as_itemgetter",
    "Unsupported",
    "default_attribute_filter",
    "library_path",
    "lua_version",
    "lua_type",
    "mandelbrot",
    "mandelbrot_buffer_size",
    "release_render_pools",
    "to_image",
    "to_pbm",
    "unpacks_lua_table",
    "unpacks_lua_table_method",
    "watch_sigint",
]
