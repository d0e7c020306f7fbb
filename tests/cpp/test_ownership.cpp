// Specification of ownership in luarun.hpp: move-only states, values that copy by
// sharing, handles that outlive their state, nothing leaked (checked under ASan and
// valgrind by `make sanitize`).
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "harness.hpp"

static_assert(!std::is_copy_constructible_v<luarun::State>, "a State is one owner of one Lua state");
static_assert(std::is_nothrow_move_constructible_v<luarun::State>, "State moves without throwing");
static_assert(std::is_nothrow_move_assignable_v<luarun::State>, "State moves without throwing");
static_assert(std::is_nothrow_move_constructible_v<luarun::Value>, "Value moves without throwing");
static_assert(std::is_copy_constructible_v<luarun::Table>, "a Table copy refers to the same table");

static void moving_a_state_moves_the_lua_state() {
  luarun::State first;
  first.exec("marker = 'first'");
  luarun::State second(std::move(first));
  CHECK(second.eval("marker").as_string() == "first");
  CHECK(first.raw() == nullptr);  // NOLINT(bugprone-use-after-move): specified behaviour
  CHECK_THROWS(first.eval("1"), LUARUN_ERR_INVALID_ARGUMENT);

  luarun::State third;
  third.exec("marker = 'third'");
  third = std::move(second);  // frees the old third
  CHECK(third.eval("marker").as_string() == "first");
  std::vector<luarun::State> states;
  states.emplace_back();
  states.emplace_back();  // reallocation moves the states
  states[0].exec("n = 0");
  CHECK(states[0].eval("n").as_integer() == 0);
}

static void value_copies_share_objects_and_moves_transfer_them() {
  luarun::State lua;
  luarun::Value table = lua.eval("{}");
  luarun::Value copy = table;
  copy.as_table().set("seen", true);
  CHECK(table.as_table().get("seen").as_bool());
  CHECK(copy.raw().handle != table.raw().handle);  // independent owned references

  luarun::Value moved = std::move(copy);
  CHECK(copy.is_nil());  // NOLINT(bugprone-use-after-move): specified behaviour
  CHECK(moved.as_table().get("seen").as_bool());
  moved = table;  // copy-assign over a handle releases the old one
  moved = moved;  // self-assignment keeps it
  CHECK(moved.as_table().get("seen").as_bool());
  moved = lua.eval("'replaced'");
  CHECK(moved.as_string() == "replaced");
}

static void strings_built_in_cpp_survive_copies_and_moves() {
  const std::string long_text(1000, 'x');
  for (const std::string &text : {std::string("short"), long_text}) {
    luarun::Value original(text);
    luarun::Value copy = original;
    luarun::Value moved = std::move(original);
    std::vector<luarun::Value> many(3, moved);
    many.emplace_back(std::move(copy));
    for (const luarun::Value &v : many) CHECK(v.as_string_view() == text);
    luarun::State lua;
    lua.set_global("s", many.back());
    CHECK(lua.eval("#s").as_integer() == static_cast<int64_t>(text.size()));
  }
}

static void handles_keep_their_state_alive() {
  luarun::Value table;
  luarun::Value function;
  {
    luarun::State lua;
    table = lua.eval("{answer = 42}");
    function = lua.eval("function(n) return n + 1 end");
  }
  CHECK(table.as_table().get("answer").as_integer() == 42);
  CHECK(function.as_function()(1)[0].as_integer() == 2);
}

static void dropped_values_release_their_lua_objects() {
  luarun::State lua;
  lua.exec("collectgarbage()");
  const size_t before = lua.memory_used();
  for (int i = 0; i < 2000; ++i) {
    luarun::Table table = lua.create_table(100, 0);
    luarun::Value copy = table;
    table.set(1, copy);
  }
  lua.exec("collectgarbage() collectgarbage()");
  const size_t after = lua.memory_used();
  // 2000 tables of 100 slots would hold > 3 MB if any handle were still referenced.
  CHECK(after < before + 256 * 1024);
}

static void interrupt_from_another_thread_stops_a_loop() {
  luarun::State lua;
  std::thread stopper([&lua] { lua.interrupt(); });
  // Whether the interrupt lands before or during the loop, this call is the one stopped.
  CHECK_THROWS(lua.exec("while true do end"), LUARUN_ERR_INTERRUPTED);
  stopper.join();
  CHECK(lua.eval("'usable again'").as_string() == "usable again");
}

int main() {
  RUN_TEST(moving_a_state_moves_the_lua_state);
  RUN_TEST(value_copies_share_objects_and_moves_transfer_them);
  RUN_TEST(strings_built_in_cpp_survive_copies_and_moves);
  RUN_TEST(handles_keep_their_state_alive);
  RUN_TEST(dropped_values_release_their_lua_objects);
  RUN_TEST(interrupt_from_another_thread_stops_a_loop);
  return harness_finish("test_ownership (C++)");
}
