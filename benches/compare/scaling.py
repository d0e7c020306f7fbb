"""Thread scaling: renders at 1/2/4/8/16 threads (capped at the cores present), as the
original comparison's table did, for luarun's engines and lupa. Prints a Markdown table
of median seconds with the speed-up over 1 thread; writes it with JSON to --out.
Run through `make bench-scaling`."""

import argparse
import json
import os
import platform
from pathlib import Path

import baselines
import luarun_renderers
from compare import p4_md5, time_render

SIZES = [1280, 4000]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/bench-scaling"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    threads = [t for t in (1, 2, 4, 8, 16) if t <= cores]
    contenders = [
        ("luarun native", luarun_renderers.native),
        ("luarun Lua engine (Lua 5.4)", luarun_renderers.lua_engine("lua54")),
        ("luarun Lua engine (LuaJIT)", luarun_renderers.lua_engine("luajit")),
        ("lupa Lua 5.4 table.concat", baselines.lupa_renderer("lupa.lua54", baselines.CLASSIC_CONCAT)),
        ("lupa LuaJIT table.concat", baselines.lupa_renderer("lupa.luajit21", baselines.CLASSIC_CONCAT)),
    ]
    rows = []
    for n in SIZES:
        reference = p4_md5(n, luarun_renderers.native(n, 1))
        for name, render in contenders:
            base = None
            for t in threads:
                seconds, note = time_render(render, n, t, reference)
                base = base or seconds
                rows.append({"name": name, "size": n, "threads": t, "seconds": seconds,
                             "speedup": base / seconds if seconds else None, "note": note})
                print(f"{name:32s} n={n} threads={t}: {seconds:.4f} s", flush=True)
    header = f"Machine: {cores} cores, {platform.processor() or platform.machine()}. " \
             "Median seconds (speed-up over 1 thread)."
    lines = [header, "", "| renderer | size | " + " | ".join(f"{t} thr" for t in threads) + " |",
             "|---|---|" + "---|" * len(threads)]
    for n in SIZES:
        for name, _ in contenders:
            cells = [f"{r['seconds']:.3f} ({r['speedup']:.2f}x)" for r in rows
                     if r["name"] == name and r["size"] == n]
            lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    (args.out / "scaling.md").write_text(table)
    (args.out / "scaling.json").write_text(json.dumps({"cores": cores, "rows": rows}, indent=2))
    print()
    print(table)


if __name__ == "__main__":
    main()
