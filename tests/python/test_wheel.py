"""`pip wheel` and `pip install ./bindings/python` give a self-contained package: the
Rust library of both flavors (Lua 5.4 and LuaJIT) is built into it and `import luarun`
works from any directory with no environment variables. Slow (a venv and a cargo build):
run with `make test-wheel`."""

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
    env.pop("LUARUN_LIBRARY_LUAJIT", None)
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
    libraries = [n for n in names if n.endswith((".so", ".dylib", ".pyd"))]
    assert [n for n in libraries if n.startswith("luarun/_luarun.")], names
    assert [n for n in libraries if n.startswith("luarun/_luarun_luajit.")], names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   env=clean_env())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import luarun; from luarun import _ffi\n"
        "for flavor in luarun.FLAVORS:\n"
        "    print(luarun.Lua(flavor=flavor).eval('1+2'), luarun.lua_version(flavor))\n"
        "    print(_ffi.library(flavor).path)\n"
    )
    output = subprocess.run(
        [str(python), "-c", script],
        cwd=elsewhere, check=True, capture_output=True, text=True, env=clean_env(),
    ).stdout.split("\n")
    assert output[0].startswith("3 Lua 5.4")
    assert str(env_dir) in output[1] and "_luarun." in output[1]
    assert output[2].startswith("3 LuaJIT 2.1")
    assert str(env_dir) in output[3] and "_luarun_luajit." in output[3]


def test_pip_install_of_the_source_directory_works(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(REPO / "bindings" / "python")],
                   check=True, env=clean_env())
    output = subprocess.run(
        [str(python), "-c",
         "import luarun; print(luarun.Lua().eval('1+2'), luarun.lua_version('luajit'))"],
        cwd=tmp_path, check=True, capture_output=True, text=True, env=clean_env(),
    ).stdout
    assert output.startswith("3 LuaJIT 2.1")
