/* Built against an installed luarun: create a state, evaluate, check the answer and
 * which Lua is inside (EXPECT_LUAJIT for the LuaJIT flavor). */
#include <stdio.h>
#include <string.h>

#include <luarun.h>

int main(void) {
  luarun_state *lua;
  luarun_value result;
  const char *expression = "string.rep('ab', 3) .. #'luarun'";
#ifdef EXPECT_LUAJIT
  const char *lua_expected = "LuaJIT";
#else
  const char *lua_expected = "Lua 5.4";
#endif
  int ok;
  if (strncmp(luarun_lua_version(), lua_expected, strlen(lua_expected)) != 0) {
    fprintf(stderr, "linked %s, expected %s\n", luarun_lua_version(), lua_expected);
    return 1;
  }
  if (luarun_state_new(NULL, &lua) != LUARUN_OK) {
    fprintf(stderr, "luarun_state_new: %s\n", luarun_last_error());
    return 1;
  }
  if (luarun_eval(lua, expression, strlen(expression), &result) != LUARUN_OK) {
    fprintf(stderr, "luarun_eval: %s\n", luarun_last_error());
    luarun_state_free(lua);
    return 1;
  }
  ok = result.kind == LUARUN_STRING && result.string_len == 7 && memcmp(result.string, "ababab6", 7) == 0;
  if (!ok) fprintf(stderr, "%s gave a %s, expected \"ababab6\"\n", expression, luarun_type_name(result.kind));
  luarun_value_free(&result);
  luarun_state_free(lua);
  if (ok) printf("C: luarun %s (%s): ok\n", luarun_version(), luarun_lua_version());
  return ok ? 0 : 1;
}
