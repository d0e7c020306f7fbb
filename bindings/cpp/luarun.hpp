// luarun.hpp: header-only C++17 wrapper over the luarun C API (include/luarun.h).
//
// It adds no behaviour of its own: handles become RAII classes, statuses become
// luarun::Error exceptions, C++ values convert to luarun_value and back. Everything the
// C API documents (ownership, threads, limits) holds unchanged. Link with -lluarun.
#ifndef LUARUN_HPP
#define LUARUN_HPP

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "luarun.h"

namespace luarun {

/// What every failing call throws: the C status plus luarun_last_error()'s message.
class Error : public std::runtime_error {
 public:
  Error(luarun_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  /// The LUARUN_ERR_* code the C API returned.
  luarun_status status() const noexcept { return status_; }
  /// The status as its constant's name, e.g. "LUARUN_ERR_SYNTAX".
  const char *status_name() const noexcept { return luarun_status_name(status_); }

 private:
  luarun_status status_;
};

namespace detail {
[[noreturn]] inline void throw_last_error(luarun_status status) {
  throw Error(status, luarun_last_error());
}
/// Turns a C status into an exception; the fast path is one comparison.
inline void check(luarun_status status) {
  if (status != LUARUN_OK) throw_last_error(status);
}
/// A C string argument as bytes; NULL is refused rather than read.
inline std::string_view c_string_bytes(const char *s) {
  if (s == nullptr)
    throw Error(LUARUN_ERR_INVALID_ARGUMENT, "a NULL const char* is no string; pass nullptr for nil");
  return std::string_view(s);
}
}  // namespace detail

/// A NUL-terminated name (of a global or a chunk), from a literal or a std::string,
/// without copying: the C API takes names as C strings.
class Name {
 public:
  Name(const char *name) : name_(name) {}
  Name(const std::string &name) : name_(name.c_str()) {}
  const char *c_str() const noexcept { return name_; }

