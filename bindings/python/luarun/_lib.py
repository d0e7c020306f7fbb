"""Finds and loads the luarun shared library of each flavor.

Two flavors share one C API: ``"lua54"`` (Lua 5.4, ``libluarun``) and ``"luajit"``
(LuaJIT 2.1, ``libluarun_luajit``). Search order for a flavor (the first hit wins):

1. its environment variable, ``LUARUN_LIBRARY`` or ``LUARUN_LIBRARY_LUAJIT`` (a path to
   the library file);
2. the package directory, where the wheel puts both libraries under their cargo names
   (``libluarun.so``, ``libluarun_luajit.so``; see ``build_backend/``);
3. ``target/release`` of the source tree this package sits in (a development checkout,
   after ``make build``).
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import NamedTuple

_PACKAGE_DIR = Path(__file__).resolve().parent

if sys.platform == "darwin":
    _PREFIX, _SUFFIX = "lib", ".dylib"
elif sys.platform == "win32":
    _PREFIX, _SUFFIX = "", ".dll"
else:
    _PREFIX, _SUFFIX = "lib", ".so"


class Flavor(NamedTuple):
    """Where one flavor's library is looked for."""

    env_var: str
    #: the cargo file name in ``target/release`` (``libluarun.so``).
    plain_name: str
    #: how to build it when it is missing.
    build_hint: str


FLAVORS: dict[str, Flavor] = {
    "lua54": Flavor(
        "LUARUN_LIBRARY",
        f"{_PREFIX}luarun{_SUFFIX}",
        "`cargo build --release` (or `make build`)",
    ),
    "luajit": Flavor(
        "LUARUN_LIBRARY_LUAJIT",
        f"{_PREFIX}luarun_luajit{_SUFFIX}",
        "`make build` (it builds both flavors)",
    ),
}
DEFAULT_FLAVOR = "lua54"


def flavor_info(flavor: str) -> Flavor:
    """The search data of ``flavor``; ``ValueError`` naming the flavors for others."""
    try:
        return FLAVORS[flavor]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown flavor {flavor!r}; choose from {', '.join(repr(f) for f in FLAVORS)}"
        ) from None


def _package_candidates(flavor: str) -> list[str]:
    plain = _PACKAGE_DIR / flavor_info(flavor).plain_name
    return [str(plain)] if plain.is_file() else []


def _source_tree_candidates(flavor: str) -> list[str]:
    # bindings/python/luarun -> repository root, three levels up.
    root = _PACKAGE_DIR.parent.parent.parent
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    if not target.is_absolute():
        target = root / target
    return [str(target / "release" / flavor_info(flavor).plain_name)]


def find_library(flavor: str = DEFAULT_FLAVOR) -> str:
    """Returns the path of ``flavor``'s library, or raises ``OSError`` listing every
    place that was searched."""
    info = flavor_info(flavor)
    looked: list[str] = []
    from_env = os.environ.get(info.env_var)
    if from_env:
        # Set on purpose: a wrong path is an error, never a silent fall-back to another
        # library (the Node binding does the same).
        if not os.path.isfile(from_env):
            raise OSError(
                f"{info.env_var}={from_env}: no such file. Point it at the luarun library "
                f"of the {flavor!r} flavor ({info.plain_name}), or unset it to use the one "
                "installed with the package."
            )
        return from_env
    looked.append(f"{info.env_var} (not set)")
    package = _package_candidates(flavor)
    if package:
        return package[0]
    looked.append(f"{_PACKAGE_DIR / info.plain_name} (none)")
    for candidate in _source_tree_candidates(flavor):
        if os.path.isfile(candidate):
            return candidate
        looked.append(f"{candidate} (missing)")
    raise OSError(
        f"cannot find the luarun shared library of the {flavor!r} flavor. Looked in:\n  - "
        + "\n  - ".join(looked)
        + f"\nInstall the package with `pip install ./bindings/python`, build it with "
        f"{info.build_hint} in the repository, or set {info.env_var} to the library file."
    )


def load_library(flavor: str = DEFAULT_FLAVOR) -> ctypes.CDLL:
    """Loads the library found by :func:`find_library`. ``ctypes.CDLL`` releases the GIL
    during every call, so Lua work and renders run while other Python threads go on."""
    path = find_library(flavor)
    try:
        cdll = ctypes.CDLL(path)
    except OSError as error:
        raise OSError(f"cannot load the luarun library {path}: {error}") from None
    if not hasattr(cdll, "luarun_abi_version"):
        raise OSError(
            f"{path} is not a luarun library (it has no luarun_abi_version); check "
            f"{flavor_info(flavor).env_var}"
        )
    return cdll
