"""luarun.mandelbrot: bit-exact renders written into caller buffers without copies."""

from __future__ import annotations

import hashlib
import threading

import pytest

import luarun
from luarun import _ffi
from luarun._render import ENGINES, FORMAT_ALIASES, PIXEL_FORMATS

pytestmark = pytest.mark.skipif(
    not _ffi.lib.has("luarun_mandelbrot_render"),
    reason=f"the loaded library ({_ffi.lib.path}) has no luarun_mandelbrot_render: "
    "built without the render API",
)

# md5 of the whole P4 file (header + body): Computer Language Benchmarks Game outputs.
P4_MD5 = {200: "cc65e64bd553ed18896de1dfe7fae3e5", 1280: "78569dd915415503b8f03f7013c47891"}


def p4_md5(pixels, size):
    return hashlib.md5(luarun.to_pbm(pixels, size)).hexdigest()


@pytest.mark.parametrize("engine", ["native", "lua"])
@pytest.mark.parametrize("threads", [1, 0])
def test_default_200_render_matches_the_benchmarks_game_output(engine, threads):
    assert p4_md5(luarun.mandelbrot(200, engine=engine, threads=threads), 200) == P4_MD5[200]


def test_native_1280_render_matches_the_benchmarks_game_output():
    assert p4_md5(luarun.mandelbrot(1280), 1280) == P4_MD5[1280]


def test_engines_and_thread_counts_agree_on_odd_sizes():
    renders = {
        (engine, threads): bytes(luarun.mandelbrot(123, 77, engine=engine, threads=threads))
        for engine in ("native", "lua")
        for threads in (1, 3)
    }
    assert len(set(renders.values())) == 1
    assert len(next(iter(renders.values()))) == 16 * 77


def test_height_defaults_to_width():
    assert luarun.mandelbrot(40) == luarun.mandelbrot(40, 40)
    assert luarun.mandelbrot_buffer_size(40) == luarun.mandelbrot_buffer_size(40, 40)


def test_buffer_sizes_follow_the_formats():
    assert luarun.mandelbrot_buffer_size(10, 3) == 2 * 3
    assert luarun.mandelbrot_buffer_size(10, 3, format="counts_u32") == 10 * 3 * 4
    assert luarun.mandelbrot_buffer_size(10, 3, format="rgb8") == 10 * 3 * 3


