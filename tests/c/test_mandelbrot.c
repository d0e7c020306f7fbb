/* Specification of the Mandelbrot render and pool APIs, as a C client sees them. */
#include "luarun.h"
#include "harness.h"
#include "md5.h"

#define S(literal) literal, sizeof(literal) - 1

static const char *const MD5_200 = "cc65e64bd553ed18896de1dfe7fae3e5";

static luarun_mandelbrot square(uint32_t n, luarun_engine engine, uint32_t threads) {
  luarun_mandelbrot p;
  luarun_mandelbrot_default(&p);
  p.width = p.height = n;
  p.engine = engine;
  p.threads = threads;
  return p;
}

/* md5 of "P4\n<w> <h>\n" + the rendered body. */
static void pbm_md5(const luarun_mandelbrot *p, char hex[33]) {
  size_t body = luarun_mandelbrot_buffer_size(p);
  unsigned char *file = malloc(64 + body);
  int header = sprintf((char *)file, "P4\n%u %u\n", p->width, p->height);
  CHECK_OK(luarun_mandelbrot_render(p, file + header, body));
  md5_hex(file, (size_t)header + body, hex);
  free(file);
}

static void defaults_are_the_benchmarks_game_render(void) {
  luarun_mandelbrot p;
  luarun_mandelbrot_default(&p);
  CHECK(p.struct_size == sizeof p);
  CHECK(p.width == 1280 && p.height == 1280 && p.max_iter == 50);
  CHECK(p.x_min == -1.5 && p.x_max == 0.5 && p.y_min == -1.0 && p.y_max == 1.0);
  CHECK(p.threads == 0 && p.engine == LUARUN_ENGINE_NATIVE && p.format == LUARUN_PIXELS_BITS);
  CHECK(p.progress == NULL && p.lua_kernel == NULL);
  CHECK(luarun_mandelbrot_buffer_size(&p) == 160 * 1280);
  p.format = LUARUN_PIXELS_RGB8;
  CHECK(luarun_mandelbrot_buffer_size(&p) == 3 * 1280 * 1280);
  luarun_mandelbrot_default(NULL); /* harmless */
}

static void both_engines_reproduce_the_published_pbm_for_any_thread_count(void) {
  static const uint32_t threads[] = {1, 2, 3, 7};
  size_t i;
  char hex[33];
  for (i = 0; i < sizeof threads / sizeof threads[0]; i++) {
    luarun_mandelbrot native = square(200, LUARUN_ENGINE_NATIVE, threads[i]);
    luarun_mandelbrot lua = square(200, LUARUN_ENGINE_LUA, threads[i]);
    pbm_md5(&native, hex);
    CHECK(strcmp(hex, MD5_200) == 0);
    pbm_md5(&lua, hex);
    CHECK(strcmp(hex, MD5_200) == 0);
  }
}

static void engines_agree_in_every_format_on_odd_sizes(void) {
  static const luarun_pixel_format formats[] = {
      LUARUN_PIXELS_BITS, LUARUN_PIXELS_COUNTS_U32, LUARUN_PIXELS_RGB8,
      LUARUN_PIXELS_COUNTS_U16, LUARUN_PIXELS_COUNTS_U8};
  size_t f;
  for (f = 0; f < sizeof formats / sizeof formats[0]; f++) {
    luarun_mandelbrot native = square(37, LUARUN_ENGINE_NATIVE, 3), lua;
    size_t size;
    unsigned char *a, *b;
    native.height = 21;
    native.format = formats[f];
    native.x_min = -0.75; native.x_max = -0.74; native.y_min = 0.10; native.y_max = 0.11;
    native.max_iter = 500;
    lua = native;
    lua.engine = LUARUN_ENGINE_LUA;
    size = luarun_mandelbrot_buffer_size(&native);
    CHECK(size > 0);
    a = malloc(size);
    b = malloc(size);
    CHECK_OK(luarun_mandelbrot_render(&native, a, size));
    CHECK_OK(luarun_mandelbrot_render(&lua, b, size));
    CHECK(memcmp(a, b, size) == 0);
    free(a);
    free(b);
  }
}

static void counts_mean_what_the_header_says(void) {
  luarun_mandelbrot p = square(8, LUARUN_ENGINE_NATIVE, 1);
  uint32_t counts[64];
  p.format = LUARUN_PIXELS_COUNTS_U32;
  CHECK_OK(luarun_mandelbrot_render(&p, counts, sizeof counts));
  CHECK(counts[0] == 1);                /* c = -1.5 - i escapes at once */
  CHECK(counts[4 * 8 + 5] == p.max_iter); /* c = -0.25 + 0i is in the set */
}

