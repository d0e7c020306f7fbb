"""Mandelbrot renderers that luarun is compared against, all producing the PBM P4 body
of the Benchmarks Game image (50 iterations, x in [-1.5, 0.5), y in [-1, 1)).

Each renderer is `render(n, threads) -> bytes`. They exist only for `make bench-compare`;
none of them is a dependency of luarun.
"""

import threading
from pathlib import Path

HERE = Path(__file__).parent
_SEED = (HERE.parent / "seed_kernel.lua").read_text()

# The comparison's classic kernel (benches/seed_kernel.lua, shared with `make bench`):
# thread i of `total` renders rows N/total*(i-1) .. N/total*i-1 and returns them as one
# string built with `result = result .. row` (quadratic copying); its row split is only
# correct when `total` divides N. As a chunk that returns function(N, i, total).
CLASSIC = _SEED + "\nreturn seed_rows\n"


def _with_table_concat(source):
    """The same kernel with rows collected in a table and joined once (table.concat)."""
    replaced = (
        source.replace('local result = ""', "local rows = {}", 1)
        .replace("result = result .. char(unpack(buf, 1, p))", "rows[#rows + 1] = char(unpack(buf, 1, p))", 1)
        .replace("return result", "return table.concat(rows)", 1)
    )
    assert replaced.count("rows[#rows + 1]") == 1, "seed_kernel.lua changed shape"
    return replaced


CLASSIC_CONCAT = _with_table_concat(CLASSIC)
MAX_ITER = 50


def pure_python(n, threads):
    """Plain Python loops, the numeric contract spelled out. One thread: the GIL."""
    dx = dy = 2.0 / n
    out = bytearray()
    for y in range(n):
        ci = y * dy + -1.0
        byte, bit = 0, 0
        for x in range(n):
            cr = x * dx + -1.5
            zr, zi, zrq, ziq = cr, ci, cr * cr, ci * ci
            inside = 1
            for _ in range(1, MAX_ITER):
                zi = zr * zi * 2 + ci
                zr = zrq - ziq + cr
                ziq = zi * zi
                zrq = zr * zr
                if zrq + ziq > 4.0:
                    inside = 0
                    break
            byte = (byte << 1) | inside
            bit += 1
            if bit == 8:
                out.append(byte)
                byte, bit = 0, 0
        if bit:
            out.append(byte << (8 - bit))
    return bytes(out)


def numpy_render(n, threads):
    """Whole-grid numpy arrays, 49 vectorized steps (numpy elementwise is 1 thread)."""
    import numpy as np

    d = 2.0 / n
    cr = np.arange(n) * d + -1.5
    ci = (np.arange(n) * d + -1.0)[:, None]
    zr = np.broadcast_to(cr, (n, n)).copy()
    zi = np.broadcast_to(ci, (n, n)).copy()
    zrq, ziq = zr * zr, zi * zi
    inside = np.ones((n, n), dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(1, MAX_ITER):
            zi = zr * zi * 2 + ci
            zr = zrq - ziq + cr
            ziq = zi * zi
            zrq = zr * zr
            inside &= ~(zrq + ziq > 4.0)
    return np.packbits(inside, axis=1).tobytes()


_numba_kernel = None


def numba_render(n, threads):
    """numba @njit(parallel=True) over rows with prange; threads via set_num_threads."""
    global _numba_kernel
    import numba
    import numpy as np

    if _numba_kernel is None:

        @numba.njit(parallel=True, cache=False)
        def kernel(n, out):
            d = 2.0 / n
            for y in numba.prange(n):
                ci = y * d + -1.0
                for xb in range(out.shape[1]):
                    byte = 0
                    for bit in range(8):
                        x = xb * 8 + bit
                        inside = 0
                        if x < n:
                            cr = x * d + -1.5
                            zr, zi, zrq, ziq = cr, ci, cr * cr, ci * ci
                            inside = 1
                            for _ in range(1, 50):
                                zi = zr * zi * 2 + ci
                                zr = zrq - ziq + cr
                                ziq = zi * zi
                                zrq = zr * zr
                                if zrq + ziq > 4.0:
                                    inside = 0
                                    break
                        byte = (byte << 1) | inside
                    out[y, xb] = byte

        _numba_kernel = kernel
    numba.set_num_threads(threads)
    out = np.zeros((n, (n + 7) // 8), dtype=np.uint8)
    _numba_kernel(n, out)
    return out.tobytes()


def lupa_renderer(module_name, kernel_source):
    """lupa the way the comparison does it: one LuaRuntime per thread, thread i renders
    its share of rows as one Lua string, Python joins the strings."""

    def render(n, threads):
        import importlib

        lua_module = importlib.import_module(module_name)
        functions = [
            lua_module.LuaRuntime(encoding=None).execute(kernel_source) for _ in range(threads)
        ]
        results = [b""] * threads

        def work(i):
            results[i] = functions[i](n, i + 1, threads)

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return b"".join(results)

    return render
