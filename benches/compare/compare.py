"""Side-by-side Mandelbrot benchmark: pure Python, numpy, numba, lupa (Lua 5.4 and
LuaJIT) and luarun (native engine, Lua engine on both flavors, and the classic kernel run
through luarun's pool), all on this machine in one run.

Every renderer's output is checked against the P4 md5 of the same size before it is
timed. Prints a Markdown table, writes it with a JSON file and a PNG plot to --out.
Run through `make bench-compare`, which builds luarun and prepares a virtual environment
with lupa, numba, numpy, Pillow and matplotlib.
"""

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import baselines
import luarun_renderers

PURE_PYTHON_MAX = 640
SIZES = [320, 640, 1280, 4000]
BIG = 16000  # only for the native engine and numba


def p4_md5(n, body):
    return hashlib.md5(b"P4\n%d %d\n" % (n, n) + body).hexdigest()


def implementations():
    """(name, render, sizes, thread counts) for every contender available here."""
    both = [1, 2]
    found = [
        ("pure Python", baselines.pure_python, [s for s in SIZES if s <= PURE_PYTHON_MAX], [1]),
        ("numpy", baselines.numpy_render, SIZES, [1]),
        ("numba parallel", baselines.numba_render, SIZES + [BIG], both),
        ("lupa Lua 5.4 classic", baselines.lupa_renderer("lupa.lua54", baselines.CLASSIC), SIZES, both),
        ("lupa Lua 5.4 table.concat", baselines.lupa_renderer("lupa.lua54", baselines.CLASSIC_CONCAT), SIZES, both),
        ("lupa LuaJIT classic", baselines.lupa_renderer("lupa.luajit21", baselines.CLASSIC), SIZES, both),
        ("lupa LuaJIT table.concat", baselines.lupa_renderer("lupa.luajit21", baselines.CLASSIC_CONCAT), SIZES, both),
    ]
    found += luarun_renderers.contenders(SIZES, BIG, both)
    return found


def time_render(render, n, threads, reference_md5):
    """Median wall time over adaptive repeats, after a checked warm-up run."""
    body = render(n, threads)
    digest = p4_md5(n, body)
    if digest != reference_md5:
        return None, f"wrong output (md5 {digest})"
    first = time.perf_counter()
    render(n, threads)
    first = time.perf_counter() - first
    repeats = 5 if first < 0.5 else 3 if first < 5 else 1
    samples = [first]
    for _ in range(repeats - 1):
        started = time.perf_counter()
        render(n, threads)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), f"{len(samples)} runs"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/bench-compare"))
    parser.add_argument("--quick", action="store_true", help="sizes 320 and 640 only")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the table and plot from --out/compare.json, no renders")
    args = parser.parse_args()
    if args.replot:
        report = json.loads((args.out / "compare.json").read_text())
        markdown = to_markdown(report["results"], report["ratios"], report["machine"])
        (args.out / "compare.md").write_text(markdown)
        plot(report["results"], args.out / "compare.png", report["machine"])
        return
    if args.quick:
        SIZES[:] = [320, 640]
    args.out.mkdir(parents=True, exist_ok=True)

    reference = {}
    for n in SIZES + [BIG]:
        # The native engine is verified against the Benchmarks Game md5s in the test
        # suite; here it provides the reference for every size.
        reference[n] = p4_md5(n, luarun_renderers.native(n, 2))

    results = []
    for name, render, sizes, thread_counts in implementations():
        for n in sizes:
            if args.quick and n not in SIZES:
                continue
            for threads in thread_counts:
                seconds, note = time_render(render, n, threads, reference[n])
                results.append(
                    {"name": name, "size": n, "threads": threads, "seconds": seconds, "note": note}
                )
                shown = f"{seconds:.4f} s" if seconds is not None else note
                print(f"{name:40s} n={n:5d} threads={threads}: {shown}", flush=True)

    machine = {
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "system": platform.platform(),
    }
    report = {"machine": machine, "results": results, "ratios": ratios(results)}
    (args.out / "compare.json").write_text(json.dumps(report, indent=2))
    markdown = to_markdown(results, report["ratios"], machine)
    (args.out / "compare.md").write_text(markdown)
    print()
    print(markdown)
    plot(results, args.out / "compare.png", machine)
    print(f"wrote {args.out}/compare.md, compare.json, compare.png")


