"""Builds both flavors of the Rust library with cargo, progress on stderr.

Each flavor builds in its own target directory, as ``make build`` does (cargo features
are per build: sharing one would rebuild each flavor over the other), with the same
flags, so a tree that ``make build`` has built is reused as it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

if sys.platform == "darwin":
    _PREFIX, _SUFFIX = "lib", ".dylib"
elif sys.platform == "win32":
    _PREFIX, _SUFFIX = "", ".dll"
else:
    _PREFIX, _SUFFIX = "lib", ".so"

#: The file cargo writes for the ``luarun`` cdylib.
CARGO_LIBRARY = f"{_PREFIX}luarun{_SUFFIX}"


class Flavor(NamedTuple):
    """One build of the library."""

    description: str
    cargo_args: tuple[str, ...]
    #: below the target directory (``""``: the target directory itself).
    target_subdir: str
    #: its name inside the package, the plain name ``luarun/_lib.py`` looks for.
    packaged_name: str


FLAVORS = (
    Flavor("Lua 5.4", (), "", CARGO_LIBRARY),
    Flavor(
        "LuaJIT 2.1",
        ("--no-default-features", "--features", "luajit"),
        "luajit",
        f"{_PREFIX}luarun_luajit{_SUFFIX}",
    ),
)


def say(message: str) -> None:
    """One line on stderr, which pip shows with ``pip install -v``."""
    print(f"luarun build: {message}", file=sys.stderr, flush=True)


def target_dir(rust_root: Path) -> Path:
    """``CARGO_TARGET_DIR`` (relative to the Rust root when relative), else
    ``target`` under the Rust root."""
    configured = os.environ.get("CARGO_TARGET_DIR")
    target = Path(configured) if configured else Path("target")
    return target if target.is_absolute() else rust_root / target


def build_libraries(rust_root: Path) -> dict[str, Path]:
    """Builds every flavor; returns each library's name in the package and its built file."""
    cargo = os.environ.get("CARGO", "cargo")
    if shutil.which(cargo) is None:
        raise RuntimeError(
            f"`{cargo}` not found: building luarun from source needs a Rust toolchain "
            "(1.89 or newer, https://rustup.rs), or install a prebuilt wheel instead"
        )
    target = target_dir(rust_root)
    built: dict[str, Path] = {}
    for flavor in FLAVORS:
        flavor_target = target / flavor.target_subdir
        command = [
            cargo, "build", "--release", "--locked", "--lib", "--package", "luarun",
            "--manifest-path", str(rust_root / "Cargo.toml"),
            "--target-dir", str(flavor_target), *flavor.cargo_args,
        ]
        say(f"the {flavor.description} flavor: {' '.join(command)}")
        say("(a first build compiles Lua and its dependencies: a few minutes)")
        # cargo's own progress goes to stderr; its stdout joins it, so pip shows both.
        status = subprocess.run(command, cwd=rust_root, stdout=sys.stderr).returncode
        if status != 0:
            raise RuntimeError(
                f"cargo build of the {flavor.description} flavor failed (exit status "
                f"{status}); its messages are above (`pip install -v` shows them)"
            )
        library = flavor_target / "release" / CARGO_LIBRARY
        if not library.is_file():
            raise FileNotFoundError(f"cargo succeeded but {library} does not exist")
        built[flavor.packaged_name] = library
    return built
