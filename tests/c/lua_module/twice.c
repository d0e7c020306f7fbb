/* A C module of our own, built by the tests against the headers luarun ships
 * (include/lua54 or include/luajit): require "twice" gives { twice = f, version_num = n }. */
#include "lua.h"
#include "lauxlib.h"

static int twice(lua_State *L) {
  lua_Number n = luaL_checknumber(L, 1);
  lua_pushnumber(L, 2 * n);
  return 1;
}

int luaopen_twice(lua_State *L) {
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, twice);
  lua_setfield(L, -2, "twice");
  lua_pushinteger(L, LUA_VERSION_NUM);
  lua_setfield(L, -2, "version_num");
  return 1;
}
