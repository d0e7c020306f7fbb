"""lupa's ``lupa.lua54`` module: :class:`LuaRuntime` of the ``"lua54"`` flavor::

    from luarun.lua54 import LuaRuntime    # was: from lupa.lua54 import LuaRuntime
"""

from __future__ import annotations

from typing import Any

from ._errors import LuaError, LuaMemoryError, LuaSyntaxError
from ._lupa import LUA_MAXINTEGER, LUA_MININTEGER, as_attrgetter, as_itemgetter
from ._lupa import LuaRuntime as _LuaRuntime
from ._lupa import unpacks_lua_table, unpacks_lua_table_method
from ._objects import lua_type

#: This flavor's Lua language version.
LUA_VERSION = (5, 4)


class LuaRuntime(_LuaRuntime):
    """:class:`luarun.LuaRuntime` with ``flavor="lua54"``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("flavor", "lua54")
        super().__init__(*args, **kwargs)


__all__ = [
    "LUA_MAXINTEGER",
    "LUA_MININTEGER",
    "LUA_VERSION",
    "LuaError",
    "LuaMemoryError",
    "LuaRuntime",
    "LuaSyntaxError",
    "as_attrgetter",
    "as_itemgetter",
    "lua_type",
    "unpacks_lua_table",
    "unpacks_lua_table_method",
]
