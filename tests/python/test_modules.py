"""Lua modules from Python: ``Lua.preload`` in sandboxed runtimes, ``module_path`` and
``c_module_path``, Debian's lpeg, cjson and lfs and a C module built against the shipped
headers, in both flavors, and both flavors' C modules in one process.

Which library provides the process's ``lua_*`` names is process-wide (see
src/modules/provider.rs), so every test that loads a C module runs in a fresh Python
process, loading the package from this tree and the libraries pytest found."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import luarun
from luarun import _ffi

REPO = Path(__file__).resolve().parents[2]
#: Debian's module directories (lua-lpeg, lua-cjson, lua-filesystem) per flavor.
DEBIAN = {
    "lua54": ("/usr/lib/x86_64-linux-gnu/lua/5.4", "/usr/share/lua/5.4"),
    "luajit": ("/usr/lib/x86_64-linux-gnu/lua/5.1", "/usr/share/lua/5.1"),
}


@pytest.fixture(params=["lua54", "luajit"])
def flavor(request: pytest.FixtureRequest) -> str:
    if request.param == "luajit":
        try:
            _ffi.library("luajit")
        except OSError as error:
            pytest.skip(f"the LuaJIT library is not built (`make build` builds it): {error}")
    return request.param


def run_fresh(script: str) -> dict:
    """Runs ``script`` in a new Python process (which prints one JSON line) and returns
    what it printed."""
    prologue = f"import json, sys\nsys.path.insert(0, {str(REPO / 'bindings' / 'python')!r})\n"
    done = subprocess.run(
        [sys.executable, "-c", prologue + textwrap.dedent(script)],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_preloaded_modules_work_in_a_sandboxed_runtime(flavor: str) -> None:
    with luarun.Lua(flavor=flavor) as lua:
        assert lua.eval("require") is None
        lua.preload("shapes", "local name = ... return { name = name, sides = 4 }")
        assert lua.eval("require('shapes').sides") == 4
        assert lua.eval("require('shapes').name") == "shapes"
        assert lua.eval("package") is None
        with pytest.raises(luarun.LuaError, match="module 'absent' not found"):
            lua.execute("require 'absent'")


def test_preloaded_sources_run_under_the_runtime_limits(flavor: str) -> None:
    with luarun.Lua(flavor=flavor, max_instructions=100_000) as lua:
        lua.preload("spin", b"while true do end")
        with pytest.raises(luarun.LuaInterrupted, match="instruction limit"):
            lua.execute("require 'spin'")
        assert lua.eval("1 + 1") == 2


def test_module_path_loads_lua_modules_and_opens_package(flavor: str, tmp_path: Path) -> None:
    (tmp_path / "greet.lua").write_text("return function(who) return 'hi ' .. who end")
    with luarun.Lua(flavor=flavor, module_path=[str(tmp_path / "?.lua")]) as lua:
        assert lua.eval("require('greet')('you')") == "hi you"
        assert lua.eval("package.path") == str(tmp_path / "?.lua")


def test_preload_takes_str_or_bytes_only(lua: luarun.Lua) -> None:
    lua.preload("raw", b"return 'bytes'")
    assert lua.eval("(require 'raw')") == "bytes"
    with pytest.raises(TypeError):
        lua.preload("bad", 42)  # type: ignore[arg-type]


def test_debian_c_modules_and_our_own_in_a_fresh_process(flavor: str, tmp_path: Path) -> None:
    c_dir, lua_dir = DEBIAN[flavor]
    own = build_own_module(flavor, tmp_path)
    cpath = [f"{c_dir}/?.so"] + ([f"{tmp_path}/?.so"] if own else [])
    result = run_fresh(f"""
        import luarun, tempfile, os
        out = {{}}
        lua = luarun.Lua(flavor={flavor!r}, module_path={lua_dir + '/?.lua'!r},
                         c_module_path={cpath!r})
        def has(name):
            return os.path.exists(os.path.join({c_dir!r}, name + ".so"))
        if has("lpeg"):
            out["lpeg"] = lua.eval('''(function() local lpeg = require 'lpeg'
                local number = lpeg.C(lpeg.R'09'^1)
                local list = lpeg.Ct(number * (',' * number)^0) * -1
                local t = list:match('12,34,56')
                return #t == 3 and t[3] == '56' and list:match('1,,2') == nil end)()''')
        if has("cjson"):
            out["cjson"] = lua.eval('''(function() local cjson = require 'cjson'
                local t = cjson.decode(cjson.encode({{ list = {{1, 2, 3}}, name = 'x' }}))
                return t.list[3] == 3 and t.name == 'x' end)()''')
        if has("lfs"):
            d = tempfile.mkdtemp()
            open(os.path.join(d, "listed.txt"), "w").close()
            out["lfs"] = sorted(lua.eval("(function(d) local seen = {{}} "
                "for f in require('lfs').dir(d) do seen[#seen + 1] = f end "
                "return seen end)")(d).values())
        if {bool(own)!r}:
            out["own"] = lua.eval("require('twice').twice(21) == 42")
        print(json.dumps(out))
    """)
    missing = [name for name in ("lpeg", "cjson", "lfs") if name not in result]
    if missing:
        print(f"SKIPPED parts: {missing} not installed for {flavor} "
              "(apt-get install lua-lpeg lua-cjson lua-filesystem)")
    assert result.get("lpeg", True) is True
    assert result.get("cjson", True) is True
    assert result.get("lfs", [".", "..", "listed.txt"]) == [".", "..", "listed.txt"]
    assert result.get("own", True) is True
    if not result:
        pytest.skip("no C module available: no Debian modules and no C compiler")


def test_only_one_flavor_per_process_loads_c_modules(flavor: str) -> None:
    try:
        _ffi.library("luajit")
    except OSError as error:
        pytest.skip(f"the LuaJIT library is not built: {error}")
    first, second = (flavor, "luajit" if flavor == "lua54" else "lua54")
    result = run_fresh(f"""
        import luarun
        first = luarun.Lua(flavor={first!r}, c_module_path="/nonexistent/?.so")
        try:
            luarun.Lua(flavor={second!r}, c_module_path="/nonexistent/?.so")
            refused = None
        except luarun.Unsupported as error:
            refused = str(error)
        # The second flavor keeps its own Lua, and may still preload.
        other = luarun.Lua(flavor={second!r})
        other.preload("m", "return _VERSION")
        print(json.dumps({{"refused": refused, "version": other.eval("(require 'm')"),
                          "first": first.eval("_VERSION")}}))
    """)
    first_library = "libluarun_luajit" if first == "luajit" else "libluarun"
    assert result["refused"] and "one Lua only" in result["refused"]
    assert first_library in result["refused"]
    assert result["version"] == ("Lua 5.1" if second == "luajit" else "Lua 5.4")
    assert result["first"] == ("Lua 5.1" if first == "luajit" else "Lua 5.4")


def build_own_module(flavor: str, directory: Path) -> Path | None:
    """tests/c/lua_module/twice.c built against include/<flavor>; None without cc."""
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        return None
    output = directory / "twice.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", "-I", str(REPO / "include" / flavor),
         str(REPO / "tests/c/lua_module/twice.c"), "-o", str(output)],
        check=True,
    )
    return output
