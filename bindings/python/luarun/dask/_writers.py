"""Writers for images larger than memory: a Zarr store written by the workers, and PBM /
PNG files streamed from the client one band of rows at a time.

A band is one row of blocks (``array.blocks[i]``): the streamed writers hold at most
two bands (the one being written and the next one, already being computed), never
the whole image. Give the array row bands of modest height (the default chunks are
1024 rows) for them to stay small.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import deque
from typing import Any, BinaryIO, Iterator, Mapping, Union

import dask.array as da
import numpy as np

from luarun import InvalidArgument
from luarun._render import format_name

PathLike = Union[str, "os.PathLike[str]"]

#: Bands computed ahead of the one being written (with a ``dask.distributed`` client).
BANDS_AHEAD = 1


def _distributed_client() -> Any:
    """The current ``dask.distributed`` client, or None (then the local scheduler)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:  # no client is running
        return None


def iter_bands(array: da.Array, ahead: int = BANDS_AHEAD) -> Iterator[np.ndarray]:
    """Yields ``array`` one row of blocks at a time, top to bottom, as numpy arrays.
    With a distributed client the next ``ahead`` bands compute while one is used, so at
    most ``ahead + 1`` bands are held here at once."""
    bands = (array.blocks[i] for i in range(array.numblocks[0]))
    client = _distributed_client()
    if client is None:
        for band in bands:
            yield np.asarray(band.compute())
        return
    pending: deque = deque()
    for band in bands:
        pending.append(client.compute(band))
        if len(pending) > ahead:
            yield np.asarray(pending.popleft().result())
    while pending:
        yield np.asarray(pending.popleft().result())


def _regular_chunks(array: da.Array) -> tuple:
    """Chunk sizes Zarr can hold: equal blocks per axis, the last possibly smaller."""
    return tuple(sizes[0] for sizes in array.chunks)


def _is_regular(array: da.Array) -> bool:
    return all(
        all(size == sizes[0] for size in sizes[:-1]) and sizes[-1] <= sizes[0]
        for sizes in array.chunks
    )


