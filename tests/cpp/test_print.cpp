// Specification of State::set_print: Lua's print routed to a C++ function.
#include <stdexcept>
#include <string>

#include "harness.hpp"

static void print_goes_to_the_function_one_line_per_call() {
  luarun::State lua;
  std::string written;
  int calls = 0;
  lua.set_print([&](std::string_view line) {
    written += line;
    ++calls;
  });
  lua.exec("print('hello', 42) print(nil, true)");
  CHECK(calls == 2);
  CHECK(written == "hello\t42\nnil\ttrue\n");
  // Moving the state keeps the routing.
  luarun::State moved = std::move(lua);
  moved.exec("print('moved')");
  CHECK(written.size() > 6 && written.substr(written.size() - 6) == "moved\n");
  // An empty function restores stdout.
  moved.set_print(nullptr);
  moved.exec("print('test_print: this line goes to stdout')");
  CHECK(calls == 3);
}

static void a_throwing_print_function_is_a_lua_error() {
  luarun::State lua;
  lua.set_print([](std::string_view) { throw std::runtime_error("no room"); });
  CHECK_THROWS(lua.exec("print('x')"), LUARUN_ERR_RUNTIME);
  CHECK(lua.eval("pcall(print, 'x') == false").as_bool());
}

static void printed_tables_show_no_address_but_tostring_text() {
  luarun::State lua;
  std::string written;
  lua.set_print([&](std::string_view line) { written += line; });
  lua.exec("t = {} print(t)");
  CHECK(written == lua.eval("tostring(t)").as_string() + "\n");
  CHECK(contains(written, "table: 0x"));
}

int main() {
  RUN_TEST(print_goes_to_the_function_one_line_per_call);
  RUN_TEST(a_throwing_print_function_is_a_lua_error);
  RUN_TEST(printed_tables_show_no_address_but_tostring_text);
  return harness_finish("test_print (C++)");
}