def lookup(results, name, n, threads):
    for r in results:
        if r["name"] == name and r["size"] == n and r["threads"] == threads:
            return r["seconds"]
    return None


def ratios(results):
    """The ratios the project aims for, as measured (None where a part is missing)."""
    out = []
    for flavor, lupa in [("Lua 5.4", "lupa Lua 5.4"), ("LuaJIT", "lupa LuaJIT")]:
        for n in SIZES:
            for threads in [1, 2]:
                lupa_best = min(
                    (t for t in (lookup(results, f"{lupa} classic", n, threads),
                                 lookup(results, f"{lupa} table.concat", n, threads)) if t),
                    default=None,
                )
                seed = lookup(results, f"luarun pool, classic kernel ({flavor})", n, threads)
                shipped = lookup(results, f"luarun Lua engine ({flavor})", n, threads)
                if lupa_best:
                    out.append({"ratio": f"classic kernel through luarun's pool / best lupa ({flavor})",
                                "size": n, "threads": threads, "goal": "<= 0.85",
                                "value": seed / lupa_best if seed else None})
                    out.append({"ratio": f"luarun Lua engine / best lupa ({flavor})",
                                "size": n, "threads": threads, "goal": "<= 0.4",
                                "value": shipped / lupa_best if shipped else None})
    for n in [4000, BIG]:
        numba = lookup(results, "numba parallel", n, 2)
        native = lookup(results, "luarun native", n, 2)
        if numba and native:
            out.append({"ratio": "numba parallel / luarun native (speed-up)", "size": n,
                        "threads": 2, "goal": ">= 25", "value": numba / native})
    for name in ["luarun native", "luarun Lua engine (Lua 5.4)", "luarun Lua engine (LuaJIT)",
                 "numba parallel", "lupa Lua 5.4 table.concat"]:
        one, two = lookup(results, name, 1280, 1), lookup(results, name, 1280, 2)
        if one and two:
            out.append({"ratio": f"{name}: 1 -> 2 threads speed-up", "size": 1280,
                        "threads": 2, "goal": ">= 1.9", "value": one / two})
    return out


def to_markdown(results, ratio_rows, machine):
    names = list(dict.fromkeys(r["name"] for r in results))
    columns = sorted({(r["size"], r["threads"]) for r in results})
    lines = [
        f"Machine: {machine['cores']} cores, {machine['processor']} ({machine['system']}), "
        f"Python {machine['python']}. Median seconds; lower is better.",
        "",
        "| renderer | " + " | ".join(f"{n} t{t}" for n, t in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name in names:
        cells = []
        for n, t in columns:
            s = lookup(results, name, n, t)
            cells.append(f"{s:.3f}" if s is not None else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| ratio | size | threads | goal | measured |", "|---|---|---|---|---|"]
    for r in ratio_rows:
        value = f"{r['value']:.2f}" if r["value"] is not None else "n/a"
        lines.append(f"| {r['ratio']} | {r['size']} | {r['threads']} | {r['goal']} | {value} |")
    return "\n".join(lines) + "\n"


def plot(results, path, machine):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["name"] for r in results))
    # One colour per renderer in both panels; luarun solid, the others dashed.
    palette = list(plt.get_cmap("tab10").colors) + ["black", "goldenrod", "teal", "navy"]
    colours = dict(zip(names, palette))
    fig, axes = plt.subplots(1, 2, figsize=(13, 7), sharey=True)
    for ax, threads in zip(axes, [1, 2]):
        for name in names:
            points = sorted((r["size"], r["seconds"]) for r in results
                            if r["name"] == name and r["threads"] == threads and r["seconds"])
            if points:
                xs, ys = zip(*points)
                style = "-" if name.startswith("luarun") else "--"
                ax.plot(xs, ys, style, marker="o", color=colours[name], label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("image size N (N x N pixels)")
        ax.set_title(f"{threads} thread{'s' if threads > 1 else ''}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds (median, log scale)")
    handles = [plt.Line2D([], [], color=colours[n], marker="o",
                          linestyle="-" if n.startswith("luarun") else "--") for n in names]
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"Mandelbrot, 50 iterations, 1 bit per pixel - {machine['cores']}-core "
                 f"{machine['machine']}")
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
