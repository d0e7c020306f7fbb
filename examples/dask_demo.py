"""`make demo-dask`: a LocalCluster renders a large Mandelbrot image in tiles straight into a
Zarr store (each worker writes the tiles it rendered), then makes a PNG preview from the
store, streamed band by band. Prints the dashboard address, each tile's time and the
totals.

    python examples/dask_demo.py --size 16000 --out build/dask-demo

The same code runs on a real cluster: replace the LocalCluster by
`Client("tcp://scheduler:8786")` and put the store where every worker can reach it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from distributed import Client, LocalCluster, get_task_stream  # noqa: E402

import luarun  # noqa: E402
import luarun.dask  # noqa: E402

PREVIEW_PIXELS = 1000


def tile_grid(records: list, numblocks: tuple) -> np.ndarray:
    """Seconds each tile's task took (render + write), as a grid like the image's."""
    grid = np.full(numblocks[:2], np.nan)
    for record in records:
        key = record["key"]
        if isinstance(key, tuple) and len(key) >= 3 and isinstance(key[1], int):
            for step in record["startstops"]:
                if step["action"] == "compute" and grid.shape > (key[1], key[2]):
                    grid[key[1], key[2]] = step["stop"] - step["start"]
    return grid


def print_tiles(grid: np.ndarray, chunks: tuple) -> None:
    print(f"per-tile time in ms (render + write), {grid.shape[0]} x {grid.shape[1]} tiles "
          f"of {chunks[0]} x {chunks[1]} pixels, rows top to bottom:")
    for row in grid:
        print("  " + " ".join("   ?" if np.isnan(t) else f"{t * 1000:4.0f}" for t in row))
    known = grid[~np.isnan(grid)]
    if known.size:
        print(f"tiles: min {known.min() * 1000:.0f} ms, median {np.median(known) * 1000:.0f} ms, "
              f"max {known.max() * 1000:.0f} ms, sum {known.sum():.2f} s of worker time")


def preview(store: str, width: int) -> da.Array:
    """A grey preview about PREVIEW_PIXELS wide from the bits in the store: each preview
    pixel is the share of its square of pixels outside the set (in-set pixels black)."""
    bits = da.from_zarr(store)
    factor = max(1, -(-width // PREVIEW_PIXELS))
    bits = bits.rechunk((factor * 64, factor * 32))  # whole factor-squares per block
    grey = bits.map_blocks(
        lambda block: (255 - 255 * np.unpackbits(block, axis=1)).astype(np.uint8),
        chunks=(bits.chunks[0], tuple(8 * c for c in bits.chunks[1])),
        dtype=np.uint8,
    )[:, :width]
    grey = grey.rechunk((factor * 64, factor * 256))
    shrunk = da.coarsen(np.mean, grey, {0: factor, 1: factor}, trim_excess=True)
    return shrunk.astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=16000, help="image width = height")
    parser.add_argument("--out", type=Path, default=Path("build/dask-demo"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    store = str(args.out / "mandelbrot.zarr")
    chunks = luarun.dask.DEFAULT_CHUNKS

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        print(f"LocalCluster: {args.workers} worker processes x 1 thread; "
              f"dashboard {client.dashboard_link or 'off (pip install bokeh)'}")
        image = luarun.dask.mandelbrot_array(args.size, chunks=chunks, format="bits")
        attrs = {"width": args.size, "height": args.size, "format": "bits", "max_iter": 50,
                 "viewport": [-1.5, 0.5, -1.0, 1.0], "luarun": luarun.__version__}
        start = time.perf_counter()
        with get_task_stream(client) as stream:
            luarun.dask.to_zarr(image, store, attrs=attrs, overwrite=True)
        zarr_seconds = time.perf_counter() - start
        print_tiles(tile_grid(stream.data, image.numblocks), chunks)

        start = time.perf_counter()
        png = args.out / "preview.png"
        luarun.dask.write_png(preview(store, args.size), png, format="counts8")
        preview_seconds = time.perf_counter() - start

    pixels = args.size * args.size
    print(f"render {args.size} x {args.size} ({pixels / 1e6:.0f} Mpixel) to {store}: "
          f"{zarr_seconds:.2f} s ({pixels / zarr_seconds / 1e6:.0f} Mpixel/s)")
    print(f"preview {png} ({png.stat().st_size} bytes): {preview_seconds:.2f} s")


if __name__ == "__main__":
    main()