static void bad_parameters_are_rejected_and_leave_the_buffer_untouched(void) {
  unsigned char buf[5000];
  luarun_mandelbrot p;
  size_t i;
  int untouched = 1;
  memset(buf, 0xAB, sizeof buf);
#define REJECTS(field_change)                                                \
  do {                                                                       \
    p = square(200, LUARUN_ENGINE_NATIVE, 2);                                \
    field_change;                                                            \
    CHECK(luarun_mandelbrot_buffer_size(&p) == 0);                           \
    CHECK_STATUS(luarun_mandelbrot_render(&p, buf, sizeof buf), LUARUN_ERR_INVALID_ARGUMENT); \
  } while (0)
  REJECTS(p.width = 0);
  REJECTS(p.height = 0);
  REJECTS(p.width = LUARUN_MANDELBROT_MAX_SIDE + 1);
  REJECTS(p.max_iter = 0);
  REJECTS(p.x_min = 0.0 / 0.0);
  REJECTS(p.y_max = 1.0 / 0.0);
  REJECTS(p.x_min = 1.0);
  REJECTS(p.y_min = p.y_max);
  REJECTS(p.engine = 7);
  REJECTS(p.format = 99);
  REJECTS(p.struct_size = 0);
  REJECTS(p.x_offset = 1);
  CHECK(strstr(luarun_last_error(), "x_offset") != NULL);
  CHECK(luarun_mandelbrot_buffer_size(NULL) == 0);
  CHECK_STATUS(luarun_mandelbrot_render(NULL, buf, sizeof buf), LUARUN_ERR_INVALID_ARGUMENT);
  p = square(200, LUARUN_ENGINE_NATIVE, 2);
  CHECK_STATUS(luarun_mandelbrot_render(&p, NULL, 5000), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_mandelbrot_render(&p, NULL, 0), LUARUN_ERR_BUFFER_TOO_SMALL);
  CHECK(strstr(luarun_last_error(), "needs") != NULL); /* says what size to pass */
  CHECK_STATUS(luarun_mandelbrot_render(&p, buf, 4999), LUARUN_ERR_BUFFER_TOO_SMALL);
  CHECK(strstr(luarun_last_error(), "4999") != NULL);
  CHECK(strstr(luarun_last_error(), "5000") != NULL);
  for (i = 0; i < sizeof buf; i++) untouched &= buf[i] == 0xAB;
  CHECK(untouched);
#undef REJECTS
}

struct progress_log {
  uint32_t calls, last_done, total, cancel_after;
  int never_decreasing;
};

/* rows_done never decreases; it may repeat (a report every ~10 ms of work while a slow
 * row runs, as under valgrind). */
static int record_progress(void *user_data, uint32_t rows_done, uint32_t rows_total) {
  struct progress_log *log = user_data;
  log->never_decreasing &= rows_done >= log->last_done;
  log->calls++;
  log->last_done = rows_done;
  log->total = rows_total;
  return log->cancel_after != 0 && log->calls >= log->cancel_after;
}

static void progress_is_reported_and_can_cancel(void) {
  luarun_engine engines[2] = {LUARUN_ENGINE_NATIVE, LUARUN_ENGINE_LUA};
  size_t e;
  for (e = 0; e < 2; e++) {
    struct progress_log log = {0, 0, 0, 0, 1};
    luarun_mandelbrot p = square(600, engines[e], 2);
    size_t size = luarun_mandelbrot_buffer_size(&p);
    unsigned char *buf = malloc(size);
    p.progress = record_progress;
    p.progress_user_data = &log;
    CHECK_OK(luarun_mandelbrot_render(&p, buf, size));
    CHECK(log.calls > 1);
    CHECK(log.never_decreasing);
    CHECK(log.last_done == 600 && log.total == 600);
    memset(&log, 0, sizeof log);
    log.never_decreasing = 1;
    log.cancel_after = 2;
    CHECK_STATUS(luarun_mandelbrot_render(&p, buf, size), LUARUN_ERR_CANCELLED);
    CHECK(log.calls == 2);
    free(buf);
  }
}

static void the_lua_engine_runs_a_caller_kernel(void) {
  /* Every row all in the set: bytes of 0xFF. */
  static const char kernel[] =
      "function mandelbrot_row(y, p)\n"
      "  return string.rep('\\255', (p.width + 7) // 8)\n"
      "end\n";
  unsigned char buf[16 * 2];
  luarun_mandelbrot p = square(16, LUARUN_ENGINE_LUA, 2);
  size_t i;
  int all_set = 1;
  p.lua_kernel = kernel;
  p.lua_kernel_len = sizeof kernel - 1;
  CHECK_OK(luarun_mandelbrot_render(&p, buf, sizeof buf));
  for (i = 0; i < sizeof buf; i++) all_set &= buf[i] == 0xFF;
  CHECK(all_set);
  p.lua_kernel = "function mandelbrot_row(y, p) return 'x' end";
  p.lua_kernel_len = strlen(p.lua_kernel);
  CHECK_STATUS(luarun_mandelbrot_render(&p, buf, sizeof buf), LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "returned 1 bytes") != NULL);
  p.lua_kernel = "function mandelbrot_row(";
  p.lua_kernel_len = strlen(p.lua_kernel);
  CHECK_STATUS(luarun_mandelbrot_render(&p, buf, sizeof buf), LUARUN_ERR_SYNTAX);
}

