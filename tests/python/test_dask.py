"""luarun.dask on a real dask.distributed LocalCluster (2 worker processes, 1 thread each):
tiles assembled by dask are bit-exact with a single-process render in every format and
for any chunking, images stream to Zarr, PBM and PNG, Lua jobs run on states each worker
keeps, a runaway or failing item fails only its task, and a killed worker costs nothing
but time."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
import tracemalloc

import pytest
from conftest import REPO

INSTALL = (
    "install it with `make build/venv/.ready` (tests/python/requirements-dask.txt) or "
    "pip install 'luarun[dask]'"
)
dask = pytest.importorskip("dask", reason=f"dask is not installed: {INSTALL}")
distributed = pytest.importorskip("distributed", reason=f"dask.distributed is not installed: {INSTALL}")
np = pytest.importorskip("numpy", reason=f"numpy is not installed: {INSTALL}")

import luarun  # noqa: E402
import luarun.dask as lrd  # noqa: E402

FORMATS = ["bits", "counts_u32", "rgb8", "counts_u16", "counts_u8"]
SIZE = 4000
# Uneven tiles; every column but the last a multiple of 8 (bits packs 8 pixels a byte).
UNEVEN = ((1, 1499, 2500), (8, 2392, 1000, 600))
# A region whose pixels take long in the Lua engine (no in-set shortcut helps there).
SEAHORSE = (-0.7454, -0.7434, 0.1127, 0.1147)


@pytest.fixture(scope="module")
def client():
    """One cluster for the whole module: starting worker processes takes seconds."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def reference_md5():
    """md5 of the single-process 4000 x 4000 render of each format."""
    return {f: hashlib.md5(bytes(luarun.mandelbrot(SIZE, format=f))).hexdigest() for f in FORMATS}


def md5_of(array) -> str:
    return hashlib.md5(np.ascontiguousarray(array).tobytes()).hexdigest()


def worker_pids(client) -> dict:
    return client.run(os.getpid)


def test_importing_luarun_does_not_import_dask():
    script = "import sys, luarun; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'zarr')))"
    env = dict(os.environ, PYTHONPATH=str(REPO / "bindings" / "python"))
    output = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                            capture_output=True, text=True).stdout
    assert output.strip() == "[]"


@pytest.mark.parametrize("format", FORMATS)
def test_4000_square_from_16_tiles_equals_the_single_process_render(client, reference_md5, format):
    image = lrd.mandelbrot_array(SIZE, chunks=1000, format=format)
    assert image.numblocks[:2] == (4, 4)
    assert md5_of(image.compute()) == reference_md5[format]


@pytest.mark.parametrize("format", FORMATS)
def test_4000_square_from_uneven_chunks_equals_the_single_process_render(client, reference_md5, format):
    image = lrd.mandelbrot_array(SIZE, chunks=UNEVEN, format=format)
    assert image.numblocks[:2] == (3, 4)
    assert md5_of(image.compute()) == reference_md5[format]


def test_bits_image_whose_width_is_not_a_multiple_of_8_keeps_its_row_padding(client):
    image = lrd.mandelbrot_array(1001, 999, chunks=((500, 499), (496, 505)), format="bits")
    assert image.shape == (999, 126)
    assert md5_of(image.compute()) == hashlib.md5(bytes(luarun.mandelbrot(1001, 999))).hexdigest()


def test_lua_engine_tiles_on_luajit_equal_the_native_render(client):
    image = lrd.mandelbrot_array(480, chunks=(160, 96), engine="lua", flavor="luajit",
                                 max_iter=200, format="counts_u32")
    assert md5_of(image.compute()) == hashlib.md5(
        bytes(luarun.mandelbrot(480, max_iter=200, format="counts_u32"))).hexdigest()


def test_arrays_have_the_shapes_and_types_of_their_format():
    shapes = {f: (lrd.mandelbrot_array(100, 60, format=f).shape,
                  lrd.mandelbrot_array(100, 60, format=f).dtype.name) for f in FORMATS}
    assert shapes == {
        "bits": ((60, 13), "uint8"),
        "counts_u32": ((60, 100), "uint32"),
        "rgb8": ((60, 100, 3), "uint8"),
        "counts_u16": ((60, 100), "uint16"),
        "counts_u8": ((60, 100), "uint8"),
    }


