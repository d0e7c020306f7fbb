// The C harness (CHECK, CHECK_OK, RUN_TEST, harness_finish) plus checks for exceptions.
#ifndef LUARUN_TEST_HARNESS_HPP
#define LUARUN_TEST_HARNESS_HPP

#include <exception>
#include <string>

#include "harness.h"
#include "luarun.hpp"

// The C RUN_TEST, plus: an exception a test did not expect fails that test (with its
// message) instead of escaping main and aborting the whole program.
#undef RUN_TEST
#define RUN_TEST(fn)                                                                      \
  do {                                                                                    \
    int before_ = harness_failures;                                                       \
    try {                                                                                 \
      fn();                                                                               \
    } catch (const std::exception &run_test_error_) {                                     \
      harness_failures++;                                                                 \
      fprintf(stderr, "%s threw an unexpected exception: %s\n", #fn, run_test_error_.what()); \
    } catch (...) {                                                                       \
      harness_failures++;                                                                 \
      fprintf(stderr, "%s threw an unexpected exception (not a std::exception)\n", #fn);  \
    }                                                                                     \
    printf("%s %s\n", harness_failures == before_ ? "ok  " : "FAIL", #fn);                \
  } while (0)

// Checks that `statement` throws luarun::Error with `expected_status`.
#define CHECK_THROWS(statement, expected_status)                                          \
  do {                                                                                    \
    harness_checks++;                                                                     \
    try {                                                                                 \
      statement;                                                                          \
      harness_failures++;                                                                 \
      fprintf(stderr, "%s:%d: %s did not throw, expected %s\n", __FILE__, __LINE__,       \
              #statement, luarun_status_name(expected_status));                           \
    } catch (const luarun::Error &check_error_) {                                         \
      if (check_error_.status() != (expected_status)) {                                   \
        harness_failures++;                                                               \
        fprintf(stderr, "%s:%d: %s threw %s (%s), expected %s\n", __FILE__, __LINE__,     \
                #statement, check_error_.status_name(), check_error_.what(),              \
                luarun_status_name(expected_status));                                     \
      }                                                                                   \
    }                                                                                     \
  } while (0)

// Returns the message of the luarun::Error that `statement` throws ("" if none).
#define ERROR_MESSAGE_OF(statement)                                                       \
  [&]() -> std::string {                                                                  \
    try {                                                                                 \
      statement;                                                                          \
    } catch (const luarun::Error &message_error_) {                                       \
      return message_error_.what();                                                       \
    }                                                                                     \
    return "";                                                                            \
  }()

// True when `haystack` contains `needle`.
inline bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

#endif
