/* Lua modules from C: preloaded sources in a sandboxed state, Debian's lpeg, cjson and
 * lfs through the module paths (skipped with a message where they are not installed),
 * and both flavors in one process: this program links libluarun (Lua 5.4), which so
 * provides the process's lua_* names; the LuaJIT library, opened as well, keeps working
 * and refuses C modules with a message naming libluarun. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "luarun.h"

#define S(lit) lit, sizeof(lit) - 1
#define DEBIAN_C_54 "/usr/lib/x86_64-linux-gnu/lua/5.4"
#define DEBIAN_LUA_54 "/usr/share/lua/5.4"

static luarun_state *new_state(uint32_t extra_libraries) {
  luarun_options options;
  luarun_options_default(&options);
  options.libraries |= extra_libraries;
  luarun_state *lua = NULL;
  CHECK_OK(luarun_state_new(&options, &lua));
  return lua;
}

/* Whether the Lua expression evaluates to true; failures are reported. */
static int is_true(luarun_state *lua, const char *expression) {
  luarun_value result = {0};
  luarun_status status = luarun_eval(lua, expression, strlen(expression), &result);
  int yes = status == LUARUN_OK && result.kind == LUARUN_BOOLEAN && result.boolean;
  if (!yes) {
    fprintf(stderr, "  %s: %s\n", expression,
            status == LUARUN_OK ? "not true" : luarun_last_error());
  }
  luarun_value_free(&result);
  return yes;
}

static int installed(const char *file) {
  if (access(file, R_OK) == 0) return 1;
  printf("SKIPPED part: %s not installed (apt-get install lua-lpeg lua-cjson lua-filesystem)\n",
         file);
  return 0;
}

