// Specification of luarun::render: the same bytes as the C API, into any buffer, with
// failures thrown as luarun::Error.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"

static std::vector<uint8_t> render_with_c_api(const luarun_mandelbrot &params) {
  std::vector<uint8_t> bytes(luarun_mandelbrot_buffer_size(&params));
  CHECK_OK(luarun_mandelbrot_render(&params, bytes.data(), bytes.size()));
  return bytes;
}

static luarun::MandelbrotParams square(uint32_t size, luarun_engine engine, luarun_pixel_format format) {
  luarun::MandelbrotParams params;
  params.width = params.height = size;
  params.engine = engine;
  params.format = format;
  return params;
}

static void params_start_from_the_c_defaults_with_height_following_width() {
  luarun_mandelbrot c_defaults;
  luarun_mandelbrot_default(&c_defaults);
  const luarun::MandelbrotParams params;
  CHECK(params.struct_size == c_defaults.struct_size);
  CHECK(params.width == c_defaults.width && params.max_iter == c_defaults.max_iter);
  CHECK(params.x_min == c_defaults.x_min && params.y_max == c_defaults.y_max);
  CHECK(params.height == 0);  // "same as width"; the C default stays 1280 x 1280
  CHECK(c_defaults.width == 1280 && c_defaults.height == 1280);
  const luarun_mandelbrot resolved = params.resolved();
  CHECK(resolved.height == 1280 && resolved.width == 1280);
  CHECK(params.buffer_size() == luarun_mandelbrot_buffer_size(&c_defaults));
}

static void setting_only_the_width_renders_a_square() {
  luarun::MandelbrotParams params;
  params.width = 200;
  CHECK(params.resolved().height == 200);
  CHECK(params.buffer_size() == 25u * 200u);
  const std::vector<uint8_t> bits = luarun::render(params);
  CHECK(bits.size() == 25u * 200u);
  CHECK(bits == render_with_c_api(square(200, LUARUN_ENGINE_NATIVE, LUARUN_PIXELS_BITS)));
  // An explicit height is kept, and a C struct passed in keeps its own height.
  params.height = 8;
  CHECK(luarun::render(params).size() == 25u * 8u);
  luarun_mandelbrot c_params;
  luarun_mandelbrot_default(&c_params);
  c_params.width = 16;
  CHECK(luarun::render(c_params).size() == 2u * 1280u);
}

static void render_writes_the_c_apis_bytes_for_every_engine_and_format() {
  for (luarun_engine engine : {LUARUN_ENGINE_NATIVE, LUARUN_ENGINE_LUA}) {
    for (luarun_pixel_format format : {LUARUN_PIXELS_BITS, LUARUN_PIXELS_COUNTS_U32, LUARUN_PIXELS_RGB8}) {
      const luarun::MandelbrotParams params = square(203, engine, format);  // rows padded to bytes
      const std::vector<uint8_t> expected = render_with_c_api(params);
      CHECK(!expected.empty());
      CHECK(luarun::render(params) == expected);
      std::vector<uint8_t> reused(7, 0xAB);
      luarun::render(params, reused);
      CHECK(reused == expected);
      std::vector<uint8_t> raw(params.buffer_size());
      luarun::render(params, raw.data(), raw.size());
      CHECK(raw == expected);
    }
  }
}

static void bits_hold_the_set() {
  luarun::MandelbrotParams params = square(200, LUARUN_ENGINE_NATIVE, LUARUN_PIXELS_BITS);
  const std::vector<uint8_t> bits = luarun::render(params);
  CHECK(bits.size() == 25u * 200u);
  // The point (-0.5, 0) is in the set: row 100, column 100 (bit 4 of byte 12).
  CHECK((bits[100 * 25 + 12] & (0x80 >> 4)) != 0);
  // The corner (-1.5, -1.0) is not.
  CHECK((bits[0] & 0x80) == 0);
}

