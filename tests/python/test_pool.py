"""luarun.Pool: one Lua function run over an index range on several states at once."""

from __future__ import annotations

import pytest

import luarun

SQUARE_RECORDS = "function record(i) return string.pack('<i4i4', i, i * i) end"


def test_run_fills_the_buffer_with_each_index_result():
    with luarun.Pool(2) as pool:
        assert pool.size == 2
        pool.execute(SQUARE_RECORDS)
        out = pool.run("record", 100, 8, first=10)
        values = memoryview(out).cast("i")
        assert list(values[0::2]) == list(range(10, 110))
        assert list(values[1::2]) == [i * i for i in range(10, 110)]


def test_run_writes_into_a_given_buffer_without_copying():
    np = pytest.importorskip("numpy")
    with luarun.Pool(2) as pool:
        pool.execute(SQUARE_RECORDS)
        out = np.zeros((50, 2), dtype=np.int32)
        address = out.ctypes.data
        assert pool.run("record", 50, 8, out=out) is out
        assert out.ctypes.data == address and out[49, 1] == 49 * 49


def test_a_wrong_result_length_names_the_index():
    with luarun.Pool(2) as pool:
        pool.execute("function f(i) return i == 7 and 'xx' or 'x' end")
        with pytest.raises(luarun.LuaError, match="7"):
            pool.run("f", 10, 1)


def test_lua_errors_and_limits_apply_to_pool_states():
    with luarun.Pool(2, max_instructions=10_000) as pool:
        pool.execute("function spin(i) while true do end end")
        with pytest.raises(luarun.LuaInterrupted):
            pool.run("spin", 4, 1)
        with pytest.raises(luarun.LuaSyntaxError):
            pool.execute("function (")


def test_progress_can_cancel_a_run():
    with luarun.Pool(1) as pool:
        pool.execute("function f(i) return 'x' end")
        with pytest.raises(luarun.Cancelled):
            pool.run("f", 10_000, 1, progress=lambda done, total: True)


def test_a_too_small_buffer_is_refused():
    with luarun.Pool(1) as pool:
        pool.execute("function f(i) return 'xy' end")
        with pytest.raises(luarun.BufferTooSmall):
            pool.run("f", 10, 2, out=bytearray(5))


def test_closed_pools_refuse_work():
    pool = luarun.Pool(1)
    pool.close()
    with pytest.raises(luarun.InvalidArgument, match="closed"):
        pool.execute("x = 1")
