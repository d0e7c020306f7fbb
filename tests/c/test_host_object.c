/* Specification of host objects: Lua userdata whose operations call the embedder. */
#include "luarun.h"
#include "harness.h"

#define S(literal) literal, sizeof(literal) - 1

/* The embedder's object: a named counter with a small key/value store. */
typedef struct counter {
  const char *name;
  int64_t value;
  int freed;
} counter;

static luarun_value integer_value(int64_t i) {
  luarun_value v;
  memset(&v, 0, sizeof v);
  v.kind = LUARUN_INTEGER;
  v.integer = i;
  return v;
}

static int is_key(const luarun_value *key, const char *name) {
  return key->kind == LUARUN_STRING && key->string_len == strlen(name) &&
         memcmp(key->string, name, key->string_len) == 0;
}

static int counter_index(void *user_data, const luarun_value *args, size_t nargs,
                         luarun_callback_context *context) {
  counter *c = user_data;
  luarun_value result;
  if (nargs != 1 || !is_key(&args[0], "value")) {
    luarun_callback_set_error(context, S("counter has only 'value'"));
    return LUARUN_ERR_RUNTIME;
  }
  result = integer_value(c->value);
  return luarun_callback_return_value(context, &result);
}

static int counter_newindex(void *user_data, const luarun_value *args, size_t nargs,
                            luarun_callback_context *context) {
  counter *c = user_data;
  if (nargs != 2 || !is_key(&args[0], "value") || args[1].kind != LUARUN_INTEGER) {
    luarun_callback_set_error(context, S("counter.value takes an integer"));
    return LUARUN_ERR_TYPE;
  }
  c->value = args[1].integer;
  return LUARUN_OK;
}

static int counter_call(void *user_data, const luarun_value *args, size_t nargs,
                        luarun_callback_context *context) {
  counter *c = user_data;
  luarun_value result;
  c->value += nargs > 0 && args[0].kind == LUARUN_INTEGER ? args[0].integer : 1;
  result = integer_value(c->value);
  return luarun_callback_return_value(context, &result);
}

static int counter_tostring(void *user_data, const luarun_value *args, size_t nargs,
                            luarun_callback_context *context) {
  counter *c = user_data;
  luarun_value text;
  (void)args;
  (void)nargs;
  memset(&text, 0, sizeof text);
  text.kind = LUARUN_STRING;
  text.string = c->name;
  text.string_len = strlen(c->name);
  return luarun_callback_return_value(context, &text);
}

static int counter_length(void *user_data, const luarun_value *args, size_t nargs,
                          luarun_callback_context *context) {
  counter *c = user_data;
  luarun_value result = integer_value(c->value);
  (void)args;
  (void)nargs;
  return luarun_callback_return_value(context, &result);
}

static void mark_freed(void *user_data) { ((counter *)user_data)->freed++; }

static luarun_host_object_class counter_class(void) {
  luarun_host_object_class cls;
  luarun_host_object_class_default(&cls);
  cls.index = counter_index;
  cls.newindex = counter_newindex;
  cls.call = counter_call;
  cls.tostring = counter_tostring;
  cls.length = counter_length;
  return cls;
}

static void lua_uses_host_objects_through_the_callbacks(void) {
  luarun_state *state;
  counter c = {"clicks", 40, 0};
  luarun_host_object_class cls = counter_class();
  luarun_value object, v;
  void *user_data = NULL;
  CHECK_OK(luarun_state_new(NULL, &state));
  CHECK_OK(luarun_host_object_new(state, &cls, &c, mark_freed, &object));
  CHECK(object.kind == LUARUN_USERDATA);
  CHECK_OK(luarun_set_global(state, "counter", &object));
  CHECK_OK(luarun_eval(state, S("counter.value"), &v));
  CHECK(v.kind == LUARUN_INTEGER && v.integer == 40);
  CHECK_OK(luarun_exec(state, S("counter.value = counter.value + 1")));
  CHECK(c.value == 41);
  CHECK_OK(luarun_eval(state, S("counter(1)"), &v));
  CHECK(v.integer == 42 && c.value == 42);
  CHECK_OK(luarun_eval(state, S("#counter"), &v));
  CHECK(v.integer == 42);
  CHECK_OK(luarun_eval(state, S("tostring(counter)"), &v));
  CHECK(v.kind == LUARUN_STRING && strcmp(v.string, "clicks") == 0);
  luarun_value_free(&v);
  /* the embedder finds its own object again */
  CHECK_OK(luarun_host_object_user_data(&object, &user_data));
  CHECK(user_data == &c);
  luarun_value_free(&object);
  luarun_state_free(state);
  CHECK(c.freed == 1); /* freed once, when the state closed */
}

