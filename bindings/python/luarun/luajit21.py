"""lupa's ``lupa.luajit21`` module: :class:`LuaRuntime` of the ``"luajit"`` flavor, and
lupa's module-level names::

    from luarun.luajit21 import LuaRuntime    # was: from lupa.luajit21 import LuaRuntime
"""

from ._flavor_module import *  # noqa: F403 - the names every such module has
from ._flavor_module import SHARED
from ._lupa import LUA_VERSIONS, flavor_runtime

LuaRuntime = flavor_runtime("luajit")
#: This flavor's Lua language version.
LUA_VERSION = LUA_VERSIONS["luajit"]

__all__ = [*SHARED, "LUA_VERSION", "LuaRuntime"]