@pytest.mark.parametrize("alias, name", [("counts", "counts_u32"), ("rgb", "rgb8"),
                                         ("counts16", "counts_u16"), ("counts8", "counts_u8")])
def test_the_older_format_names_give_the_same_arrays(alias, name):
    older = lrd.mandelbrot_array(100, 60, chunks=(30, 48), format=alias)
    canonical = lrd.mandelbrot_array(100, 60, format=name)
    assert (older.shape, older.dtype) == (canonical.shape, canonical.dtype)
    pixels = np.ascontiguousarray(older.compute(scheduler="sync"))
    assert pixels.tobytes() == bytes(luarun.mandelbrot(100, 60, format=name))


def test_bits_tiles_narrower_than_whole_bytes_are_refused_with_the_fix():
    with pytest.raises(luarun.InvalidArgument, match="multiple of 8") as error:
        lrd.mandelbrot_array(1000, chunks=(500, 100), format="bits")
    assert "format='counts_u8'" in str(error.value)


def test_bad_parameters_are_refused_on_the_client_before_any_task():
    with pytest.raises(luarun.InvalidArgument, match="max_iter"):
        lrd.mandelbrot_array(100, max_iter=0)
    with pytest.raises(luarun.InvalidArgument, match="unknown pixel format"):
        lrd.mandelbrot_array(100, format="jpeg")
    with pytest.raises(luarun.InvalidArgument, match="add up to"):
        lrd.mandelbrot_array(100, chunks=((50,), (100,)))


class NoCtypesPickler(pickle.Pickler):
    """Refuses any ctypes object: what a task carries must pickle without the library."""

    def reducer_override(self, obj):
        import ctypes

        ctypes_types = (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array,
                        ctypes._Pointer, ctypes._CFuncPtr, ctypes.CDLL)
        if isinstance(obj, ctypes_types) or isinstance(obj, type) and issubclass(obj, ctypes_types):
            raise pickle.PicklingError(f"a task carries a ctypes object: {obj!r}")
        return NotImplemented


def test_task_graphs_carry_no_ctypes_objects():
    image = lrd.mandelbrot_array(800, chunks=200, engine="lua", format="rgb8")
    job = lrd.map_lua("function f(x) return x end", "f", range(10), options={"timeout": 1.0})
    for collection in (image, job):
        NoCtypesPickler(io.BytesIO()).dump(dict(collection.__dask_graph__()))


def test_zarr_store_holds_the_exact_image_and_its_attributes(client, tmp_path):
    zarr = pytest.importorskip("zarr", reason=f"zarr is not installed: {INSTALL}")
    image = lrd.mandelbrot_array(1500, 1100, chunks=((300, 500, 300), (1000, 500)), format="counts_u16")
    lrd.to_zarr(image, str(tmp_path / "m.zarr"), attrs={"max_iter": 50})
    stored = zarr.open_array(str(tmp_path / "m.zarr"), mode="r")
    assert stored.shape == (1100, 1500) and stored.chunks == (300, 1000)
    assert stored.attrs["max_iter"] == 50
    expected = bytes(luarun.mandelbrot(1500, 1100, format="counts_u16"))
    assert md5_of(stored[:]) == hashlib.md5(expected).hexdigest()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        lrd.to_zarr(image, str(tmp_path / "m.zarr"))


def test_streamed_pbm_is_the_single_process_file(client, tmp_path):
    image = lrd.mandelbrot_array(3999, 2001, chunks=(250, 2000))
    lrd.write_pbm(image, tmp_path / "m.pbm", width=3999)
    written = (tmp_path / "m.pbm").read_bytes()
    assert hashlib.md5(written).hexdigest() == hashlib.md5(
        luarun.to_pbm(luarun.mandelbrot(3999, 2001), 3999, 2001)).hexdigest()


def test_bands_stream_without_a_cluster_too(tmp_path, monkeypatch):
    monkeypatch.setattr(lrd._writers, "_distributed_client", lambda: None)
    image = lrd.mandelbrot_array(640, 480, chunks=(100, 320))
    assert [band.shape for band in lrd.iter_bands(image)] == [(100, 80)] * 4 + [(80, 80)]
    lrd.write_pbm(image, tmp_path / "m.pbm")
    assert (tmp_path / "m.pbm").read_bytes() == luarun.to_pbm(luarun.mandelbrot(640, 480), 640, 480)


