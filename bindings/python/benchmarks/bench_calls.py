"""Costs of crossing between Python and Lua, and how separate states scale on threads.

    make bench-python     (or: python bindings/python/benchmarks/bench_calls.py)

Prints microseconds per operation (best of 5 runs) and the ratio of two threads' time to
one thread's on the same long Lua loop (1.0 = perfect scaling, 2.0 = no parallelism).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import luarun  # noqa: E402


def best_of(runs: int, function) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def per_call_us(count: int, function) -> float:
    return best_of(5, function) / count * 1e6


def call_overheads() -> None:
    n = 20_000
    with luarun.Lua() as lua:
        identity = lua.eval("function(x) return x end")
        nothing = lua.eval("function() end")
        lua.globals().py_identity = lambda x: x
        g = lua.globals()
        g.obj = type("Obj", (), {"value": 1})()
        table = lua.eval("{value = 1}")
        def loop(body: str):
            return lambda: lua.execute(f"for i = 1, {n} do {body} end")

        def repeat(call):
            return lambda: [call() for _ in range(n)]

        rows = [
            ("Lua function, no args, from Python", per_call_us(n, repeat(nothing))),
            ("Lua function, 1 int arg+result", per_call_us(n, repeat(lambda: identity(7)))),
            ("Lua function, 1 str arg+result", per_call_us(n, repeat(lambda: identity("7")))),
            ("lua.eval('1')", per_call_us(n, repeat(lambda: lua.eval("1")))),
            ("table['value'] from Python", per_call_us(n, repeat(lambda: table["value"]))),
            ("Python function from Lua", per_call_us(n, loop("py_identity(i)"))),
            ("host object attribute from Lua", per_call_us(n, loop("local v = obj.value"))),
        ]
    width = max(len(name) for name, _ in rows)
    print("Call overhead (best of 5):")
    for name, us in rows:
        print(f"  {name:<{width}}  {us:7.2f} us")


LOOP = "local s = 0 for i = 1, 30000000 do s = s + i % 7 end return s"


def thread_scaling() -> None:
    def run(threads: int) -> float:
        states = [luarun.Lua() for _ in range(threads)]
        workers = [threading.Thread(target=s.execute, args=(LOOP,)) for s in states]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start
        for state in states:
            state.close()
        return elapsed

    one = min(run(1) for _ in range(3))
    two = min(run(2) for _ in range(3))
    print(f"Thread scaling ({os.cpu_count()} cores): one state {one:.3f} s, "
          f"two states on two threads {two:.3f} s, ratio {two / one:.2f} "
          "(2.0 would mean no parallelism)")


if __name__ == "__main__":
    print(f"luarun {luarun.__version__}, {luarun.library_path}")
    call_overheads()
    thread_scaling()