 private:
  const char *name_;
};

class Table;
class Function;

/// An owned Lua value: nil, boolean, integer, number, byte string, or a handle to a
/// table, function, userdata or coroutine. Copies share the Lua object
/// (luarun_value_copy); strings built in C++ own their bytes.
class Value {
 public:
  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}
  Value(bool b) noexcept {
    raw_.kind = LUARUN_BOOLEAN;
    raw_.boolean = b;
  }
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Value(T i) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (i > static_cast<T>(std::numeric_limits<int64_t>::max()))
        throw Error(LUARUN_ERR_INVALID_ARGUMENT,
                    std::to_string(i) + " does not fit a Lua integer (int64); pass a double");
    }
    raw_.kind = LUARUN_INTEGER;
    raw_.integer = static_cast<int64_t>(i);
    raw_.number = static_cast<double>(i);
  }
  Value(double d) noexcept {
    raw_.kind = LUARUN_NUMBER;
    raw_.number = d;
  }
  Value(std::string_view s) : bytes_(s) { point_at_bytes(); }
  Value(const std::string &s) : bytes_(s) { point_at_bytes(); }
  Value(const char *s) : Value(detail::c_string_bytes(s)) {}
  inline Value(const Table &t);
  inline Value(const Function &f);

  /// Takes ownership of a value that luarun wrote (it will be luarun_value_free'd).
  static Value adopt(const luarun_value &owned) noexcept {
    Value v;
    v.raw_ = owned;
    return v;
  }
  /// Makes an owned copy of a value luarun only lends (e.g. a callback argument).
  static Value copy_of(const luarun_value &borrowed) {
    Value v;
    if (borrowed.handle != nullptr) {
      detail::check(luarun_value_copy(&borrowed, &v.raw_));
    } else if (borrowed.kind == LUARUN_STRING) {
      v.bytes_.assign(borrowed.string, borrowed.string_len);
      v.point_at_bytes();
    } else {
      v.raw_ = borrowed;
    }
    return v;
  }

  Value(const Value &other) : bytes_(other.bytes_) {
    if (other.raw_.handle != nullptr) {
      detail::check(luarun_value_copy(&other.raw_, &raw_));
    } else {
      raw_ = other.raw_;
      if (raw_.kind == LUARUN_STRING) point_at_bytes();
    }
  }
  Value(Value &&other) noexcept { take(other); }
  Value &operator=(const Value &other) {
    if (this != &other) *this = Value(other);
    return *this;
  }
  Value &operator=(Value &&other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  ~Value() { release(); }

  /// One of LUARUN_NIL ... LUARUN_THREAD.
  luarun_type kind() const noexcept { return raw_.kind; }
  /// "nil", "boolean", "integer", "number", "string", "table", ...
  const char *type_name() const noexcept { return luarun_type_name(raw_.kind); }
  bool is_nil() const noexcept { return raw_.kind == LUARUN_NIL; }

  bool as_bool() const { return expect(LUARUN_BOOLEAN, "a boolean").boolean; }
  int64_t as_integer() const { return expect(LUARUN_INTEGER, "an integer").integer; }
  /// Integers convert to double, as in Lua arithmetic.
  double as_number() const {
    if (raw_.kind == LUARUN_INTEGER) return raw_.number;
    return expect(LUARUN_NUMBER, "a number").number;
  }
  /// The bytes of a string, valid while this Value lives.
  std::string_view as_string_view() const {
    const luarun_value &s = expect(LUARUN_STRING, "a string");
    return std::string_view(s.string, s.string_len);
  }
  std::string as_string() const { return std::string(as_string_view()); }
  inline Table as_table() const;
  inline Function as_function() const;

  /// The C value, for passing to luarun_* functions (borrowed: do not free it).
  const luarun_value &raw() const noexcept { return raw_; }

 private:
  void point_at_bytes() noexcept {
    raw_.kind = LUARUN_STRING;
    raw_.string = bytes_.data();
    raw_.string_len = bytes_.size();
  }
  const luarun_value &expect(luarun_type kind, const char *what) const {
    if (raw_.kind != kind)
      throw Error(LUARUN_ERR_TYPE, std::string("expected ") + what + ", got " + type_name());
    return raw_;
  }
  void take(Value &other) noexcept {
    raw_ = other.raw_;
    bytes_ = std::move(other.bytes_);
    // A moved std::string may live in the object itself (small strings): re-point.
    if (raw_.kind == LUARUN_STRING && raw_.handle == nullptr) point_at_bytes();
    other.raw_ = luarun_value{};
    other.bytes_.clear();
  }
  void release() noexcept {
    if (raw_.handle != nullptr) luarun_value_free(&raw_);
    raw_ = luarun_value{};
  }

  luarun_value raw_{};
  std::string bytes_;  // a string built in C++ (raw_.handle is then NULL)
};

