"""Finds and loads the luarun shared library.

Search order (the first hit wins):

1. the environment variable ``LUARUN_LIBRARY`` (a path to the library file);
2. the package directory, where ``pip install`` puts the library built by
   setuptools-rust (its name carries the CPython suffix, e.g.
   ``_luarun.cpython-311-x86_64-linux-gnu.so``, hence the glob);
3. ``target/release`` of the source tree this package sits in (a development checkout).
"""

from __future__ import annotations

import ctypes
import glob
import os
import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent

if sys.platform == "darwin":
    _PLAIN_NAME = "libluarun.dylib"
elif sys.platform == "win32":
    _PLAIN_NAME = "luarun.dll"
else:
    _PLAIN_NAME = "libluarun.so"


def _package_candidates() -> list[str]:
    found: list[str] = []
    for pattern in ("_luarun*.so", "_luarun*.dylib", "_luarun*.pyd", _PLAIN_NAME):
        found.extend(sorted(glob.glob(str(_PACKAGE_DIR / pattern))))
    return found


def _source_tree_candidates() -> list[str]:
    # bindings/python/luarun -> repository root, three levels up.
    root = _PACKAGE_DIR.parent.parent.parent
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    if not target.is_absolute():
        target = root / target
    return [str(target / "release" / _PLAIN_NAME)]


def find_library() -> str:
    """Returns the path of the luarun library, or raises ``OSError`` listing every place
    that was searched."""
    looked: list[str] = []
    from_env = os.environ.get("LUARUN_LIBRARY")
    if from_env:
        if os.path.isfile(from_env):
            return from_env
        looked.append(f"LUARUN_LIBRARY={from_env} (no such file)")
    else:
        looked.append("LUARUN_LIBRARY (not set)")
    package = _package_candidates()
    if package:
        return package[0]
    looked.append(f"{_PACKAGE_DIR}/_luarun*.so and {_PLAIN_NAME} (none)")
    for candidate in _source_tree_candidates():
        if os.path.isfile(candidate):
            return candidate
        looked.append(f"{candidate} (missing)")
    raise OSError(
        "cannot find the luarun shared library. Looked in:\n  - "
        + "\n  - ".join(looked)
        + "\nInstall the package with `pip install ./bindings/python`, build it with "
        "`cargo build --release` in the repository, or set LUARUN_LIBRARY to the "
        "library file."
    )


def load_library() -> ctypes.CDLL:
    """Loads the library found by :func:`find_library`. ``ctypes.CDLL`` releases the GIL
    during every call, so Lua work and renders run while other Python threads go on."""
    return ctypes.CDLL(find_library())