static void preloaded_modules_work_in_sandboxed_states(void) {
  luarun_state *lua = new_state(0);
  CHECK(is_true(lua, "require == nil"));
  CHECK_OK(luarun_state_preload(lua, "shapes", S("return { sides = function() return 4 end }")));
  CHECK(is_true(lua, "require('shapes').sides() == 4"));
  CHECK(is_true(lua, "package == nil"));
  CHECK_STATUS(luarun_state_preload(lua, NULL, S("return 1")), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_state_preload(NULL, "x", S("return 1")), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_state_free(lua);
}

static void module_paths_need_the_package_library(void) {
  luarun_state *lua = new_state(0);
  CHECK_STATUS(luarun_state_set_module_path(lua, "/tmp/?.lua"), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(strstr(luarun_last_error(), "package library") != NULL);
  CHECK(luarun_last_error_option() == LUARUN_OPTION_LIBRARIES);
  CHECK(luarun_last_error_library() == LUARUN_LIB_PACKAGE);
  CHECK_STATUS(luarun_state_set_c_module_path(lua, "/tmp/?.so"), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_state_free(lua);
}

static void debian_c_modules_load(void) {
  luarun_state *lua = new_state(LUARUN_LIB_PACKAGE);
  CHECK_OK(luarun_state_set_c_module_path(lua, DEBIAN_C_54 "/?.so"));
  CHECK_OK(luarun_state_set_module_path(lua, DEBIAN_LUA_54 "/?.lua"));
  if (installed(DEBIAN_C_54 "/lpeg.so")) {
    CHECK(is_true(lua, "(function() local lpeg = require 'lpeg'\n"
                       "  local number = lpeg.C(lpeg.R'09'^1)\n"
                       "  local list = lpeg.Ct(number * (',' * number)^0) * -1\n"
                       "  local t = list:match('12,34,56')\n"
                       "  return #t == 3 and t[3] == '56' and list:match('1,,2') == nil end)()"));
    if (installed(DEBIAN_LUA_54 "/re.lua")) {
      CHECK(is_true(lua, "require('re').match('key = 42', \"[a-z]+ ' = ' {[0-9]+}\") == '42'"));
    }
  }
  if (installed(DEBIAN_C_54 "/cjson.so")) {
    CHECK(is_true(lua, "(function() local cjson = require 'cjson'\n"
                       "  local t = cjson.decode(cjson.encode({ list = {1, 2, 3}, name = 'x' }))\n"
                       "  return t.list[3] == 3 and t.name == 'x' end)()"));
  }
  if (installed(DEBIAN_C_54 "/lfs.so")) {
    char dir[] = "/tmp/luarun-lfs-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[64];
    snprintf(file, sizeof file, "%s/listed.txt", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    char code[256];
    snprintf(code, sizeof code,
             "(function() local seen = {} for name in require('lfs').dir('%s') do "
             "seen[#seen + 1] = name end table.sort(seen) "
             "return table.concat(seen, ',') == '.,..,listed.txt' end)()", dir);
    CHECK(is_true(lua, code));
    remove(file);
    rmdir(dir);
  }
  luarun_state_free(lua);
}

/* The LuaJIT library's functions, found by dlsym. */
struct other_flavor {
  void (*options_default)(luarun_options *);
  luarun_status (*state_new)(const luarun_options *, luarun_state **);
  luarun_status (*set_c_module_path)(luarun_state *, const char *);
  luarun_status (*eval)(luarun_state *, const char *, size_t, luarun_value *);
  void (*value_free)(luarun_value *);
  void (*state_free)(luarun_state *);
  const char *(*last_error)(void);
};

#define FIND(handle, field, name) (*(void **)(&(field)) = dlsym(handle, name))

static void the_other_flavor_refuses_c_modules_and_keeps_its_own_lua(void) {
  Dl_info self;
  void (*known)(luarun_options *) = luarun_options_default;
  if (!dladdr(*(void **)(&known), &self) || self.dli_fname == NULL) {
    printf("SKIPPED part: cannot locate libluarun\n");
    return;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s", self.dli_fname);
  char *slash = strrchr(path, '/');
  snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0),
           "libluarun_luajit.so");
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    printf("SKIPPED part: %s not found (make build)\n", path);
    return;
  }
  struct other_flavor jit = {0};
  int found = FIND(handle, jit.options_default, "luarun_options_default") &&
        FIND(handle, jit.state_new, "luarun_state_new") &&
        FIND(handle, jit.set_c_module_path, "luarun_state_set_c_module_path") &&
        FIND(handle, jit.eval, "luarun_eval") && FIND(handle, jit.value_free, "luarun_value_free") &&
        FIND(handle, jit.state_free, "luarun_state_free") &&
        FIND(handle, jit.last_error, "luarun_last_error");
  CHECK(found);
  if (!found) return;
  luarun_options options;
  jit.options_default(&options);
  options.libraries |= LUARUN_LIB_PACKAGE;
  luarun_state *lua = NULL;
  CHECK(jit.state_new(&options, &lua) == LUARUN_OK);
  /* Its own Lua still serves it (-Bsymbolic): LuaJIT, not the global Lua 5.4. */
  luarun_value result = {0};
  CHECK(jit.eval(lua, S("_VERSION == 'Lua 5.1' and type(jit) == 'table'"), &result) == LUARUN_OK &&
        result.kind == LUARUN_BOOLEAN && result.boolean);
  jit.value_free(&result);
  CHECK(jit.set_c_module_path(lua, DEBIAN_C_54 "/?.so") == LUARUN_ERR_UNSUPPORTED);
  CHECK(strstr(jit.last_error(), "libluarun.so") != NULL &&
        strstr(jit.last_error(), "one Lua only") != NULL);
  jit.state_free(lua);
  /* Lua 5.4 states still load C modules. */
  luarun_state *lua54 = new_state(LUARUN_LIB_PACKAGE);
  CHECK_OK(luarun_state_set_c_module_path(lua54, DEBIAN_C_54 "/?.so"));
  luarun_state_free(lua54);
}

int main(void) {
  RUN_TEST(preloaded_modules_work_in_sandboxed_states);
  RUN_TEST(module_paths_need_the_package_library);
  RUN_TEST(debian_c_modules_load);
  RUN_TEST(the_other_flavor_refuses_c_modules_and_keeps_its_own_lua);
  return harness_finish("test_modules");
}
