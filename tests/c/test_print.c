/* Specification of luarun_state_set_print and of what print shows (no addresses). */
#include "luarun.h"
#include "harness.h"

#define S(literal) literal, sizeof(literal) - 1

/* Collects what print writes. */
typedef struct sink {
  char text[256];
  size_t len;
  int calls;
  int fail_with;
} sink;

static int collect(void *user_data, const char *text, size_t len) {
  sink *s = user_data;
  s->calls++;
  if (s->fail_with != 0) return s->fail_with;
  if (s->len + len > sizeof s->text) return LUARUN_ERR_BUFFER_TOO_SMALL;
  memcpy(s->text + s->len, text, len);
  s->len += len;
  return LUARUN_OK;
}

static void print_goes_to_the_callback_one_line_per_call(void) {
  luarun_state *lua;
  sink s;
  memset(&s, 0, sizeof s);
  CHECK_OK(luarun_state_new(NULL, &lua));
  CHECK_OK(luarun_state_set_print(lua, collect, &s));
  CHECK_OK(luarun_exec(lua, S("print(1, 'two', nil) print('a\\0b')")));
  CHECK(s.calls == 2);
  CHECK(s.len == 14 && memcmp(s.text, "1\ttwo\tnil\na\0b\n", 14) == 0);
  /* NULL restores stdout: the callback is not called again. */
  CHECK_OK(luarun_state_set_print(lua, NULL, NULL));
  CHECK_OK(luarun_exec(lua, S("print('test_print: this line goes to stdout')")));
  CHECK(s.calls == 2);
  luarun_state_free(lua);
}

static void a_failing_callback_is_a_lua_error(void) {
  luarun_state *lua;
  luarun_value caught;
  sink s;
  memset(&s, 0, sizeof s);
  s.fail_with = 7;
  CHECK_OK(luarun_state_new(NULL, &lua));
  CHECK_OK(luarun_state_set_print(lua, collect, &s));
  CHECK_STATUS(luarun_exec(lua, S("print('x')")), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "print callback returned 7") != NULL);
  CHECK_OK(luarun_eval(lua, S("pcall(print, 'x') == false"), &caught));
  CHECK(caught.kind == LUARUN_BOOLEAN && caught.boolean);
  CHECK_STATUS(luarun_state_set_print(NULL, collect, &s), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_state_free(lua);
}

/* What print shows for a table is what tostring shows (a hidden address: see
 * tests/addresses.rs, which compares it with the real one). */
static void print_shows_tables_as_tostring_does(void) {
  luarun_state *lua;
  luarun_value shown;
  sink s;
  memset(&s, 0, sizeof s);
  CHECK_OK(luarun_state_new(NULL, &lua));
  CHECK_OK(luarun_state_set_print(lua, collect, &s));
  CHECK_OK(luarun_exec(lua, S("t = {} print(t)")));
  CHECK_OK(luarun_eval(lua, S("tostring(t) .. '\\n'"), &shown));
  CHECK(shown.kind == LUARUN_STRING && strncmp(shown.string, "table: 0x", 9) == 0);
  CHECK(shown.kind == LUARUN_STRING && shown.string_len == s.len &&
        memcmp(shown.string, s.text, s.len) == 0);
  luarun_value_free(&shown);
  luarun_state_free(lua);
}

int main(void) {
  RUN_TEST(print_goes_to_the_callback_one_line_per_call);
  RUN_TEST(a_failing_callback_is_a_lua_error);
  RUN_TEST(print_shows_tables_as_tostring_does);
  return harness_finish("test_print");
}
