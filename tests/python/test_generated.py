"""The generated ctypes module is what tools/generate_python_ffi.py makes of the header
today, and the generator reads every shape the header has."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import REPO

from luarun import _ffi

GENERATED = REPO / "bindings" / "python" / "luarun" / "_ffi_generated.py"


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_python_ffi", REPO / "tools" / "generate_python_ffi.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


generator = load_generator()


def test_the_checked_in_module_is_fresh():
    if GENERATED.read_text() != generator.generate():
        pytest.fail(
            "bindings/python/luarun/_ffi_generated.py is older than include/luarun.h: "
            f"run `{generator.COMMAND}` and commit the result"
        )


def test_every_constant_of_the_header_is_generated_with_its_value():
    header = (REPO / "include" / "luarun.h").read_text()
    defines = {
        line.split()[1] for line in header.splitlines() if line.startswith("#define LUARUN_")
    }
    defines.discard("LUARUN_H")
    assert defines <= set(_ffi.CONSTANTS)
    assert _ffi.CONSTANTS["LUARUN_LIBS_SAFE"] == (
        _ffi.LIB_COROUTINE | _ffi.LIB_TABLE | _ffi.LIB_STRING | _ffi.LIB_MATH | _ffi.LIB_UTF8
    )
    assert _ffi.MANDELBROT_MAX_SIDE == 1 << 20
    for name, value in _ffi.CONSTANTS.items():
        assert getattr(_ffi, name[len("LUARUN_"):]) == value


SAMPLE = """
/**
 * A sample constant.
 */
#define LUARUN_SAMPLE_LIMIT (3 << 2)

typedef enum luarun_status {
  /**
   * Fine.
   */
  LUARUN_OK = 0,
  LUARUN_ERR_NEW = 11,
} luarun_status;

typedef struct luarun_state luarun_state;

/**
 * Bytes with a length, and a name.
 */
typedef struct luarun_blob {
  const char *bytes;
  size_t len;
  const char *name;
} luarun_blob;

typedef int (*luarun_visit)(void *user_data, const struct luarun_blob *blob);

/**
 * A function added to the header.
 */
enum luarun_status luarun_blob_visit(struct luarun_state *state,
                                     const struct luarun_blob *blob,
                                     luarun_visit visit,
                                     struct luarun_state **state_out);
"""


def generated_namespace(header_text: str) -> dict:
    namespace: dict = {}
    exec(compile(generator.generate(header_text), "<generated>", "exec"), namespace)
    return namespace


def test_a_function_struct_and_constants_added_to_the_header_are_generated():
    from ctypes import POINTER, c_char_p, c_size_t, c_void_p

    ns = generated_namespace(SAMPLE)
    assert ns["SAMPLE_LIMIT"] == 12 and ns["ERR_NEW"] == 11
    assert ns["CONSTANTS"] == {"LUARUN_SAMPLE_LIMIT": 12, "LUARUN_OK": 0, "LUARUN_ERR_NEW": 11}
    blob = ns["luarun_blob"]
    # A (pointer, length) pair is any bytes: c_void_p; a lone char * is a C string.
    assert blob._fields_ == [("bytes", c_void_p), ("len", c_size_t), ("name", c_char_p)]
    restype, argtypes = ns["PROTOTYPES"]["luarun_blob_visit"]
    assert restype is ns["luarun_status"]
    assert argtypes == [c_void_p, POINTER(blob), ns["luarun_visit"], POINTER(c_void_p)]
    # Callbacks get every pointer as an address.
    assert ns["luarun_visit"]._argtypes_ == (c_void_p, c_void_p)


def test_a_declaration_the_generator_cannot_read_is_an_error():
    with pytest.raises(ValueError, match="cannot read"):
        generator.generate(SAMPLE + "\ntypedef union luarun_odd { int a; } luarun_odd;\n")
    with pytest.raises(ValueError, match="unknown C type"):
        generator.generate(SAMPLE + "\nvoid luarun_odd(struct luarun_unknown value);\n")