static void failures_throw_error_with_the_status() {
  luarun::MandelbrotParams params = square(64, LUARUN_ENGINE_NATIVE, LUARUN_PIXELS_BITS);
  std::vector<uint8_t> small(params.buffer_size() - 1);
  CHECK_THROWS(luarun::render(params, small.data(), small.size()), LUARUN_ERR_BUFFER_TOO_SMALL);
  CHECK(contains(ERROR_MESSAGE_OF(luarun::render(params, small.data(), small.size())),
                 std::to_string(params.buffer_size())));
  params.width = 0;
  CHECK_THROWS(params.buffer_size(), LUARUN_ERR_INVALID_ARGUMENT);
  CHECK(contains(ERROR_MESSAGE_OF(params.buffer_size()), "width is 0"));
  CHECK_THROWS(luarun::render(params), LUARUN_ERR_INVALID_ARGUMENT);
  params = square(64, LUARUN_ENGINE_LUA, LUARUN_PIXELS_BITS);
  const std::string broken_kernel = "this is not Lua";
  params.lua_kernel = broken_kernel.data();
  params.lua_kernel_len = broken_kernel.size();
  CHECK_THROWS(luarun::render(params), LUARUN_ERR_SYNTAX);
}

static void progress_reports_rows_and_true_cancels() {
  const luarun::MandelbrotParams params = square(256, LUARUN_ENGINE_NATIVE, LUARUN_PIXELS_BITS);
  std::vector<uint8_t> pixels(params.buffer_size());
  uint32_t last_done = 0, calls = 0, total = 0;
  bool increasing = true;
  luarun::render(params, pixels.data(), pixels.size(), [&](uint32_t done, uint32_t rows) {
    increasing = increasing && done >= last_done;
    last_done = done;
    total = rows;
    calls++;
    return false;  // false: go on
  });
  CHECK(calls > 0 && increasing);
  CHECK(total == 256 && last_done == 256);
  CHECK(pixels == render_with_c_api(params));

  // true cancels, as a non-zero return does in C.
  uint32_t calls_after_cancel = 0;
  CHECK_THROWS(luarun::render(params, pixels.data(), pixels.size(),
                              [&](uint32_t, uint32_t) {
                                calls_after_cancel++;
                                return true;
                              }),
               LUARUN_ERR_CANCELLED);
  CHECK(calls_after_cancel >= 1);
}

static void progress_returning_void_never_cancels() {
  const luarun::MandelbrotParams params = square(256, LUARUN_ENGINE_LUA, LUARUN_PIXELS_BITS);
  std::vector<uint8_t> pixels(params.buffer_size());
  uint32_t last_done = 0;
  luarun::render(params, pixels.data(), pixels.size(), [&](uint32_t done, uint32_t) { last_done = done; });
  CHECK(last_done == 256);
  CHECK(pixels == render_with_c_api(params));
}

static void a_stored_progress_function_follows_the_same_rule() {
  const luarun::MandelbrotParams params = square(128, LUARUN_ENGINE_NATIVE, LUARUN_PIXELS_BITS);
  std::vector<uint8_t> pixels(params.buffer_size());
  const luarun::Progress go_on = [](uint32_t, uint32_t) { return false; };
  luarun::render(params, pixels.data(), pixels.size(), go_on);
  CHECK(pixels == render_with_c_api(params));
  luarun::Progress cancel = [](uint32_t, uint32_t) { return true; };
  CHECK_THROWS(luarun::render(params, pixels.data(), pixels.size(), cancel), LUARUN_ERR_CANCELLED);
}

static void exceptions_from_progress_cancel_and_are_rethrown() {
  const luarun::MandelbrotParams params = square(256, LUARUN_ENGINE_LUA, LUARUN_PIXELS_BITS);
  std::vector<uint8_t> pixels(params.buffer_size());
  bool rethrown = false;
  try {
    luarun::render(params, pixels.data(), pixels.size(),
                   [](uint32_t, uint32_t) -> bool { throw std::length_error("progress gave up"); });
  } catch (const std::length_error &e) {
    rethrown = contains(e.what(), "progress gave up");
  }
  CHECK(rethrown);
}

int main() {
  RUN_TEST(params_start_from_the_c_defaults_with_height_following_width);
  RUN_TEST(setting_only_the_width_renders_a_square);
  RUN_TEST(render_writes_the_c_apis_bytes_for_every_engine_and_format);
  RUN_TEST(bits_hold_the_set);
  RUN_TEST(failures_throw_error_with_the_status);
  RUN_TEST(progress_reports_rows_and_true_cancels);
  RUN_TEST(progress_returning_void_never_cancels);
  RUN_TEST(a_stored_progress_function_follows_the_same_rule);
  RUN_TEST(exceptions_from_progress_cancel_and_are_rethrown);
  return harness_finish("test_render (C++)");
}
