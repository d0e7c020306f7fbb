/* A tiny test harness for the C clients: each CHECK names what the API promises. */
#ifndef LUARUN_TEST_HARNESS_H
#define LUARUN_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failures = 0;
static int harness_checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    harness_checks++;                                                            \
    if (!(cond)) {                                                               \
      harness_failures++;                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n  last error: %s\n", __FILE__,   \
              __LINE__, #cond, luarun_last_error());                             \
    }                                                                            \
  } while (0)

#define CHECK_STATUS(call, expected)                                             \
  do {                                                                           \
    luarun_status check_status_ = (call);                                        \
    harness_checks++;                                                            \
    if (check_status_ != (expected)) {                                           \
      harness_failures++;                                                        \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s\n  last error: %s\n",   \
              __FILE__, __LINE__, #call, luarun_status_name(check_status_),      \
              luarun_status_name(expected), luarun_last_error());                \
    }                                                                            \
  } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, LUARUN_OK)

#define RUN_TEST(fn)                                                             \
  do {                                                                           \
    int before_ = harness_failures;                                              \
    fn();                                                                        \
    printf("%s %s\n", harness_failures == before_ ? "ok  " : "FAIL", #fn);       \
  } while (0)

static int harness_finish(const char *suite) {
  printf("%s: %d checks, %d failed\n", suite, harness_checks, harness_failures);
  return harness_failures == 0 ? 0 : 1;
}

#endif
