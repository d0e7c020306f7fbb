"""The ctypes layer matches the C header, and the library is found (or not) clearly."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

import luarun
from luarun import _ffi, _lib


def header_functions() -> set[str]:
    header = (REPO / "include" / "luarun.h").read_text()
    # Doc comments mention functions too; only declarations count.
    code = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    return set(re.findall(r"\b(luarun_\w+)\s*\(", code)) - {"luarun_callback"}


def test_every_header_function_is_declared_in_ffi_and_nothing_else():
    declared = set(_ffi.declared_functions())
    in_header = header_functions()
    regenerate = "run python3 tools/generate_python_ffi.py"
    assert in_header - declared == set(), f"not declared in _ffi_generated.py: {regenerate}"
    assert declared - in_header == set(), f"declared but not in luarun.h: {regenerate}"


def test_the_loaded_library_exports_every_function_of_the_header():
    assert set(_ffi.lib.missing) & header_functions() == set()


def test_the_abi_version_matches_the_header():
    header = (REPO / "include" / "luarun.h").read_text()
    expected = int(re.search(r"#define LUARUN_ABI_VERSION (\d+)", header).group(1))
    assert _ffi.lib.luarun_abi_version() == expected


def test_status_constants_match_the_library_names():
    statuses = {
        name: number
        for name, number in _ffi.CONSTANTS.items()
        if name == "LUARUN_OK" or name.startswith("LUARUN_ERR_")
    }
    assert len(statuses) >= 11
    for name, number in statuses.items():
        assert _ffi.lib.luarun_status_name(number).decode() == name


def test_value_kinds_match_the_library_names():
    kinds = ["NIL", "BOOLEAN", "INTEGER", "NUMBER", "STRING", "TABLE", "FUNCTION"]
    for kind in kinds + ["USERDATA", "THREAD"]:
        assert _ffi.lib.luarun_type_name(getattr(_ffi, kind)).decode() == kind.lower()


def test_version_is_the_crate_version():
    cargo = (REPO / "Cargo.toml").read_text()
    assert luarun.__version__ == re.search(r'^version = "(.*)"', cargo, re.M).group(1)


def test_luarun_library_env_var_wins(monkeypatch):
    monkeypatch.setenv("LUARUN_LIBRARY", luarun.library_path)
    assert _lib.find_library() == luarun.library_path


def test_missing_library_error_lists_every_place_searched(monkeypatch, tmp_path):
    monkeypatch.delenv("LUARUN_LIBRARY", raising=False)
    monkeypatch.setattr(_lib, "_PACKAGE_DIR", tmp_path)
    monkeypatch.setattr(_lib, "_source_tree_candidates", lambda flavor: [str(tmp_path / "t.so")])
    with pytest.raises(OSError) as error:
        _lib.find_library()
    message = str(error.value)
    assert "LUARUN_LIBRARY (not set)" in message
    assert str(tmp_path) in message and "t.so (missing)" in message
    assert "pip install ./bindings/python" in message


@pytest.mark.parametrize(
    "struct_type, default_name",
    [
        (_ffi.luarun_options, "luarun_options_default"),
        (_ffi.luarun_host_object_class, "luarun_host_object_class_default"),
        (_ffi.luarun_mandelbrot, "luarun_mandelbrot_default"),
    ],
)
def test_ctypes_structs_have_the_size_the_library_declares(struct_type, default_name):
    import ctypes

    if not _ffi.lib.has(default_name):
        pytest.skip(f"the loaded library has no {default_name}")
    scratch = ctypes.create_string_buffer(1024)
    getattr(_ffi.lib, default_name)(ctypes.cast(scratch, ctypes.POINTER(struct_type)))
    declared = ctypes.c_uint32.from_buffer(scratch).value
    assert declared == ctypes.sizeof(struct_type), "run python3 tools/generate_python_ffi.py"
