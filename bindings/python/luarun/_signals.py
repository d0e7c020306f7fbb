"""Ctrl-C while Lua runs or a render works.

Python runs its SIGINT handler (which raises ``KeyboardInterrupt``) only between
bytecodes of the main thread, so a long foreign call would never see it. Python's C
signal handler also writes the signal's number to the *wakeup fd* the moment the signal
arrives (``signal.set_wakeup_fd``). luarun points that fd at a pipe read by a watcher
thread; on SIGINT the watcher stops every Lua call in progress (as
:meth:`luarun.Lua.interrupt` does, so Lua cannot catch it) and cancels every render and
pool run through their progress callbacks. When the stopped call returns, luarun runs
the pending signal handlers at once, so the ``KeyboardInterrupt`` (or whatever the
program's own SIGINT handler raises) comes out of the call that was running, and the
runtime stays usable.

Installed the first time a runtime, pool or render is created on the main thread, and
only when SIGINT has a Python handler (not when it is ignored or left to the system).
Bytes for other signals are passed on to a wakeup fd installed before (asyncio's), so
its signal handling keeps working; a wakeup fd installed *after* luarun's replaces it,
and Ctrl-C then stops Lua only when the call returns (``luarun.watch_sigint()`` installs
it again). A LuaJIT runtime with the JIT on (no ``timeout``/``max_instructions``) cannot
be interrupted: Ctrl-C reaches its Lua code only when it calls back into Python.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import weakref
from typing import Any

_lock = threading.Lock()
#: The pipe's write end while installed, else None.
_write_fd: int | None = None
#: Every live runtime's context; the watcher stops those with a call in progress.
contexts: weakref.WeakSet[Any] = weakref.WeakSet()
#: Progress reporters of the renders and pool runs in progress.
reporters: weakref.WeakSet[Any] = weakref.WeakSet()


def watch(ctx: Any) -> None:
    """Lets Ctrl-C stop the calls of runtime context ``ctx``."""
    contexts.add(ctx)
    install_here()


def install_here() -> None:
    """Installs the watcher unless it is installed already (cheap when it is)."""
    if _write_fd is None:
        install()


def install() -> bool:
    """Installs the watcher (see the module doc); returns whether it is installed. Does
    nothing off the main thread, or when SIGINT is ignored or has no Python handler."""
    global _write_fd
    if threading.current_thread() is not threading.main_thread():
        return _write_fd is not None
    with _lock:
        if not callable(signal.getsignal(signal.SIGINT)):
            return False
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        try:
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except (ValueError, OSError):
            os.close(read_fd)
            os.close(write_fd)
            return False
        if previous == _write_fd and previous is not None:
            previous = -1  # installed again over our own, older pipe
        old = _write_fd
        _write_fd = write_fd
        watcher = threading.Thread(
            target=_watch, args=(read_fd, previous), name="luarun-sigint", daemon=True
        )
        watcher.start()
        if old is not None:
            os.close(old)  # the old watcher sees end-of-file and exits
        return True


def _watch(read_fd: int, forward_fd: int) -> None:
    while True:
        try:
            data = os.read(read_fd, 512)
        except OSError:
            return
        if not data:
            os.close(read_fd)
            return
        if forward_fd >= 0:
            try:
                os.write(forward_fd, data)
            except OSError:
                pass
        if signal.SIGINT in data:
            _stop_everything()


def _stop_everything() -> None:
    for ctx in list(contexts):
        if ctx.calls and not ctx.closed:
            ctx.sigint = True
            ctx.request_stop()
    for reporter in list(reporters):
        reporter.sigint = True


def _check_signals_function() -> Any:
    if sys.implementation.name != "cpython":
        return None
    function = ctypes.pythonapi.PyErr_CheckSignals
    function.restype = ctypes.c_int
    function.argtypes = []
    return function


_check_signals = _check_signals_function()


def raise_pending() -> None:
    """Runs the pending Python signal handlers now, so that the ``KeyboardInterrupt`` of
    a Ctrl-C comes out of the call it stopped (returns when the program's own handler
    does not raise). Off the main thread, or without ``ctypes.pythonapi`` (PyPy),
    raises ``KeyboardInterrupt`` itself."""
    if _check_signals is not None and threading.current_thread() is threading.main_thread():
        _check_signals()  # ctypes raises what the handler raised
        return
    raise KeyboardInterrupt
