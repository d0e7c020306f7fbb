"""`make bench-dask`: a Mandelbrot render on a dask LocalCluster against the single-process
native render on the same cores, both bit-exact, with the ratio (target <= 1.3x at 16000).

The single-process render uses `threads` library threads in this process; the cluster
has as many worker processes with one thread each, and renders the same image as tiles
(`luarun.dask.mandelbrot_array`, one library thread per task). Two cluster figures:
`compute` brings the whole image back into this process (like the single-process render
leaves it here), `persist` leaves the tiles in the workers' memory (as a pipeline that
goes on to write Zarr would). Medians of `--repeats` interleaved rounds after a warm-up.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import numpy as np  # noqa: E402
from distributed import Client, LocalCluster, wait  # noqa: E402

import luarun  # noqa: E402
import luarun.dask  # noqa: E402


def interleaved_medians(runs: dict, repeats: int) -> dict:
    """Median wall time of each `runs[name]()` over `repeats` rounds, after a warm-up
    round; one round calls each once, in turn, so a shared host's drift hits all alike."""
    times: dict = {name: [] for name in runs}
    for round_number in range(repeats + 1):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if round_number:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def parse_chunks(text: str) -> tuple[int, int]:
    rows, _, columns = text.partition("x")
    return int(rows), int(columns or rows)


def layouts(size: int, chunks: tuple[int, int] | None) -> dict:
    """Tile layouts to time: the one asked for, else the default row bands and full-height
    column strips (16 of them), which keep the library's mirror-row copies inside each
    task at symmetric viewports such as the default one."""
    if chunks is not None:
        return {f"{chunks[0]} x {chunks[1]}": chunks}
    strip = max(8, -(-size // 16 // 8) * 8)
    return {
        f"default {luarun.dask.DEFAULT_CHUNKS[0]} x {luarun.dask.DEFAULT_CHUNKS[1]}":
            luarun.dask.DEFAULT_CHUNKS,
        f"column strips {size} x {strip}": (-1, strip),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=16000, help="image width = height")
    parser.add_argument("--format", default="bits", help="pixel format (default bits)")
    parser.add_argument("--chunks", type=parse_chunks, default=None,
                        help="tile ROWSxCOLUMNS in pixels, -1 = whole axis (default: the "
                        "default chunks and full-height column strips)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes = library threads of the baseline (default: cores)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    size = args.size
    expected = hashlib.md5(bytes(luarun.mandelbrot(size, format=args.format, threads=args.workers)))

    load_before = os.getloadavg()[0]
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:
        runs = {"single": lambda: luarun.mandelbrot(size, format=args.format, threads=args.workers)}
        tiles = {}
        for name, chunks in layouts(size, args.chunks).items():
            image = luarun.dask.mandelbrot_array(size, chunks=chunks, format=args.format)
            got = hashlib.md5(np.ascontiguousarray(image.compute()).tobytes())
            if got.digest() != expected.digest():
                raise SystemExit(f"{name}: the cluster's image differs from the single-process render")
            tiles[name] = int(np.prod(image.numblocks))
            runs[f"{name}|compute"] = image.compute
            runs[f"{name}|persist"] = lambda image=image: persist(client, image)
        medians = interleaved_medians(runs, args.repeats)

    single = medians.pop("single")
    print(f"Mandelbrot {size} x {size}, {args.format}, {args.workers} cores, "
          f"median of {args.repeats} interleaved rounds")
    label = f"single process, native, {args.workers} threads:"
    print(f"  {label:<82}{single * 1000:9.1f} ms   1.00x")
    for key, seconds in medians.items():
        name, how = key.split("|")
        where = "image back here" if how == "compute" else "tiles on workers"
        label = f"LocalCluster, {name} ({tiles[name]} tiles), {how} ({where}):"
        print(f"  {label:<82}{seconds * 1000:9.1f} ms   {seconds / single:.2f}x")
    print(f"  target: <= 1.30x; every image md5 {expected.hexdigest()}")
    print(f"  load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}: "
          "other work on these cores skews the ratios")


def persist(client: Client, image) -> None:
    """Renders every tile into the workers' memory and waits, then forgets them."""
    kept = client.persist(image)
    wait(kept)
    del kept
    # The next round must render again, not find these tiles still in memory.
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
        time.sleep(0.01)


if __name__ == "__main__":
    main()