def to_zarr(
    array: da.Array,
    store: Any,
    *,
    attrs: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Any:
    """Writes ``array`` to a Zarr store, each worker writing the tiles it computed (the
    client holds none of them). Returns the ``zarr.Array``.

    :param store: a path, a URL (``"s3://bucket/image.zarr"`` with fsspec installed) or a
        Zarr store; on a cluster every worker must reach it (shared disk or object store).
    :param attrs: JSON attributes to record with the array (the render's parameters).
    :param overwrite: replace an array already there (otherwise ``FileExistsError``).

    Zarr chunks are the array's blocks; uneven blocks are first rechunked to the size of
    the first block on each axis, since a Zarr array has one chunk shape.
    """
    try:
        import zarr
        from zarr.errors import ContainsArrayError, ContainsGroupError
    except ImportError:
        raise ImportError("to_zarr needs zarr: pip install 'luarun[dask]'") from None
    chunks = _regular_chunks(array)
    if not _is_regular(array):
        array = array.rechunk(chunks)
    try:
        target = zarr.create_array(
            store=store,
            shape=array.shape,
            dtype=array.dtype,
            chunks=chunks,
            attributes=dict(attrs or {}),
            overwrite=overwrite,
        )
    except (ContainsArrayError, ContainsGroupError) as error:
        raise FileExistsError(
            f"{store} already holds a Zarr array or group ({error}); pass overwrite=True "
            "to replace it, or choose another path"
        ) from None
    da.store(array, target, lock=False, compute=True)
    return target


def _pbm_width(array: da.Array, width: int | None) -> int:
    if array.ndim != 2 or array.dtype != np.uint8:
        raise InvalidArgument(
            f"a bits image is a 2-D uint8 array of packed rows, not {array.ndim}-D "
            f"{array.dtype}; render it with mandelbrot_array(..., format='bits')"
        )
    row_bytes = array.shape[1]
    if width is None:
        return 8 * row_bytes
    if (width + 7) // 8 != row_bytes:
        raise InvalidArgument(
            f"width {width} needs {(width + 7) // 8} bytes per row, but the array has "
            f"{row_bytes}; pass the image's width in pixels"
        )
    return width


def write_pbm(array: da.Array, path: PathLike, *, width: int | None = None) -> None:
    """Streams a bits array (``mandelbrot_array(..., format="bits")``) to a PBM (P4)
    file, band by band. ``width``: the image's width in pixels (default: 8 per byte,
    right when the width is a multiple of 8)."""
    width = _pbm_width(array, width)
    with open(path, "wb") as file:
        file.write(b"P4\n%d %d\n" % (width, array.shape[0]))
        for band in iter_bands(array):
            file.write(np.ascontiguousarray(band).data)


# PNG: bit depth and colour type (0 = grey, 2 = RGB) per luarun pixel format.
_PNG_LAYOUT = {"bits": (1, 0), "counts_u8": (8, 0), "counts_u16": (16, 0), "rgb8": (8, 2)}
_PNG_FORMATS = "'bits', 'counts_u8', 'counts_u16' or 'rgb8'"


def _png_format(array: da.Array, format: str | None) -> str:
    if format is not None:
        try:
            format = format_name(format)  # the C name of an older alias
        except InvalidArgument:
            message = f"write_png takes format {_PNG_FORMATS}, not {format!r}"
            raise InvalidArgument(message) from None
    if format is None:
        if array.ndim == 3 and array.shape[2] == 3 and array.dtype == np.uint8:
            format = "rgb8"
        elif array.ndim == 2 and array.dtype == np.uint16:
            format = "counts_u16"
        elif array.ndim == 2 and array.dtype == np.uint8:
            raise InvalidArgument(
                "a 2-D uint8 array may be packed bits or one grey byte per pixel; say "
                "which with format='bits' or format='counts_u8'"
            )
    if format == "counts_u32" or (format is None and array.dtype == np.uint32):
        raise InvalidArgument(
            "PNG holds at most 16 bits per channel, so uint32 counts do not fit; render "
            "format='counts_u16' (saturated) or 'rgb8', or scale the array down first"
        )
    if format is None:
        raise InvalidArgument(
            f"cannot tell how to write a {array.ndim}-D {array.dtype} array as PNG; convert "
            "it to uint8 or uint16 grey (height, width) or uint8 (height, width, 3) RGB"
        )
    expected = {"bits": (2, np.uint8), "counts_u8": (2, np.uint8),
                "counts_u16": (2, np.uint16), "rgb8": (3, np.uint8)}
    if format not in expected:
        raise InvalidArgument(f"write_png takes format {_PNG_FORMATS}, not {format!r}")
    ndim, dtype = expected[format]
    if array.ndim != ndim or array.dtype != dtype or (ndim == 3 and array.shape[2] != 3):
        raise InvalidArgument(
            f"format={format!r} needs a {ndim}-D {np.dtype(dtype).name} array"
            f"{' of shape (height, width, 3)' if ndim == 3 else ''}, not "
            f"{array.ndim}-D {array.dtype} {array.shape}"
        )
    return format


def _png_chunk(file: BinaryIO, kind: bytes, data: bytes) -> None:
    file.write(struct.pack(">I", len(data)) + kind + data)
    file.write(struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _png_rows(band: np.ndarray, format: str) -> bytes:
    """A band as PNG scanlines: filter byte 0 (none), then the row's bytes."""
    if format == "bits":
        band = ~band  # P4 marks in-set pixels 1 (black); PNG grey 1 is white
    elif format == "counts_u16":
        band = band.astype(">u2")
    rows = np.ascontiguousarray(band).view(np.uint8).reshape(band.shape[0], -1)
    return np.concatenate([np.zeros((rows.shape[0], 1), np.uint8), rows], axis=1).tobytes()


def write_png(
    array: da.Array,
    path: PathLike,
    *,
    format: str | None = None,
    width: int | None = None,
    compress_level: int = 6,
) -> None:
    """Streams ``array`` to a PNG file band by band, never holding the whole image.

    :param format: how to read the array: ``"bits"`` (packed PBM rows, written as a
        1-bit PNG, in-set pixels black), ``"counts_u8"`` (one grey byte per pixel; any
        8-bit grey image), ``"counts_u16"`` (16-bit grey) or ``"rgb8"`` (the older
        names ``"counts8"``, ``"counts16"``, ``"rgb"`` work too). Default: ``"rgb8"``
        for ``(height, width, 3)`` uint8, ``"counts_u16"`` for uint16; 2-D uint8 needs
        the format said, since it may be either bits or grey bytes.
    :param width: for bits, the width in pixels (default 8 per byte).
    :param compress_level: zlib level, 0 (fast, large) to 9 (slow, small).
    """
    format = _png_format(array, format)
    pixels_wide = _pbm_width(array, width) if format == "bits" else array.shape[1]
    depth, colour = _PNG_LAYOUT[format]
    compressor = zlib.compressobj(compress_level)
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n")
        header = struct.pack(">IIBBBBB", pixels_wide, array.shape[0], depth, colour, 0, 0, 0)
        _png_chunk(file, b"IHDR", header)
        for band in iter_bands(array):
            data = compressor.compress(_png_rows(band, format))
            if data:
                _png_chunk(file, b"IDAT", data)
        _png_chunk(file, b"IDAT", compressor.flush())
        _png_chunk(file, b"IEND", b"")
