"""Mandelbrot renders into caller buffers (``luarun_mandelbrot_render``).

Pixels are written straight into ``out`` (a bytearray, memoryview, numpy array or any
writable C-contiguous buffer): no copy on the way back. The GIL is released while the
library renders; a ``progress`` callable runs with the GIL held, on the library's
threads.
"""

from __future__ import annotations

import ctypes
from ctypes import byref
from typing import Any, Callable, Sequence

from . import _checks, _ffi, _signals
from ._errors import Cancelled, InvalidArgument, check, flavor_library, last_error
from ._errors import last_error_message
from ._ffi import lib

#: Engines by name: the ``LUARUN_ENGINE_*`` constants in lower case (``"native"``,
#: ``"lua"``).
ENGINES = _ffi.named_constants("ENGINE")
#: Pixel formats by name: the ``LUARUN_PIXELS_*`` constants in lower case (``"bits"``,
#: ``"counts_u32"``, ``"rgb8"``, ``"counts_u16"``, ``"counts_u8"``).
PIXEL_FORMATS = _ffi.named_constants("PIXELS")
#: The pixel format names of earlier versions, still accepted: alias -> C name.
FORMAT_ALIASES = {
    "counts": "counts_u32",
    "rgb": "rgb8",
    "counts16": "counts_u16",
    "counts8": "counts_u8",
}


