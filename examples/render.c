/* Renders the Mandelbrot set with both engines, prints timings and writes images:
 * build/mandelbrot.pbm (the Benchmarks Game's 1280 x 1280 bitmap) and
 * build/mandelbrot.ppm (a colour zoom into seahorse valley). Run from the repository
 * root (`make demo`). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "luarun.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Renders `p` into a new buffer, printing the time; NULL on failure. */
static unsigned char *timed_render(const char *label, const luarun_mandelbrot *p, size_t *size_out) {
  size_t size = luarun_mandelbrot_buffer_size(p);
  unsigned char *buf = size ? malloc(size) : NULL;
  double start, seconds;
  if (!buf) {
    fprintf(stderr, "%s: %s\n", label, size ? "out of memory" : luarun_last_error());
    return NULL;
  }
  start = now_seconds();
  if (luarun_mandelbrot_render(p, buf, size) != LUARUN_OK) {
    fprintf(stderr, "%s: %s\n", label, luarun_last_error());
    free(buf);
    return NULL;
  }
  seconds = now_seconds() - start;
  printf("  %-34s %2u threads %9.1f ms %8.1f Mpixel/s\n", label, p->threads, seconds * 1e3,
         (double)p->width * p->height / seconds / 1e6);
  *size_out = size;
  return buf;
}

static int write_file(const char *path, const char *header, const unsigned char *body, size_t size) {
  FILE *file = fopen(path, "wb");
  int ok = file && fputs(header, file) >= 0 && fwrite(body, 1, size, file) == size;
  if (file && fclose(file) != 0) ok = 0;
  if (ok) printf("  wrote %s\n", path);
  else fprintf(stderr, "cannot write %s\n", path);
  return ok;
}

/* Renders `p` with both engines, checks they agree byte for byte, returns the native image. */
static unsigned char *render_both(const char *what, luarun_mandelbrot p, size_t *size_out) {
  char label[96];
  unsigned char *native, *lua;
  size_t native_size = 0, lua_size = 0;
  int same;
  p.engine = LUARUN_ENGINE_NATIVE;
  snprintf(label, sizeof label, "%s, native", what);
  native = timed_render(label, &p, &native_size);
  p.engine = LUARUN_ENGINE_LUA;
  snprintf(label, sizeof label, "%s, Lua", what);
  lua = timed_render(label, &p, &lua_size);
  if (!native || !lua) {
    free(native);
    free(lua);
    return NULL;
  }
  same = native_size == lua_size && memcmp(native, lua, native_size) == 0;
  printf("  engines agree byte for byte: %s\n", same ? "yes" : "NO");
  free(lua);
  *size_out = native_size;
  if (!same) {
    free(native);
    return NULL;
  }
  return native;
}

int main(void) {
  luarun_mandelbrot p;
  unsigned char *image;
  size_t size;
  char header[64];
  long cores = sysconf(_SC_NPROCESSORS_ONLN);

  mkdir("build", 0777);
  printf("luarun %s, %ld cores\n", luarun_version(), cores);

  luarun_mandelbrot_default(&p);
  p.threads = cores > 0 ? (uint32_t)cores : 1;
  printf("Benchmarks Game render: %ux%u, %u iterations, 1 bit per pixel\n", p.width, p.height,
         p.max_iter);
  image = render_both("1280x1280 bits", p, &size);
  if (!image) return 1;
  snprintf(header, sizeof header, "P4\n%u %u\n", p.width, p.height);
  if (!write_file("build/mandelbrot.pbm", header, image, size)) return 1;
  free(image);

  p.width = 800;
  p.height = 600;
  p.max_iter = 250;
  p.x_min = -0.7513;
  p.x_max = -0.7393;
  p.y_min = 0.1082;
  p.y_max = 0.1172;
  p.format = LUARUN_PIXELS_RGB8;
  printf("Seahorse valley: %ux%u, %u iterations, RGB8\n", p.width, p.height, p.max_iter);
  image = render_both("800x600 RGB8 zoom", p, &size);
  if (!image) return 1;
  snprintf(header, sizeof header, "P6\n%u %u\n255\n", p.width, p.height);
  if (!write_file("build/mandelbrot.ppm", header, image, size)) return 1;
  free(image);
  return 0;
}
