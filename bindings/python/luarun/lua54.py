"""lupa's ``lupa.lua54`` module: :class:`LuaRuntime` of the ``"lua54"`` flavor, and
lupa's module-level names::

    from luarun.lua54 import LuaRuntime    # was: from lupa.lua54 import LuaRuntime
"""

from ._flavor_module import *  # noqa: F403 - the names every such module has
from ._flavor_module import SHARED
from ._lupa import LUA_VERSIONS, flavor_runtime

LuaRuntime = flavor_runtime("lua54")
#: This flavor's Lua language version.
LUA_VERSION = LUA_VERSIONS["lua54"]

__all__ = [*SHARED, "LUA_VERSION", "LuaRuntime"]
