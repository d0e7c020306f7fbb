"""Renders the Mandelbrot set with both luarun engines from Python, prints the timings,
and saves the picture (PNG with Pillow, PBM without).

    python examples/mandelbrot.py [size]        (after `pip install ./bindings/python`,
                                                 or from a checkout after `make`)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

try:
    import luarun
except ImportError:  # a checkout without `pip install`: use the package in the tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings" / "python"))
    import luarun


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1280
    pixels = bytearray(luarun.mandelbrot_buffer_size(size))
    for engine in ("native", "lua"):
        start = time.perf_counter()
        luarun.mandelbrot(size, engine=engine, out=pixels)  # fills `pixels` in place
        print(f"{engine:>6} engine: {size}x{size} in {time.perf_counter() - start:.3f} s")
    try:
        luarun.to_image(pixels, size).save("mandelbrot.png")
        print("saved mandelbrot.png")
    except ImportError:
        Path("mandelbrot.pbm").write_bytes(luarun.to_pbm(pixels, size))
        print("saved mandelbrot.pbm (pip install Pillow for PNG)")


if __name__ == "__main__":
    main()
