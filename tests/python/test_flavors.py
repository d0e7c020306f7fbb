"""Two flavors, one API: ``flavor="lua54"`` (the default) and ``flavor="luajit"`` pick the
library per runtime, pool and render; every object keeps using its runtime's library.
The LuaJIT tests skip, saying why, only where the LuaJIT library cannot be found."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from conftest import REPO
from test_ffi import header_functions

import luarun
from luarun import _ffi, _lib

MANDELBROT_200_P4_MD5 = "cc65e64bd553ed18896de1dfe7fae3e5"


def luajit_library() -> _ffi.Library:
    try:
        return _ffi.library("luajit")
    except OSError as error:
        pytest.skip(f"the LuaJIT library is not built (`make build` builds it): {error}")


@pytest.fixture(params=["lua54", "luajit"])
def flavor(request: pytest.FixtureRequest) -> str:
    if request.param == "luajit":
        luajit_library()
    return request.param


@pytest.fixture
def luajit() -> luarun.Lua:
    luajit_library()
    with luarun.Lua(flavor="luajit") as runtime:
        yield runtime


# --- the same API on both flavors -------------------------------------------------------


def test_each_flavor_reports_the_lua_inside(flavor):
    expected = {"lua54": "Lua 5.4", "luajit": "LuaJIT 2.1"}[flavor]
    assert luarun.lua_version(flavor).startswith(expected)
    with luarun.Lua(flavor=flavor) as lua:
        assert lua.flavor == flavor
        assert lua.lua_version == luarun.lua_version(flavor)


def test_the_default_flavor_is_lua54():
    with luarun.Lua() as lua:
        assert lua.flavor == "lua54"
        assert lua.eval("_VERSION") == "Lua 5.4"
    assert luarun.lua_version() == luarun.lua_version("lua54")


def test_eval_and_execute(flavor):
    with luarun.Lua(flavor=flavor) as lua:
        lua.execute("function area(w, h) return w * h end")
        assert lua.globals().area(3, 4) == 12
        assert lua.eval("...", "a", 2) == ("a", 2)
        assert lua.execute("local a, b = ... return b, a", 1, "x") == ("x", 1)
        assert lua.eval("'na'..'me'") == "name"
        assert lua.eval("1.5") == 1.5


def test_tables_round_trip(flavor):
    with luarun.Lua(flavor=flavor) as lua:
        table = lua.table_from({"name": "demo"}, [10, 20, 30])
        assert len(table) == 3
        assert dict(table.items()) == {"name": "demo", 1: 10, 2: 20, 3: 30}
        lua.globals().t = table
        assert lua.eval("t.name .. #t") == "demo3"
        nested = lua.table_from({"inner": {"x": 1}}, recursive=True)
        assert nested["inner"]["x"] == 1


def test_python_callbacks_and_their_exceptions(flavor):
    with luarun.Lua(flavor=flavor) as lua:
        lua.globals().shout = lambda text: text.upper()
        assert lua.eval("shout('hi') .. '!'") == "HI!"

        def fail():
            raise KeyError("missing")

        lua.globals().fail = fail
        assert lua.eval("pcall(fail) == false")
        with pytest.raises(KeyError) as error:
            lua.execute("fail()")
        assert isinstance(error.value.__cause__, luarun.LuaError)


def test_errors_map_to_the_same_exceptions(flavor):
    with luarun.Lua(flavor=flavor) as lua:
        with pytest.raises(luarun.LuaSyntaxError):
            lua.execute("this is not lua")
        with pytest.raises(luarun.LuaError) as error:
            lua.execute("error('boom')")
        assert "boom" in error.value.message
        assert lua.eval("1 + 1") == 2  # the runtime stays usable


def test_each_error_message_comes_from_the_library_that_failed():
    luajit_library()
    # Each library keeps its own last error: reading the wrong one would show the other.
    with luarun.Lua() as lua54, luarun.Lua(flavor="luajit") as luajit:
        with pytest.raises(luarun.LuaError, match="from lua54"):
            lua54.execute("error('from lua54')")
        with pytest.raises(luarun.LuaError, match="from luajit"):
            luajit.execute("error('from luajit')")
        with pytest.raises(luarun.LuaError, match="again lua54"):
            lua54.execute("error('again lua54')")


def test_pools_run_on_their_flavor(flavor):
    with luarun.Pool(2, flavor=flavor) as pool:
        assert pool.flavor == flavor
        pool.execute("function version(i) return _VERSION:sub(1, 7) end")
        out = pool.run("version", 3, 7)
    expected = {"lua54": b"Lua 5.4", "luajit": b"Lua 5.1"}[flavor]
    assert bytes(out) == expected * 3
    with luarun.Pool(1, flavor=flavor) as pool:
        with pytest.raises(luarun.LuaSyntaxError, match="pool code"):
            pool.execute("pool code is not lua")


def test_unknown_flavors_are_refused_with_the_choices():
    for make in (
        lambda: luarun.Lua(flavor="lua53"),
        lambda: luarun.Pool(1, flavor="lua53"),
        lambda: luarun.mandelbrot(8, flavor="lua53"),
        lambda: luarun.lua_version("lua53"),
    ):
        with pytest.raises(luarun.InvalidArgument, match="'lua54', 'luajit'"):
            make()


# --- what differs in the LuaJIT flavor ----------------------------------------------------


def test_integral_numbers_come_back_as_ints_only_in_luajit(luajit):
    with luarun.Lua() as lua54:
        assert type(lua54.eval("3.0")) is float
    assert type(luajit.eval("3.0")) is int and luajit.eval("3.0") == 3
    assert type(luajit.eval("2^53")) is int and luajit.eval("2^53") == 2**53
    assert type(luajit.eval("0.5")) is float


def test_luajit_has_no_utf8_library(luajit):
    with luarun.Lua() as lua54:
        assert lua54.eval("type(utf8)") == "table"
    assert luajit.eval("utf8") is None
    assert luajit.eval("type(bit)") == "table"


def test_luajit_without_limits_runs_the_jit_and_refuses_interrupt(luajit):
    assert luajit.eval("(jit.status())") is True
    with pytest.raises(luarun.InterruptUnsupported) as error:
        luajit.interrupt()
    assert isinstance(error.value, luarun.Unsupported)
    assert error.value.status_name == "LUARUN_ERR_UNSUPPORTED"
    assert "timeout=" in error.value.message  # says what to do
    # Nothing was armed: the next call runs to its end.
    assert luajit.execute("local n = 0 for i = 1, 1000 do n = n + i end return n") == 500500


@pytest.mark.parametrize("limit", [{"timeout": 60}, {"max_instructions": 10**12}])
def test_luajit_with_a_limit_runs_without_jit_and_can_be_interrupted(limit):
    luajit_library()
    with luarun.Lua(flavor="luajit", **limit) as lua:
        assert lua.eval("jit") is None  # scripts cannot switch the JIT back on
        lua.interrupt()  # stops the next call, as on Lua 5.4
        with pytest.raises(luarun.LuaInterrupted) as error:
            lua.execute("while true do end")
        assert type(error.value) is luarun.LuaInterrupted
        assert lua.eval("40 + 2") == 42


def test_lua54_without_limits_can_be_interrupted():
    with luarun.Lua() as lua:
        lua.interrupt()
        with pytest.raises(luarun.LuaInterrupted):
            lua.execute("while true do end")


# --- renders ------------------------------------------------------------------------------


def p4_md5(pixels: bytearray) -> str:
    return hashlib.md5(b"P4\n200 200\n" + bytes(pixels)).hexdigest()


@pytest.mark.parametrize("engine", ["lua", "native"])
def test_mandelbrot_pixels_are_the_same_on_every_flavor_and_engine(flavor, engine):
    pixels = luarun.mandelbrot(200, engine=engine, flavor=flavor)
    assert p4_md5(pixels) == MANDELBROT_200_P4_MD5


def test_renders_report_cancellation_and_errors_from_their_flavor(flavor):
    with pytest.raises(luarun.Cancelled):
        luarun.mandelbrot(64, engine="lua", flavor=flavor, progress=lambda done, total: True)
    with pytest.raises(luarun.LuaError, match="kernel broke"):
        luarun.mandelbrot(
            64, engine="lua", flavor=flavor, lua_kernel="function mandelbrot_row() "
            "error('kernel broke') end"
        )


# --- values never cross flavors -----------------------------------------------------------


def test_values_of_one_flavor_are_refused_by_the_other(luajit):
    with luarun.Lua() as lua54:
        lua54_table = lua54.table(1, 2)
        luajit_function = luajit.eval("function(t) return t end")
        with pytest.raises(luarun.InvalidArgument, match="another Lua runtime"):
            luajit.globals().t = lua54_table
        with pytest.raises(luarun.InvalidArgument, match="another Lua runtime"):
            luajit_function(lua54_table)
        with pytest.raises(luarun.InvalidArgument, match="another Lua runtime"):
            lua54.globals().f = luajit_function
        # Both stay usable, and their own values still work.
        assert luajit_function(7) == 7
        assert len(lua54_table) == 2
        assert lua54.eval("1 + 1") == luajit.eval("1 + 1") == 2


# --- finding and loading the libraries ------------------------------------------------------


def test_the_luajit_library_exports_every_function_of_the_header():
    library = luajit_library()
    assert set(library.missing) & header_functions() == set()
    assert library.luarun_abi_version() == _ffi.lib.luarun_abi_version()
    assert library.path != _ffi.lib.path


def test_luarun_library_luajit_env_var_wins(monkeypatch):
    path = luajit_library().path
    monkeypatch.setenv("LUARUN_LIBRARY_LUAJIT", path)
    assert _lib.find_library("luajit") == path


def test_each_flavor_finds_its_own_library_in_the_package(monkeypatch, tmp_path):
    (tmp_path / _lib.FLAVORS["lua54"].plain_name).touch()
    (tmp_path / _lib.FLAVORS["luajit"].plain_name).touch()
    monkeypatch.setattr(_lib, "_PACKAGE_DIR", tmp_path)
    assert [p.rsplit("/", 1)[1] for p in _lib._package_candidates("lua54")] == [
        _lib.FLAVORS["lua54"].plain_name
    ]
    assert [p.rsplit("/", 1)[1] for p in _lib._package_candidates("luajit")] == [
        _lib.FLAVORS["luajit"].plain_name
    ]


def test_a_missing_luajit_library_error_lists_every_place_searched(monkeypatch, tmp_path):
    monkeypatch.delenv("LUARUN_LIBRARY_LUAJIT", raising=False)
    monkeypatch.setattr(_lib, "_PACKAGE_DIR", tmp_path)
    monkeypatch.setattr(_lib, "_source_tree_candidates", lambda flavor: [str(tmp_path / "j.so")])
    with pytest.raises(OSError) as error:
        _lib.find_library("luajit")
    message = str(error.value)
    assert "'luajit' flavor" in message
    assert "LUARUN_LIBRARY_LUAJIT (not set)" in message
    assert "luarun_luajit" in message and "j.so (missing)" in message
    assert "make build" in message


def test_a_wrong_library_variable_is_an_error_not_a_fall_back(monkeypatch, tmp_path):
    monkeypatch.setenv("LUARUN_LIBRARY_LUAJIT", str(tmp_path / "nope.so"))
    with pytest.raises(OSError, match="LUARUN_LIBRARY_LUAJIT=.*nope.so: no such file"):
        _lib.find_library("luajit")
    not_luarun = tmp_path / "not_luarun.so"
    not_luarun.write_bytes(b"not a shared library")
    monkeypatch.setenv("LUARUN_LIBRARY_LUAJIT", str(not_luarun))
    with pytest.raises(OSError, match="cannot load the luarun library"):
        _lib.load_library("luajit")


def test_importing_luarun_loads_only_the_lua54_library():
    script = "import luarun; from luarun import _ffi; print(sorted(_ffi._libraries))"
    output = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO / "bindings" / "python",
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert output.strip() == "['lua54']"
