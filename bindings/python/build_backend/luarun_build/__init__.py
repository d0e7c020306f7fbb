"""luarun's in-tree PEP 517 build backend (``pyproject.toml``: ``backend-path``).

The package is pure Python over ctypes, so the wheel is ``py3-none-<platform>``: one
wheel for every CPython 3.9+ and PyPy on a platform. ``build_wheel`` runs cargo for both
flavors and puts the libraries into the package under their plain names
(``libluarun.so``, ``libluarun_luajit.so``), which ``luarun/_lib.py`` finds; it never
writes into the source tree. ``build_sdist`` packs the Python project and the Rust
sources (``layout.RUST_SOURCES``) so that ``pip install luarun-<version>.tar.gz``
builds anywhere with a Rust toolchain. cargo's progress goes to stderr: ``pip install
-v`` shows it."""

from __future__ import annotations

from pathlib import Path

from . import archives, cargo, layout, metadata, platform_tag

__all__ = [
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_wheel",
]


def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    """Nothing beyond ``build-system.requires``: cargo does the building."""
    return []


def get_requires_for_build_sdist(config_settings=None) -> list[str]:
    """Nothing beyond ``build-system.requires``."""
    return []


def _name_and_metadata() -> tuple[str, str, str]:
    version = layout.version()
    name = metadata.project_table(layout.PROJECT_DIR)["name"]
    return name, version, metadata.core_metadata(layout.PROJECT_DIR, version)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None) -> str:
    """Writes ``<name>-<version>.dist-info/METADATA`` without building anything."""
    name, version, text = _name_and_metadata()
    dist_info = f"{archives.distribution_name(name)}-{version}.dist-info"
    (Path(metadata_directory) / dist_info).mkdir(parents=True, exist_ok=True)
    (Path(metadata_directory) / dist_info / "METADATA").write_text(text, encoding="utf-8")
    return dist_info


def _package_files() -> dict[str, Path]:
    return {
        file.relative_to(layout.PROJECT_DIR).as_posix(): file
        for file in layout.shipped_files(layout.PROJECT_DIR, layout.PACKAGE)
    }


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """Builds both flavors with cargo and writes the wheel; returns its file name."""
    name, version, text = _name_and_metadata()
    libraries = cargo.build_libraries(layout.rust_root())
    files = _package_files()
    for packaged_name, built in libraries.items():
        files[f"{layout.PACKAGE}/{packaged_name}"] = built
    tags = platform_tag.platform_tags(list(libraries.values()))
    filename = archives.write_wheel(Path(wheel_directory), name, version, tags, files, text)
    cargo.say(f"wrote {filename}")
    return filename


def build_sdist(sdist_directory, config_settings=None) -> str:
    """Writes the sdist: the Python project, this backend and the Rust sources."""
    name, version, text = _name_and_metadata()
    files = _package_files()
    for entry in layout.PYTHON_SOURCES:
        for file in layout.shipped_files(layout.PROJECT_DIR, entry):
            files[file.relative_to(layout.PROJECT_DIR).as_posix()] = file
    rust_root = layout.rust_root()
    for file in layout.rust_source_files(rust_root):
        files[f"{layout.SDIST_RUST_DIR}/{file.relative_to(rust_root).as_posix()}"] = file
    filename = archives.write_sdist(Path(sdist_directory), name, version, files, text)
    cargo.say(f"wrote {filename}")
    return filename
