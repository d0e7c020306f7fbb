/* Specification of the Lua state API, as a C client sees it. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "luarun.h"
#include "harness.h"

#define S(literal) literal, sizeof(literal) - 1

static luarun_state *new_state(void) {
  luarun_state *state = NULL;
  CHECK_OK(luarun_state_new(NULL, &state));
  CHECK(state != NULL);
  return state;
}

static luarun_value string_value(const char *s, size_t len) {
  luarun_value v;
  memset(&v, 0, sizeof v);
  v.kind = LUARUN_STRING;
  v.string = s;
  v.string_len = len;
  return v;
}

static luarun_value integer_value(int64_t i) {
  luarun_value v;
  memset(&v, 0, sizeof v);
  v.kind = LUARUN_INTEGER;
  v.integer = i;
  return v;
}

static void versions_and_status_names(void) {
  CHECK(luarun_abi_version() == LUARUN_ABI_VERSION);
  CHECK(strlen(luarun_version()) > 0);
  CHECK(strcmp(luarun_status_name(LUARUN_OK), "LUARUN_OK") == 0);
  CHECK(strcmp(luarun_status_name(LUARUN_ERR_PANIC), "LUARUN_ERR_PANIC") == 0);
  CHECK(strcmp(luarun_status_name(12345), "LUARUN_UNKNOWN_STATUS") == 0);
  CHECK(strcmp(luarun_type_name(LUARUN_TABLE), "table") == 0);
  CHECK(luarun_last_error() != NULL);
}

static void null_arguments_are_invalid_not_crashes(void) {
  luarun_state *state = new_state();
  luarun_value v;
  size_t n;
  CHECK_STATUS(luarun_state_new(NULL, NULL), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(strstr(luarun_last_error(), "state_out") != NULL);
  CHECK_STATUS(luarun_exec(NULL, S("x = 1")), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_exec(state, NULL, 5), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_OK(luarun_exec(state, NULL, 0)); /* empty chunk */
  CHECK_STATUS(luarun_eval(state, S("1"), NULL), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_eval(NULL, S("1"), &v), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_get_global(state, NULL, &v), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_set_global(state, "x", NULL), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_table_length(NULL, &n), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_call(NULL, NULL, 0, NULL, 0, NULL), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_state_interrupt(NULL), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_state_memory_used(state, NULL), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_state_free(NULL);
  luarun_value_free(NULL);
  luarun_options_default(NULL);
  luarun_state_free(state);
}

static int never_called(void *user_data, const luarun_value *args, size_t nargs,
                        luarun_callback_context *context) {
  (void)user_data; (void)args; (void)nargs; (void)context;
  return LUARUN_ERR_RUNTIME;
}

