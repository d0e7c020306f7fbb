"""Every status becomes its exception, all under luarun.Error."""

from __future__ import annotations

import pytest

import luarun
from luarun import _errors, _ffi


def test_syntax_errors(lua):
    with pytest.raises(luarun.LuaSyntaxError, match="unexpected symbol") as error:
        lua.execute("x = = 1")
    assert error.value.status_name == "LUARUN_ERR_SYNTAX"


def test_runtime_errors_carry_message_and_lua_traceback(lua):
    with pytest.raises(luarun.LuaError) as error:
        lua.execute("local function explode() error('boom') end explode()")
    assert error.value.lua_message.endswith(": boom")
    assert error.value.traceback.startswith("stack traceback:")
    assert "in local 'explode'" in error.value.traceback
    assert isinstance(error.value, luarun.Error)


def test_memory_limit_raises_lua_memory_error_and_the_state_survives():
    with luarun.Lua(memory_limit=2 << 20) as lua:
        with pytest.raises(luarun.LuaMemoryError) as error:
            lua.execute("local t = {} for i = 1, 1e8 do t[i] = i end")
        assert isinstance(error.value, MemoryError)
        assert lua.eval("1 + 1") == 2


def test_timeout_raises_lua_timeout_error():
    with luarun.Lua(timeout=0.05) as lua:
        with pytest.raises(luarun.LuaTimeoutError) as error:
            lua.execute("while true do end")
        assert isinstance(error.value, (luarun.LuaInterrupted, TimeoutError))
        assert lua.eval("'still usable'") == "still usable"


def test_instruction_limit_cannot_be_swallowed_by_pcall():
    with luarun.Lua(max_instructions=100_000) as lua:
        with pytest.raises(luarun.LuaInstructionLimitError):
            lua.execute("while true do pcall(function() while true do end end) end")


def test_interrupt_before_a_call_stops_that_call(lua):
    lua.interrupt()
    with pytest.raises(luarun.LuaInterrupted, match="interrupt"):
        lua.execute("while true do end")
    assert lua.eval("2") == 2


def test_lua_type_errors_from_bad_length_metamethods(lua):
    t = lua.eval("setmetatable({}, {__len = function() return 'x' end})")
    with pytest.raises(luarun.LuaError, match="length"):
        len(t)


@pytest.mark.parametrize(
    "status, cls, bases",
    [
        (_ffi.ERR_SYNTAX, luarun.LuaSyntaxError, (luarun.LuaError,)),
        (_ffi.ERR_RUNTIME, luarun.LuaError, (luarun.Error,)),
        (_ffi.ERR_MEMORY, luarun.LuaMemoryError, (luarun.LuaError, MemoryError)),
        (_ffi.ERR_INTERRUPTED, luarun.LuaInterrupted, (luarun.LuaError,)),
        (_ffi.ERR_INVALID_ARGUMENT, luarun.InvalidArgument, (ValueError,)),
        (_ffi.ERR_BUFFER_TOO_SMALL, luarun.BufferTooSmall, (luarun.InvalidArgument,)),
        (_ffi.ERR_TYPE, luarun.LuaTypeError, (TypeError,)),
        (_ffi.ERR_UNSUPPORTED, luarun.Unsupported, (luarun.Error,)),
        (_ffi.ERR_CANCELLED, luarun.Cancelled, (luarun.Error,)),
        (_ffi.ERR_PANIC, luarun.InternalError, (luarun.Error,)),
    ],
)
def test_each_status_maps_to_its_exception(status, cls, bases):
    error = _errors.error_for_status(status, "message")
    assert type(error) is cls
    assert isinstance(error, luarun.Error) and isinstance(error, bases)
    assert error.status == status
    assert error.status_name == _ffi.lib.luarun_status_name(status).decode()


def test_every_error_status_of_the_header_has_its_own_exception_class():
    statuses = {
        name: number for name, number in _ffi.CONSTANTS.items() if name.startswith("LUARUN_ERR_")
    }
    missing = [name for name, number in statuses.items() if number not in _errors._BY_STATUS]
    assert missing == [], "give these statuses an exception class in _errors.py"
    assert len({_errors._BY_STATUS[number] for number in statuses.values()}) == len(statuses)


def test_the_stop_reason_picks_the_precise_class_not_the_message():
    # The class comes from luarun_last_error_stop, whatever the message says.
    timeout = _errors.error_for_status(
        _ffi.ERR_INTERRUPTED, "instruction limit", _ffi.STOP_TIME_LIMIT, _ffi.OPTION_TIME_LIMIT
    )
    steps = _errors.error_for_status(
        _ffi.ERR_INTERRUPTED, "time limit", _ffi.STOP_INSTRUCTION_LIMIT,
        _ffi.OPTION_INSTRUCTION_LIMIT,
    )
    plain = _errors.error_for_status(_ffi.ERR_INTERRUPTED, "time limit", _ffi.STOP_INTERRUPT)
    assert type(timeout) is luarun.LuaTimeoutError and timeout.option == "timeout"
    assert type(steps) is luarun.LuaInstructionLimitError and steps.option == "max_instructions"
    assert type(plain) is luarun.LuaInterrupted and plain.option is None


def test_real_stops_and_missing_libraries_carry_their_option():
    with pytest.raises(luarun.LuaTimeoutError) as stopped:
        luarun.Lua(timeout=0.02).execute("while true do end")
    assert stopped.value.option == "timeout"
    with pytest.raises(luarun.LuaInstructionLimitError) as counted:
        luarun.Lua(max_instructions=100_000).execute("while true do end")
    assert counted.value.option == "max_instructions"
    with pytest.raises(luarun.LuaError) as missing:
        luarun.Lua().execute("return os.time()")
    assert (missing.value.option, missing.value.library) == ("libs", "os")
    with pytest.raises(luarun.LuaMemoryError) as full:
        luarun.Lua(memory_limit=2 << 20).execute("local t = {} for i = 1, 1e8 do t[i] = i end")
    assert full.value.option == "memory_limit"


def test_a_newer_struct_than_the_library_knows_is_unsupported(lua):
    import ctypes

    object_class = _ffi.luarun_host_object_class()
    _ffi.lib.luarun_host_object_class_default(ctypes.byref(object_class))
    object_class.struct_size += 64
    out = _ffi.luarun_value()
    status = _ffi.lib.luarun_host_object_new(
        lua._ctx.state, ctypes.byref(object_class), None, _ffi.luarun_user_data_free(), out
    )
    with pytest.raises(luarun.Unsupported, match="newer luarun.h"):
        _errors.check(status, _ffi.lib)
