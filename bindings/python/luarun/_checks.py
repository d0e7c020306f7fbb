"""Checked arguments: every number the package hands to C goes through here first, so a
value that does not fit its C type is an error naming the parameter, never a silent wrap
(``-5`` as 4294967291, ``2**64`` as 0, ``True`` as 1)."""

from __future__ import annotations

import math
import operator
from typing import Any

from ._errors import InvalidArgument

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def integer(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in ``low ..= high``: ``TypeError`` for bools, floats and
    other non-integers, :class:`InvalidArgument` (a ``ValueError``) naming the range
    otherwise."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(
            f"{name} must be an integer, not {type(value).__name__} ({value!r})"
        )
    number = operator.index(value)
    if not low <= number <= high:
        raise InvalidArgument(f"{name} is {number}; it must be in {low} ..= {high}")
    return number


def finite(name: str, value: Any) -> float:
    """``value`` as a finite float: ``TypeError`` for bools, strings and other
    non-numbers, :class:`InvalidArgument` for NaN and infinities."""
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__} ({value!r})")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a number, not {type(value).__name__} ({value!r})"
        ) from None
    if not math.isfinite(number):
        raise InvalidArgument(f"{name} is {number}; it must be a finite number")
    return number