/* Every pointer argument of every function, one at a time. */
static void every_null_pointer_is_reported_by_name(void) {
  luarun_state *state = new_state();
  luarun_value t, f, v, k, out, out2;
  size_t n;
  const luarun_status bad = LUARUN_ERR_INVALID_ARGUMENT;
  memset(&k, 0, sizeof k);
  k.kind = LUARUN_INTEGER;
  CHECK_OK(luarun_table_new(state, 0, 0, &t));
  CHECK_OK(luarun_eval(state, S("function() end"), &f));
  v = k;
  CHECK_STATUS(luarun_exec_named(NULL, S("x=1"), "n"), bad);
  CHECK_STATUS(luarun_exec_named(state, NULL, 3, "n"), bad);
  CHECK_STATUS(luarun_load(NULL, S("x=1"), NULL, &out), bad);
  CHECK_STATUS(luarun_load(state, S("x=1"), NULL, NULL), bad);
  CHECK_STATUS(luarun_load(state, NULL, 1, NULL, &out), bad);
  CHECK_STATUS(luarun_state_memory_used(NULL, &n), bad);
  CHECK_STATUS(luarun_get_global(NULL, "x", &out), bad);
  CHECK_STATUS(luarun_get_global(state, "x", NULL), bad);
  CHECK_STATUS(luarun_set_global(NULL, "x", &v), bad);
  CHECK_STATUS(luarun_set_global(state, NULL, &v), bad);
  CHECK_STATUS(luarun_globals(NULL, &out), bad);
  CHECK_STATUS(luarun_globals(state, NULL), bad);
  CHECK_STATUS(luarun_table_new(NULL, 0, 0, &out), bad);
  CHECK_STATUS(luarun_table_new(state, 0, 0, NULL), bad);
  CHECK_STATUS(luarun_table_get(NULL, &k, &out), bad);
  CHECK_STATUS(luarun_table_get(&t, NULL, &out), bad);
  CHECK_STATUS(luarun_table_get(&t, &k, NULL), bad);
  CHECK_STATUS(luarun_table_set(NULL, &k, &v), bad);
  CHECK_STATUS(luarun_table_set(&t, NULL, &v), bad);
  CHECK_STATUS(luarun_table_set(&t, &k, NULL), bad);
  CHECK_STATUS(luarun_table_length(&t, NULL), bad);
  CHECK_STATUS(luarun_table_next(NULL, &k, &out, &out2), bad);
  CHECK_STATUS(luarun_table_next(&t, NULL, &out, &out2), bad);
  CHECK_STATUS(luarun_table_next(&t, &k, NULL, &out2), bad);
  CHECK_STATUS(luarun_table_next(&t, &k, &out, NULL), bad);
  CHECK_STATUS(luarun_call(&f, NULL, 0, NULL, 3, NULL), bad);
  CHECK_STATUS(luarun_call_global(NULL, "f", NULL, 0, NULL, 0, NULL), bad);
  CHECK_STATUS(luarun_call_global(state, NULL, NULL, 0, NULL, 0, NULL), bad);
  CHECK_STATUS(luarun_function_new(NULL, never_called, NULL, NULL, &out), bad);
  CHECK_STATUS(luarun_function_new(state, NULL, NULL, NULL, &out), bad);
  CHECK_STATUS(luarun_function_new(state, never_called, NULL, NULL, NULL), bad);
  CHECK_STATUS(luarun_register_function(NULL, "f", never_called, NULL, NULL), bad);
  CHECK_STATUS(luarun_register_function(state, NULL, never_called, NULL, NULL), bad);
  CHECK_STATUS(luarun_callback_return_value(NULL, &v), bad);
  CHECK_STATUS(luarun_callback_set_error(NULL, S("x")), bad);
  CHECK_STATUS(luarun_value_copy(NULL, &out), bad);
  CHECK_STATUS(luarun_value_copy(&v, NULL), bad);
  CHECK_STATUS(luarun_value_tostring(NULL, &v, &out), bad);
  CHECK_STATUS(luarun_value_tostring(state, NULL, &out), bad);
  CHECK_STATUS(luarun_value_tostring(state, &v, NULL), bad);
  /* a handle-kind value without a handle, and an unknown kind */
  v.kind = LUARUN_TABLE;
  CHECK_STATUS(luarun_set_global(state, "x", &v), bad);
  v.kind = 99;
  CHECK_STATUS(luarun_set_global(state, "x", &v), bad);
  CHECK(strstr(luarun_last_error(), "kind") != NULL);
  luarun_value_free(&t);
  luarun_value_free(&f);
  luarun_state_free(state);
}

