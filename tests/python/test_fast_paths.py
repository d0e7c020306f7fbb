"""The lean call path (``luarun_frame_*``) and the bulk map (``luarun_map``,
``luarun_pool_map``): every type both ways, errors from each path, threads, callbacks
that raise, re-entrancy, and results that do not fit."""

from __future__ import annotations

import array
import math
import sys
import threading

import pytest

import luarun

FLAVORS = ["lua54", "luajit"]


@pytest.fixture(params=FLAVORS)
def any_lua(request):
    with luarun.Lua(flavor=request.param) as runtime:
        yield runtime


SCALARS = [
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    -(2**63),
    0.5,
    -1e300,
    "",
    "plain",
    "ünïcödé",
    "x" * 100_000,  # longer than the frame's result buffer: comes back with a handle
]


@pytest.mark.parametrize("value", SCALARS, ids=lambda v: repr(v)[:20])
def test_scalars_cross_a_call_both_ways_unchanged(lua, value):
    identity = lua.eval("function(...) return ... end")
    back = identity(value)
    assert back == value and type(back) is type(value)


def test_many_results_and_mixed_types_come_back_as_a_tuple(lua):
    f = lua.eval("function() return 1, 'two', 3.5, nil, true, {} end")
    one, two, three, four, five, table = f()
    assert (one, two, three, four, five) == (1, "two", 3.5, None, True)
    assert luarun.lua_type(table) == "table"


def test_nan_and_infinities_cross_unchanged(lua):
    identity = lua.eval("function(x) return x end")
    assert math.isnan(identity(float("nan")))
    assert identity(float("inf")) == float("inf")


def test_bytes_strings_with_nul_and_invalid_utf8_round_trip(lua):
    identity = lua.eval("function(x) return x end")
    data = b"\x00\xff\xfe binary \x00"
    assert identity(data) == data  # invalid UTF-8 comes back as bytes
    assert identity(bytearray(b"abc")) == "abc"
    assert identity(memoryview(b"xyz")) == "xyz"


def test_encoding_none_gives_bytes(flavor="lua54"):
    with luarun.Lua(encoding=None) as lua:
        assert lua.eval("'abc'") == b"abc"
        assert lua.eval("...", "é") == "é".encode()


def test_integers_beyond_64_bits_are_refused_not_wrapped(lua):
    identity = lua.eval("function(x) return x end")
    with pytest.raises(OverflowError, match="64-bit"):
        identity(2**64 + 100)
    with pytest.raises(OverflowError):
        identity(1, 2, -(2**63) - 1)
    assert identity(7) == 7  # the frame is clean after the refusal


def test_too_many_arguments_is_a_clear_error(lua):
    count = lua.eval("function(...) return select('#', ...) end")
    assert count(*range(256)) == 256
    with pytest.raises(luarun.InvalidArgument, match="at most 256"):
        count(*range(257))


def test_proxies_tables_and_functions_pass_back_into_calls(lua):
    table = lua.eval("{10, 20}")
    get_first = lua.eval("function(t) return t[1] end")
    assert get_first(table) == 10
    twice = lua.eval("function(f, x) return f(f(x)) end")
    assert twice(lua.eval("function(x) return x + 1 end"), 1) == 3
    assert twice(lambda x: x * 3, 2) == 18


def test_errors_from_the_call_path_keep_their_class(lua):
    with pytest.raises(luarun.LuaError, match="boom"):
        lua.eval("function() error('boom') end")()
    with pytest.raises(luarun.LuaSyntaxError):
        lua.eval("1 +")
    with pytest.raises(luarun.LuaError, match="attempt to call"):
        lua.eval("function() local f; f() end")()
    assert lua.eval("1 + 1") == 2


def test_table_get_set_and_attributes(lua):
    table = lua.table()
    table["key"] = "value"
    table[1] = 1.5
    table.attribute = [1, 2]
    assert table["key"] == "value" and table[1] == 1.5
    assert len(table.attribute) == 2
    with pytest.raises(luarun.LuaError):
        table[None] = 1  # a nil key is an error, as in Lua
    del table["key"]
    assert table["key"] is None


def test_table_access_honours_metatables(lua):
    proxy = lua.eval("setmetatable({}, {__index = function(_, k) return k .. '!' end})")
    assert proxy["hi"] == "hi!"
    assert proxy.there == "there!"


def test_globals_is_one_proxy_and_reads_what_lua_writes(lua):
    assert lua.globals() is lua.globals()
    lua.execute("answer = 42")
    assert lua.globals().answer == 42


def test_iteration_keeps_keys_exactly(any_lua):
    table = any_lua.eval("{1, 2, [3.5] = 'f', s = 's', [true] = 'b'}")
    assert dict(table.items()) == {1: 1, 2: 2, 3.5: "f", "s": "s", True: "b"}
    assert sorted(table.values(), key=str) == sorted([1, 2, "f", "s", "b"], key=str)