static void callback_errors_are_catchable_and_private_names_refused(void) {
  luarun_state *state;
  counter c = {"c", 0, 0};
  luarun_host_object_class cls = counter_class();
  luarun_value object, v;
  CHECK_OK(luarun_state_new(NULL, &state));
  CHECK_OK(luarun_host_object_new(state, &cls, &c, mark_freed, &object));
  CHECK_OK(luarun_set_global(state, "c", &object));
  CHECK_STATUS(luarun_exec(state, S("c.value = 'x'")), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "counter.value takes an integer") != NULL);
  CHECK_OK(luarun_eval(state, S("select(2, pcall(function() return c.other end))"), &v));
  CHECK(v.kind == LUARUN_STRING && strstr(v.string, "only 'value'") != NULL);
  luarun_value_free(&v);
  /* names with the refused prefix never reach the callbacks */
  CHECK_STATUS(luarun_exec(state, S("return c._secret")), LUARUN_ERR_RUNTIME);
  CHECK_STATUS(luarun_exec(state, S("c.__index = 1")), LUARUN_ERR_RUNTIME);
  CHECK(c.value == 0);
  /* a class without a callback makes that operation an error, not a crash */
  luarun_host_object_class_default(&cls);
  luarun_value_free(&object);
  CHECK_OK(luarun_host_object_new(state, &cls, &c, NULL, &object));
  CHECK_OK(luarun_set_global(state, "bare", &object));
  CHECK_STATUS(luarun_exec(state, S("return bare.x")), LUARUN_ERR_RUNTIME);
  CHECK_STATUS(luarun_exec(state, S("bare()")), LUARUN_ERR_RUNTIME);
  CHECK_OK(luarun_eval(state, S("tostring(bare)"), &v));
  CHECK(v.kind == LUARUN_STRING && strstr(v.string, "host object") != NULL);
  luarun_value_free(&v);
  /* plain values are not host objects */
  {
    void *user_data = NULL;
    luarun_value number = integer_value(1);
    CHECK_STATUS(luarun_host_object_user_data(&number, &user_data), LUARUN_ERR_TYPE);
  }
  luarun_value_free(&object);
  luarun_state_free(state);
  CHECK(c.freed == 1);
}

static void bad_arguments_free_the_user_data_at_once(void) {
  luarun_state *state;
  counter c = {"c", 0, 0};
  luarun_host_object_class cls = counter_class();
  luarun_value object;
  CHECK_OK(luarun_state_new(NULL, &state));
  CHECK_STATUS(luarun_host_object_new(state, NULL, &c, mark_freed, &object),
               LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_host_object_new(state, &cls, &c, mark_freed, NULL),
               LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_host_object_new(NULL, &cls, &c, mark_freed, &object),
               LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(c.freed == 3);
  cls.struct_size = 0;
  CHECK_STATUS(luarun_host_object_new(state, &cls, &c, mark_freed, &object),
               LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(c.freed == 4);
  luarun_host_object_class_default(NULL);
  luarun_state_free(state);
}

int main(void) {
  RUN_TEST(lua_uses_host_objects_through_the_callbacks);
  RUN_TEST(callback_errors_are_catchable_and_private_names_refused);
  RUN_TEST(bad_arguments_free_the_user_data_at_once);
  return harness_finish("test_host_object");
}
