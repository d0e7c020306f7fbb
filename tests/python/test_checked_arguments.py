"""Numbers are checked before they reach C: out-of-range, bool and float arguments are
errors naming the parameter, never values silently wrapped into C types."""

from __future__ import annotations

import pytest

import luarun


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"width": -5}, ValueError, "width is -5"),
        ({"width": 2**64}, ValueError, "width is 18446744073709551616"),
        ({"width": 2**32 + 8}, ValueError, "width"),
        ({"width": True}, TypeError, "width must be an integer"),
        ({"width": 10.5}, TypeError, "width must be an integer"),
        ({"width": 8, "height": 0}, ValueError, "height is 0"),
        ({"width": 8, "max_iter": -1}, ValueError, "max_iter is -1"),
        ({"width": 8, "max_iter": 0}, ValueError, "max_iter is 0"),
        ({"width": 8, "threads": -1}, ValueError, "threads is -1"),
        ({"width": 8, "threads": 2.0}, TypeError, "threads"),
        ({"width": 8, "viewport": (float("nan"), 1, -1, 1)}, ValueError, "viewport[0]"),
        ({"width": 8, "viewport": (-2, float("inf"), -1, 1)}, ValueError, "viewport[1]"),
        ({"width": 8, "viewport": (-2, "1", -1, 1)}, TypeError, "viewport[1]"),
        ({"width": 8, "offset": (-1, 0)}, ValueError, "offset[0]"),
        ({"width": 8, "image_size": (8, 2**33)}, ValueError, "image_size[1]"),
        ({"width": 8, "lua_kernel": "x = 1"}, ValueError, "lua_kernel applies only"),
        ({"width": 8, "engine": True}, ValueError, "unknown engine"),
    ],
)
def test_render_arguments_are_checked(kwargs, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        luarun.mandelbrot(**kwargs)
    assert len(luarun.mandelbrot(8)) == 8  # nothing was left half-set


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"memory_limit": 2**64}, ValueError, "memory_limit is 18446744073709551616"),
        ({"memory_limit": 2**64 + 100}, ValueError, "memory_limit"),
        ({"memory_limit": 0}, ValueError, "memory_limit is 0"),
        ({"memory_limit": True}, TypeError, "memory_limit must be an integer"),
        ({"memory_limit": 1e9}, TypeError, "memory_limit must be an integer"),
        ({"max_instructions": 2**64}, ValueError, "max_instructions"),
        ({"max_instructions": -1}, ValueError, "max_instructions is -1"),
        ({"timeout": float("nan")}, ValueError, "timeout"),
        ({"timeout": float("inf")}, ValueError, "timeout"),
        ({"timeout": 1e300}, ValueError, "timeout in milliseconds"),
        ({"timeout": "1"}, TypeError, "timeout must be a number"),
        ({"libs": 1 << 20}, ValueError, "libs is"),
    ],
)
def test_runtime_limits_are_checked(kwargs, error, words):
    with pytest.raises(error, match=words):
        luarun.Lua(**kwargs)
    with pytest.raises(error, match=words):
        luarun.Pool(1, **kwargs)


def test_pool_arguments_are_checked():
    with pytest.raises(ValueError, match="size is -1"):
        luarun.Pool(-1)
    with pytest.raises(TypeError, match="size must be an integer"):
        luarun.Pool(True)
    with luarun.Pool(1) as pool:
        pool.execute("function f(i) return 'x' end")
        with pytest.raises(ValueError, match="count is -1"):
            pool.run("f", -1, 1)
        with pytest.raises(ValueError, match="count is 4294967296"):
            pool.run("f", 2**32, 1)
        with pytest.raises(TypeError, match="stride must be an integer"):
            pool.run("f", 1, 1.0)
        assert pool.run("f", 2, 1) == bytearray(b"xx")


def test_to_image_checks_the_buffer_against_its_size():
    pytest.importorskip("PIL")
    pixels = luarun.mandelbrot(200)
    with pytest.raises(ValueError, match="pixels has 5000 bytes; a 100 x 100 'bits' image has 1300"):
        luarun.to_image(pixels, 100)
    with pytest.raises(ValueError, match="unknown pixel format"):
        luarun.to_image(pixels, 200, format="jpeg")
    assert luarun.to_image(pixels, 200).size == (200, 200)


def test_a_valid_large_limit_still_works():
    with luarun.Lua(memory_limit=2**40, max_instructions=2**63, timeout=3600) as lua:
        assert lua.eval("1 + 1") == 2


def test_code_must_be_text_or_bytes():
    lua = luarun.Lua()
    for bad in (42, [1, 2], None):
        with pytest.raises(TypeError, match="must be str or bytes"):
            lua.execute(bad)
        with pytest.raises(TypeError, match="must be str or bytes"):
            lua.eval(bad)
        with pytest.raises(TypeError, match="must be str or bytes"):
            lua.compile(bad)
    assert lua.execute(bytearray(b"return 1 + 1")) == 2
    assert lua.eval(memoryview(b"40 + 2")) == 42


def test_print_must_be_callable_and_libs_a_list():
    with pytest.raises(TypeError, match="print must be callable"):
        luarun.Lua(print=5)
    with pytest.raises(TypeError, match=r"SAFE_LIBS \+ \('os',\)"):
        luarun.Lua(libs="os")
    lua = luarun.Lua(libs=luarun.SAFE_LIBS + ("os",))
    assert lua.eval("type(os.time) .. type(string.rep)") == "functionfunction"
    with pytest.raises(luarun.InvalidArgument, match="None means no time limit"):
        luarun.Lua(timeout=0)
