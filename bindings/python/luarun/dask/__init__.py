"""luarun on Dask: Mandelbrot images and Lua jobs larger than one machine.

Install with ``pip install 'luarun[dask]'`` on the client and on every worker; ``import
luarun`` alone never imports dask.

- :func:`mandelbrot_array`: a lazy ``dask.array.Array`` whose blocks are tiles rendered
  by :func:`luarun.mandelbrot` on the worker that computes them; any chunking gives
  exactly the bytes of a single-process render.
- :func:`to_zarr`, :func:`write_pbm`, :func:`write_png`: images larger than memory, to a
  Zarr store (each worker writes its own tiles) or to one file streamed band by band.
- :func:`map_lua`: a Lua function over the items of a ``dask.bag``, each worker keeping
  its Lua states between tasks; a Lua error or a runaway stopped by its limit fails that
  task only, never the worker.

Tasks carry only plain numbers, strings and arrays: workers load the luarun library
themselves, and no ctypes object is ever pickled.
"""

from __future__ import annotations

try:
    import dask.array  # noqa: F401
    import dask.bag  # noqa: F401
    import numpy  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"luarun.dask needs dask[distributed] and numpy ({error}); install them with "
        "pip install 'luarun[dask]'"
    ) from error

from ._array import DEFAULT_CHUNKS, mandelbrot_array
from ._lua import OPTION_NAMES, clear_worker_cache, map_lua, worker_cache_info
from ._writers import iter_bands, to_zarr, write_pbm, write_png

__all__ = [
    "DEFAULT_CHUNKS",
    "OPTION_NAMES",
    "clear_worker_cache",
    "iter_bands",
    "mandelbrot_array",
    "map_lua",
    "to_zarr",
    "worker_cache_info",
    "write_pbm",
    "write_png",
]
