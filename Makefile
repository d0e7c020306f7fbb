# luarun front door. `make` builds, `make demo` shows it working, `make test` runs every
# test (Rust for both flavors, C, C++, Node.js, Python). `make help` lists the targets.

CARGO      ?= cargo
CC         ?= cc
CXX        ?= c++
PYTHON     ?= python3
PREFIX     ?= /usr/local

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
RELEASE    := $(TARGET_DIR)/release
ifeq ($(shell uname -s),Darwin)
LIB_EXT    := dylib
else
LIB_EXT    := so
endif
LIB        := $(RELEASE)/libluarun.$(LIB_EXT)
LIB_LUAJIT := $(RELEASE)/libluarun_luajit.$(LIB_EXT)
# The LuaJIT flavor builds in its own target directory (cargo features are per build),
# then its libraries are copied next to the default ones under the _luajit name.
LUAJIT_TARGET_DIR := $(TARGET_DIR)/luajit
LUAJIT_FLAGS := --no-default-features --features luajit --target-dir $(LUAJIT_TARGET_DIR)
BUILD      := build
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

CFLAGS_STRICT   := -std=c99 -Wall -Wextra -pedantic -Werror -O2 -g
CXXFLAGS_STRICT := -std=c++17 -Wall -Wextra -pedantic -Werror -O2 -g
LINK_LUARUN     := -L$(RELEASE) -lluarun -Wl,-rpath,$(abspath $(RELEASE)) -pthread -lm

