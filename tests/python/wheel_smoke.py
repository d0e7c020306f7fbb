"""Smoke test of an installed luarun, run by test_wheel.py in each venv from an empty
directory with ``python -I`` (so nothing but the installed package can be imported):
both flavors load from the package directory, evaluate, call back into Python and
render the Benchmarks Game image. Argument: the version the package must have."""

import hashlib
import os
import platform
import sys
from importlib import metadata

import luarun
import luarun.lua54
import luarun.luajit21
from luarun import _ffi, _lib

# md5 of the 200 x 200 PBM, as tests/cpp checks it (header included).
MANDELBROT_200_MD5 = "cc65e64bd553ed18896de1dfe7fae3e5"


def pbm_md5(pixels: bytes) -> str:
    return hashlib.md5(b"P4\n200 200\n" + bytes(pixels)).hexdigest()


version = metadata.version("luarun")
assert version == sys.argv[1], f"installed version {version}, expected {sys.argv[1]}"
package_dir = os.path.dirname(os.path.abspath(luarun.__file__))
assert package_dir.startswith(sys.prefix), f"{package_dir} is outside the venv {sys.prefix}"

for flavor, module in (("lua54", luarun.lua54), ("luajit", luarun.luajit21)):
    path = _ffi.library(flavor).path
    expected = os.path.join(package_dir, _lib.FLAVORS[flavor].plain_name)
    assert path == expected, f"{flavor} loaded {path}, expected {expected}"
    lua = module.LuaRuntime()
    assert lua.eval("1 + 2") == 3
    twice = lua.eval("function(f, x) return f(x) * 2 end")
    assert twice(lambda x: x + 1, 20) == 42
    rendered = pbm_md5(luarun.mandelbrot(200, engine="lua", flavor=flavor))
    assert rendered == MANDELBROT_200_MD5, f"{flavor} Lua engine rendered md5 {rendered}"
assert luarun.lua_version("lua54").startswith("Lua 5.4"), luarun.lua_version("lua54")
assert luarun.lua_version("luajit").startswith("LuaJIT 2.1"), luarun.lua_version("luajit")
assert pbm_md5(luarun.mandelbrot(200)) == MANDELBROT_200_MD5

print(f"ok: luarun {version} on {platform.python_implementation()} "
      f"{platform.python_version()}: {luarun.lua_version('lua54')}, "
      f"{luarun.lua_version('luajit')}")
