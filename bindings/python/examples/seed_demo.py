"""The classic comparison that luarun grew out of, reproduced from Python.

Mandelbrot (Benchmarks Game rules, 50 iterations, PBM bits) at 320, 640 and 1280 pixels:

- pure Python (only with --python: ~55 s at 1280);
- "seed style": one luarun.Lua state per Python thread, each running a Lua kernel over a
  band of rows and returning it as a string, the bands joined in Python (what lupa did);
- the same kernel on a luarun.Pool (rows handed out one by one, written into the buffer);
- luarun's Lua engine (a pool of Lua states writing rows straight into the buffer);
- luarun's native engine (SIMD).

Prints seconds per size x thread count (threads 1, 2, 4, 8, 16, capped at the cores),
checks every result against the native render, and saves mandelbrot.png (Pillow) or
mandelbrot.pbm.

    python bindings/python/examples/seed_demo.py [--python] [--sizes 320,640] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

try:
    import luarun
except ImportError:  # a checkout without `pip install`: use the package in the tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import luarun
from luarun import _ffi

LUA_ROW_KERNEL = """
function render_row(y, width, height, max_iter)
  local ci = y * (2.0 / height) - 1.0
  local bytes, n, bits, bit_count = {}, 0, 0, 0
  for x = 0, width - 1 do
    local cr = x * (2.0 / width) - 1.5
    local zr, zi, zrq, ziq = cr, ci, cr * cr, ci * ci
    local inside = 1
    for _ = 1, max_iter - 1 do
      zi = zr * zi * 2 + ci
      zr = zrq - ziq + cr
      ziq = zi * zi
      zrq = zr * zr
      if zrq + ziq > 4.0 then inside = 0 break end
    end
    bits = bits * 2 + inside
    bit_count = bit_count + 1
    if bit_count == 8 then
      n = n + 1; bytes[n] = bits; bits, bit_count = 0, 0
    end
  end
  if bit_count > 0 then
    n = n + 1; bytes[n] = bits * (1 << (8 - bit_count))
  end
  return string.char(table.unpack(bytes, 1, n))
end

function render_band(width, height, y_start, y_stop, max_iter)
  local rows = {}
  for y = y_start, y_stop - 1 do
    rows[#rows + 1] = render_row(y, width, height, max_iter)
  end
  return table.concat(rows)
end
"""


def pure_python(size: int, max_iter: int = 50) -> bytes:
    out = bytearray()
    for y in range(size):
        ci = y * (2.0 / size) - 1.0
        bits = count = 0
        for x in range(size):
            cr = x * (2.0 / size) - 1.5
            zr, zi, zrq, ziq = cr, ci, cr * cr, ci * ci
            inside = 1
            for _ in range(max_iter - 1):
                zi = zr * zi * 2 + ci
                zr = zrq - ziq + cr
                ziq = zi * zi
                zrq = zr * zr
                if zrq + ziq > 4.0:
                    inside = 0
                    break
            bits = bits * 2 + inside
            count += 1
            if count == 8:
                out.append(bits)
                bits = count = 0
        if count:
            out.append(bits << (8 - count))
    return bytes(out)


def seed_style(size: int, threads: int) -> bytes:
    """One state per thread, bands of rows, strings joined (lupa's way)."""
    bands: list[bytes] = [b""] * threads
    edges = [size * i // threads for i in range(threads + 1)]

    def work(i: int) -> None:
        with luarun.Lua() as lua:
            lua.execute(LUA_ROW_KERNEL)
            bands[i] = lua.globals().render_band(size, size, edges[i], edges[i + 1], 50)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return b"".join(bands)


def pool_rows(size: int, threads: int) -> bytearray:
    """The same Lua kernel on a luarun.Pool: rows handed out one at a time, each written
    straight into the output buffer."""
    with luarun.Pool(threads) as pool:
        pool.execute(LUA_ROW_KERNEL)
        pool.execute(f"function row(y) return render_row(y, {size}, {size}, 50) end")
        return pool.run("row", size, (size + 7) // 8)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, bytes(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", action="store_true", help="include pure Python (slow)")
    parser.add_argument("--sizes", default="320,640,1280")
    parser.add_argument("--out", default=".", help="where to save the image")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cores = os.cpu_count() or 1
    thread_counts = [t for t in (1, 2, 4, 8, 16) if t <= cores] or [1]
    has_render = _ffi.lib.has("luarun_mandelbrot_render")
    if not has_render:
        print(f"note: {_ffi.lib.path} lacks the render API; showing the seed style only\n")

    print(f"Mandelbrot, 50 iterations, seconds (lower is better); {cores} cores")
    header = f"{'size':>5} {'method':<18}" + "".join(f"{f'{t} thr':>9}" for t in thread_counts)
    print(header)
    print("-" * len(header))
    mismatches = 0
    for size in sizes:
        reference = bytes(luarun.mandelbrot(size)) if has_render else None
        rows = []
        if args.python:
            seconds, result = timed(pure_python, size)
            rows.append(("pure Python", [seconds] + [None] * (len(thread_counts) - 1), [result]))
        methods = [("Lua state/thread", lambda t: seed_style(size, t))]
        if _ffi.lib.has("luarun_pool_run"):
            methods.append(("luarun.Pool rows", lambda t: pool_rows(size, t)))
        if has_render:
            methods.append(
                ("luarun lua engine", lambda t: luarun.mandelbrot(size, engine="lua", threads=t))
            )
            methods.append(("luarun native", lambda t: luarun.mandelbrot(size, threads=t)))
        for name, render in methods:
            timings, results = [], []
            for t in thread_counts:
                seconds, result = timed(render, t)
                timings.append(seconds)
                results.append(result)
            rows.append((name, timings, results))
        for name, timings, results in rows:
            cells = "".join(f"{s:9.3f}" if s is not None else f"{'':>9}" for s in timings)
            if reference is not None and any(r != reference for r in results):
                mismatches += 1
                cells += "  MISMATCH"
            print(f"{size:>5} {name:<18}{cells}")
    if reference is None:
        return
    out_dir = Path(args.out)
    size = sizes[-1]
    try:
        luarun.to_image(reference, size).save(out_dir / "mandelbrot.png")
        print(f"\nsaved {out_dir / 'mandelbrot.png'} ({size}x{size})")
    except ImportError:
        (out_dir / "mandelbrot.pbm").write_bytes(luarun.to_pbm(reference, size))
        print(f"\nsaved {out_dir / 'mandelbrot.pbm'} (install Pillow for PNG)")
    if mismatches:
        raise SystemExit(f"{mismatches} result(s) differ from the native render")
    print("every result above is byte for byte the native engine's render")


if __name__ == "__main__":
    main()
