"""Where the pieces are, in the repository and in an sdist.

In the repository the Python project is ``bindings/python`` and the Rust sources are two
levels up; an sdist puts them under ``rust/`` beside ``pyproject.toml``. ``RUST_SOURCES``
is the one list of what an sdist carries for cargo: adjust it when the Rust layout
changes (``make test-wheel`` installs the sdist in an empty directory, so anything
missing fails there)."""

from __future__ import annotations

import re
from pathlib import Path

#: ``bindings/python`` in the repository, the unpacked root in an sdist.
PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
#: The import package, shipped whole (Python files, ``py.typed``, subpackages).
PACKAGE = "luarun"
#: Where an sdist keeps the Rust sources, relative to ``PROJECT_DIR``.
SDIST_RUST_DIR = "rust"

#: What ``cargo build`` of the C API crate reads, relative to the root Cargo.toml.
RUST_SOURCES = (
    "Cargo.toml",
    "Cargo.lock",  # the build runs --locked
    "build.rs",
    "build_support",  # shared by the build scripts (the Lua C API export)
    "cbindgen.toml",
    "src",
    "crates",  # the workspace members (their lua/ holds the include_str! sources)
    "include",
    # Plus benches/<name>.rs of every [[bench]] of the root Cargo.toml (see
    # `bench_sources`): cargo looks for each even when it builds only the library.
)
#: Entries of ``RUST_SOURCES`` that a tree may lack.
OPTIONAL_RUST_SOURCES: frozenset[str] = frozenset()

#: The Python side of an sdist, relative to ``PROJECT_DIR`` (plus the package itself).
PYTHON_SOURCES = ("pyproject.toml", "README.md", "build_backend")

#: Never shipped: build outputs, caches, and libraries left by an earlier build.
EXCLUDED_NAMES = frozenset({"target", "__pycache__", ".git", ".pytest_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".so", ".dylib", ".dll", ".pyd")

_VERSION_LINE = re.compile(r'^version = "([^"]+)"', re.MULTILINE)


def rust_root() -> Path:
    """The directory of the root Cargo.toml: ``rust/`` in an sdist, else the repository."""
    for candidate in (PROJECT_DIR / SDIST_RUST_DIR, PROJECT_DIR.parent.parent):
        if (candidate / "Cargo.toml").is_file():
            return candidate
    raise FileNotFoundError(
        f"no Cargo.toml in {PROJECT_DIR / SDIST_RUST_DIR} (an sdist) or in "
        f"{PROJECT_DIR.parent.parent} (the repository): cannot find the Rust sources"
    )


def version() -> str:
    """The first ``version = "..."`` line of the root Cargo.toml (``[package]`` today,
    ``[workspace.package]`` in a workspace): the one place the version is written."""
    manifest = rust_root() / "Cargo.toml"
    found = _VERSION_LINE.search(manifest.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f'{manifest} has no line `version = "..."`')
    return found.group(1)


def shipped_files(root: Path, entry: str) -> list[Path]:
    """The files under ``root / entry`` (a file or a directory), sorted, without the
    excluded names and suffixes."""
    path = root / entry
    if path.is_file():
        return [path]
    return sorted(
        file
        for file in path.rglob("*")
        if file.is_file()
        and not EXCLUDED_NAMES.intersection(file.relative_to(root).parts)
        and not file.name.endswith(EXCLUDED_SUFFIXES)
    )


_BENCH_NAME = re.compile(r'^\[\[bench\]\]\s*\n(?:\s*#.*\n)*\s*name = "([^"]+)"', re.MULTILINE)


def bench_sources(root: Path) -> tuple[str, ...]:
    """``benches/<name>.rs`` of every ``[[bench]]`` in ``root``'s Cargo.toml: the
    manifest is the one list of them ([[test]] hostile names its path and is not
    looked for)."""
    manifest = (root / "Cargo.toml").read_text(encoding="utf-8")
    return tuple(f"benches/{name}.rs" for name in _BENCH_NAME.findall(manifest))


def rust_source_files(root: Path) -> list[Path]:
    """Every file of ``RUST_SOURCES`` and ``bench_sources`` under ``root``; a missing
    required entry is an error naming it."""
    files: list[Path] = []
    for entry in RUST_SOURCES + bench_sources(root):
        if not (root / entry).exists():
            if entry in OPTIONAL_RUST_SOURCES:
                continue
            raise FileNotFoundError(
                f"{root / entry} is missing: RUST_SOURCES in {__file__} lists it as "
                "needed by the Rust build"
            )
        files.extend(shipped_files(root, entry))
    return files
