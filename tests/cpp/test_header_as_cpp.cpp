// luarun.h and luarun.hpp compile as C++17 on their own and twice over, and the C
// declarations get C linkage (this links against the Rust library).
#include "luarun.hpp"
#include "luarun.hpp"
#include "luarun.h"
#include "luarun.h"

#include <type_traits>

#include "harness.h"

static_assert(std::is_standard_layout_v<luarun_value>, "luarun_value is a plain C struct");
static_assert(std::is_trivially_copyable_v<luarun_options>, "luarun_options is a plain C struct");

static void c_header_links_from_cpp() {
  luarun_state *state = nullptr;
  CHECK_OK(luarun_state_new(nullptr, &state));
  luarun_value result{};
  CHECK_OK(luarun_eval(state, "6 * 7", 5, &result));
  CHECK(result.kind == LUARUN_INTEGER && result.integer == 42);
  luarun_state_free(state);
}

int main() {
  RUN_TEST(c_header_links_from_cpp);
  return harness_finish("test_header_as_cpp");
}
