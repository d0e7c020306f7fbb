#!/usr/bin/env bash
# make test-install: `make install` into fresh temporary prefixes, then use what it
# installed the ways a user would: the CMake package (tests/install/cmake, every imported
# target), pkg-config (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig), a prefix staged with
# DESTDIR and then moved (the CMake files are relocatable), and `make uninstall`.
# Needs the libraries built (the Makefile's test-install target builds them first).
# Environment: MAKE, CC, CXX, LUARUN_VERSION (the Makefile passes Cargo.toml's).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
make=${MAKE:-make}
cc=${CC:-cc}
cxx=${CXX:-c++}
version=${LUARUN_VERSION:?LUARUN_VERSION must be set (make test-install sets it)}
work=$(mktemp -d "${TMPDIR:-/tmp}/luarun-test-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL test-install: $*" >&2; exit 1; }
# `make install` without rebuilding (-o build): the caller built the libraries.
run_make() { "$make" --no-print-directory -s -C "$root" -o build "$@" > "$work/make.log" 2>&1 ||
  { cat "$work/make.log" >&2; fail "make $*"; }; }
installed_files() {
  local prefix=$1 ext=so
  [ "$(uname -s)" = Darwin ] && ext=dylib
  echo "$prefix/include/luarun.h" "$prefix/include/luarun.hpp" "$prefix/include/luarun_value.hpp" \
    "$prefix/include/luarun_render.hpp" "$prefix/lib/libluarun.$ext" "$prefix/lib/libluarun.a" \
    "$prefix/lib/libluarun_luajit.$ext" "$prefix/lib/libluarun_luajit.a" \
    "$prefix/lib/pkgconfig/luarun.pc" "$prefix/lib/pkgconfig/luarun_luajit.pc" \
    "$prefix/lib/cmake/luarun/luarunConfig.cmake" "$prefix/lib/cmake/luarun/luarunConfigVersion.cmake" \
    "$prefix/include/luarun/lua54/lua.h" "$prefix/include/luarun/lua54/lauxlib.h" \
    "$prefix/include/luarun/luajit/lua.h" "$prefix/include/luarun/luajit/luajit.h"
}
expect_installed() {
  for file in $(installed_files "$1"); do [ -f "$file" ] || fail "make install did not install $file"; done
}
# The static programs must not need the shared library at run time.
expect_static() {
  if command -v readelf > /dev/null && readelf -d "$1" | grep -q 'NEEDED.*libluarun'; then
    fail "$1 was linked with luarun::...static but needs $(readelf -d "$1" | grep -o 'libluarun[a-z_]*\.so')"
  fi
}

prefix=$work/prefix
run_make install PREFIX="$prefix"
expect_installed "$prefix"
echo "== make install PREFIX=$prefix: $(installed_files "$prefix" | wc -w) files"

if command -v cmake > /dev/null; then
  echo "== CMake: find_package(luarun CONFIG REQUIRED), every imported target"
  cmake -S "$root/tests/install/cmake" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DLUARUN_EXPECTED_VERSION="$version" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" > "$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log" >&2; fail "cmake configure"; }
  grep -q "luarun $version from $prefix/lib/cmake/luarun: version checks passed" "$work/cmake.log" ||
    { cat "$work/cmake.log" >&2; fail "CMake found luarun elsewhere than $prefix"; }
  cmake --build "$work/cmake" -j 2 > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "cmake --build"; }
  for app in app app_cpp app_static app_luajit app_luajit_static app_cpp_luajit_static; do
    "$work/cmake/$app" || fail "$app (CMake) failed"
  done
  for app in app_static app_luajit_static app_cpp_luajit_static; do expect_static "$work/cmake/$app"; done
else
  echo "SKIPPED test-install CMake part: cmake not found (apt-get install cmake)"
fi

if command -v pkg-config > /dev/null; then
  echo "== pkg-config with PKG_CONFIG_PATH=$prefix/lib/pkgconfig"
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  for package in luarun luarun_luajit; do
    [ "$(pkg-config --modversion "$package")" = "$version" ] ||
      fail "pkg-config --modversion $package is $(pkg-config --modversion "$package"), not $version"
    define=; [ "$package" = luarun_luajit ] && define=-DEXPECT_LUAJIT
    libdir=$(pkg-config --variable=libdir "$package")
    # shellcheck disable=SC2046 # pkg-config's output is a list of flags
    "$cc" -std=c99 -Wall -Wextra -pedantic -Werror $define "$root/tests/install/cmake/app.c" \
      -o "$work/pc_$package" $(pkg-config --cflags --libs "$package") -Wl,-rpath,"$libdir"
    "$work/pc_$package" || fail "pc_$package failed"
    # shellcheck disable=SC2046
    "$cxx" -std=c++17 -Wall -Wextra -pedantic -Werror $define "$root/tests/install/cmake/app.cpp" \
      -o "$work/pc_cpp_$package" $(pkg-config --cflags --libs "$package") -Wl,-rpath,"$libdir"
    "$work/pc_cpp_$package" || fail "pc_cpp_$package failed"
    # A C module compiles against the headers of the Lua inside this flavor.
    lua_includedir=$(pkg-config --variable=lua_includedir "$package")
    [ -f "$lua_includedir/lauxlib.h" ] || fail "$package: lua_includedir $lua_includedir has no lauxlib.h"
    "$cc" -std=c99 -Wall -Wextra -Werror -fPIC -c -I"$lua_includedir" \
      "$root/tests/c/lua_module/twice.c" -o "$work/twice_$package.o" ||
      fail "$package: a C module does not compile against $lua_includedir"
  done
  unset PKG_CONFIG_PATH
else
  echo "SKIPPED test-install pkg-config part: pkg-config not found (apt-get install pkg-config)"
fi

echo "== make install DESTDIR=$work/stage PREFIX=/opt/luarun, then moved to $work/moved"
run_make install DESTDIR="$work/stage" PREFIX=/opt/luarun
expect_installed "$work/stage/opt/luarun"
mv "$work/stage/opt/luarun" "$work/moved"
if command -v cmake > /dev/null; then
  cmake -S "$root/tests/install/cmake" -B "$work/cmake-moved" -DCMAKE_PREFIX_PATH="$work/moved" \
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" > "$work/cmake-moved.log" 2>&1 ||
    { cat "$work/cmake-moved.log" >&2; fail "cmake configure against the moved prefix"; }
  cmake --build "$work/cmake-moved" --target app app_static > "$work/build-moved.log" 2>&1 ||
    { cat "$work/build-moved.log" >&2; fail "cmake --build against the moved prefix"; }
  "$work/cmake-moved/app" || fail "app (moved prefix) failed"
  "$work/cmake-moved/app_static" || fail "app_static (moved prefix) failed"
fi

echo "== make uninstall PREFIX=$prefix"
run_make uninstall PREFIX="$prefix"
left=$(find "$prefix" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "== test-install ok"