namespace detail {
/// Upper bound of results kept from one call (luarun_call's results_cap); a function
/// returning more has the rest dropped, as the C API documents. Return a table instead.
constexpr size_t kMaxResults = 16;

template <class T>
luarun_value to_c_arg(const T &arg);
inline luarun_value to_c_arg(const Table &table) noexcept;
inline luarun_value to_c_arg(const Function &function) noexcept;

/// A borrowed C value for one call argument: strings point into the caller's object,
/// which outlives the call; handles are passed back as they are.
inline luarun_value borrowed(luarun_type kind) noexcept {
  luarun_value v{};
  v.kind = kind;
  return v;
}
inline luarun_value borrowed_string(const char *data, size_t len) noexcept {
  luarun_value v = borrowed(LUARUN_STRING);
  v.string = data;
  v.string_len = len;
  return v;
}
inline luarun_value to_c_arg(const Value &v) noexcept { return v.raw(); }
inline luarun_value to_c_arg(std::nullptr_t) noexcept { return borrowed(LUARUN_NIL); }
inline luarun_value to_c_arg(std::string_view s) noexcept { return borrowed_string(s.data(), s.size()); }
inline luarun_value to_c_arg(const std::string &s) noexcept { return borrowed_string(s.data(), s.size()); }
inline luarun_value to_c_arg(const char *s) { return to_c_arg(c_string_bytes(s)); }
template <class T>
luarun_value to_c_arg(const T &arg) {
  if constexpr (std::is_same_v<T, bool>) {
    luarun_value v = borrowed(LUARUN_BOOLEAN);
    v.boolean = arg;
    return v;
  } else if constexpr (std::is_arithmetic_v<T>) {
    return Value(arg).raw();  // a number holds no resources: the copy is the value
  } else if constexpr (std::is_convertible_v<const T &, const char *>) {
    return to_c_arg(static_cast<const char *>(arg));  // char *, char arrays
  } else {
    static_assert(std::is_convertible_v<const T &, std::string_view>,
                  "luarun arguments: bool, integers, floating point, strings, nullptr, Value, Table, "
                  "Function");
    const std::string_view bytes = arg;
    return borrowed_string(bytes.data(), bytes.size());
  }
}

/// Runs a luarun call that writes up to kMaxResults values, adopting what it wrote.
template <class Invoke>
std::vector<Value> collect_results(Invoke &&invoke) {
  std::array<luarun_value, kMaxResults> out;
  size_t returned = 0;
  check(invoke(out.data(), out.size(), &returned));
  const size_t kept = returned < out.size() ? returned : out.size();
  std::vector<Value> results;
  try {
    results.reserve(kept);
  } catch (...) {
    for (size_t i = 0; i < kept; ++i) luarun_value_free(&out[i]);
    throw;
  }
  for (size_t i = 0; i < kept; ++i) results.push_back(Value::adopt(out[i]));
  return results;
}
}  // namespace detail

/// A Lua table (a handle: copies refer to the same table).
class Table {
 public:
  /// Throws Error(LUARUN_ERR_TYPE) unless `value` is a table.
  explicit Table(Value value) : value_(std::move(value)) {
    if (value_.kind() != LUARUN_TABLE)
      throw Error(LUARUN_ERR_TYPE, std::string("expected a table, got ") + value_.type_name());
  }
  /// `table[key]`, honouring __index.
  template <class K>
  Value get(const K &key) const {
    luarun_value c_key = detail::to_c_arg(key), out;
    detail::check(luarun_table_get(&value_.raw(), &c_key, &out));
    return Value::adopt(out);
  }
  /// `table[key] = value`, honouring __newindex.
  template <class K, class V>
  void set(const K &key, const V &value) const {
    luarun_value c_key = detail::to_c_arg(key), c_value = detail::to_c_arg(value);
    detail::check(luarun_table_set(&value_.raw(), &c_key, &c_value));
  }
  /// `#table`, honouring __len.
  size_t length() const {
    size_t n = 0;
    detail::check(luarun_table_length(&value_.raw(), &n));
    return n;
  }
  /// Calls visit(key, value) for every pair (luarun_table_next; order unspecified).
  template <class Visit>
  void for_each(Visit &&visit) const {
    Value key;
    for (;;) {
      luarun_value next, item;
      detail::check(luarun_table_next(&value_.raw(), &key.raw(), &next, &item));
      Value next_key = Value::adopt(next), value = Value::adopt(item);
      if (next_key.is_nil()) return;
      visit(static_cast<const Value &>(next_key), static_cast<const Value &>(value));
      key = std::move(next_key);
    }
  }
  const Value &value() const noexcept { return value_; }

 private:
  Value value_;
};

/// A Lua function (a handle: copies refer to the same function).
class Function {
 public:
  /// Throws Error(LUARUN_ERR_TYPE) unless `value` is a function.
  explicit Function(Value value) : value_(std::move(value)) {
    if (value_.kind() != LUARUN_FUNCTION)
      throw Error(LUARUN_ERR_TYPE, std::string("expected a function, got ") + value_.type_name());
  }
  /// Calls the function; returns its results (at most detail::kMaxResults).
  template <class... Args>
  std::vector<Value> operator()(const Args &...args) const {
    std::array<luarun_value, sizeof...(Args) + 1> c_args{{detail::to_c_arg(args)...}};
    return detail::collect_results([&](luarun_value *out, size_t cap, size_t *n) {
      return luarun_call(&value_.raw(), c_args.data(), sizeof...(Args), out, cap, n);
    });
  }
  const Value &value() const noexcept { return value_; }

