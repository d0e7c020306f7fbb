// luarun_value.hpp: luarun::Error, Value, Table and Function for luarun.hpp (included by
// it; include that). Values own what luarun hands out and free it with luarun_value_free.
#ifndef LUARUN_VALUE_HPP
#define LUARUN_VALUE_HPP

#include <array>
#include <cstdint>
#include <cstring>
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
  Error(luarun_status status, const std::string &message, luarun_stop_reason stop = LUARUN_STOP_NONE,
        luarun_option option = LUARUN_OPTION_NONE, uint32_t library = 0)
      : std::runtime_error(message), status_(status), stop_(stop), option_(option), library_(library) {}
  /// The LUARUN_ERR_* code the C API returned.
  luarun_status status() const noexcept { return status_; }
  /// The status as its constant's name, e.g. "LUARUN_ERR_SYNTAX".
  const char *status_name() const noexcept { return luarun_status_name(status_); }
  /// Why the call was stopped (LUARUN_STOP_TIME_LIMIT...), LUARUN_STOP_NONE if it was not.
  luarun_stop_reason stop() const noexcept { return stop_; }
  /// The luarun::Options setting the error is about (LUARUN_OPTION_*), LUARUN_OPTION_NONE if none.
  luarun_option option() const noexcept { return option_; }
  /// For LUARUN_OPTION_LIBRARIES: the LUARUN_LIB_* bit of the library the code needed.
  uint32_t library() const noexcept { return library_; }

 private:
  luarun_status status_;
  luarun_stop_reason stop_;
  luarun_option option_;
  uint32_t library_;
};

namespace detail {
[[noreturn]] inline void throw_last_error(luarun_status status) {
  throw Error(status, luarun_last_error(), luarun_last_error_stop(), luarun_last_error_option(),
              luarun_last_error_library());
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

}  // namespace luarun

#endif  // LUARUN_VALUE_HPP