static void released_lua_engine_pools_are_rebuilt_by_the_next_render(void) {
  char before[33], after[33];
  luarun_mandelbrot lua = square(200, LUARUN_ENGINE_LUA, 2);
  pbm_md5(&lua, before);
  luarun_mandelbrot_release_pools();
  luarun_mandelbrot_release_pools(); /* nothing left: still fine */
  pbm_md5(&lua, after);
  CHECK(strcmp(before, MD5_200) == 0);
  CHECK(strcmp(after, before) == 0);
  luarun_mandelbrot_release_pools();
}

static void a_pool_runs_a_function_over_a_range_into_a_buffer(void) {
  luarun_pool *pool = NULL;
  unsigned char out[1000];
  uint32_t size = 0;
  size_t i;
  int right = 1;
  CHECK_OK(luarun_pool_new(NULL, 3, &pool));
  CHECK_OK(luarun_pool_size(pool, &size));
  CHECK(size == 3);
  CHECK_OK(luarun_pool_exec(pool, S("function square_low_byte(i) return string.char(i * i % 256) end")));
  CHECK_OK(luarun_pool_run(pool, "square_low_byte", 5, 1000, out, sizeof out, 1, NULL, NULL));
  for (i = 0; i < 1000; i++) right &= out[i] == (unsigned char)((i + 5) * (i + 5) % 256);
  CHECK(right);
  CHECK_STATUS(luarun_pool_run(pool, "square_low_byte", 0, 1000, out, 999, 1, NULL, NULL),
               LUARUN_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(luarun_pool_run(pool, "nope", 0, 10, out, sizeof out, 1, NULL, NULL),
               LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "nope") != NULL);
  CHECK_STATUS(luarun_pool_run(pool, "square_low_byte", 0, 10, out, sizeof out, 2, NULL, NULL),
               LUARUN_ERR_RUNTIME);
  CHECK_OK(luarun_pool_exec(pool, S("function fails(i) if i == 7 then error('seven') end return 'x' end")));
  CHECK_STATUS(luarun_pool_run(pool, "fails", 0, 10, out, sizeof out, 1, NULL, NULL),
               LUARUN_ERR_RUNTIME);
  CHECK(strstr(luarun_last_error(), "seven") != NULL);
  CHECK_STATUS(luarun_pool_exec(pool, S("this is not lua")), LUARUN_ERR_SYNTAX);
  CHECK_STATUS(luarun_pool_run(NULL, "f", 0, 1, out, 1, 1, NULL, NULL), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(luarun_pool_new(NULL, 2, NULL), LUARUN_ERR_INVALID_ARGUMENT);
  luarun_pool_free(pool);
  luarun_pool_free(NULL);
}

static void pool_states_honour_their_options(void) {
  luarun_options options;
  luarun_pool *pool = NULL;
  unsigned char out[4];
  luarun_options_default(&options);
  options.instruction_limit = 100000;
  CHECK_OK(luarun_pool_new(&options, 2, &pool));
  CHECK_OK(luarun_pool_exec(pool, S("function spin(i) while true do end end")));
  CHECK_STATUS(luarun_pool_run(pool, "spin", 0, 4, out, sizeof out, 1, NULL, NULL),
               LUARUN_ERR_INTERRUPTED);
  CHECK_STATUS(luarun_pool_exec(pool, S("os.exit()")), LUARUN_ERR_RUNTIME);
  luarun_pool_free(pool);
}

int main(void) {
  RUN_TEST(defaults_are_the_benchmarks_game_render);
  RUN_TEST(both_engines_reproduce_the_published_pbm_for_any_thread_count);
  RUN_TEST(engines_agree_in_every_format_on_odd_sizes);
  RUN_TEST(counts_mean_what_the_header_says);
  RUN_TEST(bad_parameters_are_rejected_and_leave_the_buffer_untouched);
  RUN_TEST(progress_is_reported_and_can_cancel);
  RUN_TEST(the_lua_engine_runs_a_caller_kernel);
  RUN_TEST(released_lua_engine_pools_are_rebuilt_by_the_next_render);
  RUN_TEST(a_pool_runs_a_function_over_a_range_into_a_buffer);
  RUN_TEST(pool_states_honour_their_options);
  return harness_finish("test_mandelbrot");
}