def test_iteration_with_invalid_utf8_and_host_object_keys(lua):
    marker = object()
    table = lua.eval("function(k) local t = {['\\255'] = 1} t[k] = 2 return t end")(marker)
    keys = list(table.keys())
    assert b"\xff" in keys and marker in keys


def test_iterator_shared_by_threads_hands_out_each_pair_once(lua):
    table = lua.table_from({i: i for i in range(1, 2001)})
    iterator = table.items()
    seen: list[int] = []
    errors: list[BaseException] = []

    def drain():
        try:
            for key, _ in iterator:
                seen.append(key)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=drain) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert sorted(seen) == list(range(1, 2001))


def test_eval_and_execute_cache_behaves_like_recompiling(lua):
    lua.execute("counter = 0")
    for _ in range(3):
        lua.execute("counter = counter + 1")
    assert lua.eval("counter") == 3
    assert lua.eval("... + 1", 41) == 42
    assert lua.execute("return ...", "a", "b") == ("a", "b")
    for _ in range(2):  # a failing compile is not cached: it fails every time
        with pytest.raises(luarun.LuaSyntaxError):
            lua.eval("1 +")
    with pytest.raises(luarun.LuaError, match="my chunk"):
        lua.execute("error('x')", name="=my chunk")


def test_eval_cache_is_bounded(lua):
    from luarun._runtime import CHUNK_CACHE_SIZE

    for i in range(CHUNK_CACHE_SIZE + 50):
        assert lua.eval(str(i)) == i
    assert len(lua._chunks) <= CHUNK_CACHE_SIZE


def test_callbacks_get_every_type_and_return_every_type(any_lua):
    seen = []

    def record(*args):
        seen.append(args)
        return args

    any_lua.globals().record = record
    back = any_lua.eval("{record(nil, true, 3, 2.5, 'str', '\\255')}")
    assert seen[0][:5] == (None, True, 3, 2.5, "str")
    assert seen[0][5] == b"\xff"
    assert back[2] is True and back[3] == 3 and back[5] == "str"


def test_callback_that_raises_is_a_lua_error_and_reraises_in_python(lua):
    def fail(_):
        raise KeyError("missing")

    lua.globals().fail = fail
    ok, message = lua.eval("(function() local ok, e = pcall(fail, 1) return ok, tostring(e) end)()")  # Lua can catch it
    assert ok is False and "KeyError" in message
    with pytest.raises(KeyError):
        lua.eval("fail(1)")
    assert lua.eval("1") == 1  # no stale exception leaks into the next call


def test_reentrant_callbacks_call_back_into_lua(lua):
    def python_side(depth):
        return lua.globals().lua_side(depth - 1) if depth > 0 else "bottom"

    lua.globals().python_side = python_side
    lua.execute("function lua_side(depth) return python_side(depth) end")
    assert lua.eval("lua_side(20)") == "bottom"


def test_calls_from_many_threads_on_one_runtime(lua):
    add = lua.eval("function(a, b) return a + b end")
    failures: list[str] = []

    def work(offset):
        for i in range(2000):
            if add(i, offset) != i + offset:
                failures.append(f"{i}+{offset}")

    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []


# --- bulk map ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["d", "f", "q", "i", "h", "b", "B", "H", "I", "Q"])
def test_map_over_every_array_type(any_lua, code):
    double = any_lua.eval("function(x) return x * 2 end")
    xs = array.array(code, range(1, 50))
    ys = double.map(xs)
    assert ys.typecode == code and list(ys) == [2 * x for x in xs]


def test_map_writes_into_a_given_buffer_of_another_type(lua):
    xs = array.array("d", [1.0, 2.0, 3.0])
    out = array.array("q", [0, 0, 0, 99])
    lua.eval("function(x) return x + 1 end").map(xs, out)
    assert list(out) == [2, 3, 4, 99]  # integral floats convert; the rest is untouched


def test_map_over_bytearray_and_memoryview(lua):
    inverted = lua.eval("function(x) return 255 - x end").map(bytearray(b"\x00\x10\xff"))
    assert list(inverted) == [255, 239, 0]
    squares = lua.eval("function(x) return x * x end").map(memoryview(array.array("i", [3])))
    assert list(squares) == [9]


def test_map_of_read_only_input(lua):
    assert list(lua.eval("function(x) return x + 1 end").map(b"\x01\x02")) == [2, 3]
    with pytest.raises(luarun.LuaTypeError, match="element 0"):
        lua.eval("function(x) return -x end").map(b"\x01")  # -1 does not fit in uint8


