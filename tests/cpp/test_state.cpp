// Specification of luarun.hpp's State, Value, Table and Function, and of the Error
// every failing call throws.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "harness.hpp"

static void exec_eval_and_call_exchange_every_value_kind() {
  luarun::State lua;
  lua.exec("x = 40 + 2; s = 'a\\0b'; f = 2.5; t = {1, 2, 3}");
  CHECK(lua.eval("x").as_integer() == 42);
  CHECK(lua.eval("x").as_number() == 42.0);
  CHECK(lua.eval("f").as_number() == 2.5);
  CHECK(lua.eval("s").as_string() == std::string("a\0b", 3));
  CHECK(lua.eval("1 < 2").as_bool());
  CHECK(lua.eval("nil").is_nil());
  CHECK(lua.eval("t").kind() == LUARUN_TABLE);
  CHECK(std::string(lua.eval("t").type_name()) == "table");

  lua.exec("function echo(...) return ... end");
  const std::string owned = "std::string";
  const std::vector<luarun::Value> back =
      lua.call("echo", true, 7, int64_t{-9}, 1.5, "literal", std::string_view("view"), owned, nullptr,
               luarun::Value(3u));
  CHECK(back.size() == 9);
  CHECK(back[0].as_bool() == true);
  CHECK(back[1].as_integer() == 7);
  CHECK(back[2].as_integer() == -9);
  CHECK(back[3].as_number() == 1.5);
  CHECK(back[4].as_string() == "literal");
  CHECK(back[5].as_string() == "view");
  CHECK(back[6].as_string() == "std::string");
  CHECK(back[7].is_nil());
  CHECK(back[8].as_integer() == 3);
  CHECK(lua.call("echo").empty());
  char mutable_text[] = "char array";
  char *mutable_pointer = mutable_text;
  CHECK(lua.call("echo", mutable_text)[0].as_string() == "char array");
  CHECK(lua.call("echo", mutable_pointer)[0].as_string() == "char array");
  CHECK(lua.call("echo", 'A', 2.5f, static_cast<unsigned char>(200))[2].as_integer() == 200);
}

static void strings_hold_any_bytes_both_ways() {
  luarun::State lua;
  const std::string with_nul("x\0y", 3);
  lua.exec("function len(s) return #s end");
  CHECK(lua.call("len", with_nul)[0].as_integer() == 3);
  lua.set_global("bytes", with_nul);
  CHECK(lua.get_global("bytes").as_string() == with_nul);
}

static void globals_tables_and_functions_are_handles() {
  luarun::State lua;
  luarun::Table config = lua.create_table();
  config.set("name", "luarun");
  config.set(1, 10);
  config.set(2, 20);
  lua.set_global("config", config);
  CHECK(lua.eval("config.name .. #config").as_string() == "luarun2");
  CHECK(config.length() == 2);
  CHECK(config.get(2).as_integer() == 20);
  CHECK(lua.globals().get("config").as_table().get("name").as_string() == "luarun");

  int pairs = 0;
  int64_t sum = 0;
  config.for_each([&](const luarun::Value &key, const luarun::Value &value) {
    pairs++;
    if (key.kind() == LUARUN_INTEGER) sum += value.as_integer();
  });
  CHECK(pairs == 3 && sum == 30);

  const luarun::Function make = lua.load("return function(a, b) return a + b, a * b end", "=maker");
  const luarun::Function add_and_multiply = make()[0].as_function();
  const std::vector<luarun::Value> results = add_and_multiply(6, 7);
  CHECK(results.size() == 2 && results[0].as_integer() == 13 && results[1].as_integer() == 42);
  lua.set_global("add_and_multiply", add_and_multiply);
  CHECK(lua.eval("select(2, add_and_multiply(2, 3))").as_integer() == 6);
  CHECK(lua.tostring(lua.eval("{}")).rfind("table: ", 0) == 0);
  CHECK(lua.memory_used() > 0);
}

static void options_set_libraries_and_limits() {
  luarun::State safe;
  CHECK(safe.eval("os").is_nil());
  luarun::State with_os(luarun::Options().libraries(LUARUN_LIBS_SAFE | LUARUN_LIB_OS));
  CHECK(with_os.eval("type(os.time)").as_string() == "function");

  luarun::State counted(luarun::Options().instruction_limit(100000));
  CHECK_THROWS(counted.exec("while true do end"), LUARUN_ERR_INTERRUPTED);
  CHECK(counted.eval("1 + 1").as_integer() == 2);  // the budget is per call

  luarun::State timed(luarun::Options().time_limit(std::chrono::milliseconds(50)));
  CHECK_THROWS(timed.exec("while true do end"), LUARUN_ERR_INTERRUPTED);
  try {
    timed.exec("while true do end");
    CHECK(false);
  } catch (const luarun::Error &error) {
    CHECK(error.stop() == LUARUN_STOP_TIME_LIMIT);
    CHECK(error.option() == LUARUN_OPTION_TIME_LIMIT);
  }
  try {
    safe.exec("os.exit(1)");
    CHECK(false);
  } catch (const luarun::Error &error) {
    CHECK(error.stop() == LUARUN_STOP_NONE);
    CHECK(error.option() == LUARUN_OPTION_LIBRARIES);
    CHECK(error.library() == LUARUN_LIB_OS);
  }

  luarun::State small(luarun::Options().memory_limit(1 << 20));
  CHECK_THROWS(small.exec("local t = {} for i = 1, 1e7 do t[i] = i end"), LUARUN_ERR_MEMORY);
  CHECK(small.eval("'still usable'").as_string() == "still usable");
  CHECK(small.memory_limit() == (1 << 20));
  small.gc();
  small.set_memory_limit(0);
  CHECK(small.memory_limit() == 0);
  small.exec("local t = {} for i = 1, 1e6 do t[i] = i end");
  CHECK_THROWS(small.set_memory_limit(1), LUARUN_ERR_INVALID_ARGUMENT);
  small.gc(LUARUN_GC_STOP);
  small.gc(LUARUN_GC_RESTART);

  luarun::State no_bytecode;
  CHECK_THROWS(no_bytecode.exec(std::string("\x1bLua", 4)), LUARUN_ERR_SYNTAX);
  luarun::State finalizers(luarun::Options().allow_finalizers());
  finalizers.exec("setmetatable({}, {__gc = function() end})");
  CHECK_THROWS(no_bytecode.exec("setmetatable({}, {__gc = function() end})"), LUARUN_ERR_RUNTIME);
}