def test_counts_agree_with_bits():
    size, max_iter = 64, 50
    bits = luarun.mandelbrot(size, max_iter=max_iter)
    counts = memoryview(luarun.mandelbrot(size, max_iter=max_iter, format="counts_u32")).cast("I")
    for y in range(size):
        for x in range(size):
            in_set = bits[y * (size // 8) + x // 8] >> (7 - x % 8) & 1
            assert in_set == (counts[y * size + x] == max_iter)


def test_rgb_paints_in_set_pixels_black():
    size = 32
    counts = memoryview(luarun.mandelbrot(size, format="counts_u32")).cast("I")
    rgb = luarun.mandelbrot(size, format="rgb8")
    assert len(rgb) == size * size * 3
    for i, count in enumerate(counts):
        if count == 50:
            assert rgb[3 * i : 3 * i + 3] == b"\0\0\0"
    assert any(rgb)


def test_renders_write_into_the_given_bytearray_and_return_it():
    out = bytearray(luarun.mandelbrot_buffer_size(200))
    assert luarun.mandelbrot(200, out=out) is out
    assert p4_md5(out, 200) == P4_MD5[200]


def test_a_memoryview_window_is_filled_in_place():
    backing = bytearray(10 + 5000)
    luarun.mandelbrot(200, out=memoryview(backing)[10:])
    assert backing[:10] == bytes(10)
    assert p4_md5(backing[10:], 200) == P4_MD5[200]


def test_numpy_arrays_are_filled_without_copying():
    np = pytest.importorskip("numpy")
    counts = np.zeros((40, 50), dtype=np.uint32)
    address = counts.ctypes.data
    result = luarun.mandelbrot(50, 40, format="counts_u32", out=counts)
    assert result is counts and counts.ctypes.data == address
    assert counts.max() == 50 and counts.min() >= 1
    rgb = np.empty((40, 50, 3), dtype=np.uint8)
    luarun.mandelbrot(50, 40, format="rgb8", out=rgb)
    assert (rgb[counts == 50] == 0).all()
    pixels = np.zeros(40 * 50, dtype=[("r", "u1"), ("g", "u1"), ("b", "u1")])
    luarun.mandelbrot(50, 40, format="rgb8", out=pixels)
    assert (pixels["r"].reshape(40, 50) == rgb[:, :, 0]).all()


def test_a_too_small_buffer_is_refused_with_the_sizes():
    with pytest.raises(luarun.BufferTooSmall, match="5000"):
        luarun.mandelbrot(200, out=bytearray(100))


def test_read_only_and_non_contiguous_buffers_are_refused():
    with pytest.raises(TypeError, match="read-only"):
        luarun.mandelbrot(8, out=b"\0" * 8)
    np = pytest.importorskip("numpy")
    with pytest.raises(luarun.InvalidArgument, match="contiguous"):
        luarun.mandelbrot(8, 8, format="counts_u32", out=np.zeros((8, 16), np.uint32)[:, ::2])


def test_invalid_parameters_raise_invalid_argument():
    with pytest.raises(luarun.InvalidArgument):
        luarun.mandelbrot(0)
    with pytest.raises(luarun.InvalidArgument, match="engine"):
        luarun.mandelbrot(8, engine="gpu")
    with pytest.raises(luarun.InvalidArgument, match="viewport"):
        luarun.mandelbrot(8, viewport=(0, 1))


@pytest.mark.parametrize("engine", ["native", "lua"])
def test_progress_reports_rows_until_done(engine):
    calls = []
    report = lambda done, total: calls.append((done, total))  # noqa: E731
    luarun.mandelbrot(64, threads=2, engine=engine, progress=report)
    assert calls and calls[-1] == (64, 64)
    assert all(total == 64 for _, total in calls)


@pytest.mark.parametrize("answer", [True, 1, -1, "stop", [0]])
def test_progress_returning_a_truthy_value_cancels(answer):
    with pytest.raises(luarun.Cancelled):
        luarun.mandelbrot(256, threads=1, progress=lambda done, total: answer)


@pytest.mark.parametrize("answer", [None, False, 0, "", []])
def test_progress_returning_a_falsy_value_continues(answer):
    expected = luarun.mandelbrot(64)
    assert luarun.mandelbrot(64, threads=1, progress=lambda done, total: answer) == expected


def test_an_exception_in_progress_cancels_and_is_re_raised():
    class Stop(Exception):
        pass

    def progress(done, total):
        raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        luarun.mandelbrot(256, threads=1, progress=progress)


def test_the_gil_is_released_while_rendering():
    # The progress callback (on a render thread) waits for this thread; that can only
    # happen if the render call released the GIL.
    started, answered = threading.Event(), threading.Event()
    seen = []

    def progress(done, total):
        started.set()
        seen.append(answered.wait(10))
        return False

    thread = threading.Thread(target=lambda: luarun.mandelbrot(64, threads=1, progress=progress))
    thread.start()
    assert started.wait(10)
    answered.set()
    thread.join(30)
    assert seen and seen[0] is True


def test_format_and_engine_names_are_the_c_constant_suffixes_in_lower_case():
    assert list(PIXEL_FORMATS) == ["bits", "counts_u32", "rgb8", "counts_u16", "counts_u8"]
    assert list(ENGINES) == ["native", "lua"]
    for name, number in PIXEL_FORMATS.items():
        assert getattr(_ffi, f"PIXELS_{name.upper()}") == number
        assert luarun.mandelbrot(9, 5, format=name) == luarun.mandelbrot(9, 5, format=number)
    for name, number in ENGINES.items():
        assert getattr(_ffi, f"ENGINE_{name.upper()}") == number
        assert luarun.mandelbrot(9, 5, engine=name) == luarun.mandelbrot(9, 5, engine=number)


@pytest.mark.parametrize("alias", list(FORMAT_ALIASES))
def test_the_older_format_names_still_work(alias):
    canonical = FORMAT_ALIASES[alias]
    assert canonical in PIXEL_FORMATS
    assert luarun.mandelbrot(9, 5, format=alias) == luarun.mandelbrot(9, 5, format=canonical)
    assert luarun.mandelbrot_buffer_size(9, 5, format=alias) == len(
        luarun.mandelbrot(9, 5, format=canonical)
    )


@pytest.mark.parametrize("format", ["jpeg", 99, 2.0, True, None])
def test_an_unknown_format_is_refused_with_the_accepted_names(format):
    with pytest.raises(luarun.InvalidArgument) as error:
        luarun.mandelbrot(8, format=format)
    message = str(error.value)
    assert f"unknown pixel format {format!r}" in message
    assert "'bits', 'counts_u32', 'rgb8', 'counts_u16', 'counts_u8'" in message
    assert "'counts', 'rgb', 'counts16', 'counts8'" in message  # the aliases too


def test_an_unknown_engine_is_refused_with_the_accepted_names():
    with pytest.raises(luarun.InvalidArgument, match="unknown engine 'simd'; choose from 'native', 'lua'"):
        luarun.mandelbrot(8, engine="simd")


@pytest.mark.parametrize(
    "format, mode",
    [("bits", "1"), ("counts_u32", "I"), ("rgb8", "RGB"), ("counts_u16", "I;16"),
     ("counts_u8", "L"), ("rgb", "RGB"), ("counts8", "L")],
)
def test_to_image_takes_every_format(format, mode):
    pytest.importorskip("PIL")
    image = luarun.to_image(luarun.mandelbrot(20, 10, format=format), 20, 10, format=format)
    assert image.mode == mode and image.size == (20, 10)


def test_to_image_gives_pillow_images():
    pytest.importorskip("PIL")
    bits = luarun.mandelbrot(200)
    image = luarun.to_image(bits, 200)
    assert image.mode == "1" and image.size == (200, 200)
    assert image.getpixel((150, 100)) == 0  # (0, 0) of the plane is in the set: black
    assert image.getpixel((0, 0)) == 255
    rgb = luarun.to_image(luarun.mandelbrot(20, 10, format="rgb8"), 20, 10, format="rgb8")
    assert rgb.mode == "RGB" and rgb.size == (20, 10)


@pytest.mark.parametrize("flavor", ["lua54", "luajit"])
def test_released_render_pools_are_rebuilt_by_the_next_lua_render(flavor):
    first = luarun.mandelbrot(64, engine="lua", flavor=flavor, threads=2)
    luarun.release_render_pools(flavor)
    assert luarun.mandelbrot(64, engine="lua", flavor=flavor, threads=2) == first
    assert luarun.mandelbrot(64, engine="native") == first
