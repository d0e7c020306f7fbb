// Create a state, evaluate, call Lua, let Lua call C++, and catch a Lua error.
#include <iostream>

#include "luarun.hpp"

int main() {
  try {
    luarun::State lua(luarun::Options().time_limit(std::chrono::seconds(1)));
    std::cout << "1 + 2 = " << lua.eval("1 + 2").as_integer() << "\n";
    lua.exec("function greet(name) return 'hello, ' .. name end");
    std::cout << lua.call("greet", "luarun")[0].as_string() << "\n";
    lua.register_function("twice", [](const std::vector<luarun::Value> &args) -> std::vector<luarun::Value> {
      return {args.at(0).as_number() * 2};
    });
    std::cout << "twice(21) = " << lua.eval("twice(21)").as_number() << "\n";
    try {
      lua.exec("error('something went wrong')");
    } catch (const luarun::Error &e) {
      std::cout << e.status_name() << ": " << e.what() << "\n";
    }
  } catch (const std::exception &e) {  // nothing escapes main: no std::terminate
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
