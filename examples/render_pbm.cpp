// Render the Mandelbrot set into a PBM file: render_pbm [size] [output.pbm] [native|lua]
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "luarun.hpp"

int main(int argc, char **argv) {
  const uint32_t size = argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1280;
  const char *path = argc > 2 ? argv[2] : "mandelbrot.pbm";
  luarun::MandelbrotParams params;  // defaults: the Benchmarks Game viewport, 50 iterations
  params.width = size;  // height 0: same as width
  params.format = LUARUN_PIXELS_BITS;
  params.engine = argc > 3 && std::strcmp(argv[3], "lua") == 0 ? LUARUN_ENGINE_LUA : LUARUN_ENGINE_NATIVE;
  try {
    const std::vector<uint8_t> bits = luarun::render(params);
    std::ofstream out(path, std::ios::binary);
    out << "P4\n" << size << " " << size << "\n";
    out.write(reinterpret_cast<const char *>(bits.data()), static_cast<std::streamsize>(bits.size()));
    if (!out) {
      std::cerr << "could not write " << path << "\n";
      return 1;
    }
  } catch (const luarun::Error &e) {
    std::cerr << e.status_name() << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception &e) {  // e.g. std::bad_alloc for a huge size
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  std::cout << "wrote " << path << " (" << size << "x" << size << ")\n";
  return 0;
}