def test_map_results_that_do_not_fit_name_the_index(lua):
    identity = lua.eval("function(x) return x end")
    with pytest.raises(luarun.LuaTypeError, match=r"element 2: .*300.*uint8"):
        identity.map(array.array("i", [1, 2, 300]), out_type="uint8")
    with pytest.raises(luarun.LuaTypeError, match=r"element 0: .*0\.5.*not an integer"):
        identity.map(array.array("d", [0.5]), out_type="int64")
    with pytest.raises(luarun.LuaTypeError, match="element 1: .*string, not a number"):
        lua.eval("function(x) if x == 2 then return 'two' end return x end").map(
            array.array("i", [1, 2])
        )


def test_map_errors_name_the_element_and_leave_the_runtime_usable(lua):
    failing = lua.eval("function(x) if x == 7 then error('seven') end return x end")
    with pytest.raises(luarun.LuaError, match="element 7: .*seven"):
        failing.map(array.array("d", range(10)))
    assert lua.eval("1 + 1") == 2


def test_map_checks_buffer_sizes_and_types(lua):
    f = lua.eval("function(x) return x end")
    with pytest.raises(luarun.BufferTooSmall, match="output has 8 bytes"):
        f.map(array.array("d", [1, 2]), array.array("d", [0]))
    with pytest.raises(TypeError, match="buffer of numbers"):
        f.map([1, 2, 3])
    with pytest.raises(luarun.InvalidArgument, match="unknown out_type"):
        f.map(array.array("d", [1]), out_type="complex")
    assert len(f.map(array.array("d"))) == 0


def test_map_runs_under_the_runtime_limits():
    with luarun.Lua(timeout=0.2) as lua:
        slow = lua.eval("function(x) while true do end end")
        with pytest.raises(luarun.LuaTimeoutError):
            slow.map(array.array("d", [1.0]))
        assert lua.eval("2") == 2
    with luarun.Lua(memory_limit=4 << 20) as lua:
        hog = lua.eval("function(x) local t = {} for i = 1, 1e8 do t[i] = i end end")
        with pytest.raises(luarun.LuaMemoryError):
            hog.map(array.array("d", [1.0]))


def test_map_can_be_interrupted_from_another_thread():
    with luarun.Lua() as lua:
        spin = lua.eval("function(x) while true do end end")
        timer = threading.Timer(0.2, lua.interrupt)
        timer.start()
        with pytest.raises(luarun.LuaInterrupted):
            spin.map(array.array("d", [1.0]))
        timer.join()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_pool_map_matches_a_loop_on_every_size(flavor):
    with luarun.Pool(3, flavor=flavor) as pool:
        for n in (0, 1, 1023, 1024, 1025, 5000):
            xs = array.array("d", (i * 0.5 for i in range(n)))
            ys = pool.map("function(x) return x * x + 1 end", xs)
            assert list(ys) == [x * x + 1 for x in xs]


def test_pool_map_by_global_name_and_errors():
    with luarun.Pool(2) as pool:
        pool.execute("function triple(x) return 3 * x end")
        assert list(pool.map("triple", array.array("i", [1, 2]))) == [3, 6]
        with pytest.raises(luarun.LuaError, match="element 3000"):
            pool.map(
                "function(x) if x == 3000 then error('bad') end return x end",
                array.array("i", range(5000)),
            )
        with pytest.raises(luarun.LuaError, match="not a function"):
            pool.map("missing_function", array.array("i", [1]))
        assert list(pool.map("triple", array.array("i", [5]))) == [15]


def test_map_with_numpy_returns_numpy():
    numpy = pytest.importorskip("numpy")
    with luarun.Lua() as lua:
        xs = numpy.linspace(0, 1, 1001)
        ys = lua.eval("function(x) return x * x end").map(xs)
        assert isinstance(ys, numpy.ndarray) and ys.dtype == numpy.float64
        assert numpy.array_equal(ys, xs * xs)
        counts = lua.eval("function(x) return math.floor(x * 10) end").map(xs, out_type="int32")
        assert counts.dtype == numpy.int32 and counts[-1] == 10
        with luarun.Pool(2) as pool:
            out = numpy.zeros_like(xs)
            pool.map("function(x) return -x end", xs, out)
            assert numpy.array_equal(out, -xs)


def test_map_refuses_strided_numpy_input():
    numpy = pytest.importorskip("numpy")
    with luarun.Lua() as lua:
        with pytest.raises(luarun.InvalidArgument, match="contiguous"):
            lua.eval("function(x) return x end").map(numpy.arange(10.0)[::2])


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="CPython string layout")
def test_strings_are_passed_without_copies_but_stay_alive(lua):
    # The argument points at the bytes object itself; a temporary must live until the
    # call returns.
    concat = lua.eval("function(a, b) return a .. b end")
    for i in range(200):
        assert concat("left" * i, str(i)) == "left" * i + str(i)
