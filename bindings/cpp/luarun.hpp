// luarun.hpp: header-only C++17 wrapper over the luarun C API (include/luarun.h).
//
// It adds no behaviour of its own: handles become RAII classes, statuses become
// luarun::Error exceptions, C++ values convert to luarun_value and back. Everything the
// C API documents (ownership, threads, limits) holds unchanged. Link with -lluarun.
#ifndef LUARUN_HPP
#define LUARUN_HPP

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "luarun.h"
#include "luarun_value.hpp"  // Error, Name, Value, Table, Function

namespace luarun {

/// A C++ function Lua can call. Whatever it throws becomes a Lua error carrying what()
/// (catchable with pcall; if Lua does not catch it, the C++ caller gets an Error).
using HostFunction = std::function<std::vector<Value>(const std::vector<Value> &args)>;

namespace detail {
/// The one place C++ code runs under Lua: catches everything, so no exception ever
/// unwinds through Rust or Lua frames.
inline int host_trampoline(void *user_data, const luarun_value *args, size_t nargs,
                           luarun_callback_context *context) noexcept {
  const char *message = "unknown C++ exception in host function";
  std::string what;
  try {
    std::vector<Value> arguments;
    arguments.reserve(nargs);
    for (size_t i = 0; i < nargs; ++i) arguments.push_back(Value::copy_of(args[i]));
    const std::vector<Value> results = (*static_cast<HostFunction *>(user_data))(arguments);
    for (const Value &result : results) check(luarun_callback_return_value(context, &result.raw()));
    return LUARUN_OK;
  } catch (const std::exception &e) {
    try {
      what = e.what();
      message = what.c_str();
    } catch (...) {
    }
  } catch (...) {
  }
  luarun_callback_set_error(context, message, std::strlen(message));
  return LUARUN_ERR_RUNTIME;
}
inline void delete_host_function(void *user_data) noexcept { delete static_cast<HostFunction *>(user_data); }
}  // namespace detail

/// Receives what one Lua print call writes: the line, newline included (any bytes).
/// Whatever it throws makes that print raise a Lua error.
using PrintFunction = std::function<void(std::string_view line)>;

namespace detail {
inline int print_trampoline(void *user_data, const char *text, size_t len) noexcept {
  try {
    (*static_cast<PrintFunction *>(user_data))(std::string_view(text, len));
    return LUARUN_OK;
  } catch (...) {
    return LUARUN_ERR_RUNTIME;
  }
}
}  // namespace detail

/// How to create a State: luarun_options_default, then the fields you set.
class Options {
 public:
  Options() noexcept { luarun_options_default(&raw_); }
  /// LUARUN_LIB_* bits (default LUARUN_LIBS_SAFE).
  Options &libraries(uint32_t bits) noexcept {
    raw_.libraries = bits;
    return *this;
  }
  Options &memory_limit(uint64_t bytes) noexcept {
    raw_.memory_limit = bytes;
    return *this;
  }
  Options &instruction_limit(uint64_t count) noexcept {
    raw_.instruction_limit = count;
    return *this;
  }
  Options &time_limit(std::chrono::milliseconds limit) noexcept {
    raw_.time_limit_ms = static_cast<uint64_t>(limit.count());
    return *this;
  }
  Options &allow_bytecode(bool allow = true) noexcept {
    raw_.allow_bytecode = allow;
    return *this;
  }
  Options &allow_finalizers(bool allow = true) noexcept {
    raw_.allow_finalizers = allow;
    return *this;
  }
  const luarun_options &raw() const noexcept { return raw_; }

 private:
  luarun_options raw_;
};

/// A Lua state (move-only; freed with luarun_state_free). A moved-from State holds NULL,
/// and every call on it throws Error(LUARUN_ERR_INVALID_ARGUMENT).
class State {
 public:
  State() : State(Options()) {}
  explicit State(const Options &options) { detail::check(luarun_state_new(&options.raw(), &raw_)); }
  State(const State &) = delete;
  State &operator=(const State &) = delete;
  State(State &&other) noexcept
      : raw_(std::exchange(other.raw_, nullptr)), print_(std::move(other.print_)) {}
  State &operator=(State &&other) noexcept {
    if (this != &other) {
      close();
      raw_ = std::exchange(other.raw_, nullptr);
      print_ = std::move(other.print_);
    }
    return *this;
  }
  ~State() { close(); }

