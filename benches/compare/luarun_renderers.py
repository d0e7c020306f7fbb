"""luarun's contenders for compare.py, through the Python package (bindings/python)."""

import baselines
import luarun


def native(n, threads):
    """The native SIMD engine."""
    return bytes(luarun.mandelbrot(n, threads=threads, engine="native", format="bits"))


def lua_engine(flavor):
    """The shipped Lua kernel (crates/luarun-render/lua/mandelbrot.lua) on luarun's pool, one state per thread,
    rows handed out dynamically and written straight into the buffer."""

    def render(n, threads):
        return bytes(
            luarun.mandelbrot(n, threads=threads, engine="lua", format="bits", flavor=flavor)
        )

    return render


def classic_on_pool(flavor):
    """The comparison's own classic kernel, unchanged, run through luarun.Pool: index i
    of `threads` returns thread i's band of rows, copied once into place. Same Lua and
    same work split as lupa's: this measures the runtime's overhead only. Creating the
    states is timed, as lupa's runtimes are."""

    def render(n, threads):
        band = n // threads * ((n + 7) // 8)
        with luarun.Pool(threads, flavor=flavor) as pool:
            pool.execute("classic = (function() " + baselines.CLASSIC + " end)()")
            pool.execute(f"function band(i) return classic({n}, i + 1, {threads}) end")
            return bytes(pool.run("band", threads, band))

    return render


def contenders(sizes, big, thread_counts):
    """(name, render, sizes, thread counts) for each luarun renderer."""
    found = [("luarun native", native, sizes + [big], thread_counts)]
    for flavor, label in [("lua54", "Lua 5.4"), ("luajit", "LuaJIT")]:
        try:
            luarun.lua_version(flavor)
        except OSError as missing:
            print(f"skipping luarun {label}: {missing}")
            continue
        found.append((f"luarun Lua engine ({label})", lua_engine(flavor), sizes, thread_counts))
        found.append(
            (f"luarun pool, classic kernel ({label})", classic_on_pool(flavor), sizes, thread_counts)
        )
    return found
