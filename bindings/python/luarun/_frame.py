"""The lean call path: calls, table reads and writes through a reusable ``luarun_frame``.

Every call costs one foreign call with one pre-built argument (the frame) and nothing
allocated that could be allocated once. A frame owns a values array and a buffer for the
strings of results (the library copies result
strings there, so they come back without a handle to free). Values are written and
read through ``memoryview``s over those arrays, a word at a time, which is several
times cheaper than ctypes structure fields.

Frames are taken from a per-runtime free list for one operation and put back after it:
a callback that calls back into Lua, or another thread, simply takes another frame.

Layout facts used here (checked against ``ctypes.sizeof``/``offsetof`` at import and in
``tests/python/test_ffi.py``): a ``luarun_value`` is six 8-byte words (kind and boolean;
integer; number; string; string_len; handle), a ``luarun_frame`` eight (struct_size;
target; values; values_cap; nargs; nresults; strings; strings_cap).
"""

from __future__ import annotations

import ctypes
from typing import Any

from . import _ffi
from ._ffi import luarun_frame, luarun_value

#: Values a frame holds: arguments in, results out (a call returning more is an error
#: that says to return a table).
VALUES_CAP = 256
#: Bytes of result strings a frame holds; longer results come back with a handle.
RESULT_STRINGS_CAP = 1 << 16

WORDS = ctypes.sizeof(luarun_value) // 8
assert ctypes.sizeof(luarun_value) == 48 and luarun_value.handle.offset == 40
assert luarun_value.integer.offset == 8 and luarun_value.number.offset == 16
assert luarun_value.string.offset == 24 and luarun_value.string_len.offset == 32
assert ctypes.sizeof(luarun_frame) == 64 and luarun_frame.nresults.offset == 40
assert luarun_frame.target.offset == 8 and luarun_frame.nargs.offset == 32

NIL, BOOLEAN, INTEGER, NUMBER, STRING = (
    _ffi.NIL,
    _ffi.BOOLEAN,
    _ffi.INTEGER,
    _ffi.NUMBER,
    _ffi.STRING,
)
#: The ``kind`` (a ``luarun_type``) in the first word of a value.
KIND_MASK = (1 << 8 * ctypes.sizeof(_ffi.luarun_type)) - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class Frame:
    """One ``luarun_frame`` with its arrays and the views that write and read them."""

    __slots__ = (
        "struct",
        "ref",
        "head",
        "values",
        "words",
        "floats",
        "result_strings",
        "result_bytes",
        "result_base",
        "keep",
        "slots",
    )

    def __init__(self) -> None:
        self.values = (luarun_value * VALUES_CAP)()
        raw = memoryview(self.values).cast("B")
        self.words = raw.cast("q")
        self.floats = raw.cast("d")
        self.result_strings = ctypes.create_string_buffer(RESULT_STRINGS_CAP)
        self.result_bytes = memoryview(self.result_strings).cast("B")
        self.result_base = ctypes.addressof(self.result_strings)
        self.struct = luarun_frame(
            ctypes.sizeof(luarun_frame),
            None,
            ctypes.cast(self.values, ctypes.POINTER(luarun_value)),
            VALUES_CAP,
            0,
            0,
            ctypes.cast(self.result_strings, ctypes.c_void_p),
            RESULT_STRINGS_CAP,
        )
        self.head = memoryview(self.struct).cast("B").cast("q")
        self.ref = ctypes.byref(self.struct)
        #: Objects an operation's arguments point into (long strings), until it returns.
        self.keep: list[Any] = []
        self.slots: list[Any] = []

    def slot(self, index: int) -> Any:
        """``byref`` of ``values[index]`` (made once per slot)."""
        slots = self.slots
        while len(slots) <= index:
            slots.append(ctypes.byref(self.values, len(slots) * ctypes.sizeof(luarun_value)))
        return slots[index]


class FastFunctions:
    """The frame operations of one library, as foreign functions that take the frame's
    ``byref`` as it is (no ``argtypes`` conversion per call)."""

    __slots__ = ("call", "pcall", "get", "set", "next", "return_value", "free")

    def __init__(self, library: _ffi.Library) -> None:
        for name in ("call", "pcall", "get", "set", "next"):
            function = library.cdll[f"luarun_frame_{name}"]
            function.restype = ctypes.c_int
            function.argtypes = None
            setattr(self, name, function)
        # Frees a value slot given as ``byref(values, offset)``.
        self.free = library.cdll["luarun_value_free"]
        self.free.restype = None
        self.free.argtypes = None
        # The callback context arrives as an int: it needs a pointer conversion.
        self.return_value = library.cdll["luarun_callback_return_value"]
        self.return_value.restype = ctypes.c_int
        self.return_value.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
