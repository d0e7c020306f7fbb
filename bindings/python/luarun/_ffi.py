"""ctypes declarations for every function of ``include/luarun.h``, in one place.

Each exported function is listed in ``_PROTOTYPES`` with its return type and argument
types; ``tests/python/test_ffi.py`` checks that this list and the header name exactly the
same functions, so a new C function cannot be forgotten here. Structures mirror the
header field by field.
"""

from __future__ import annotations

import ctypes
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_int,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)

from ._lib import DEFAULT_FLAVOR, flavor_info, load_library

# luarun_type (luarun_value.kind)
NIL, BOOLEAN, INTEGER, NUMBER, STRING, TABLE, FUNCTION, USERDATA, THREAD = range(9)

# luarun_status
OK = 0
ERR_SYNTAX = 1
ERR_RUNTIME = 2
ERR_MEMORY = 3
ERR_INTERRUPTED = 4
ERR_INVALID_ARGUMENT = 5
ERR_BUFFER_TOO_SMALL = 6
ERR_TYPE = 7
ERR_UNSUPPORTED = 8
ERR_CANCELLED = 9
ERR_PANIC = 10

# luarun_options.libraries bits
LIB_COROUTINE = 1
LIB_TABLE = 1 << 1
LIB_STRING = 1 << 2
LIB_MATH = 1 << 3
LIB_UTF8 = 1 << 4
LIB_OS = 1 << 5
LIB_IO = 1 << 6
LIB_PACKAGE = 1 << 7
LIB_DEBUG = 1 << 8
LIBS_SAFE = LIB_COROUTINE | LIB_TABLE | LIB_STRING | LIB_MATH | LIB_UTF8
LIBS_ALL = LIBS_SAFE | LIB_OS | LIB_IO | LIB_PACKAGE | LIB_DEBUG

# luarun_element_type (luarun_map)
(
    ELEMENT_F64,
    ELEMENT_F32,
    ELEMENT_I64,
    ELEMENT_I32,
    ELEMENT_I16,
    ELEMENT_I8,
    ELEMENT_U64,
    ELEMENT_U32,
    ELEMENT_U16,
    ELEMENT_U8,
) = range(10)

# luarun_gc_operation (luarun_state_gc)
GC_COLLECT, GC_STOP, GC_RESTART = range(3)

# luarun_engine and luarun_pixel_format
ENGINE_NATIVE = 0
ENGINE_LUA = 1
PIXELS_BITS = 0
PIXELS_COUNTS_U32 = 1
PIXELS_RGB8 = 2
PIXELS_COUNTS_U16 = 3
PIXELS_COUNTS_U8 = 4


class luarun_value(Structure):
    """``luarun_value``: a tagged Lua value. ``string`` is a ``void *`` here so any
    buffer address can be passed in."""

    _fields_ = [
        ("kind", c_uint32),
        ("boolean", c_bool),
        ("integer", c_int64),
        ("number", c_double),
        ("string", c_void_p),
        ("string_len", c_size_t),
        ("handle", c_void_p),
    ]


class luarun_options(Structure):
    """``luarun_options``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("libraries", c_uint32),
        ("memory_limit", c_uint64),
        ("instruction_limit", c_uint64),
        ("time_limit_ms", c_uint64),
        ("allow_bytecode", c_bool),
        ("allow_finalizers", c_bool),
    ]


# int (*luarun_callback)(void *user_data, const luarun_value *args, size_t nargs,
#                        luarun_callback_context *context)
# ``args`` is declared as a plain address: building a ctypes pointer object per call would
# cost more than reading the arguments (``_convert.read_args``).
luarun_callback = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p)
# void (*luarun_user_data_free)(void *user_data)
luarun_user_data_free = CFUNCTYPE(None, c_void_p)
# int (*luarun_progress_callback)(void *user_data, uint32_t rows_done, uint32_t rows_total)
luarun_progress_callback = CFUNCTYPE(c_int, c_void_p, c_uint32, c_uint32)
# int (*luarun_print_callback)(void *user_data, const char *text, size_t len)
# ``text`` is a plain address: the line may hold NUL bytes (read it with ctypes.string_at).
luarun_print_callback = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)


class luarun_host_object_class(Structure):
    """``luarun_host_object_class``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("index", luarun_callback),
        ("newindex", luarun_callback),
        ("call", luarun_callback),
        ("tostring", luarun_callback),
        ("length", luarun_callback),
        ("pairs", luarun_callback),
        ("refused_prefix", c_char_p),
    ]


