"""The loaded luarun libraries, with every function of ``include/luarun.h`` declared.

What the header says (constants, types, structs and each function's ctypes prototype)
is generated into ``_ffi_generated`` by ``tools/generate_python_ffi.py`` and re-exported
here: ``LUARUN_X`` of C is ``_ffi.X`` (``_ffi.ERR_RUNTIME``, ``_ffi.PIXELS_RGB8``).
``tests/python/test_generated.py`` fails when the generated module is older than the
header, so nothing here is written by hand twice.
"""

from __future__ import annotations

import ctypes
import threading
from ctypes import POINTER, Structure

from ._ffi_generated import *  # noqa: F401,F403 - the header's constants, types, structs
from ._ffi_generated import CONSTANTS, PROTOTYPES
from ._lib import DEFAULT_FLAVOR, flavor_info, load_library


def named_constants(group: str) -> dict[str, int]:
    """The constants ``LUARUN_<group>_*`` by the rest of their C name in lower case, in
    the header's order: ``named_constants("PIXELS")`` is ``{"bits": 0, "counts_u32": 1,
    "rgb8": 2, ...}``. The names Python accepts for engines, pixel formats and libraries
    come from here, so they are the C names."""
    prefix = f"LUARUN_{group}_"
    return {
        name[len(prefix):].lower(): value
        for name, value in CONSTANTS.items()
        if name.startswith(prefix)
    }


class _Missing:
    """Stands in for a function this library build lacks; calling it says so."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path

    def __call__(self, *args: object) -> object:
        raise NotImplementedError(
            f"the luarun library at {self.path} has no {self.name}: it is older than "
            "this Python package; rebuild it (`cargo build --release` or reinstall)"
        )


class Library:
    """One flavor's loaded library with every prototype applied; functions are
    attributes. Every object made from a runtime keeps calling its runtime's library:
    handles of one flavor mean nothing to the other, and ``luarun_last_error`` is kept
    per library."""

    def __init__(self, flavor: str = DEFAULT_FLAVOR) -> None:
        self.flavor = flavor
        self.cdll = load_library(flavor)
        self.path = self.cdll._name
        self.missing: list[str] = []
        for name, (restype, argtypes) in PROTOTYPES.items():
            try:
                function = getattr(self.cdll, name)
            except AttributeError:
                self.missing.append(name)
                setattr(self, name, _Missing(name, self.path))
                continue
            function.restype = restype
            function.argtypes = argtypes
            setattr(self, name, function)

    def has(self, name: str) -> bool:
        """Whether the loaded library exports ``name``."""
        return name in PROTOTYPES and name not in self.missing

    @property
    def lua_version(self) -> str:
        """Which Lua is inside (``"Lua 5.4.8"``, ``"LuaJIT 2.1.<release>"``)."""
        return self.luarun_lua_version().decode()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<luarun library {self.flavor!r} at {self.path}>"


_libraries: dict[str, Library] = {}
_libraries_lock = threading.Lock()


def library(flavor: str = DEFAULT_FLAVOR) -> Library:
    """The library of ``flavor`` (``"lua54"`` or ``"luajit"``), loaded on first use and
    kept. Raises ``ValueError`` for an unknown flavor and ``OSError`` (listing where it
    looked) when the flavor's library cannot be found."""
    found = _libraries.get(flavor)
    if found is None:
        flavor_info(flavor)  # ValueError naming the flavors
        with _libraries_lock:
            found = _libraries.get(flavor)
            if found is None:
                found = _libraries[flavor] = Library(flavor)
    return found


#: The default flavor's library (Lua 5.4), loaded when luarun is imported. The LuaJIT
#: library loads only when a runtime or render asks for it.
lib = library(DEFAULT_FLAVOR)


def filled_defaults(struct_type: type[Structure], default_function: object) -> Structure:
    """A ``struct_type`` filled by its ``*_default`` function. The library writes its own
    ``sizeof``, which may exceed ours when it is newer, so it writes into scratch space and
    we keep our part, announcing our size (the library accepts older, smaller structs)."""
    scratch = ctypes.create_string_buffer(max(1024, 2 * ctypes.sizeof(struct_type)))
    default_function(ctypes.cast(scratch, POINTER(struct_type)))  # type: ignore[operator]
    filled = struct_type.from_buffer_copy(scratch.raw[: ctypes.sizeof(struct_type)])
    filled.struct_size = ctypes.sizeof(struct_type)  # type: ignore[attr-defined]
    return filled


def declared_functions() -> list[str]:
    """Names of every function declared here (for the header consistency test)."""
    return list(PROTOTYPES)
