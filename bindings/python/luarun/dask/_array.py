"""``mandelbrot_array``: a Mandelbrot image as a lazy dask array of tiles.

Each block is one call of :func:`luarun.mandelbrot` with ``offset`` and ``image_size``
set, run on the worker that computes the block. The tile API follows the numeric
contract for the pixel's place in the whole image, so blocks are exactly the bytes of
the same region of a single-process render, whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, Tuple, Union

import dask.array as da
import numpy as np
from dask.array.core import normalize_chunks
from dask.base import tokenize

import luarun
from luarun import InvalidArgument
from luarun._render import format_name

#: Tile size in pixels (rows, columns) when ``chunks`` is not given: 16 tiles at 8192,
#: 64 at 16000. Bands of 1024 rows keep the streamed writers' memory small.
DEFAULT_CHUNKS = (1024, 4096)

#: ``(rows, columns)`` in pixels: an int for square tiles, a pair of ints, or dask's
#: explicit block sizes per axis (``((1000, 3000), (800, 3200))``).
Chunks = Union[int, Tuple[Any, Any]]

#: The numpy element type of each pixel format (by its C name, see ``format_name``).
_DTYPES = {
    "bits": np.uint8,
    "counts_u32": np.uint32,
    "rgb8": np.uint8,
    "counts_u16": np.uint16,
    "counts_u8": np.uint8,
}


@dataclass(frozen=True)
class TileRender:
    """Everything a worker needs to render any tile of one image: plain numbers and
    strings only, so it pickles without the library."""

    width: int
    height: int
    max_iter: int
    viewport: Tuple[float, float, float, float]
    engine: str
    format: str
    threads: int
    flavor: str
    lua_kernel: Union[str, None]

    def render(self, x: int, y: int, width: int, height: int) -> np.ndarray:
        """Pixels ``x .. x+width``, rows ``y .. y+height`` of the image, as the block
        :func:`mandelbrot_array` holds for them."""
        out = np.empty(block_shape(self.format, width, height), _DTYPES[self.format])
        luarun.mandelbrot(
            width,
            height,
            max_iter=self.max_iter,
            viewport=self.viewport,
            threads=self.threads,
            engine=self.engine,
            format=self.format,
            out=out,
            lua_kernel=self.lua_kernel,
            offset=(x, y),
            image_size=(self.width, self.height),
            flavor=self.flavor,
        )
        return out


def block_shape(format: str, width: int, height: int) -> Tuple[int, ...]:
    """The numpy shape of a ``width`` x ``height`` render in ``format``: bits are rows
    of ``ceil(width / 8)`` packed bytes, rgb has a last axis of 3."""
    if format == "bits":
        return (height, (width + 7) // 8)
    if format == "rgb8":
        return (height, width, 3)
    return (height, width)


def render_block(tile: TileRender, block_info: Any = None) -> np.ndarray:
    """The task behind every block: reads the block's place from dask's ``block_info``
    and renders it (columns of a bits array are bytes: 8 pixels each)."""
    (y_start, y_stop), (x_start, x_stop) = block_info[None]["array-location"][:2]
    if tile.format == "bits":
        x_start, x_stop = 8 * x_start, min(8 * x_stop, tile.width)
    return tile.render(x_start, y_start, x_stop - x_start, y_stop - y_start)


def _pixel_chunks(chunks: Chunks, width: int, height: int) -> Tuple[Tuple[int, ...], ...]:
    try:
        rows, columns = normalize_chunks(chunks, shape=(height, width))
    except (TypeError, ValueError) as error:
        raise InvalidArgument(
            f"chunks {chunks!r} do not tile a {width} x {height} image ({error}); give "
            "tile sizes in pixels: an int, (rows, columns), or block sizes per axis that "
            f"add up to ({height}, {width})"
        ) from None
    if any(size == 0 for size in rows + columns):
        raise InvalidArgument(f"chunks {chunks!r} hold an empty tile; every tile needs a pixel")
    return rows, columns


def _bits_columns(columns: Sequence[int]) -> Tuple[int, ...]:
    """Byte columns of bits tiles; every tile but the last must start and end on a byte."""
    unaligned = [size for size in columns[:-1] if size % 8]
    if unaligned:
        raise InvalidArgument(
            f"format='bits' packs 8 pixels per byte, so every tile width but the last must "
            f"be a multiple of 8; these are not: {unaligned[:5]} (widths {tuple(columns)[:8]}"
            f"{'...' if len(columns) > 8 else ''}). Round the column chunks to multiples of "
            "8, or render format='counts_u8' for a byte per pixel"
        )
    return tuple(size // 8 for size in columns[:-1]) + ((columns[-1] + 7) // 8,)


def mandelbrot_array(
    width: int,
    height: int | None = None,
    *,
    chunks: Chunks = DEFAULT_CHUNKS,
    max_iter: int = 50,
    viewport: Sequence[float] = (-1.5, 0.5, -1.0, 1.0),
    engine: str = "native",
    format: str = "bits",
    threads_per_task: int = 1,
    lua_kernel: str | None = None,
    flavor: str = "lua54",
) -> da.Array:
    """A lazy dask array of the Mandelbrot image, each block rendered by
    :func:`luarun.mandelbrot` on the worker that computes it.

    :param width: pixels per row; ``height`` defaults to ``width``.
    :param chunks: tile size in pixels: an int (square tiles), ``(rows, columns)``, or
        block sizes per axis (``((1000, 3000), (800, 3200))``, uneven is fine). Bits
        tiles must be a multiple of 8 pixels wide, except the last column of tiles.
    :param max_iter: iterations per pixel, as :func:`luarun.mandelbrot`.
    :param viewport: ``(x_min, x_max, y_min, y_max)`` of the whole image.
    :param engine: ``"native"`` or ``"lua"`` (the Lua kernel runs on the worker).
    :param format: as for :func:`luarun.mandelbrot` (older names work too): ``"bits"``:
        ``uint8`` of shape ``(height, ceil(width / 8))``, PBM rows of packed bits;
        ``"counts_u32"`` / ``"counts_u16"`` / ``"counts_u8"``: ``uint32`` / ``uint16``
        / ``uint8`` of shape ``(height, width)``; ``"rgb8"``: ``uint8`` of shape
        ``(height, width, 3)``.
    :param threads_per_task: library threads inside one task; 1 suits workers that run
        one task per core (``dask worker --nthreads 1``), 0 uses every core of the
        worker's machine.
    :param lua_kernel: Lua source replacing the Lua engine's kernel (shipped as text).
    :param flavor: ``"lua54"`` or ``"luajit"``, the library the workers render with.
    :returns: the array; ``array.compute()`` (or ``numpy.asarray``) gives exactly the
        pixels of ``luarun.mandelbrot(width, height, ...)`` in the same format.

    The parameters are checked here, on the client, by rendering the image's first
    pixel, so a mistake is raised before any task is shipped.

    Tile layout: row bands (the default) keep :func:`write_png` and :func:`write_pbm`
    small, since they hold two rows of tiles; at viewports symmetric about the real
    axis, full-height tiles (``chunks=(-1, 1000)``) render faster, since the library
    then copies each mirror row inside its task instead of computing it.
    """
    format = format_name(format)  # the C name; InvalidArgument listing them
    height = width if height is None else height
    viewport = tuple(viewport)  # type: ignore[assignment]
    tile = TileRender(
        width, height, max_iter, viewport, engine, format, threads_per_task, flavor,  # type: ignore[arg-type]
        lua_kernel,
    )
    tile.render(0, 0, 1, 1)  # every parameter checked by the library itself
    rows, columns = _pixel_chunks(chunks, width, height)
    block_chunks: Tuple[Tuple[int, ...], ...] = (rows, columns)
    if format == "bits":
        block_chunks = (rows, _bits_columns(columns))
    elif format == "rgb8":
        block_chunks = (rows, columns, (3,))
    dtype = _DTYPES[format]
    return da.map_blocks(
        render_block,
        tile,
        chunks=block_chunks,
        dtype=dtype,
        meta=np.empty((0,) * len(block_chunks), dtype),
        name=f"luarun-mandelbrot-{tokenize(tile, block_chunks)}",
    )

