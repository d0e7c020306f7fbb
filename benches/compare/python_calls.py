"""`make bench-python`: what one operation costs from Python, luarun against lupa, in one
run, plus the bulk map that lupa cannot do.

Every row times the same operation on both libraries, interleaved (lupa, luarun, lupa,
luarun, ...) so that a shared host's drifting speed hits both columns alike; each cell is
the median of ROUNDS rounds of REPEAT operations. Ratios are luarun's time over lupa's
(below 1: luarun is faster). lupa is only ever installed in the benchmark's own venv.
"""

from __future__ import annotations

import argparse
import array
import os
import platform
import statistics
import time

import lupa.lua54 as lupa_lua54

import luarun

ADD = "function(a, b) return a + b end"
CALLBACK_LOOP = "function(n) local s = 0 for i = 1, n do s = pyadd(s, 1) end return s end"


def per_op_us(run, count: int) -> float:
    start = time.perf_counter()
    run(count)
    return (time.perf_counter() - start) / count * 1e6


def cases(runtime):
    """name -> function(count) running the operation `count` times on `runtime`."""
    add = runtime.eval(ADD)
    runtime.globals().pyadd = lambda a, b: a + b
    callback_loop = runtime.eval(CALLBACK_LOOP)
    runtime.globals().name = 1
    table = runtime.eval("{}")

    def call(count):
        for _ in range(count):
            add(1, 2)

    def callback(count):
        callback_loop(count)

    def evaluate(count):
        for _ in range(count):
            runtime.eval("1")

    def globals_get(count):
        for _ in range(count):
            runtime.globals().name

    def table_set(count):
        for i in range(count):
            table[i] = i

    def table_get(count):
        for i in range(count):
            table[i]

    return {
        "Python -> Lua call, 2 ints": call,
        "Lua -> Python callback": callback,
        "lua.eval('1')": evaluate,
        "lua.globals().name": globals_get,
        "t[i] = i": table_set,
        "t[i]": table_get,
    }


def calls_table(rounds: int, repeat: int) -> list[tuple[str, float, float]]:
    lupa_cases = cases(lupa_lua54.LuaRuntime())
    luarun_cases = cases(luarun.Lua())
    rows = []
    for name in lupa_cases:
        lupa_times, luarun_times = [], []
        for _ in range(rounds):
            lupa_times.append(per_op_us(lupa_cases[name], repeat))
            luarun_times.append(per_op_us(luarun_cases[name], repeat))
        rows.append((name, statistics.median(lupa_times), statistics.median(luarun_times)))
    return rows


def map_table(count: int, rounds: int) -> list[tuple[str, float]]:
    """Seconds for f(x) = x * x over `count` float64: lupa in a Python loop, luarun map."""
    xs = array.array("d", (i * 0.001 for i in range(count)))
    source = "function(x) return x * x end"
    lupa_square = lupa_lua54.LuaRuntime().eval(source)
    lua = luarun.Lua()
    square = lua.eval(source)
    pools = {threads: luarun.Pool(threads) for threads in (1, 2)}
    expected = array.array("d", (x * x for x in xs))

    def lupa_loop():
        return array.array("d", (lupa_square(x) for x in xs))

    contenders = {
        "lupa: Python loop calling a Lua function": lupa_loop,
        "luarun: LuaFunction.map (1 state)": lambda: square.map(xs),
        "luarun: Pool(1).map": lambda: pools[1].map(source, xs),
        "luarun: Pool(2).map": lambda: pools[2].map(source, xs),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            result = run()
            times[name].append(time.perf_counter() - start)
            assert result == expected, f"{name} computed wrong values"
    return [(name, statistics.median(values)) for name, values in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=100_000)
    parser.add_argument("--map-size", type=int, default=1_000_000)
    args = parser.parse_args()
    print(
        f"# Python call costs: luarun {luarun.__version__} vs lupa {lupa_lua54.LUA_VERSION}"
        f" ({lupa_lua54.__name__}); {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"
    )
    print(f"\nMedians of {args.rounds} interleaved rounds of {args.repeat} operations.\n")
    print("| operation | lupa | luarun | luarun / lupa |")
    print("|---|---|---|---|")
    for name, lupa_us, luarun_us in calls_table(args.rounds, args.repeat):
        print(f"| {name} | {lupa_us:.3f} us | {luarun_us:.3f} us | {luarun_us / lupa_us:.2f}x |")
    print(f"\nBulk map of {args.map_size} float64 through `x * x` (median of 3):\n")
    rows = map_table(args.map_size, 3)
    baseline = rows[0][1]
    print("| contender | seconds | ns per element | speed-up vs the lupa loop |")
    print("|---|---|---|---|")
    for name, seconds in rows:
        print(
            f"| {name} | {seconds:.4f} | {seconds / args.map_size * 1e9:.1f} | "
            f"{baseline / seconds:.1f}x |"
        )


if __name__ == "__main__":
    main()