C_TESTS   := $(patsubst tests/c/%.c,$(BUILD)/c/%,$(wildcard tests/c/test_*.c))
C_HEADERS := include/luarun.h $(wildcard tests/c/*.h)
CXX_TESTS    := $(patsubst tests/cpp/%.cpp,$(BUILD)/cpp/%,$(wildcard tests/cpp/test_*.cpp))
CXX_HEADERS  := $(wildcard bindings/cpp/*.hpp) $(C_HEADERS) $(wildcard tests/cpp/*.hpp)
CXX_INCLUDES := -Iinclude -Ibindings/cpp -Itests/c -Itests/cpp
CXX_EXAMPLES := $(patsubst examples/%.cpp,$(BUILD)/examples/cpp/%,$(wildcard examples/*.cpp))
# `make sanitize`: the C and C++ tests rebuilt with ASan + UBSan, then the plain builds
# under valgrind memcheck (skipped with a message where valgrind is absent).
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_TESTS     := $(patsubst $(BUILD)/%,$(BUILD)/asan/%,$(C_TESTS) $(CXX_TESTS))
VALGRIND       := valgrind --quiet --error-exitcode=99 --leak-check=full \
                  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect

.PHONY: all build demo test lint test-rust test-c header install clean fuzz bench-limits bench-state
.PHONY: test-cpp test-node sanitize bench-cpp bench help test-hostile test-install uninstall

all: build

## build: release build of both flavors: libluarun (Lua 5.4) and libluarun_luajit
build:
	$(CARGO) build --release
	$(CARGO) build --release $(LUAJIT_FLAGS)
	@# Replace by rename, never in place: a running process may have the old file mapped.
	@cmp -s $(LUAJIT_TARGET_DIR)/release/libluarun.$(LIB_EXT) $(LIB_LUAJIT) || \
	  { cp $(LUAJIT_TARGET_DIR)/release/libluarun.$(LIB_EXT) $(LIB_LUAJIT).tmp && mv -f $(LIB_LUAJIT).tmp $(LIB_LUAJIT); }
	@cmp -s $(LUAJIT_TARGET_DIR)/release/libluarun.a $(RELEASE)/libluarun_luajit.a || \
	  { cp $(LUAJIT_TARGET_DIR)/release/libluarun.a $(RELEASE)/libluarun_luajit.a.tmp && \
	    mv -f $(RELEASE)/libluarun_luajit.a.tmp $(RELEASE)/libluarun_luajit.a; }

$(LIB): build

# The one compile line of every C and C++ program here (tests, examples, benchmarks),
# strict flags, linked to the freshly built libluarun; $(1): extra flags and includes.
define compile_c
@mkdir -p $(dir $@)
$(CC) $(CFLAGS_STRICT) $(1) $< -o $@ $(LINK_LUARUN)
endef
define compile_cxx
@mkdir -p $(dir $@)
$(CXX) $(CXXFLAGS_STRICT) $(1) $< -o $@ $(LINK_LUARUN)
endef

$(BUILD)/c/%: tests/c/%.c $(C_HEADERS) | build
	$(call compile_c,-Iinclude -Itests/c)

$(BUILD)/examples/%: examples/%.c include/luarun.h | build
	$(call compile_c,-Iinclude)

$(BUILD)/cpp/%: tests/cpp/%.cpp $(CXX_HEADERS) | build
	$(call compile_cxx,$(CXX_INCLUDES))

$(BUILD)/examples/cpp/%: examples/%.cpp $(wildcard bindings/cpp/*.hpp) include/luarun.h | build
	$(call compile_cxx,-Iinclude -Ibindings/cpp)

$(BUILD)/benches/%: benches/%.cpp $(wildcard bindings/cpp/*.hpp) include/luarun.h | build
	$(call compile_cxx,-Iinclude -Ibindings/cpp)

$(BUILD)/asan/c/%: tests/c/%.c $(C_HEADERS) | build
	$(call compile_c,$(SANITIZE_FLAGS) -Iinclude -Itests/c)

$(BUILD)/asan/cpp/%: tests/cpp/%.cpp $(CXX_HEADERS) | build
	$(call compile_cxx,$(SANITIZE_FLAGS) $(CXX_INCLUDES))

## demo: the Python comparison table (saves build/mandelbrot.png), then the C demos
## (render writes build/mandelbrot.pbm and .ppm)
demo: demo-python $(BUILD)/examples/hello $(BUILD)/examples/render
	./$(BUILD)/examples/hello
	./$(BUILD)/examples/render

## bench: Mandelbrot render times and ratios (table on stdout, JSON in build/bench.json)
bench:
	$(CARGO) bench --bench mandelbrot

## test: fmt, clippy, Rust tests of both flavors (incl. header freshness), C, C++,
## make install (CMake and pkg-config), Node.js and Python tests
# Every suite runs, even after one fails; the last line sums them all
# ("make test: N passed, M failed, K skipped in 7 suites"; logs in build/test-logs/).
TEST_SUITES := lint test-rust test-c test-cpp test-install test-node test-python
test:
	@$(PYTHON) tools/test_summary.py --make "$(MAKE)" $(TEST_SUITES)

## lint: cargo fmt --check and clippy -D warnings, both flavors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --workspace --all-targets $(LUAJIT_FLAGS) -- -D warnings

## test-rust: the Rust tests against both flavors
test-rust:
	$(CARGO) test --workspace
	$(CARGO) test --workspace $(LUAJIT_FLAGS)

## test-hostile: slow hostile scenarios of both flavors, each in a child process
## (allocation failure under RLIMIT_AS, interrupt storms); not part of `make test`
test-hostile:
	$(CARGO) test --release --test hostile
	$(CARGO) test --release $(LUAJIT_FLAGS) --test hostile

## test-c: the C tests (tests/c) against both libraries' header, and their SONAMEs
test-c: $(C_TESTS)
	@set -e; for t in $(C_TESTS); do echo "== $$t"; ./$$t; done
	@# Each library names itself, so a program linked by path records the file name only.
	@if [ "$$(uname)" = Linux ]; then \
	  readelf -d $(LIB) | grep -q 'SONAME.*\[libluarun\.so\]' && \
	  readelf -d $(LIB_LUAJIT) | grep -q 'SONAME.*\[libluarun_luajit\.so\]' && \
	  echo "== SONAMEs ok"; fi

## test-cpp: the C++ wrapper's tests (bindings/cpp/luarun.hpp) and examples
test-cpp: $(CXX_TESTS) $(CXX_EXAMPLES)
	@set -e; for t in $(CXX_TESTS); do echo "== $$t"; ./$$t; done
	./$(BUILD)/examples/cpp/hello > /dev/null
	./$(BUILD)/examples/cpp/render_pbm 200 $(BUILD)/cpp_mandelbrot_200.pbm lua
	echo "cc65e64bd553ed18896de1dfe7fae3e5  $(BUILD)/cpp_mandelbrot_200.pbm" | md5sum -c -

## test-node: the Node.js binding (koffi, pinned in bindings/node/package-lock.json), on
## both flavors
test-node: build
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
	  cd bindings/node && npm ci --no-audit --no-fund --loglevel=error && \
	  LUARUN_LIBRARY=$(abspath $(LIB)) node --test && \
	  LUARUN_LIBRARY=$(abspath $(LIB_LUAJIT)) node --test; \
	else \
	  echo "SKIPPED test-node: node and npm not found (apt-get install nodejs npm)"; \
	fi

## bench-cpp: what luarun.hpp costs per call versus the raw C API (ratios, one run)
bench-cpp: $(BUILD)/benches/cpp_call_overhead
	./$(BUILD)/benches/cpp_call_overhead 1000000

## sanitize: C and C++ tests under ASan + UBSan, then under valgrind memcheck
sanitize: $(ASAN_TESTS) $(C_TESTS) $(CXX_TESTS)
	@set -e; for t in $(ASAN_TESTS); do echo "== asan $$t"; \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./$$t; done
	@if command -v valgrind >/dev/null 2>&1; then \
	  set -e; for t in $(C_TESTS) $(CXX_TESTS); do echo "== valgrind $$t"; $(VALGRIND) ./$$t; done; \
	else \
	  echo "SKIPPED valgrind: not installed (apt-get install valgrind)"; \
	fi

## header: regenerate include/luarun.h with the pinned cbindgen (a dev-dependency)
header:
	LUARUN_BLESS_HEADER=1 $(CARGO) test --test header

# What `make install` puts under DESTDIR/PREFIX, and where.
INSTALL_SHARED  := $(LIB) $(LIB_LUAJIT)
INSTALL_STATIC  := $(RELEASE)/libluarun.a $(RELEASE)/libluarun_luajit.a
INSTALL_HEADERS := include/luarun.h $(wildcard bindings/cpp/*.hpp)
INSTALL_LIBDIR   = $(DESTDIR)$(PREFIX)/lib
INSTALL_CMAKEDIR = $(INSTALL_LIBDIR)/cmake/luarun
# The generated files: Cargo.toml's version, and for the CMake version check the pointer
# size of the C compiler's target (the libraries' target).
SIZEOF_VOID_P    = $(shell $(CC) -dM -E - < /dev/null 2>/dev/null | sed -n 's/.*__SIZEOF_POINTER__ //p')
PC_FILE          = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIB@|$(1)|g' \
                       -e 's|@LUA@|$(2)|g' -e 's|@LUA_DIR@|$(3)|g' packaging/luarun.pc.in \
                       > $(INSTALL_LIBDIR)/pkgconfig/$(1).pc
# The vendored Lua's own headers, for C modules built against the Lua inside luarun.
INSTALL_LUA_INCLUDEDIR = $(DESTDIR)$(PREFIX)/include/luarun
CMAKE_FILE       = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIB_EXT@|$(LIB_EXT)|g' \
                       -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|g' packaging/$(1).in > $(INSTALL_CMAKEDIR)/$(1)

## install: both flavors' shared and static libraries, luarun.h and the C++ headers,
## pkg-config files and the CMake package under DESTDIR/PREFIX (default /usr/local)
install: build
	install -d $(INSTALL_LIBDIR) $(DESTDIR)$(PREFIX)/include $(INSTALL_LIBDIR)/pkgconfig $(INSTALL_CMAKEDIR)
	install -m 755 $(INSTALL_SHARED) $(INSTALL_LIBDIR)/
	install -m 644 $(INSTALL_STATIC) $(INSTALL_LIBDIR)/
	install -m 644 $(INSTALL_HEADERS) $(DESTDIR)$(PREFIX)/include/
	install -d $(INSTALL_LUA_INCLUDEDIR)/lua54 $(INSTALL_LUA_INCLUDEDIR)/luajit
	install -m 644 include/lua54/*.h $(INSTALL_LUA_INCLUDEDIR)/lua54/
	install -m 644 include/luajit/*.h include/luajit/*.hpp $(INSTALL_LUA_INCLUDEDIR)/luajit/
	$(call PC_FILE,luarun,Lua 5.4,lua54)
	$(call PC_FILE,luarun_luajit,LuaJIT,luajit)
	$(call CMAKE_FILE,luarunConfig.cmake)
	$(call CMAKE_FILE,luarunConfigVersion.cmake)

## uninstall: removes what `make install` put under DESTDIR/PREFIX
uninstall:
	rm -f $(addprefix $(INSTALL_LIBDIR)/,$(notdir $(INSTALL_SHARED) $(INSTALL_STATIC))) \
	      $(addprefix $(DESTDIR)$(PREFIX)/include/,$(notdir $(INSTALL_HEADERS))) \
	      $(INSTALL_LIBDIR)/pkgconfig/luarun.pc $(INSTALL_LIBDIR)/pkgconfig/luarun_luajit.pc \
	      $(INSTALL_CMAKEDIR)/luarunConfig.cmake $(INSTALL_CMAKEDIR)/luarunConfigVersion.cmake
	rm -rf $(INSTALL_LUA_INCLUDEDIR)/lua54 $(INSTALL_LUA_INCLUDEDIR)/luajit
	rmdir $(INSTALL_LUA_INCLUDEDIR) 2>/dev/null || true
	rmdir $(INSTALL_CMAKEDIR) 2>/dev/null || true

## test-install: make install into a fresh temporary prefix, then build and run
## tests/install/cmake with find_package(luarun) (every imported target) and the same
## programs with pkg-config; also DESTDIR, a moved prefix and make uninstall
test-install: build
	MAKE="$(MAKE)" CC="$(CC)" CXX="$(CXX)" LUARUN_VERSION="$(VERSION)" tests/install/test_install.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

## fuzz: run each fuzz target for FUZZ_SECONDS (default 60) with cargo-fuzz (libFuzzer)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= exec values render patterns
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz --version 0.13.2
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz-corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t ../$(BUILD)/fuzz-corpus/$$t corpus/$$t -- \
	     -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=10 -max_len=4096); \
	done

## bench-state: what creating and freeing a default state costs (time, memory, ratios), both flavors
bench-state:
	$(CARGO) bench --bench state_creation
	$(CARGO) bench --bench state_creation $(LUAJIT_FLAGS)

## bench-limits: stop latency of runaway code, memory-limit accuracy, cost of limits
bench-limits:
	$(CARGO) bench --bench stop_latency

# --- Python binding (bindings/python, tests/python) ---------------------------------
PY_VENV  := $(BUILD)/venv
PY_READY := $(PY_VENV)/.ready

.PHONY: test-python test-wheel bench-python demo-python


# A private venv with pytest (numpy and Pillow when available: their tests skip
# without them), so the tests run on a fresh machine; dask[distributed] and zarr at the
# pins of tests/python/requirements-dask.txt for test_dask.py, demo-dask and bench-dask.
$(PY_READY): tests/python/requirements-dask.txt
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install -q --upgrade pip
	$(PY_VENV)/bin/python -m pip install -q pytest
	$(PY_VENV)/bin/python -m pip install -q numpy Pillow || echo "numpy/Pillow unavailable: their tests will skip"
	$(PY_VENV)/bin/python -m pip install -q -r tests/python/requirements-dask.txt
	touch $@

## test-python: pytest of the Python package against the freshly built library
test-python: build $(PY_READY)
	LUARUN_LIBRARY=$(abspath $(LIB)) LUARUN_LIBRARY_LUAJIT=$(abspath $(LIB_LUAJIT)) \
	  $(PY_VENV)/bin/python -m pytest -q tests/python

## test-wheel: `python -m build` (sdist + py3-none-<platform> wheel), `auditwheel show`,
## the wheel in a venv of each CPython 3.9+ and PyPy on PATH, the sdist installed from an
## empty directory (with this CARGO_TARGET_DIR, so cargo reuses what `make build` built)
test-wheel: $(PY_READY)
	LUARUN_TEST_WHEEL=1 CARGO_TARGET_DIR=$(abspath $(TARGET_DIR)) \
	  $(PY_VENV)/bin/python -m pytest -q -rsx tests/python/test_wheel.py

## demo-python: the seed comparison table (Lua per thread, luarun engines; --python adds pure Python)
## in a small venv of its own (Pillow only, for the PNG; without it the demo writes a PBM)
DEMO_VENV  := $(BUILD)/demo-venv
DEMO_READY := $(DEMO_VENV)/.ready
$(DEMO_READY):
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install -q Pillow || echo "Pillow unavailable: the demo writes a PBM instead of a PNG"
	touch $@
demo-python: build $(DEMO_READY)
	LUARUN_LIBRARY=$(abspath $(LIB)) $(DEMO_VENV)/bin/python bindings/python/examples/seed_demo.py --out $(BUILD)

# --- luarun.dask: tiles and Lua jobs on a dask.distributed LocalCluster --------------
.PHONY: demo-dask bench-dask
DASK_ENV := LUARUN_LIBRARY=$(abspath $(LIB)) LUARUN_LIBRARY_LUAJIT=$(abspath $(LIB_LUAJIT))
DASK_SIZE ?= 16000

## demo-dask: LocalCluster renders DASK_SIZE (16000) square in tiles to a Zarr store and
## a PNG preview under build/dask-demo; per-tile and total times, dashboard address
demo-dask: build $(PY_READY)
	$(DASK_ENV) $(PY_VENV)/bin/python examples/dask_demo.py --size $(DASK_SIZE) --out $(BUILD)/dask-demo

## bench-dask: DASK_SIZE (16000) square on a LocalCluster of this machine's cores
## against the single-process native render on the same cores (target <= 1.3x)
bench-dask: build $(PY_READY)
	$(DASK_ENV) $(PY_VENV)/bin/python benches/dask_render.py --size $(DASK_SIZE) $(BENCH_ARGS)

# --- Side-by-side benchmark (issue: LuaJIT flavor and comparisons) ------------------
BENCH_VENV := $(BUILD)/bench-venv
.PHONY: bench-compare bench-scaling

$(BENCH_VENV)/.ready: benches/compare/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -r benches/compare/requirements.txt
	touch $@

BENCH_ENV := LUARUN_LIBRARY=$(abspath $(LIB)) LUARUN_LIBRARY_LUAJIT=$(abspath $(LIB_LUAJIT)) \
             PYTHONPATH=$(abspath bindings/python):$(abspath benches/compare)

## bench-compare: pure Python, numpy, numba, lupa and luarun in one run on this machine
## (table in Markdown and JSON plus a PNG plot under build/bench-compare; BENCH_ARGS=--quick)
bench-compare: build $(BENCH_VENV)/.ready
	$(BENCH_ENV) $(BENCH_VENV)/bin/python -X faulthandler benches/compare/compare.py --out $(BUILD)/bench-compare $(BENCH_ARGS)

## bench-scaling: thread scaling 1/2/4/8/16 (capped at the cores present) at 1280 and 4000
bench-scaling: build $(BENCH_VENV)/.ready
	$(BENCH_ENV) $(BENCH_VENV)/bin/python -X faulthandler benches/compare/scaling.py --out $(BUILD)/bench-scaling

## bench-python: what a Python call, callback, eval, table access and bulk map cost,
## luarun against lupa in one interleaved run (lupa only in the benchmark venv)
bench-python: build $(BENCH_VENV)/.ready
	$(BENCH_ENV) $(BENCH_VENV)/bin/python benches/compare/python_calls.py $(BENCH_ARGS)

## help: list the targets with what they do
help:
	@awk '/^## [a-z-]+:/ { sub(/^## /, ""); print "  " $$0; next } /^## / { sub(/^## /, "    "); print }' $(MAKEFILE_LIST)

.PHONY: test-lua-suite
## test-lua-suite: Lua 5.4's own test suite through luarun (LUA_TESTES=<lua>/testes; optional LUA=<lua interpreter> for main.lua and a plain-Lua baseline)
test-lua-suite:
ifeq ($(LUA_TESTES),)
	@echo "test-lua-suite: skipped: set LUA_TESTES to a copy of Lua 5.4's testes/ (never copied into this repository)"
else
	$(CARGO) build --release -p luarun-core --example lua_suite
	$(RELEASE)/examples/lua_suite $(abspath $(LUA_TESTES)) $(if $(LUA),--lua $(abspath $(LUA)))
endif
