"""The base of every class that owns a C resource: ``close()``, ``with`` and a finalizer,
as in wasmtime-py."""

from __future__ import annotations

from typing import Any


class Managed:
    """Owns one C resource, released exactly once: by :meth:`close`, by leaving a
    ``with`` block, or by the garbage collector."""

    _closed: bool = True

    def _release(self) -> None:
        """Frees the C resource. Called once."""
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        """Whether the resource has been released."""
        return self._closed

    def close(self) -> None:
        """Releases the resource now. Further use raises :class:`luarun.Error`; calling
        ``close()`` again does nothing."""
        if not self._closed:
            self._closed = True
            self._release()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - a finalizer must never raise
            pass