static void values_cannot_move_between_states(void) {
  luarun_state *a = new_state();
  luarun_state *b = new_state();
  luarun_value t;
  CHECK_OK(luarun_table_new(a, 0, 0, &t));
  CHECK_STATUS(luarun_set_global(b, "t", &t), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(strstr(luarun_last_error(), "different luarun state") != NULL);
  luarun_value_free(&t);
  luarun_state_free(a);
  luarun_state_free(b);
}

static void copies_and_tostring_follow_ownership_rules(void) {
  luarun_state *state = new_state();
  luarun_value s, copy, text, t;
  CHECK_OK(luarun_eval(state, S("'shared'"), &s));
  CHECK_OK(luarun_value_copy(&s, &copy));
  luarun_value_free(&s);
  CHECK(copy.kind == LUARUN_STRING && strcmp(copy.string, "shared") == 0);
  luarun_value_free(&copy);
  CHECK_OK(luarun_eval(state, S("setmetatable({}, {__tostring = function() return 'custom' end})"), &t));
  CHECK_OK(luarun_value_tostring(state, &t, &text));
  CHECK(text.kind == LUARUN_STRING && strcmp(text.string, "custom") == 0);
  luarun_value_free(&text);
  luarun_value_free(&t);
  luarun_state_free(state);
}

static void exec_and_eval_exchange_every_value_kind(void) {
  luarun_state *state = new_state();
  luarun_value v;
  CHECK_OK(luarun_exec(state, S("x = 40 + 2; s = 'a\\0b'; f = 2.5; t = {1, 2, 3}")));
  CHECK_OK(luarun_eval(state, S("x"), &v));
  CHECK(v.kind == LUARUN_INTEGER && v.integer == 42 && v.number == 42.0);
  luarun_value_free(&v);
  CHECK_OK(luarun_eval(state, S("f"), &v));
  CHECK(v.kind == LUARUN_NUMBER && v.number == 2.5);
  CHECK_OK(luarun_eval(state, S("s"), &v));
  CHECK(v.kind == LUARUN_STRING && v.string_len == 3 && memcmp(v.string, "a\0b", 4) == 0);
  luarun_value_free(&v);
  CHECK(v.kind == LUARUN_NIL && v.handle == NULL); /* free resets to nil */
  luarun_value_free(&v);                          /* and a second free is harmless */
  CHECK_OK(luarun_eval(state, S("x > 1"), &v));
  CHECK(v.kind == LUARUN_BOOLEAN && v.boolean);
  CHECK_OK(luarun_eval(state, S("nothing"), &v));
  CHECK(v.kind == LUARUN_NIL);
  CHECK_OK(luarun_eval(state, S("t"), &v));
  CHECK(v.kind == LUARUN_TABLE && v.handle != NULL);
  luarun_value_free(&v);
  CHECK_OK(luarun_eval(state, S("print"), &v));
  CHECK(v.kind == LUARUN_FUNCTION);
  luarun_value_free(&v);
  CHECK_OK(luarun_eval(state, S("coroutine.create(print)"), &v));
  CHECK(v.kind == LUARUN_THREAD);
  luarun_value_free(&v);
  luarun_state_free(state);
}

/* As the header says: a success leaves the last failure's message in place. */
static void the_last_error_outlives_successful_calls(void) {
  luarun_state *state = new_state();
  char kept[256];
  CHECK_STATUS(luarun_exec(state, S("this is not lua")), LUARUN_ERR_SYNTAX);
  snprintf(kept, sizeof kept, "%s", luarun_last_error());
  CHECK(strlen(kept) > 0);
  CHECK_OK(luarun_exec(state, S("x = 1")));
  CHECK(luarun_status_name(LUARUN_OK) != NULL && luarun_version() != NULL);
  CHECK(strcmp(luarun_last_error(), kept) == 0);
  CHECK_STATUS(luarun_exec(state, S("error('second', 0)")), LUARUN_ERR_RUNTIME);
  CHECK(strncmp(luarun_last_error(), "second", 6) == 0);
  luarun_state_free(state);
}

static void errors_carry_status_message_and_traceback(void) {
  luarun_state *state = new_state();
  luarun_value v;
  CHECK_STATUS(luarun_exec(state, S("x = = 1")), LUARUN_ERR_SYNTAX);
  CHECK(strstr(luarun_last_error(), "x = = 1") != NULL); /* chunk name from the code */
  CHECK_STATUS(luarun_exec(state, S("local t = nil\nreturn t.field")), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "attempt to index") != NULL);
  CHECK(strstr(luarun_last_error(), "stack traceback") != NULL);
  CHECK_STATUS(luarun_exec_named(state, S("error('boom')"), "@plugin.lua"), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "plugin.lua:1: boom") != NULL);
  CHECK_STATUS(luarun_eval(state, S("1 +"), &v), LUARUN_ERR_SYNTAX);
  /* the state stays usable after errors */
  CHECK_OK(luarun_eval(state, S("1 + 2"), &v));
  CHECK(v.integer == 3);
  luarun_state_free(state);
}

