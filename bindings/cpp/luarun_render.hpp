// luarun_render.hpp: Mandelbrot renders for luarun.hpp (included by it; include that).
#ifndef LUARUN_RENDER_HPP
#define LUARUN_RENDER_HPP

#include <cstdint>
#include <exception>
#include <functional>
#include <string_view>
#include <vector>

#include "luarun.hpp"

namespace luarun {
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

#endif  // LUARUN_RENDER_HPP
