"""Bulk map: a Lua function over every element of a numeric buffer, in one crossing.

``luarun_map`` (one state) and ``luarun_pool_map`` (every state of a pool, in parallel)
convert each element in Rust; Python only describes the buffers. The GIL is released
while they run.
"""

from __future__ import annotations

import array
from typing import Any

from . import _ffi
from ._errors import InvalidArgument

#: Element type names accepted by ``out_type`` and their C numbers: numpy's spelling of
#: the ``LUARUN_ELEMENT_*`` constants (``F64`` is ``"float64"``, ``U8`` ``"uint8"``).
ELEMENT_TYPES = {
    {"f": "float", "i": "int", "u": "uint"}[suffix[0]] + suffix[1:]: code
    for suffix, code in _ffi.named_constants("ELEMENT").items()
}

# memoryview / array / numpy format characters (native sizes) -> luarun_element_type.
_BY_FORMAT_AND_SIZE: dict[tuple[str, int], int] = {
    ("d", 8): ELEMENT_TYPES["float64"],
    ("f", 4): ELEMENT_TYPES["float32"],
}
_SIGNED = {int(name[3:]) // 8: code for name, code in ELEMENT_TYPES.items() if name[:3] == "int"}
_UNSIGNED = {int(name[4:]) // 8: code for name, code in ELEMENT_TYPES.items() if name[:4] == "uint"}
for _code in "bhilq":
    for _format, _by_size in ((_code, _SIGNED), (_code.upper(), _UNSIGNED)):
        _size = array.array(_format).itemsize
        _BY_FORMAT_AND_SIZE[(_format, _size)] = _by_size[_size]
_BY_FORMAT_AND_SIZE[("c", 1)] = ELEMENT_TYPES["uint8"]

_NAMES = {code: name for name, code in ELEMENT_TYPES.items()}
#: array.array type codes that hold each element type (for outputs we create).
_ARRAY_CODES = {code: fmt for (fmt, _size), code in _BY_FORMAT_AND_SIZE.items() if fmt != "c"}


class Buffer:
    """A caller buffer as the C call needs it: address, byte length, element type."""

    __slots__ = ("address", "nbytes", "element", "count", "keep")

    def __init__(self, obj: Any, writable: bool, what: str) -> None:
        from ._render import readable_address, writable_address

        try:
            view = memoryview(obj)
        except TypeError:
            raise TypeError(
                f"{what} must be a buffer of numbers (numpy array, array.array, bytearray, "
                f"memoryview), not {type(obj).__name__}"
            ) from None
        fmt = view.format.lstrip("@=")
        element = _BY_FORMAT_AND_SIZE.get((fmt, view.itemsize))
        if element is None:
            raise InvalidArgument(
                f"{what} holds elements of format {view.format!r} ({view.itemsize} bytes); "
                f"luarun maps {', '.join(ELEMENT_TYPES)}"
            )
        if writable:
            self.address, self.nbytes, self.keep = writable_address(obj)
        else:
            self.address, self.nbytes, self.keep = readable_address(obj)
        self.element = element
        self.count = self.nbytes // view.itemsize


def element_type(name: str | int | None, default: int) -> int:
    """The C element type for an ``out_type`` argument."""
    if name is None:
        return default
    if isinstance(name, str) and name in ELEMENT_TYPES:
        return ELEMENT_TYPES[name]
    numpy_name = getattr(name, "__name__", None) or str(getattr(name, "name", ""))
    if numpy_name in ELEMENT_TYPES:
        return ELEMENT_TYPES[numpy_name]
    raise InvalidArgument(
        f"unknown out_type {name!r}; choose from {', '.join(ELEMENT_TYPES)}"
    )


def new_output(source: Any, count: int, element: int) -> Any:
    """An output for ``count`` elements: a numpy array when the input is one, else an
    ``array.array``."""
    if type(source).__module__ == "numpy":
        import numpy

        return numpy.empty(getattr(source, "shape", count), dtype=_NAMES[element])
    return array.array(_ARRAY_CODES[element], bytes(count * array.array(_ARRAY_CODES[element]).itemsize))


def prepare(xs: Any, out: Any, out_type: str | int | None) -> tuple[Buffer, Buffer, Any]:
    """The input and output buffers of a map, creating the output when ``out`` is None."""
    source = Buffer(xs, False, "the input")
    if out is None:
        out = new_output(xs, source.count, element_type(out_type, source.element))
    elif out_type is not None:
        raise InvalidArgument("give out= or out_type=, not both: out's type decides")
    target = Buffer(out, True, "out")
    return source, target, out
