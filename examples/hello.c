/* Create a state, evaluate an expression, call a Lua function, print the results. */
#include <stdio.h>
#include <string.h>

#include "luarun.h"

int main(void) {
  luarun_state *lua;
  luarun_value result, args[1], greeting;
  const char *code = "function greet(name) return 'hello, ' .. name end";

  if (luarun_state_new(NULL, &lua) != LUARUN_OK) return 1;

  luarun_eval(lua, "1 + 2", 5, &result);
  printf("1 + 2 = %lld\n", (long long)result.integer);

  luarun_exec(lua, code, strlen(code));
  memset(args, 0, sizeof args);
  args[0].kind = LUARUN_STRING;
  args[0].string = "luarun";
  args[0].string_len = 6;
  if (luarun_call_global(lua, "greet", args, 1, &greeting, 1, NULL) != LUARUN_OK) {
    fprintf(stderr, "error: %s\n", luarun_last_error());
    return 1;
  }
  printf("%.*s\n", (int)greeting.string_len, greeting.string);
  luarun_value_free(&greeting);
  luarun_state_free(lua);
  return 0;
}
