// What luarun.hpp costs per call compared with the raw C API, measured in one run:
// the same trivial Lua function called N times each way, and the same host function
// called N times from Lua, as C and as C++ callbacks. Prints ns/call and C++/C ratios.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "luarun.hpp"

using Clock = std::chrono::steady_clock;

template <class Body>
static double ns_per_call(long calls, Body &&body) {
  const auto start = Clock::now();
  body();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / static_cast<double>(calls);
}

static int c_identity(void *, const luarun_value *args, size_t nargs, luarun_callback_context *context) {
  return nargs == 0 ? LUARUN_OK : luarun_callback_return_value(context, &args[0]);
}

static void report(const char *what, double c_ns, double cpp_ns) {
  std::printf("%-38s C %8.1f ns   C++ %8.1f ns   C++/C %.2f\n", what, c_ns, cpp_ns, cpp_ns / c_ns);
}

int main(int argc, char **argv) {
  const long calls = argc > 1 ? std::atol(argv[1]) : 1000000;
  luarun::State lua;
  lua.exec("function identity(x) return x end");
  const luarun::Function identity = lua.get_global("identity").as_function();
  lua.register_function("cpp_identity", [](const std::vector<luarun::Value> &args) { return args; });
  if (luarun_register_function(lua.raw(), "c_identity", c_identity, nullptr, nullptr) != LUARUN_OK) return 1;
  const std::string loop = "for i = 1, " + std::to_string(calls) + " do ";

  double best[6] = {1e300, 1e300, 1e300, 1e300, 1e300, 1e300};
  for (int round = 0; round < 3; ++round) {  // interleaved rounds, best of 3 each way
    double t[6];
    t[0] = ns_per_call(calls, [&] {
      for (long i = 0; i < calls; ++i) {
        luarun_value arg{}, result;
        arg.kind = LUARUN_INTEGER;
        arg.integer = i;
        if (luarun_call_global(lua.raw(), "identity", &arg, 1, &result, 1, nullptr) != LUARUN_OK) std::abort();
        luarun_value_free(&result);
      }
    });
    t[1] = ns_per_call(calls, [&] {
      for (long i = 0; i < calls; ++i) lua.call("identity", i);
    });
    t[2] = ns_per_call(calls, [&] {
      for (long i = 0; i < calls; ++i) {
        luarun_value arg{}, result;
        arg.kind = LUARUN_INTEGER;
        arg.integer = i;
        if (luarun_call(&identity.value().raw(), &arg, 1, &result, 1, nullptr) != LUARUN_OK) std::abort();
        luarun_value_free(&result);
      }
    });
    t[3] = ns_per_call(calls, [&] {
      for (long i = 0; i < calls; ++i) identity(i);
    });
    t[4] = ns_per_call(calls, [&] { lua.exec(loop + "c_identity(i) end"); });
    t[5] = ns_per_call(calls, [&] { lua.exec(loop + "cpp_identity(i) end"); });
    for (int k = 0; k < 6; ++k) best[k] = t[k] < best[k] ? t[k] : best[k];
  }
  std::printf("%ld calls each, best of 3 interleaved rounds\n", calls);
  report("call global identity(i)", best[0], best[1]);
  report("call function handle identity(i)", best[2], best[3]);
  report("Lua calling a host identity(i)", best[4], best[5]);
  return 0;
}