static void tables_get_set_length_and_iterate(void) {
  luarun_state *state = new_state();
  luarun_value t, v, key, next, value;
  luarun_value k = string_value(S("name"));
  luarun_value name = string_value(S("lua\0run"));
  luarun_value one = integer_value(1);
  size_t len = 0;
  int pairs = 0;
  int64_t sum = 0;
  CHECK_OK(luarun_table_new(state, 4, 1, &t));
  CHECK_OK(luarun_table_set(&t, &k, &name));
  CHECK_OK(luarun_table_get(&t, &k, &v));
  CHECK(v.kind == LUARUN_STRING && v.string_len == 7 && memcmp(v.string, "lua\0run", 7) == 0);
  luarun_value_free(&v);
  CHECK_OK(luarun_set_global(state, "t", &t));
  CHECK_OK(luarun_exec(state, S("t[1] = 10; t[2] = 20; t[3] = 30")));
  CHECK_OK(luarun_table_length(&t, &len));
  CHECK(len == 3);
  CHECK_OK(luarun_table_get(&t, &one, &v));
  CHECK(v.kind == LUARUN_INTEGER && v.integer == 10);
  /* nil keys are Lua errors, not crashes */
  memset(&key, 0, sizeof key);
  CHECK_STATUS(luarun_table_set(&t, &key, &one), LUARUN_ERR_RUNTIME);
  /* iteration visits every pair once */
  while (luarun_table_next(&t, &key, &next, &value) == LUARUN_OK && next.kind != LUARUN_NIL) {
    pairs++;
    if (value.kind == LUARUN_INTEGER) sum += value.integer;
    luarun_value_free(&key);
    luarun_value_free(&value);
    key = next;
  }
  luarun_value_free(&key);
  CHECK(pairs == 4);
  CHECK(sum == 60);
  /* wrong kinds are type errors */
  CHECK_STATUS(luarun_table_get(&v, &k, &value), LUARUN_ERR_TYPE);
  luarun_value_free(&t);
  luarun_state_free(state);
}

static void handles_outlive_lua_references_and_the_state(void) {
  luarun_state *state = new_state();
  luarun_value t, v;
  luarun_value k = integer_value(1);
  CHECK_OK(luarun_exec(state, S("keep = {'kept'}")));
  CHECK_OK(luarun_eval(state, S("keep"), &t));
  CHECK_OK(luarun_exec(state, S("keep = nil; collectgarbage(); collectgarbage()")));
  luarun_state_free(state);
  CHECK_OK(luarun_table_get(&t, &k, &v));
  CHECK(v.kind == LUARUN_STRING && strcmp(v.string, "kept") == 0);
  luarun_value_free(&v);
  luarun_value_free(&t);
}

