// luarun_render.hpp: Mandelbrot renders for luarun.hpp (included by it; include that).
#ifndef LUARUN_RENDER_HPP
#define LUARUN_RENDER_HPP

#include <cstdint>
#include <exception>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "luarun.hpp"

namespace luarun {
/// Parameters of a Mandelbrot render: luarun_mandelbrot_default's values (the Benchmarks
/// Game viewport, 50 iterations, native engine, bits), then set the C fields you need.
///
/// One difference from the C defaults: `height` starts at 0, which luarun::render and
/// buffer_size() read as "same as width", so `p.width = 200` renders 200 x 200 (as
/// Python's mandelbrot(200) and Node's render({ width: 200 }) do); the default image is
/// still 1280 x 1280. Set `height` for any other shape. The C API refuses height 0:
/// pass resolved() to luarun_mandelbrot_* functions, not the object itself.
struct MandelbrotParams : luarun_mandelbrot {
  MandelbrotParams() noexcept : luarun_mandelbrot() {
    luarun_mandelbrot_default(this);
    height = 0;
  }
  /// A C struct as it is (its height included), e.g. one filled by luarun_mandelbrot_default.
  MandelbrotParams(const luarun_mandelbrot &c_params) noexcept : luarun_mandelbrot(c_params) {}
  /// The C struct as luarun_mandelbrot_render sees it: height 0 replaced by width.
  luarun_mandelbrot resolved() const noexcept {
    luarun_mandelbrot c_params = *this;
    if (c_params.height == 0) c_params.height = c_params.width;
    return c_params;
  }
  /// Bytes a render with these parameters writes; throws Error
  /// (LUARUN_ERR_INVALID_ARGUMENT, saying which field to change) when they are invalid.
  size_t buffer_size() const {
    const luarun_mandelbrot c_params = resolved();
    size_t size = 0;
    detail::check(luarun_mandelbrot_buffer_size_checked(&c_params, &size));
    return size;
  }
  /// Lua engine: the kernel source, referenced (it must outlive the render), not copied.
  MandelbrotParams &kernel(std::string_view source) noexcept {
    lua_kernel = source.data();
    lua_kernel_len = source.size();
    return *this;
  }
};

/// A progress callback kept in a variable: told rows_done of rows_total rows are
/// finished; returns true to cancel (see render() with progress). Any callable works
/// there too, including ones returning void (never cancel).
using Progress = std::function<bool(uint32_t rows_done, uint32_t rows_total)>;

/// Renders into `size` bytes at `buffer` (at least params.buffer_size()).
inline void render(const MandelbrotParams &params, void *buffer, size_t size) {
  const luarun_mandelbrot c_params = params.resolved();
  detail::check(luarun_mandelbrot_render(&c_params, buffer, size));
}

/// Renders into `pixels`, resized to the render's size.
inline void render(const MandelbrotParams &params, std::vector<uint8_t> &pixels) {
  pixels.resize(params.buffer_size());
  render(params, pixels.data(), pixels.size());
}

/// Renders into a new vector.
inline std::vector<uint8_t> render(const MandelbrotParams &params) {
  std::vector<uint8_t> pixels;
  render(params, pixels);
  return pixels;
}

namespace detail {
template <class Callback>
struct ProgressCall {
  Callback &progress;
  std::exception_ptr thrown;
};
// Runs on render worker threads, one call at a time: nothing may unwind into Rust, so
// an exception is kept for render() to rethrow, and the render is cancelled.
template <class Callback>
int progress_trampoline(void *user_data, uint32_t rows_done, uint32_t rows_total) noexcept {
  ProgressCall<Callback> &call = *static_cast<ProgressCall<Callback> *>(user_data);
  if (call.thrown) return 1;
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Callback &, uint32_t, uint32_t>>) {
      call.progress(rows_done, rows_total);
      return 0;
    } else {
      return call.progress(rows_done, rows_total) ? 1 : 0;
    }
  } catch (...) {
    call.thrown = std::current_exception();
    return 1;
  }
}
}  // namespace detail

/// Renders with a progress callback (replacing `params.progress`): `progress(rows_done,
/// rows_total)` runs on the render's worker threads, one call at a time, and returns
/// true to cancel (render() then throws Error(LUARUN_ERR_CANCELLED), the buffer partly
/// written) or false to go on, as C's non-zero / 0; a callback returning void never
/// cancels. Whatever it throws cancels the render and is rethrown by render().
/// (Changed: before, C++ callbacks returned false to cancel.)
template <class Callback>
void render(const MandelbrotParams &params, void *buffer, size_t size, Callback &&progress) {
  using Function = std::remove_reference_t<Callback>;
  using Result = std::invoke_result_t<Function &, uint32_t, uint32_t>;
  static_assert(std::is_void_v<Result> || std::is_same_v<Result, bool>,
                "a luarun::render progress callback returns bool (true cancels) or void (never cancels)");
  detail::ProgressCall<Function> call{progress, nullptr};
  luarun_mandelbrot with_progress = params.resolved();
  with_progress.progress = detail::progress_trampoline<Function>;
  with_progress.progress_user_data = &call;
  const luarun_status status = luarun_mandelbrot_render(&with_progress, buffer, size);
  if (call.thrown) std::rethrow_exception(call.thrown);
  detail::check(status);
}

}  // namespace luarun

#endif  // LUARUN_RENDER_HPP
