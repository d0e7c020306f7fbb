// Specification of C++ host functions: arguments in, results out, and exceptions that
// become Lua errors instead of unwinding through Rust or Lua.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"

using Args = std::vector<luarun::Value>;
using Results = std::vector<luarun::Value>;

static void host_functions_take_arguments_and_return_results() {
  luarun::State lua;
  lua.register_function("sum_and_count", [](const Args &args) -> Results {
    double sum = 0;
    for (const luarun::Value &arg : args) sum += arg.as_number();
    return {sum, static_cast<int64_t>(args.size())};
  });
  CHECK(lua.eval("select(1, sum_and_count(1, 2, 3.5))").as_number() == 6.5);
  CHECK(lua.eval("select(2, sum_and_count(1, 2, 3.5))").as_integer() == 3);

  const luarun::Function shout = lua.create_function([](const Args &args) -> Results {
    std::string text(args.at(0).as_string_view());
    for (char &c : text) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    return {text};
  });
  CHECK(shout("hey")[0].as_string() == "HEY");
  lua.set_global("shout", shout);
  CHECK(lua.eval("shout('lua')").as_string() == "LUA");
}

static void host_functions_exchange_tables_and_functions() {
  luarun::State lua;
  lua.register_function("make_point", [&lua](const Args &args) -> Results {
    luarun::Table point = lua.create_table();
    point.set("x", args.at(0));
    point.set("y", args.at(1));
    return {point};
  });
  lua.register_function("apply", [](const Args &args) -> Results {
    return args.at(0).as_function()(args.at(1));
  });
  CHECK(lua.eval("make_point(3, 4).y").as_integer() == 4);
  CHECK(lua.eval("apply(function(n) return n * 10 end, 5)").as_integer() == 50);
  // A callback may call back into its own state.
  lua.register_function("nested_eval", [&lua](const Args &) -> Results { return {lua.eval("20 + 22")}; });
  CHECK(lua.eval("nested_eval()").as_integer() == 42);
}

static void exceptions_become_lua_errors_that_pcall_catches() {
  luarun::State lua;
  lua.register_function("fail", [](const Args &args) -> Results {
    throw std::runtime_error("failed in C++: " + args.at(0).as_string());
  });
  lua.exec("ok, message = pcall(fail, 'disk full')");
  CHECK(lua.eval("ok").as_bool() == false);
  CHECK(contains(lua.eval("message").as_string(), "failed in C++: disk full"));
  lua.exec("after = 'Lua went on after the error'");
  CHECK(lua.eval("after").as_string() == "Lua went on after the error");
}

static void escaped_exceptions_surface_as_error_with_the_message() {
  luarun::State lua;
  lua.register_function("fail", [](const Args &) -> Results { throw std::invalid_argument("bad input 17"); });
  CHECK_THROWS(lua.exec("fail()"), LUARUN_ERR_RUNTIME);
  CHECK(contains(ERROR_MESSAGE_OF(lua.exec("fail()")), "bad input 17"));
  CHECK(contains(ERROR_MESSAGE_OF(lua.call("fail")), "bad input 17"));

  lua.register_function("throw_int", [](const Args &) -> Results { throw 42; });
  CHECK(contains(ERROR_MESSAGE_OF(lua.exec("throw_int()")), "unknown C++ exception"));

  // A luarun::Error from inside (here: a type mismatch) travels the same way.
  lua.register_function("wants_string", [](const Args &args) -> Results { return {args.at(0).as_string()}; });
  CHECK(contains(ERROR_MESSAGE_OF(lua.exec("wants_string({})")), "expected a string, got table"));
  // ... and so does a failure of a nested call.
  lua.register_function("nested_syntax_error", [&lua](const Args &) -> Results { return {lua.eval("1 +")}; });
  CHECK_THROWS(lua.exec("nested_syntax_error()"), LUARUN_ERR_RUNTIME);
}

static void host_function_captures_are_freed_with_the_state() {
  auto token = std::make_shared<int>(7);
  {
    luarun::State lua;
    lua.register_function("token", [token](const Args &) -> Results { return {*token}; });
    CHECK(lua.eval("token()").as_integer() == 7);
    CHECK(token.use_count() == 2);
  }
  CHECK(token.use_count() == 1);

  std::optional<luarun::Function> kept;
  {
    luarun::State lua;
    kept = lua.create_function([token](const Args &) -> Results { return {*token * 2}; });
  }
  CHECK(token.use_count() == 2);
  CHECK((*kept)()[0].as_integer() == 14);  // the function keeps its state alive
  kept.reset();                            // the last handle: the state closes
  CHECK(token.use_count() == 1);
}

int main() {
  RUN_TEST(host_functions_take_arguments_and_return_results);
  RUN_TEST(host_functions_exchange_tables_and_functions);
  RUN_TEST(exceptions_become_lua_errors_that_pcall_catches);
  RUN_TEST(escaped_exceptions_surface_as_error_with_the_message);
  RUN_TEST(host_function_captures_are_freed_with_the_state);
  return harness_finish("test_callbacks (C++)");
}
