"""Exceptions. Every luarun failure is a :class:`luarun.Error`; Lua failures are
:class:`LuaError` and its subclasses, as in lupa."""

from __future__ import annotations

from . import _ffi


class Error(Exception):
    """Base class of every luarun exception. ``status`` is the C status number,
    ``status_name`` its constant's name (``"LUARUN_ERR_RUNTIME"``)."""

    status: int = _ffi.ERR_RUNTIME
    #: The :class:`luarun.Lua` keyword argument the error is about (``"timeout"`` for a
    #: time limit, ``"libs"`` for a library the code needed...), or None.
    option: str | None = None
    #: For ``option == "libs"``: the library the code needed (``"os"``), else None.
    library: str | None = None

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def status_name(self) -> str:
        return _ffi.lib.luarun_status_name(self.status).decode()


class LuaError(Error):
    """Lua code raised an error. ``message`` is the error text with Lua's traceback,
    ``lua_message`` the text without it, ``traceback`` Lua's stack traceback (empty when
    Lua gave none), and ``value`` the Lua error value itself: the message string of a
    string error, a :class:`LuaTable` for ``error({code = 42})``, and so on (None where
    the operation could not hand it back: table access, stops, memory errors)."""

    #: The Lua error's value, when the call could hand it back (see the class doc).
    value: object = None

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message, status)
        head, marker, tail = message.partition("stack traceback:")
        self.traceback = (marker + tail).strip() if marker else ""
        self.lua_message = head.rstrip() if marker else message


class LuaSyntaxError(LuaError):
    """Lua source did not compile."""

    status = _ffi.ERR_SYNTAX


class LuaMemoryError(LuaError, MemoryError):
    """The state's memory limit was reached; the state stays usable."""

    status = _ffi.ERR_MEMORY


class LuaInterrupted(LuaError):
    """The call was stopped: :meth:`Lua.interrupt`, the instruction limit or the time
    limit. Lua code cannot catch it."""

    status = _ffi.ERR_INTERRUPTED


class LuaTimeoutError(LuaInterrupted, TimeoutError):
    """The call ran longer than the ``timeout`` given to :class:`Lua`."""


class LuaInstructionLimitError(LuaInterrupted):
    """The call ran more VM instructions than ``max_instructions``."""


class InvalidArgument(Error, ValueError):
    """An argument was out of range or otherwise unusable."""

    status = _ffi.ERR_INVALID_ARGUMENT


class BufferTooSmall(InvalidArgument):
    """An output buffer is smaller than the result needs (the message says how much)."""

    status = _ffi.ERR_BUFFER_TOO_SMALL


class LuaTypeError(Error, TypeError):
    """A value had the wrong type for the operation (calling a number, indexing nil)."""

    status = _ffi.ERR_TYPE


class Unsupported(Error):
    """A valid request this build or platform cannot honour."""

    status = _ffi.ERR_UNSUPPORTED


class InterruptUnsupported(Unsupported):
    """:meth:`Lua.interrupt` on a LuaJIT runtime without limits: its JIT-compiled loops
    run no hooks, so no stop could be delivered. Give the runtime a ``timeout`` or
    ``max_instructions`` (it then runs with the JIT off, and interrupts work), or use
    the ``"lua54"`` flavor."""

    ADVICE = (
        "from Python: luarun.Lua(flavor='luajit', timeout=...) or max_instructions=..., "
        "or flavor='lua54'"
    )

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(f"{message.rstrip('. ')} ({self.ADVICE})", status)


class Cancelled(Error):
    """A progress callback asked the render to stop."""

    status = _ffi.ERR_CANCELLED


class InternalError(Error):
    """A bug inside luarun was caught before it could crash the process; please report
    it."""

    status = _ffi.ERR_PANIC


#: The exception class of each status (every ``LUARUN_ERR_*``: tests/python/test_errors.py
#: checks that none is missing).
_BY_STATUS: dict[int, type[Error]] = {
    cls.status: cls
    for cls in (
        LuaSyntaxError,
        LuaError,
        LuaMemoryError,
        LuaInterrupted,
        InvalidArgument,
        BufferTooSmall,
        LuaTypeError,
        Unsupported,
        Cancelled,
        InternalError,
    )
}


#: The :class:`luarun.Lua` keyword argument each ``LUARUN_OPTION_*`` stands for.
_OPTION_KEYWORDS = {
    _ffi.OPTION_LIBRARIES: "libs",
    _ffi.OPTION_MEMORY_LIMIT: "memory_limit",
    _ffi.OPTION_INSTRUCTION_LIMIT: "max_instructions",
    _ffi.OPTION_TIME_LIMIT: "timeout",
}

#: Library names (``"os"``) by their ``LUARUN_LIB_*`` bit.
_LIBRARY_NAMES = {bit: name for name, bit in _ffi.named_constants("LIB").items()}

#: The exception class for each way a call can be stopped.
_BY_STOP = {
    _ffi.STOP_TIME_LIMIT: LuaTimeoutError,
    _ffi.STOP_INSTRUCTION_LIMIT: LuaInstructionLimitError,
}


def error_for_status(
    status: int, message: str, stop: int = _ffi.STOP_NONE, option: int = _ffi.OPTION_NONE,
    library_bit: int = 0,
) -> Error:
    """The exception for a failed call's status, its ``luarun_last_error`` text and the
    structured detail (``luarun_last_error_stop``/``_option``/``_library``). The
    exception's ``option`` names the :class:`luarun.Lua` keyword argument involved
    (``"timeout"``, ``"libs"``...; None when none is) and ``library`` the library the
    code needed (``"os"``)."""
    cls = _BY_STATUS.get(status, Error)
    if cls is LuaInterrupted:
        cls = _BY_STOP.get(stop, LuaInterrupted)
    error = cls(message, status)
    error.option = _OPTION_KEYWORDS.get(option)
    error.library = _LIBRARY_NAMES.get(library_bit) if option == _ffi.OPTION_LIBRARIES else None
    return error


def last_error(status: int, library: _ffi.Library) -> Error:
    """The exception for ``status`` from ``library``'s last error on this thread (read
    it right after the failed call, before any other luarun call)."""
    return error_for_status(
        status,
        last_error_message(library),
        library.luarun_last_error_stop(),  # type: ignore[attr-defined]
        library.luarun_last_error_option(),  # type: ignore[attr-defined]
        library.luarun_last_error_library(),  # type: ignore[attr-defined]
    )


def last_error_message(library: _ffi.Library) -> str:
    """``luarun_last_error()`` of ``library`` as text (Lua messages may hold any bytes).
    Each library keeps its own last error: read the one whose call failed."""
    raw = library.luarun_last_error()  # type: ignore[attr-defined]
    return raw.decode("utf-8", "replace") if raw else ""


def check(status: int, library: _ffi.Library) -> None:
    """Raises the exception for ``status`` unless it is ``LUARUN_OK``. Call it right
    after the C call of ``library``, on the same thread, before any other luarun call."""
    if status != _ffi.OK:
        raise last_error(status, library)


def flavor_library(flavor: str) -> _ffi.Library:
    """The library of ``flavor``; :class:`InvalidArgument` naming the flavors for an
    unknown one, ``OSError`` listing where it looked when it is not installed."""
    try:
        return _ffi.library(flavor)
    except ValueError as error:
        raise InvalidArgument(str(error)) from None
