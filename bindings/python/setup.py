"""Builds both flavors of the luarun Rust library (the repository's Cargo.toml, two levels
up) into the package, so ``pip install ./bindings/python`` needs no other step:

- ``luarun/_luarun.<CPython suffix>.so``: Lua 5.4 (the crate's default features);
- ``luarun/_luarun_luajit.<CPython suffix>.so``: LuaJIT 2.1 (``--features luajit``).

The package itself is pure Python (ctypes): NoBinding. The LuaJIT build uses its own
target directory, as ``make build`` does, because cargo features are per build: sharing
one would rebuild each flavor over the other."""

import os
from pathlib import Path

from setuptools import setup
from setuptools_rust import Binding, RustExtension

REPOSITORY = Path(__file__).resolve().parent.parent.parent
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", REPOSITORY / "target"))
if not TARGET_DIR.is_absolute():
    TARGET_DIR = REPOSITORY / TARGET_DIR

setup(
    rust_extensions=[
        RustExtension(
            "luarun._luarun",
            path="../../Cargo.toml",
            binding=Binding.NoBinding,
            debug=False,
        ),
        RustExtension(
            "luarun._luarun_luajit",
            path="../../Cargo.toml",
            binding=Binding.NoBinding,
            debug=False,
            features=["luajit"],
            args=["--no-default-features", "--target-dir", str(TARGET_DIR / "luajit")],
        ),
    ],
)
