"""The names ``luarun.lua54`` and ``luarun.luajit21`` share with lupa's modules (each
adds its own ``LuaRuntime`` and ``LUA_VERSION``)."""

from ._errors import LuaError, LuaMemoryError, LuaSyntaxError
from ._lupa import LUA_MAXINTEGER, LUA_MININTEGER, as_attrgetter, as_itemgetter
from ._lupa import unpacks_lua_table, unpacks_lua_table_method
from ._objects import lua_type

#: Exported by both modules, which add ``LUA_VERSION`` and ``LuaRuntime``.
SHARED = [
    "LUA_MAXINTEGER",
    "LUA_MININTEGER",
    "LuaError",
    "LuaMemoryError",
    "LuaSyntaxError",
    "as_attrgetter",
    "as_itemgetter",
    "lua_type",
    "unpacks_lua_table",
    "unpacks_lua_table_method",
]
__all__ = SHARED