def _name_in(
    table: dict[str, int], value: str | int, what: str, aliases: dict[str, str] | None = None
) -> str:
    """The name of ``table`` that ``value`` stands for: the name itself, an alias of
    it, or its C number. :class:`InvalidArgument` listing the names otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        for name, number in table.items():
            if number == value:
                return name
    elif isinstance(value, str):
        name = (aliases or {}).get(value, value)
        if name in table:
            return name
    accepted = ", ".join(repr(name) for name in table)
    if aliases:
        accepted += f" (or the older {', '.join(repr(alias) for alias in aliases)})"
    raise InvalidArgument(f"unknown {what} {value!r}; choose from {accepted}")


def engine_name(engine: str | int) -> str:
    """The C name, lower case, of an engine given by name or number (``"native"``)."""
    return _name_in(ENGINES, engine, "engine")


def format_name(format: str | int) -> str:
    """The C name, lower case, of a pixel format given by name, older alias or number:
    ``format_name("rgb") == "rgb8"``."""
    return _name_in(PIXEL_FORMATS, format, "pixel format", FORMAT_ALIASES)


def _params(
    width: int,
    height: int | None,
    max_iter: int,
    viewport: Sequence[float],
    threads: int,
    engine: str | int,
    format: str | int,
    lua_kernel: str | bytes | None,
    offset: Sequence[int] = (0, 0),
    image_size: Sequence[int] | None = None,
    library: _ffi.Library = lib,
) -> _ffi.luarun_mandelbrot:
    params = _ffi.filled_defaults(_ffi.luarun_mandelbrot, library.luarun_mandelbrot_default)
    u32 = _checks.UINT32_MAX
    side = _ffi.MANDELBROT_MAX_SIDE  # the C check's bound, so both say the same range
    params.width = _checks.integer("width", width, 1, side)
    params.height = params.width if height is None else _checks.integer("height", height, 1, side)
    params.max_iter = _checks.integer("max_iter", max_iter, 1, u32)
    if len(viewport) != 4:
        raise InvalidArgument(f"viewport is (x_min, x_max, y_min, y_max), got {viewport!r}")
    params.x_min, params.x_max, params.y_min, params.y_max = (
        _checks.finite(f"viewport[{i}]", v) for i, v in enumerate(viewport)
    )
    params.threads = _checks.integer("threads", threads, 0, u32)
    params.engine = ENGINES[engine_name(engine)]
    params.format = PIXEL_FORMATS[format_name(format)]
    x_offset, y_offset = offset
    params.x_offset = _checks.integer("offset[0]", x_offset, 0, u32)
    params.y_offset = _checks.integer("offset[1]", y_offset, 0, u32)
    if image_size is not None:
        image_width, image_height = image_size
        params.image_width = _checks.integer("image_size[0]", image_width, 1, side)
        params.image_height = _checks.integer("image_size[1]", image_height, 1, side)
    if lua_kernel is not None and params.engine != _ffi.ENGINE_LUA:
        raise InvalidArgument("lua_kernel applies only to engine='lua'; the native engine has no kernel")
    if lua_kernel is not None:
        kernel = lua_kernel.encode() if isinstance(lua_kernel, str) else bytes(lua_kernel)
        # A (pointer, length) field: the cast object keeps the bytes alive with params.
        params.lua_kernel = ctypes.cast(ctypes.c_char_p(kernel), ctypes.c_void_p)
        params.lua_kernel_len = len(kernel)
    return params


def _explain_invalid(params: _ffi.luarun_mandelbrot, library: _ffi.Library) -> InvalidArgument:
    """The library's reason why ``params`` are invalid (a render with no buffer
    validates them first)."""
    status = library.luarun_mandelbrot_render(byref(params), None, 0)
    error = last_error(status, library)
    if isinstance(error, InvalidArgument):
        return error
    return InvalidArgument(f"invalid render parameters: {error.message}")


def mandelbrot_buffer_size(
    width: int, height: int | None = None, *, format: str | int = "bits"
) -> int:
    """Bytes a render of this size and format needs."""
    params = _params(width, height, 50, (-1.5, 0.5, -1.0, 1.0), 0, "native", format, None)
    size = lib.luarun_mandelbrot_buffer_size(byref(params))
    if size == 0:
        raise _explain_invalid(params, lib)
    return size


def writable_address(out: Any) -> tuple[int, int, Any]:
    """``(address, length, keepalive)`` of ``out``'s memory, without copying. The
    keepalive holds a buffer export, so ``out`` cannot be resized while it lives."""
    try:
        view = memoryview(out)
    except TypeError:
        raise TypeError(
            f"out must be a writable buffer (bytearray, memoryview, numpy array), "
            f"not {type(out).__name__}"
        ) from None
    if view.readonly:
        raise TypeError("out is read-only; pass a writable buffer such as a bytearray")
    if not view.c_contiguous:
        raise InvalidArgument("out must be C-contiguous (numpy: np.ascontiguousarray)")
    if view.nbytes == 0:
        return 0, 0, view
    try:
        target: Any = view.cast("B")
    except (TypeError, ValueError):  # formats memoryview cannot cast (numpy records)
        target = out
    window = (ctypes.c_char * view.nbytes).from_buffer(target)
    return ctypes.addressof(window), view.nbytes, (view, target, window)


def readable_address(data: Any) -> tuple[int, int, Any]:
    """``(address, length, keepalive)`` of a buffer the library only reads: its own
    memory when it is writable (no copy), else a copy (``bytes``, read-only arrays)."""
    view = memoryview(data)
    if not view.readonly:
        return writable_address(data)
    if not view.c_contiguous:
        raise InvalidArgument("the input must be C-contiguous (numpy: np.ascontiguousarray)")
    copy = ctypes.create_string_buffer(view.tobytes(), view.nbytes)
    return ctypes.addressof(copy), view.nbytes, copy


def mandelbrot(
    width: int,
    height: int | None = None,
    *,
    max_iter: int = 50,
    viewport: Sequence[float] = (-1.5, 0.5, -1.0, 1.0),
    threads: int = 0,
    engine: str | int = "native",
    format: str | int = "bits",
    out: Any = None,
    progress: Callable[[int, int], Any] | None = None,
    lua_kernel: str | bytes | None = None,
    offset: Sequence[int] = (0, 0),
    image_size: Sequence[int] | None = None,
    flavor: str = "lua54",
) -> Any:
    """Renders the Mandelbrot set (bit-exact across engines and thread counts).

    :param width: pixels per row; ``height`` defaults to ``width`` (a square image).
    :param max_iter: iterations per pixel (in-set pixels count ``max_iter``).
    :param viewport: ``(x_min, x_max, y_min, y_max)``; row 0 is ``y_min``.
    :param threads: worker threads, 0 = all cores.
    :param engine: ``"native"`` (SIMD) or ``"lua"`` (a Lua kernel on a pool of states):
        ``LUARUN_ENGINE_*`` in lower case, or the C number.
    :param format: ``LUARUN_PIXELS_*`` in lower case (or the C number): ``"bits"``
        (PBM P4 body: 1 bit per pixel, 1 = in the set, rows padded to whole bytes),
        ``"counts_u32"`` (one native-endian uint32 escape count per pixel), ``"rgb8"``
        (3 bytes per pixel, in-set pixels black), ``"counts_u16"`` / ``"counts_u8"``
        (uint16 / uint8 counts, saturated). The older names ``"counts"``, ``"rgb"``,
        ``"counts16"``, ``"counts8"`` still work (see ``FORMAT_ALIASES``).
    :param out: writable buffer to fill (at least :func:`mandelbrot_buffer_size`
        bytes); a new ``bytearray`` when None. View counts with
        ``numpy.frombuffer(out, numpy.uint32).reshape(height, width)``.
    :param progress: ``progress(rows_done, rows_total)``, called as rows finish (at
        most ~256 times) and about every 10 ms of work in between (from worker threads,
        one call at a time; ``rows_done`` never decreases, and may repeat). A truthy
        return (``True``, a non-zero number) cancels: the render raises
        :class:`Cancelled` within about a millisecond, ``out`` partly written; ``None``,
        ``False`` or ``0`` continue. An exception it raises cancels the render and is
        re-raised here.
    :param lua_kernel: Lua source replacing the built-in kernel of the Lua engine (it
        defines ``mandelbrot_row(y, p)`` like ``crates/luarun-render/lua/mandelbrot.lua``).
    :param offset: ``(x, y)`` of this tile in the whole image (default ``(0, 0)``).
    :param image_size: ``(width, height)`` of the whole image when rendering a tile;
        tiles give exactly the pixels of rendering the image whole.
    :param flavor: the library that renders: ``"lua54"`` or ``"luajit"`` (the Lua
        engine's kernel then runs on LuaJIT; the pixels are the same).
    :returns: ``out`` (or the new bytearray).

    With a progress bar (tqdm)::

        with tqdm(total=4000, unit="row") as bar:
            luarun.mandelbrot(4000, progress=lambda done, total: bar.update(done - bar.n))
    """
    library = flavor_library(flavor)
    params = _params(
        width, height, max_iter, viewport, threads, engine, format, lua_kernel, offset,
        image_size, library,
    )
    needed = library.luarun_mandelbrot_buffer_size(byref(params))
    if needed == 0:
        raise _explain_invalid(params, library)
    if out is None:
        out = bytearray(needed)
    address, length, keepalive = writable_address(out)
    reporter = ProgressReporter(progress, library)
    params.progress = reporter.callback
    status = library.luarun_mandelbrot_render(byref(params), address or None, length)
    del keepalive
    reporter.check(status)
    return out


class ProgressReporter:
    """Adapts a Python ``progress(done, total)`` callable to ``luarun_progress_callback``.
    It runs on worker threads: an exception it raises cancels the work and is re-raised
    by :meth:`check` on the calling thread."""

    def __init__(
        self, progress: Callable[[int, int], Any] | None, library: _ffi.Library
    ) -> None:
        self.progress = progress
        self.lib = library
        self.failure: list[BaseException] = []
        #: Set by Ctrl-C (see ``_signals``): the next report cancels the work.
        self.sigint = False
        # Always a callback, even without ``progress``: it is how Ctrl-C cancels.
        self.callback = _ffi.luarun_progress_callback(self._report)
        _signals.install_here()
        _signals.reporters.add(self)

    def _report(self, _user_data: Any, done: int, total: int) -> int:
        if self.failure or self.sigint:
            return 1
        if self.progress is None:
            return 0
        try:
            return 1 if self.progress(done, total) else 0
        except BaseException as exception:  # noqa: BLE001 - re-raised by check()
            self.failure.append(exception)
            return 1

    def check(self, status: int) -> None:
        """Raises what the progress callable raised, KeyboardInterrupt after a Ctrl-C,
        :class:`Cancelled` when it asked to stop, or the error for ``status``."""
        _signals.reporters.discard(self)
        if self.failure:
            raise self.failure[0]
        if self.sigint and status == _ffi.ERR_CANCELLED:
            _signals.raise_pending()
        if status == _ffi.ERR_CANCELLED:
            raise Cancelled(last_error_message(self.lib) or "the progress callback cancelled")
        check(status, self.lib)


def release_render_pools(flavor: str = "lua54") -> None:
    """Closes the idle Lua states the Lua engine keeps between renders of ``flavor``
    (``luarun_mandelbrot_release_pools``); the next Lua-engine render builds new ones."""
    flavor_library(flavor).luarun_mandelbrot_release_pools()


def to_pbm(pixels: Any, width: int, height: int | None = None) -> bytes:
    """A whole PBM (P4) file from a ``"bits"`` render (``height`` defaults to ``width``)."""
    height = width if height is None else height
    return b"P4\n%d %d\n" % (width, height) + bytes(pixels)


#: Pillow's mode and raw decoder mode for each pixel format.
_PILLOW_MODES = {
    "bits": ("1", "1;I"),  # P4 stores 1 for in-set (black); "1;I" reads 1 as black
    "counts_u32": ("I", "I"),
    "rgb8": ("RGB", "RGB"),
    "counts_u16": ("I;16", "I;16"),
    "counts_u8": ("L", "L"),
}


def to_image(pixels: Any, width: int, height: int | None = None, format: str = "bits") -> Any:
    """A Pillow image of a render: mode ``"1"`` for bits (in-set pixels black),
    ``"RGB"`` for rgb8, ``"I"``, ``"I;16"``, ``"L"`` for counts_u32, counts_u16,
    counts_u8 (``format`` as for :func:`mandelbrot`; ``height`` defaults to ``width``).
    Needs Pillow (``pip install Pillow``)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("luarun.to_image needs Pillow: pip install Pillow") from None
    name = format_name(format)
    height = width if height is None else height
    needed = mandelbrot_buffer_size(width, height, format=name)
    have = memoryview(pixels).nbytes
    if have != needed:
        raise InvalidArgument(
            f"pixels has {have} bytes; a {width} x {height} {name!r} image has {needed}"
        )
    mode, raw_mode = _PILLOW_MODES[name]
    return Image.frombytes(mode, (width, height), bytes(pixels), "raw", raw_mode)
