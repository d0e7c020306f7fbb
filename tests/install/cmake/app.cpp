// Built against an installed luarun: the C++ wrapper's headers come from the same
// include directory. A state, a host function, an error and a render.
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <luarun.hpp>

int main() {
#ifdef EXPECT_LUAJIT
  const char *lua_expected = "LuaJIT";
#else
  const char *lua_expected = "Lua 5.4";
#endif
  try {
    if (std::strncmp(luarun_lua_version(), lua_expected, std::strlen(lua_expected)) != 0)
      throw std::runtime_error(std::string("linked ") + luarun_lua_version() + ", expected " + lua_expected);
    luarun::State lua;
    lua.register_function("twice", [](const std::vector<luarun::Value> &args) -> std::vector<luarun::Value> {
      return {args.at(0).as_number() * 2};
    });
    if (lua.eval("twice(21)").as_number() != 42) throw std::runtime_error("twice(21) is not 42");
    bool thrown = false;
    try {
      lua.exec("error('expected')");
    } catch (const luarun::Error &e) {
      thrown = e.status() == LUARUN_ERR_RUNTIME;
    }
    if (!thrown) throw std::runtime_error("a Lua error did not throw luarun::Error");
    luarun::MandelbrotParams params;
    params.width = 16;  // height follows width
    if (luarun::render(params).size() != 2 * 16) throw std::runtime_error("a 16 x 16 render is not 32 bytes");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "C++: %s\n", e.what());
    return 1;
  }
  std::printf("C++: luarun %s (%s): ok\n", luarun_version(), luarun_lua_version());
  return 0;
}