static void every_failure_throws_error_with_status_and_message() {
  luarun::State lua;
  CHECK_THROWS(lua.exec("x = = 1"), LUARUN_ERR_SYNTAX);
  CHECK_THROWS(lua.eval("1 +"), LUARUN_ERR_SYNTAX);
  CHECK_THROWS(lua.load("end"), LUARUN_ERR_SYNTAX);
  CHECK_THROWS(lua.exec("error('boom')"), LUARUN_ERR_RUNTIME);
  CHECK(contains(ERROR_MESSAGE_OF(lua.exec("error('boom')")), "boom"));
  CHECK(contains(ERROR_MESSAGE_OF(lua.exec("error('named')", "=my_chunk")), "my_chunk"));
  CHECK_THROWS(lua.call("missing"), LUARUN_ERR_TYPE);
  CHECK(contains(ERROR_MESSAGE_OF(lua.call("missing")), "missing"));
  lua.exec("function fail(m) error(m, 0) end");
  CHECK_THROWS(lua.call("fail", "from call"), LUARUN_ERR_RUNTIME);
  CHECK(ERROR_MESSAGE_OF(lua.call("fail", "from call")).rfind("from call", 0) == 0);
  CHECK_THROWS(lua.call(std::string("fail"), "named by std::string"), LUARUN_ERR_RUNTIME);
  CHECK_THROWS(lua.create_table().set(nullptr, 1), LUARUN_ERR_RUNTIME);
  CHECK_THROWS(lua.eval("'x'").as_integer(), LUARUN_ERR_TYPE);
  CHECK_THROWS(lua.eval("1").as_string(), LUARUN_ERR_TYPE);
  CHECK_THROWS(lua.eval("1.5").as_integer(), LUARUN_ERR_TYPE);
  CHECK_THROWS(lua.eval("'s'").as_bool(), LUARUN_ERR_TYPE);
  CHECK_THROWS(lua.eval("1").as_table(), LUARUN_ERR_TYPE);
  CHECK_THROWS(lua.eval("{}").as_function(), LUARUN_ERR_TYPE);
  CHECK_THROWS(luarun::Value(UINT64_MAX), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_THROWS(luarun::Value(static_cast<const char *>(nullptr)), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_THROWS(lua.call("print", static_cast<const char *>(nullptr)), LUARUN_ERR_INVALID_ARGUMENT);
  try {
    lua.exec("error('typed')");
  } catch (const std::runtime_error &e) {  // catchable as the standard base class
    CHECK(contains(e.what(), "typed"));
  }
}

static void preloaded_modules_load_in_a_sandbox_and_paths_need_package() {
  luarun::State safe;
  safe.preload("greeting", "local name = ... return {hello = function() return 'hi from ' .. name end}");
  CHECK(safe.eval("require('greeting').hello()").as_string() == "hi from greeting");
  CHECK_THROWS(safe.set_module_path("/tmp/?.lua"), LUARUN_ERR_INVALID_ARGUMENT);
  try {
    safe.set_module_path("/tmp/?.lua");
  } catch (const luarun::Error &error) {
    CHECK(error.option() == LUARUN_OPTION_LIBRARIES && error.library() == LUARUN_LIB_PACKAGE);
  }
  luarun::State with_package(luarun::Options().libraries(LUARUN_LIBS_SAFE | LUARUN_LIB_PACKAGE));
  with_package.set_module_path("/nonexistent/?.lua");
  CHECK(with_package.eval("package.path").as_string() == "/nonexistent/?.lua");
}

static void interrupt_before_a_call_stops_that_call() {
  luarun::State lua;
  lua.interrupt();
  CHECK_THROWS(lua.exec("x = 1"), LUARUN_ERR_INTERRUPTED);
  lua.exec("x = 1");  // consumed by the call it stopped
  CHECK(lua.eval("x").as_integer() == 1);
}

int main() {
  RUN_TEST(exec_eval_and_call_exchange_every_value_kind);
  RUN_TEST(strings_hold_any_bytes_both_ways);
  RUN_TEST(globals_tables_and_functions_are_handles);
  RUN_TEST(options_set_libraries_and_limits);
  RUN_TEST(every_failure_throws_error_with_status_and_message);
  RUN_TEST(preloaded_modules_load_in_a_sandbox_and_paths_need_package);
  RUN_TEST(interrupt_before_a_call_stops_that_call);
  return harness_finish("test_state (C++)");
}