 private:
  Value value_;
};

inline Value::Value(const Table &t) : Value(t.value()) {}
inline Value::Value(const Function &f) : Value(f.value()) {}
inline Table Value::as_table() const { return Table(*this); }
// Handles stay owned by the argument, which outlives the call.
inline luarun_value detail::to_c_arg(const Table &table) noexcept { return table.value().raw(); }
inline luarun_value detail::to_c_arg(const Function &function) noexcept { return function.value().raw(); }
inline Function Value::as_function() const { return Function(*this); }

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
  State(State &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  State &operator=(State &&other) noexcept {
    if (this != &other) {
      luarun_state_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  ~State() { luarun_state_free(raw_); }

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
  /// Stops the running call (or the next one) with LUARUN_ERR_INTERRUPTED. Any thread.
  void interrupt() const { detail::check(luarun_state_interrupt(raw_)); }

  luarun_state *raw() const noexcept { return raw_; }

 private:
  luarun_state *raw_ = nullptr;
};

/// Parameters of a Mandelbrot render: luarun_mandelbrot_default's values (the Benchmarks
/// Game image, native engine, bits), then set the C fields you need.
struct MandelbrotParams : luarun_mandelbrot {
  MandelbrotParams() noexcept : luarun_mandelbrot() { luarun_mandelbrot_default(this); }
  /// Bytes a render with these parameters writes; 0 when they are invalid.
  size_t buffer_size() const noexcept { return luarun_mandelbrot_buffer_size(this); }
  /// Lua engine: the kernel source, referenced (it must outlive the render), not copied.
  MandelbrotParams &kernel(std::string_view source) noexcept {
    lua_kernel = source.data();
    lua_kernel_len = source.size();
    return *this;
  }
};

/// Told rows_done of rows_total rows are finished (from a worker thread, one call at a
/// time); returns false to cancel. What it throws is rethrown by render().
using Progress = std::function<bool(uint32_t rows_done, uint32_t rows_total)>;

/// Renders into `size` bytes at `buffer` (at least params.buffer_size()).
inline void render(const luarun_mandelbrot &params, void *buffer, size_t size) {
  detail::check(luarun_mandelbrot_render(&params, buffer, size));
}

/// Renders into `pixels`, resized to the render's size.
inline void render(const luarun_mandelbrot &params, std::vector<uint8_t> &pixels) {
  // Invalid parameters give size 0; the render call then reports why.
  pixels.resize(luarun_mandelbrot_buffer_size(&params));
  render(params, pixels.data(), pixels.size());
}

/// Renders into a new vector.
inline std::vector<uint8_t> render(const luarun_mandelbrot &params) {
  std::vector<uint8_t> pixels;
  render(params, pixels);
  return pixels;
}

namespace detail {
struct ProgressCall {
  const Progress &progress;
  std::exception_ptr thrown;
};
// Runs on render worker threads: nothing may unwind into Rust, so exceptions are kept
// for render() to rethrow, and the render is cancelled.
inline int progress_trampoline(void *user_data, uint32_t rows_done, uint32_t rows_total) noexcept {
  ProgressCall &call = *static_cast<ProgressCall *>(user_data);
  try {
    return call.progress(rows_done, rows_total) ? 0 : 1;
  } catch (...) {
    call.thrown = std::current_exception();
    return 1;
  }
}
}  // namespace detail

/// Renders with a progress callback (`params.progress` is replaced by it).
inline void render(const luarun_mandelbrot &params, void *buffer, size_t size, const Progress &progress) {
  detail::ProgressCall call{progress, nullptr};
  luarun_mandelbrot with_progress = params;
  with_progress.progress = detail::progress_trampoline;
  with_progress.progress_user_data = &call;
  const luarun_status status = luarun_mandelbrot_render(&with_progress, buffer, size);
  if (call.thrown) std::rethrow_exception(call.thrown);
  detail::check(status);
}

}  // namespace luarun

#endif  // LUARUN_HPP
