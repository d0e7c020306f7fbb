/* luarun.h compiles on its own (first include, nothing before it) and twice over. */
#include "luarun.h"
#include "luarun.h"

#include "harness.h"

static void header_needs_nothing_included_before_it(void) {
  luarun_value value = {0};
  luarun_options options;
  luarun_options_default(&options);
  CHECK(options.struct_size == sizeof options);
  CHECK(value.kind == LUARUN_NIL);
  CHECK(luarun_abi_version() == LUARUN_ABI_VERSION);
}

int main(void) {
  RUN_TEST(header_needs_nothing_included_before_it);
  return harness_finish("test_header_standalone");
}
