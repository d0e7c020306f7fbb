"""Builds the luarun Rust library (the repository's Cargo.toml, two levels up) into the
package as ``luarun/_luarun.<CPython suffix>.so``, so ``pip install ./bindings/python``
needs no other step. The package itself is pure Python (ctypes): NoBinding."""

from setuptools import setup
from setuptools_rust import Binding, RustExtension

setup(
    rust_extensions=[
        RustExtension(
            "luarun._luarun",
            path="../../Cargo.toml",
            binding=Binding.NoBinding,
            debug=False,
        )
    ],
)
