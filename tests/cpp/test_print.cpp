// Specification of State::set_print: Lua's print routed to a C++ function.
#include <stdexcept>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

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

static void a_state_freed_in_its_own_callback_stops_calling_its_print_function() {
  // luarun_state_free inside a callback lets the running call finish; the State's print
  // function is gone by then, so the rest of the call prints to stdout instead.
  auto lua = std::make_unique<luarun::State>();
  std::vector<std::string> lines;
  lua->set_print([&lines](std::string_view line) { lines.emplace_back(line); });
  lua->register_function("free_state", [&lua](const std::vector<luarun::Value> &) {
    lua.reset();
    return std::vector<luarun::Value>{};
  });
  luarun_state *raw = lua->raw();
  const char *code = "print('before'); free_state(); print('test_print: after the free, to stdout')";
  CHECK_OK(luarun_exec(raw, code, std::strlen(code)));
  CHECK(lua == nullptr);
  CHECK(lines.size() == 1 && lines[0] == "before\n");
}

int main() {
  RUN_TEST(print_goes_to_the_function_one_line_per_call);
  RUN_TEST(a_throwing_print_function_is_a_lua_error);
  RUN_TEST(printed_tables_show_no_address_but_tostring_text);
  RUN_TEST(a_state_freed_in_its_own_callback_stops_calling_its_print_function);
  return harness_finish("test_print (C++)");
}