  /// Runs Lua code; `chunk_name` as in luarun_exec_named (nullptr: from the code).
  void exec(std::string_view code, const char *chunk_name = nullptr) {
    detail::check(chunk_name == nullptr ? luarun_exec(raw_, code.data(), code.size())
                                        : luarun_exec_named(raw_, code.data(), code.size(), chunk_name));
  }
  /// The first value of a Lua expression.
  Value eval(std::string_view expression) {
    luarun_value out;
    detail::check(luarun_eval(raw_, expression.data(), expression.size(), &out));
    return Value::adopt(out);
  }
  /// Compiles code into a function without running it.
  Function load(std::string_view code, const char *chunk_name = nullptr) {
    luarun_value out;
    detail::check(luarun_load(raw_, code.data(), code.size(), chunk_name, &out));
    return Function(Value::adopt(out));
  }
  /// Calls the global function `name`; returns its results (at most detail::kMaxResults).
  template <class... Args>
  std::vector<Value> call(Name name, const Args &...args) {
    std::array<luarun_value, sizeof...(Args) + 1> c_args{{detail::to_c_arg(args)...}};
    return detail::collect_results([&](luarun_value *out, size_t cap, size_t *n) {
      return luarun_call_global(raw_, name.c_str(), c_args.data(), sizeof...(Args), out, cap, n);
    });
  }
  Value get_global(Name name) {
    luarun_value out;
    detail::check(luarun_get_global(raw_, name.c_str(), &out));
    return Value::adopt(out);
  }
  template <class T>
  void set_global(Name name, const T &value) {
    const luarun_value c_value = detail::to_c_arg(value);
    detail::check(luarun_set_global(raw_, name.c_str(), &c_value));
  }
  /// The table of globals (_G).
  Table globals() {
    luarun_value out;
    detail::check(luarun_globals(raw_, &out));
    return Table(Value::adopt(out));
  }
  /// A new empty table; the sizes are preallocation hints.
  Table create_table(size_t array_size = 0, size_t hash_size = 0) {
    luarun_value out;
    detail::check(luarun_table_new(raw_, array_size, hash_size, &out));
    return Table(Value::adopt(out));
  }
  /// A Lua function that calls `function` (see HostFunction).
  Function create_function(HostFunction function) {
    luarun_value out;
    detail::check(luarun_function_new(raw_, detail::host_trampoline, new HostFunction(std::move(function)),
                                      detail::delete_host_function, &out));
    return Function(Value::adopt(out));
  }
  /// Makes `function` callable from Lua as the global `name`.
  void register_function(Name name, HostFunction function) {
    detail::check(luarun_register_function(raw_, name.c_str(), detail::host_trampoline,
                                           new HostFunction(std::move(function)),
                                           detail::delete_host_function));
  }
  /// Lua's tostring(value), honouring __tostring.
  std::string tostring(const Value &value) {
    luarun_value out;
    detail::check(luarun_value_tostring(raw_, &value.raw(), &out));
    return Value::adopt(out).as_string();
  }
  /// Bytes the Lua heap holds.
  size_t memory_used() const {
    size_t bytes = 0;
    detail::check(luarun_state_memory_used(raw_, &bytes));
    return bytes;
  }
  /// The memory limit in bytes (0: none).
  uint64_t memory_limit() const {
    uint64_t bytes = 0;
    detail::check(luarun_state_memory_limit(raw_, &bytes));
    return bytes;
  }
  /// Sets the memory limit (0 lifts it); one below memory_used() throws.
  void set_memory_limit(uint64_t bytes) { detail::check(luarun_state_set_memory_limit(raw_, bytes)); }
  /// Registers `source` as the Lua module `name`: require(name) then compiles it as text
  /// under the call's limits (luarun_state_preload). Works in sandboxed states too.
  void preload(Name name, std::string_view source) {
    detail::check(luarun_state_preload(raw_, name.c_str(), source.data(), source.size()));
  }
  /// Sets package.path, where require looks for Lua modules (needs LUARUN_LIB_PACKAGE).
  void set_module_path(Name path) { detail::check(luarun_state_set_module_path(raw_, path.c_str())); }
  /// Sets package.cpath and lets require load C modules: native code, outside every
  /// guarantee of the sandbox; one process loads C modules for one flavor only.
  void set_c_module_path(Name cpath) { detail::check(luarun_state_set_c_module_path(raw_, cpath.c_str())); }
  /// A garbage-collector operation: LUARUN_GC_COLLECT, LUARUN_GC_STOP or LUARUN_GC_RESTART.
  void gc(luarun_gc_operation operation = LUARUN_GC_COLLECT) { detail::check(luarun_state_gc(raw_, operation)); }
  /// Stops the running call (or the next one) with LUARUN_ERR_INTERRUPTED. Any thread.
  void interrupt() const { detail::check(luarun_state_interrupt(raw_)); }
  /// Routes Lua's print to `print` (one call per print, the line with its newline);
  /// an empty function restores stdout (luarun_state_set_print).
  void set_print(PrintFunction print) {
    if (!print) {
      detail::check(luarun_state_set_print(raw_, nullptr, nullptr));
      print_.reset();
      return;
    }
    auto installed = std::make_unique<PrintFunction>(std::move(print));
    detail::check(luarun_state_set_print(raw_, detail::print_trampoline, installed.get()));
    print_ = std::move(installed);  // the previous one is no longer referenced
  }

  luarun_state *raw() const noexcept { return raw_; }

 private:
  // Freed inside one of its own callbacks, the state closes only when the running call
  // returns (luarun_state_free defers it), and print_ dies with this object: route
  // print back to stdout first, so the rest of that call cannot reach a freed function.
  void close() noexcept {
    if (print_ && raw_ != nullptr) luarun_state_set_print(raw_, nullptr, nullptr);
    luarun_state_free(raw_);
    raw_ = nullptr;
  }

  luarun_state *raw_ = nullptr;
  std::unique_ptr<PrintFunction> print_;  // what luarun_state_set_print points at
};

}  // namespace luarun

#include "luarun_render.hpp"  // luarun::render, MandelbrotParams

#endif  // LUARUN_HPP
