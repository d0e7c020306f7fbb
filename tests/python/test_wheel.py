"""What users install (`make test-wheel`; slow, so skipped by a plain pytest run).

- `python -m build` makes an sdist carrying the Rust sources and a `py3-none-<platform>`
  wheel holding both flavors of the library under their plain names;
- `auditwheel show` (where it installs) agrees with the wheel's manylinux tag;
- the one wheel installs and works in a venv of every CPython 3.9+ and PyPy on PATH;
- the sdist builds with `pip install luarun-<version>.tar.gz` from an empty directory,
  with cargo's progress in `pip install -v`; so does `pip install ./bindings/python`.

Reuse: the wheel builds from the tree with cargo's usual target directories
(`CARGO_TARGET_DIR` or target/), so after `make build` cargo has nothing to do. The
sdist build gets the same `CARGO_TARGET_DIR`: cargo fingerprints a path package by its
files relative to the package root, and the sdist keeps their modification times, so it
finds the build fresh, but only after looking at every file the last compilation read
(a file missing from the sdist makes it compile again, and fail). Each venv runs
wheel_smoke.py with `python -I` from an empty directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import REPO

pytestmark = pytest.mark.wheel

PROJECT = REPO / "bindings" / "python"
HERE = Path(__file__).resolve().parent
SMOKE = HERE / "wheel_smoke.py"
PINS = (HERE / "requirements-wheel.txt").read_text().split("\n")
INTERPRETERS = [f"python3.{minor}" for minor in range(9, 15)] + ["pypy3"]
VERSION = re.search(r'^version = "([^"]+)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)


def pin(name: str) -> str:
    (line,) = [line for line in PINS if line.startswith(f"{name}==")]
    return line


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without what would point the package at another library."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LUARUN_LIBRARY", "LUARUN_LIBRARY_LUAJIT", "PYTHONPATH")}
    env.update(extra)
    return env


def cargo_target_dir() -> str:
    configured = os.environ.get("CARGO_TARGET_DIR")
    return str(Path(configured) if configured and os.path.isabs(configured)
               else REPO / (configured or "target"))


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command with its output captured; a failure shows that output."""
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                          env=kwargs.pop("env", clean_env()), **kwargs)
    assert done.returncode == 0, (
        f"{command} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
    return done


def new_venv(python: str | Path, where: Path) -> Path:
    run([python, "-m", "venv", where])
    return where / "bin" / "python"


def smoke(python: Path, tmp_path: Path) -> str:
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    return run([python, "-I", SMOKE, VERSION], cwd=empty).stdout


class Dist(NamedTuple):
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def tools(tmp_path_factory) -> Path:
    """A throwaway venv with the pinned `build`; its python."""
    python = new_venv(sys.executable, tmp_path_factory.mktemp("tools") / "venv")
    run([python, "-m", "pip", "install", "-q", pin("build")])
    return python


@pytest.fixture(scope="session")
def dist(tools, tmp_path_factory) -> Dist:
    # --sdist --wheel: both from the tree, so the wheel reuses target/ as it is.
    out = tmp_path_factory.mktemp("dist")
    run([tools, "-m", "build", "--sdist", "--wheel", "--outdir", out, PROJECT])
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Dist(wheel, sdist)


def test_the_wheel_is_py3_none_platform_and_holds_both_libraries_under_plain_names(dist):
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    tags = dist.wheel.name[len(f"luarun-{VERSION}-py3-none-"):-len(".whl")]
    assert dist.wheel.name == f"luarun-{VERSION}-py3-none-{tags}.whl"
    if platform == "linux_x86_64":
        assert re.fullmatch(r"manylinux_2_\d+_x86_64(\.manylinux2014_x86_64)?", tags), tags
    names = zipfile.ZipFile(dist.wheel).namelist()
    libraries = sorted(n for n in names if n.endswith((".so", ".dylib", ".dll", ".pyd")))
    suffix = {"darwin": ".dylib", "win32": ".dll"}.get(sys.platform, ".so")
    prefix = "" if sys.platform == "win32" else "lib"
    assert libraries == [f"luarun/{prefix}luarun{suffix}", f"luarun/{prefix}luarun_luajit{suffix}"]
    assert "luarun/__init__.py" in names and "luarun/dask/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    wheel_file = zipfile.ZipFile(dist.wheel).read(f"luarun-{VERSION}.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in wheel_file
    assert re.findall(r"^Tag: (.*)$", wheel_file, re.M) == [
        f"py3-none-{tag}" for tag in tags.split(".")]


def test_the_sdist_carries_the_python_project_the_backend_and_the_rust_sources(dist):
    root = f"luarun-{VERSION}"
    assert dist.sdist.name == f"{root}.tar.gz"
    names = set(tarfile.open(dist.sdist).getnames())
    for needed in ("PKG-INFO", "pyproject.toml", "README.md", "luarun/__init__.py",
                   "build_backend/luarun_build/__init__.py", "rust/Cargo.toml",
                   "rust/Cargo.lock", "rust/build.rs", "rust/include/luarun.h",
                   "rust/crates/luarun-core/lua/prelude.lua"):
        assert f"{root}/{needed}" in names, needed
    assert not [n for n in names if "/target/" in n or "__pycache__" in n or n.endswith(".so")]
    pkg_info = tarfile.open(dist.sdist).extractfile(f"{root}/PKG-INFO").read().decode()
    assert f"\nVersion: {VERSION}\n" in pkg_info


def test_auditwheel_show_confirms_the_wheels_manylinux_tag(dist, tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("auditwheel checks Linux wheels only")
    python = new_venv(sys.executable, tmp_path / "auditwheel")
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", pin("auditwheel")],
        capture_output=True, text=True, env=clean_env())
    if installed.returncode != 0:
        pytest.skip(f"auditwheel could not be installed: {installed.stderr.strip()[-300:]}")
    shown = run([python, "-m", "auditwheel", "show", dist.wheel]).stdout
    found = re.search(r'constrains\s+the\s+platform\s+tag\s+to\s+"([^"]+)"', shown)
    assert found, shown
    assert dist.wheel.name.split("-py3-none-")[1].split(".")[0] == found.group(1), shown


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_the_wheel_installs_and_runs_on(interpreter, dist, tmp_path):
    path = shutil.which(interpreter)
    if path is None:
        pytest.skip(f"{interpreter} is not on PATH")
    probe = subprocess.run([path, "-c", "import venv, ensurepip"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no message"])[0]
        pytest.skip(f"{interpreter} ({path}) does not run with venv and ensurepip: {last}")
    python = new_venv(path, tmp_path / "venv")
    run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", dist.wheel])
    assert "ok: luarun" in smoke(python, tmp_path)


def test_the_sdist_installs_from_an_empty_directory_with_cargo_progress_in_pip_v(
        dist, tmp_path):
    python = new_venv(sys.executable, tmp_path / "venv")
    empty = tmp_path / "empty"
    empty.mkdir()
    installed = run([python, "-m", "pip", "install", "-v", "--no-deps", dist.sdist],
                    cwd=empty, env=clean_env(CARGO_TARGET_DIR=cargo_target_dir()))
    output = installed.stdout + installed.stderr
    assert "luarun build: the LuaJIT 2.1 flavor" in output
    # cargo's own messages reach `pip install -v`, once per flavor.
    assert output.count("Finished `release` profile") == 2, output
    assert "ok: luarun" in smoke(python, tmp_path)


def test_pip_install_of_the_source_directory_works(tmp_path):
    python = new_venv(sys.executable, tmp_path / "venv")
    run([python, "-m", "pip", "install", "-q", "--no-deps", PROJECT])
    assert "ok: luarun" in smoke(python, tmp_path)
    assert not list((PROJECT / "luarun").glob("*.so")), "the build wrote into the tree"