class luarun_frame(Structure):
    """``luarun_frame``: a reusable frame for the ``luarun_frame_*`` operations."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("target", POINTER(luarun_value)),
        ("values", POINTER(luarun_value)),
        ("values_cap", c_size_t),
        ("nargs", c_size_t),
        ("nresults", c_size_t),
        ("strings", c_char_p),
        ("strings_cap", c_size_t),
    ]


class luarun_mandelbrot(Structure):
    """``luarun_mandelbrot``: render parameters."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("width", c_uint32),
        ("height", c_uint32),
        ("max_iter", c_uint32),
        ("x_min", c_double),
        ("x_max", c_double),
        ("y_min", c_double),
        ("y_max", c_double),
        ("threads", c_uint32),
        ("engine", c_uint32),
        ("format", c_uint32),
        ("progress", luarun_progress_callback),
        ("progress_user_data", c_void_p),
        ("lua_kernel", c_char_p),
        ("lua_kernel_len", c_size_t),
        ("x_offset", c_uint32),
        ("y_offset", c_uint32),
        ("image_width", c_uint32),
        ("image_height", c_uint32),
    ]


_value_p = POINTER(luarun_value)
_status = c_int

# name: (restype, argtypes). Keep in the header's order.
_PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    "luarun_version": (c_char_p, []),
    "luarun_abi_version": (c_uint32, []),
    "luarun_lua_version": (c_char_p, []),
    "luarun_last_error": (c_char_p, []),
    "luarun_status_name": (c_char_p, [c_int]),
    "luarun_frame_call": (_status, [POINTER(luarun_frame)]),
    "luarun_frame_pcall": (_status, [POINTER(luarun_frame)]),
    "luarun_frame_get": (_status, [POINTER(luarun_frame)]),
    "luarun_frame_set": (_status, [POINTER(luarun_frame)]),
    "luarun_frame_next": (_status, [POINTER(luarun_frame)]),
    "luarun_function_new": (
        _status,
        [c_void_p, luarun_callback, c_void_p, luarun_user_data_free, _value_p],
    ),
    "luarun_register_function": (
        _status,
        [c_void_p, c_char_p, luarun_callback, c_void_p, luarun_user_data_free],
    ),
    "luarun_callback_return_value": (_status, [c_void_p, _value_p]),
    "luarun_callback_set_error": (_status, [c_void_p, c_char_p, c_size_t]),
    "luarun_callback_set_error_value": (_status, [c_void_p, _value_p]),
    "luarun_call": (
        _status,
        [_value_p, _value_p, c_size_t, _value_p, c_size_t, POINTER(c_size_t)],
    ),
    "luarun_call_global": (
        _status,
        [c_void_p, c_char_p, _value_p, c_size_t, _value_p, c_size_t, POINTER(c_size_t)],
    ),
    "luarun_host_object_class_default": (None, [POINTER(luarun_host_object_class)]),
    "luarun_host_object_new": (
        _status,
        [
            c_void_p,
            POINTER(luarun_host_object_class),
            c_void_p,
            luarun_user_data_free,
            _value_p,
        ],
    ),
    "luarun_host_object_user_data": (_status, [_value_p, POINTER(c_void_p)]),
    "luarun_map": (
        _status,
        [_value_p, c_void_p, c_size_t, c_uint32, c_void_p, c_size_t, c_uint32],
    ),
    "luarun_pool_map": (
        _status,
        [c_void_p, c_char_p, c_void_p, c_size_t, c_uint32, c_void_p, c_size_t, c_uint32],
    ),
    "luarun_mandelbrot_default": (None, [POINTER(luarun_mandelbrot)]),
    "luarun_mandelbrot_buffer_size": (c_size_t, [POINTER(luarun_mandelbrot)]),
    "luarun_mandelbrot_render": (
        _status,
        [POINTER(luarun_mandelbrot), c_void_p, c_size_t],
    ),
    "luarun_mandelbrot_release_pools": (None, []),
    "luarun_pool_new": (_status, [POINTER(luarun_options), c_uint32, POINTER(c_void_p)]),
    "luarun_pool_free": (None, [c_void_p]),
    "luarun_pool_size": (_status, [c_void_p, POINTER(c_uint32)]),
    "luarun_pool_exec": (_status, [c_void_p, c_void_p, c_size_t]),
    "luarun_pool_run": (
        _status,
        [
            c_void_p,
            c_char_p,
            c_int64,
            c_uint32,
            c_void_p,
            c_size_t,
            c_size_t,
            luarun_progress_callback,
            c_void_p,
        ],
    ),
    "luarun_options_default": (None, [POINTER(luarun_options)]),
    "luarun_state_new": (_status, [POINTER(luarun_options), POINTER(c_void_p)]),
    "luarun_state_free": (None, [c_void_p]),
    "luarun_exec": (_status, [c_void_p, c_void_p, c_size_t]),
    "luarun_exec_named": (_status, [c_void_p, c_void_p, c_size_t, c_char_p]),
    "luarun_eval": (_status, [c_void_p, c_void_p, c_size_t, _value_p]),
    "luarun_load": (_status, [c_void_p, c_void_p, c_size_t, c_char_p, _value_p]),
    "luarun_state_interrupt": (_status, [c_void_p]),
    "luarun_state_set_print": (_status, [c_void_p, luarun_print_callback, c_void_p]),
    "luarun_state_preload": (_status, [c_void_p, c_char_p, c_void_p, c_size_t]),
    "luarun_state_set_module_path": (_status, [c_void_p, c_char_p]),
    "luarun_state_set_c_module_path": (_status, [c_void_p, c_char_p]),
    "luarun_state_memory_used": (_status, [c_void_p, POINTER(c_size_t)]),
    "luarun_state_set_memory_limit": (_status, [c_void_p, c_uint64]),
    "luarun_state_memory_limit": (_status, [c_void_p, POINTER(c_uint64)]),
    "luarun_state_gc": (_status, [c_void_p, c_uint32]),
    "luarun_get_global": (_status, [c_void_p, c_char_p, _value_p]),
    "luarun_set_global": (_status, [c_void_p, c_char_p, _value_p]),
    "luarun_globals": (_status, [c_void_p, _value_p]),
    "luarun_table_new": (_status, [c_void_p, c_size_t, c_size_t, _value_p]),
    "luarun_table_get": (_status, [_value_p, _value_p, _value_p]),
    "luarun_table_set": (_status, [_value_p, _value_p, _value_p]),
    "luarun_table_length": (_status, [_value_p, POINTER(c_size_t)]),
    "luarun_table_next": (_status, [_value_p, _value_p, _value_p, _value_p]),
    "luarun_value_free": (None, [_value_p]),
    "luarun_value_copy": (_status, [_value_p, _value_p]),
    "luarun_value_tostring": (_status, [c_void_p, _value_p, _value_p]),
    "luarun_type_name": (c_char_p, [c_uint32]),
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
        for name, (restype, argtypes) in _PROTOTYPES.items():
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
        return name in _PROTOTYPES and name not in self.missing

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
    return list(_PROTOTYPES)
