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
"""

from ._errors import (
    BufferTooSmall,
    Cancelled,
    Error,
    InternalError,
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
from ._ffi import lib as _library
from ._host import default_attribute_filter
from ._objects import LuaFunction, LuaObject, LuaTable, lua_type
from ._pool import Pool
from ._render import mandelbrot, mandelbrot_buffer_size, to_image, to_pbm
from ._runtime import ALL_LIBS, SAFE_LIBS, Lua

__version__ = _library.luarun_version().decode()
#: Path of the loaded shared library.
library_path = _library.path

__all__ = [
    "ALL_LIBS",
    "BufferTooSmall",
    "Cancelled",
    "Error",
    "InternalError",
    "InvalidArgument",
    "Lua",
    "LuaError",
    "LuaFunction",
    "LuaInstructionLimitError",
    "LuaInterrupted",
    "LuaMemoryError",
    "LuaObject",
    "LuaSyntaxError",
    "LuaTable",
    "LuaTimeoutError",
    "LuaTypeError",
    "Pool",
    "SAFE_LIBS",
    "Unsupported",
    "default_attribute_filter",
    "library_path",
    "lua_type",
    "mandelbrot",
    "mandelbrot_buffer_size",
    "to_image",
    "to_pbm",
]
