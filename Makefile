# luarun front door. `make` builds, `make demo` shows it working, `make test` runs every
# test (Rust, C, C++, Python). See README.md.

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
BUILD      := build

CFLAGS_STRICT   := -std=c99 -Wall -Wextra -pedantic -Werror -O2 -g
CXXFLAGS_STRICT := -std=c++17 -Wall -Wextra -pedantic -Werror -O2 -g
LINK_LUARUN     := -L$(RELEASE) -lluarun -Wl,-rpath,$(abspath $(RELEASE)) -pthread -lm

C_TESTS   := $(patsubst tests/c/%.c,$(BUILD)/c/%,$(wildcard tests/c/test_*.c))
C_HEADERS := include/luarun.h $(wildcard tests/c/*.h)

.PHONY: all build demo test lint test-rust test-c header install clean bench

all: build

## build: release build of the shared and static library
build:
	$(CARGO) build --release

$(LIB): build

$(BUILD)/c/%: tests/c/%.c $(C_HEADERS) | build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude -Itests/c $< -o $@ $(LINK_LUARUN)

$(BUILD)/examples/%: examples/%.c include/luarun.h | build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_STRICT) -Iinclude $< -o $@ $(LINK_LUARUN)

## demo: build, then run the demo programs (render writes build/mandelbrot.pbm and .ppm)
demo: $(BUILD)/examples/hello $(BUILD)/examples/render
	./$(BUILD)/examples/hello
	./$(BUILD)/examples/render

## bench: Mandelbrot render times and ratios (table on stdout, JSON in build/bench.json)
bench:
	$(CARGO) bench --bench mandelbrot

## test: formatting, lints, Rust tests (incl. header freshness), C tests
test: lint test-rust test-c

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust:
	$(CARGO) test

test-c: $(C_TESTS)
	@set -e; for t in $(C_TESTS); do echo "== $$t"; ./$$t; done

## header: regenerate include/luarun.h with the pinned cbindgen (a dev-dependency)
header:
	LUARUN_BLESS_HEADER=1 $(CARGO) test --test header

## install: library, header and pkg-config file under PREFIX
install: build
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(RELEASE)/libluarun.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/luarun.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)|g' \
	    luarun.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/luarun.pc

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# --- Python binding (bindings/python, tests/python) ---------------------------------
PY_VENV  := $(BUILD)/venv
PY_READY := $(PY_VENV)/.ready

.PHONY: test-python test-wheel bench-python demo-python

test: test-python
demo: demo-python

# A private venv with pytest (numpy and Pillow when available: their tests skip
# without them), so the tests run on a fresh machine.
$(PY_READY):
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install -q --upgrade pip
	$(PY_VENV)/bin/python -m pip install -q pytest
	$(PY_VENV)/bin/python -m pip install -q numpy Pillow || echo "numpy/Pillow unavailable: their tests will skip"
	touch $@

## test-python: pytest of the Python package against the freshly built library
test-python: build $(PY_READY)
	LUARUN_LIBRARY=$(abspath $(LIB)) $(PY_VENV)/bin/python -m pytest -q tests/python

## test-wheel: `pip wheel` / `pip install ./bindings/python` into a fresh venv, then import
test-wheel: $(PY_READY)
	LUARUN_TEST_WHEEL=1 $(PY_VENV)/bin/python -m pytest -q tests/python/test_wheel.py

## bench-python: call overhead and thread scaling from Python
bench-python: build $(PY_READY)
	LUARUN_LIBRARY=$(abspath $(LIB)) $(PY_VENV)/bin/python bindings/python/benchmarks/bench_calls.py

## demo-python: the seed comparison table (pure Python, Lua per thread, luarun engines)
demo-python: build $(PY_READY)
	LUARUN_LIBRARY=$(abspath $(LIB)) $(PY_VENV)/bin/python bindings/python/examples/seed_demo.py --out $(BUILD)
