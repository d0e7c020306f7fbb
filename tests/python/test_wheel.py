"""`pip wheel` and `pip install ./bindings/python` give a self-contained package: the
Rust library is built into it and `import luarun` works from any directory with no
environment variables. Slow (a venv and a cargo build): run with `make test-wheel`."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile

import pytest
from conftest import REPO

pytestmark = pytest.mark.wheel


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LUARUN_LIBRARY", None)
    env.pop("PYTHONPATH", None)
    return env


def test_pip_wheel_then_install_gives_an_importable_self_contained_package(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
         str(REPO / "bindings" / "python")],
        check=True,
        env=clean_env(),
    )
    (wheel,) = wheels.glob("luarun-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("luarun/_luarun") and n.endswith((".so", ".dylib", ".pyd"))
               for n in names), names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   env=clean_env())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    output = subprocess.run(
        [str(python), "-c",
         "import luarun; print(luarun.Lua().eval('1+2')); print(luarun.library_path)"],
        cwd=elsewhere, check=True, capture_output=True, text=True, env=clean_env(),
    ).stdout.split("\n")
    assert output[0] == "3"
    assert str(env_dir) in output[1]


def test_pip_install_of_the_source_directory_works(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(REPO / "bindings" / "python")],
                   check=True, env=clean_env())
    output = subprocess.run(
        [str(python), "-c", "import luarun; print(luarun.Lua().eval('1+2'))"],
        cwd=tmp_path, check=True, capture_output=True, text=True, env=clean_env(),
    ).stdout
    assert output.strip() == "3"