@pytest.mark.parametrize("format", ["bits", "rgb8", "counts_u8", "counts_u16", "counts16"])
def test_streamed_png_decodes_to_the_single_process_render(client, tmp_path, format):
    image_module = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    width, height = 1003, 517
    image = lrd.mandelbrot_array(width, height, chunks=(100, 504), format=format)
    lrd.write_png(image, tmp_path / "m.png", format=format, width=width)
    decoded = image_module.open(tmp_path / "m.png")
    expected = luarun.to_image(luarun.mandelbrot(width, height, format=format), width, height, format)
    assert decoded.size == (width, height)
    if format in ("counts_u16", "counts16"):
        assert np.array_equal(np.asarray(decoded), np.asarray(expected))
    else:
        assert decoded.convert("RGB").tobytes() == expected.convert("RGB").tobytes()


def test_png_writer_holds_a_few_bands_not_the_image(client, tmp_path):
    image = lrd.mandelbrot_array(SIZE, chunks=(250, SIZE), format="rgb8")  # 16 bands
    whole = SIZE * SIZE * 3
    tracemalloc.start()
    try:
        lrd.write_png(image, tmp_path / "m.png", compress_level=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < whole / 2, f"peak {peak} bytes for a {whole}-byte image"


def test_png_refuses_32_bit_counts_and_asks_for_a_format():
    with pytest.raises(luarun.InvalidArgument, match="counts_u16"):
        lrd.write_png(lrd.mandelbrot_array(100, format="counts_u32"), "never.png")
    with pytest.raises(luarun.InvalidArgument, match="format='bits' or format='counts_u8'"):
        lrd.write_png(lrd.mandelbrot_array(100, format="counts_u8"), "never.png")
    with pytest.raises(luarun.InvalidArgument, match="write_png takes format 'bits', 'counts_u8'"):
        lrd.write_png(lrd.mandelbrot_array(100, format="counts_u8"), "never.png", format="gif")


def jobs_on_workers(client, code: str) -> list:
    digest = hashlib.sha256(code.encode()).hexdigest()
    return [job for jobs in client.run(lrd.worker_cache_info).values()
            for job in jobs if job["code_sha256"] == digest]


def test_map_lua_over_10000_items_on_one_state_per_worker(client):
    code = "local calls = 0\nfunction score(x) calls = calls + 1 return x * x + 1 end"
    results = lrd.map_lua(code, "score", range(10_000), npartitions=20,
                          options={"timeout": 5.0}).compute()
    assert results == [x * x + 1 for x in range(10_000)]
    jobs = jobs_on_workers(client, code)
    assert 1 <= len(jobs) <= 2
    assert [job["states_created"] for job in jobs] == [1] * len(jobs)
    assert all(job["options"] == {"timeout": 5.0} for job in jobs)


def test_clear_worker_cache_closes_the_kept_states(client):
    code = "function twice(x) return 2 * x end"
    assert lrd.map_lua(code, "twice", range(100), npartitions=4).compute() == list(range(0, 200, 2))
    assert jobs_on_workers(client, code)
    client.run(lrd.clear_worker_cache)
    assert jobs_on_workers(client, code) == []


def test_map_lua_items_and_results_are_plain_data(client):
    code = """
    function describe(item)
      if type(item) == 'table' then
        return {name = item.name, twice = {item.n * 2, item.n * 4}}
      end
      return item .. '!', #item
    end"""
    bag = dask.bag.from_sequence([{"name": "a", "n": 1}, "hi", {"name": "b", "n": 3}], npartitions=2)
    assert lrd.map_lua(code, "describe", bag).compute() == [
        {"name": "a", "twice": [2, 4]},
        ("hi!", 2),
        {"name": "b", "twice": [6, 12]},
    ]


def test_map_lua_runs_on_luajit_when_asked(client):
    results = lrd.map_lua("function v(x) return jit and jit.version or _VERSION end", "v",
                          [1, 2], options={"flavor": "luajit"}).compute()
    assert results[0].startswith("LuaJIT") and results[0] == results[1]


def test_a_runaway_item_stops_at_its_time_limit_and_the_other_tasks_finish(client):
    pids = worker_pids(client)
    code = "function f(x) if x == 13 then while true do end end return -x end"
    bag = lrd.map_lua(code, "f", range(40), npartitions=4, options={"timeout": 0.5})
    futures = client.compute(bag.to_delayed())
    distributed.wait(futures, timeout=120)
    assert [f.status for f in futures] == ["finished", "error", "finished", "finished"]
    error = futures[1].exception()
    assert isinstance(error, luarun.LuaTimeoutError)
    assert "time limit" in str(error) and "item 3 of this partition: 13" in str(error)
    assert client.gather(futures[0]) == [-x for x in range(10)]
    assert client.gather(futures[3]) == [-x for x in range(30, 40)]
    assert worker_pids(client) == pids  # no worker died or restarted


def test_a_lua_error_fails_its_task_with_the_lua_message(client):
    pids = worker_pids(client)
    code = "function f(x) if x == 25 then error('no score for ' .. x) end return x end"
    futures = client.compute(lrd.map_lua(code, "f", range(40), npartitions=4).to_delayed())
    distributed.wait(futures, timeout=120)
    assert [f.status for f in futures] == ["finished", "finished", "error", "finished"]
    error = futures[2].exception()
    assert type(error) is luarun.LuaError
    assert "no score for 25" in str(error)
    assert worker_pids(client) == pids


def test_map_lua_refuses_bad_code_and_options_on_the_client():
    with pytest.raises(luarun.LuaSyntaxError, match="does not compile"):
        lrd.map_lua("function f(x) return x +", "f", [1])
    with pytest.raises(luarun.InvalidArgument, match="unknown map_lua options"):
        lrd.map_lua("function f(x) return x end", "f", [1], options={"time_limit": 1})
    with pytest.raises(luarun.InvalidArgument, match="timeout"):
        lrd.map_lua("function f(x) return x end", "f", [1], options={"timeout": -1})


def test_a_missing_function_is_a_clear_error(client):
    with pytest.raises(luarun.LuaTypeError, match="'score' is a nil, not a function"):
        lrd.map_lua("function scores(x) return x end", "score", [1]).compute()


def test_a_worker_killed_mid_compute_still_yields_the_exact_image(client):
    pids = worker_pids(client)
    image = lrd.mandelbrot_array(800, chunks=100, engine="lua", max_iter=300,
                                 viewport=SEAHORSE, format="counts_u32")
    kept = client.persist(image)
    tiles = distributed.futures_of(kept)
    deadline = time.monotonic() + 120
    while not any(f.done() for f in tiles) and time.monotonic() < deadline:
        time.sleep(0.01)
    holders = {w for f in tiles if f.done() for w in client.who_has([f])[f.key]}
    done_at_kill = sum(f.done() for f in tiles)
    victim = sorted(holders)[0]
    os.kill(pids[victim], signal.SIGKILL)
    result = kept.compute()
    assert 0 < done_at_kill < len(tiles)  # the kill came mid-compute, and cost a held tile
    assert md5_of(result) == hashlib.md5(bytes(luarun.mandelbrot(
        800, max_iter=300, viewport=SEAHORSE, format="counts_u32"))).hexdigest()
    client.wait_for_workers(2, timeout=120)
    assert pids[victim] not in worker_pids(client).values()  # the nanny started a new one


def test_the_package_ships_luarun_dask_and_its_extra():
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11+")
    project = tomllib.loads((REPO / "bindings" / "python" / "pyproject.toml").read_text())
    # The in-tree build backend ships the whole luarun directory, subpackages included.
    sys.path.insert(0, str(REPO / "bindings" / "python" / "build_backend"))
    try:
        from luarun_build import layout
    finally:
        sys.path.pop(0)
    shipped = [f.relative_to(layout.PROJECT_DIR).as_posix()
               for f in layout.shipped_files(layout.PROJECT_DIR, layout.PACKAGE)]
    assert "luarun/dask/__init__.py" in shipped
    extra = " ".join(project["project"]["optional-dependencies"]["dask"])
    assert "dask[distributed]" in extra and "zarr" in extra