static void calling_functions_returns_all_results(void) {
  luarun_state *state = new_state();
  luarun_value args[2], results[2], f;
  size_t n = 0;
  CHECK_OK(luarun_exec(state, S("function divmod(a, b) return a // b, a % b, 'extra' end")));
  args[0] = integer_value(17);
  args[1] = integer_value(5);
  CHECK_OK(luarun_call_global(state, "divmod", args, 2, results, 2, &n));
  CHECK(n == 3); /* three results, two written */
  CHECK(results[0].integer == 3 && results[1].integer == 2);
  CHECK_STATUS(luarun_call_global(state, "missing", NULL, 0, NULL, 0, NULL), LUARUN_ERR_TYPE);
  CHECK(strstr(luarun_last_error(), "missing") != NULL);
  CHECK_OK(luarun_eval(state, S("function(s) return #s end"), &f));
  args[0] = string_value(S("four"));
  CHECK_OK(luarun_call(&f, args, 1, results, 1, NULL));
  CHECK(results[0].integer == 4);
  CHECK_STATUS(luarun_call(&args[0], NULL, 0, NULL, 0, NULL), LUARUN_ERR_TYPE);
  CHECK_STATUS(luarun_call(&f, NULL, 1, NULL, 0, NULL), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_value_free(&f);
  luarun_state_free(state);
}

static int freed_user_data = 0;

static void count_free(void *user_data) {
  (void)user_data;
  freed_user_data++;
}

static int add_callback(void *user_data, const luarun_value *args, size_t nargs,
                        luarun_callback_context *context) {
  int64_t total = *(int64_t *)user_data;
  size_t i;
  luarun_value result;
  for (i = 0; i < nargs; i++) {
    if (args[i].kind != LUARUN_INTEGER) {
      luarun_callback_set_error(context, S("add expects integers"));
      return LUARUN_ERR_TYPE;
    }
    total += args[i].integer;
  }
  result = integer_value(total);
  return luarun_callback_return_value(context, &result);
}

static void host_callbacks_return_values_and_raise_catchable_errors(void) {
  static int64_t base = 100;
  luarun_state *state = new_state();
  luarun_value v;
  CHECK_OK(luarun_register_function(state, "add", add_callback, &base, count_free));
  CHECK_OK(luarun_eval(state, S("add(1, 2, 3)"), &v));
  CHECK(v.kind == LUARUN_INTEGER && v.integer == 106);
  CHECK_OK(luarun_eval(state, S("select(2, pcall(add, 'x'))"), &v));
  CHECK(v.kind == LUARUN_STRING && strstr(v.string, "add expects integers") != NULL);
  luarun_value_free(&v);
  CHECK_STATUS(luarun_exec(state, S("add({})")), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "add expects integers") != NULL);
  CHECK_STATUS(luarun_register_function(state, "bad", NULL, NULL, count_free),
               LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(freed_user_data == 1); /* freed at once when registration fails */
  CHECK_STATUS(luarun_register_function(state, NULL, add_callback, &base, count_free),
               LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(freed_user_data == 2); /* whichever argument was wrong */
  CHECK_STATUS(luarun_register_function(NULL, "x", add_callback, &base, count_free),
               LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(freed_user_data == 3);
  luarun_state_free(state);
  CHECK(freed_user_data == 4); /* and when the state closes */
}

static void sandbox_leaves_out_unsafe_libraries(void) {
  luarun_state *state = new_state();
  luarun_options options;
  luarun_value v;
  CHECK_OK(luarun_eval(state, S("os == nil and io == nil and package == nil and debug == nil"), &v));
  CHECK(v.boolean);
  CHECK_OK(luarun_eval(state, S("dofile == nil and loadfile == nil and string.dump == nil"), &v));
  CHECK(v.boolean);
  CHECK_STATUS(luarun_exec(state, S("\x1bLua")), LUARUN_ERR_SYNTAX);
  CHECK(strstr(luarun_last_error(), "binary") != NULL);
  CHECK_OK(luarun_eval(state, S("select(2, load('\\27Lua'))"), &v));
  CHECK(v.kind == LUARUN_STRING && strstr(v.string, "binary") != NULL);
  luarun_value_free(&v);
  CHECK_STATUS(luarun_exec(state, S("setmetatable({}, {__gc = print})")), LUARUN_ERR_RUNTIME);
  /* Using a library the sandbox left out says which library, in the message and as the
     structured detail (luarun_last_error_option/_library). */
  CHECK_STATUS(luarun_exec(state, S("os.exit(1)")), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "global 'os'") != NULL);
  CHECK(strstr(luarun_last_error(), "the os library") != NULL);
  CHECK(luarun_last_error_option() == LUARUN_OPTION_LIBRARIES);
  CHECK(luarun_last_error_library() == LUARUN_LIB_OS);
  CHECK_STATUS(luarun_exec(state, S("local m = require('x')")), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "the package library") != NULL);
  CHECK(luarun_last_error_library() == LUARUN_LIB_PACKAGE);
  CHECK_STATUS(luarun_exec(state, S("local t = nil; t.x = 1")), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "library") == NULL);
  CHECK(luarun_last_error_option() == LUARUN_OPTION_NONE);
  luarun_state_free(state);

  luarun_options_default(&options);
  options.libraries = LUARUN_LIBS_SAFE | LUARUN_LIB_OS;
  options.allow_bytecode = true;
  CHECK_OK(luarun_state_new(&options, &state));
  CHECK_OK(luarun_eval(state, S("type(os.clock) == 'function' and type(string.dump) == 'function'"), &v));
  CHECK(v.boolean);
  CHECK_OK(luarun_eval(state, S("load(string.dump(function() return 7 end))()"), &v));
  CHECK(v.integer == 7);
  luarun_state_free(state);

  options.libraries = 1u << 20;
  CHECK_STATUS(luarun_state_new(&options, &state), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_options_default(&options);
  options.struct_size = 0;
  CHECK_STATUS(luarun_state_new(&options, &state), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_options_default(&options);
  options.struct_size = sizeof options + 8;
  CHECK_STATUS(luarun_state_new(&options, &state), LUARUN_ERR_UNSUPPORTED);
}

/* A script's own debug.sethook runs beside the limits, which keep holding, and
 * debug.gethook shows only the script's hook. */
static void script_hooks_leave_the_limits_in_force(void) {
  luarun_options options;
  luarun_state *state = NULL;
  luarun_value v;
  luarun_options_default(&options);
  options.libraries = LUARUN_LIBS_ALL;
  options.instruction_limit = 1000000;
  CHECK_OK(luarun_state_new(&options, &state));
  CHECK_OK(luarun_eval(state, S("debug.gethook() == nil"), &v));
  CHECK(v.boolean);
  CHECK_STATUS(luarun_exec(state, S("debug.sethook() while true do end")), LUARUN_ERR_INTERRUPTED);
  CHECK(luarun_last_error_stop() == LUARUN_STOP_INSTRUCTION_LIMIT);
  CHECK(strstr(luarun_last_error(), "hook '?'") == NULL);
  CHECK_STATUS(luarun_exec(state, S("debug.sethook(function() end, 'l') while true do end")),
               LUARUN_ERR_INTERRUPTED);
  CHECK(luarun_last_error_stop() == LUARUN_STOP_INSTRUCTION_LIMIT);
  CHECK_OK(luarun_eval(state, S("select(2, debug.gethook()) == 'l'"), &v));
  CHECK(v.boolean);
  CHECK_OK(luarun_exec(state, S("n = 0 debug.sethook(function() n = n + 1 end, '', 1)"
                                " for i = 1, 100 do end debug.sethook()")));
  CHECK_OK(luarun_eval(state, S("n >= 100 and n < 120"), &v));
  CHECK(v.boolean);
  luarun_state_free(state);
}

static void limits_stop_runaway_code_and_the_state_stays_usable(void) {
  luarun_options options;
  luarun_state *state;
  luarun_value v;
  luarun_options_default(&options);
  options.instruction_limit = 100000;
  CHECK_OK(luarun_state_new(&options, &state));
  CHECK_STATUS(luarun_exec(state, S("while true do end")), LUARUN_ERR_INTERRUPTED);
  CHECK(strstr(luarun_last_error(), "instruction limit") != NULL);
  CHECK_STATUS(luarun_exec(state, S("while true do pcall(function() while true do end end) end")),
               LUARUN_ERR_INTERRUPTED);
  CHECK_STATUS(luarun_exec(state, S("coroutine.wrap(function() while true do end end)()")),
               LUARUN_ERR_INTERRUPTED);
  CHECK_OK(luarun_eval(state, S("1"), &v));
  luarun_state_free(state);

  luarun_options_default(&options);
  options.time_limit_ms = 50;
  CHECK_OK(luarun_state_new(&options, &state));
  CHECK_STATUS(luarun_exec(state, S("while true do end")), LUARUN_ERR_INTERRUPTED);
  CHECK(strstr(luarun_last_error(), "time limit") != NULL);
  /* One pattern call backtracking for minutes: the Rust port checks the limits. */
  CHECK_STATUS(luarun_exec(state, S("return ('a'):rep(1e5):find('.-.-.-.-b')")),
               LUARUN_ERR_INTERRUPTED);
  CHECK(strstr(luarun_last_error(), "time limit") != NULL);
  CHECK_OK(luarun_eval(state, S("('abc'):find('c')"), &v));
  CHECK(v.kind == LUARUN_INTEGER && v.integer == 3);
  luarun_state_free(state);

  luarun_options_default(&options);
  options.memory_limit = 8u << 20;
  CHECK_OK(luarun_state_new(&options, &state));
  CHECK_STATUS(luarun_exec(state, S("local t = {} for i = 1, 1e9 do t[i] = i end")),
               LUARUN_ERR_MEMORY);
  CHECK_STATUS(luarun_exec(state, S("local s = string.rep('x', 1 << 30)")), LUARUN_ERR_MEMORY);
  CHECK_OK(luarun_exec(state, S("collectgarbage()")));
  CHECK_OK(luarun_eval(state, S("#string.rep('x', 1000)"), &v));
  CHECK(v.integer == 1000);
  luarun_state_free(state);
}

static void *interrupt_later(void *state) {
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  luarun_state_interrupt((luarun_state *)state);
  return NULL;
}

static void interrupt_from_another_thread(void) {
  luarun_state *state = new_state();
  pthread_t thread;
  luarun_value v;
  CHECK(pthread_create(&thread, NULL, interrupt_later, state) == 0);
  CHECK_STATUS(luarun_exec(state, S("while true do end")), LUARUN_ERR_INTERRUPTED);
  pthread_join(thread, NULL);
  CHECK_OK(luarun_eval(state, S("'still usable'"), &v));
  luarun_value_free(&v);
  /* an interrupt with no call running stops the next call, once */
  CHECK_OK(luarun_state_interrupt(state));
  CHECK_STATUS(luarun_exec(state, S("x = 1")), LUARUN_ERR_INTERRUPTED);
  CHECK_OK(luarun_exec(state, S("x = 1")));
  luarun_state_free(state);
}

int main(void) {
  RUN_TEST(versions_and_status_names);
  RUN_TEST(null_arguments_are_invalid_not_crashes);
  RUN_TEST(every_null_pointer_is_reported_by_name);
  RUN_TEST(values_cannot_move_between_states);
  RUN_TEST(copies_and_tostring_follow_ownership_rules);
  RUN_TEST(exec_and_eval_exchange_every_value_kind);
  RUN_TEST(errors_carry_status_message_and_traceback);
  RUN_TEST(the_last_error_outlives_successful_calls);
  RUN_TEST(tables_get_set_length_and_iterate);
  RUN_TEST(handles_outlive_lua_references_and_the_state);
  RUN_TEST(calling_functions_returns_all_results);
  RUN_TEST(host_callbacks_return_values_and_raise_catchable_errors);
  RUN_TEST(sandbox_leaves_out_unsafe_libraries);
  RUN_TEST(limits_stop_runaway_code_and_the_state_stays_usable);
  RUN_TEST(script_hooks_leave_the_limits_in_force);
  RUN_TEST(interrupt_from_another_thread);
  return harness_finish("test_state");
}
