"""Lua tables as Python proxies, and Lua functions called from Python."""

from __future__ import annotations

import pytest

import luarun


def test_items_can_be_read_written_and_deleted(lua):
    t = lua.eval("{10, 20, x = 'y'}")
    assert (t[1], t[2], t["x"], t[3]) == (10, 20, "y", None)
    t[3] = 30
    t["z"] = True
    del t["x"]
    assert lua.eval("...", t) is not None
    assert lua.eval("(...)[3] + #(...)", t) == 33
    assert "x" not in t and "z" in t


def test_len_is_lua_length_operator(lua):
    assert len(lua.eval("{1, 2, 3, k = 'v'}")) == 3
    assert len(lua.eval("setmetatable({}, {__len = function() return 7 end})")) == 7


def test_iteration_yields_keys_and_items_yields_pairs(lua):
    t = lua.eval("{'a', 'b', k = 'v'}")
    assert sorted(map(str, t)) == ["1", "2", "k"]
    assert dict(t.items()) == {1: "a", 2: "b", "k": "v"}
    assert sorted(t.values()) == ["a", "b", "v"]
    assert list(lua.table().items()) == []


def test_attribute_access_reads_and_writes_string_keys(lua):
    g = lua.globals()
    g.answer = 42
    assert lua.eval("answer") == 42
    assert g.answer == 42
    del g.answer
    assert lua.eval("answer") is None


def test_indexing_honours_metatables(lua):
    t = lua.eval("setmetatable({}, {__index = function(_, k) return k .. '!' end})")
    assert t["hi"] == "hi!"


def test_nested_tables_come_back_as_proxies(lua):
    t = lua.eval("{inner = {1, 2}}")
    assert isinstance(t.inner, luarun.LuaTable)
    assert list(t.inner.values()) == [1, 2]


def test_table_builds_sequences_and_fields_like_lupa(lua):
    t = lua.table(1, 2, 3, name="n")
    assert lua.eval("#(...) .. (...).name", t) == "3n"


def test_table_from_copies_mappings_and_iterables(lua):
    t = lua.table_from({"a": 1}, [10, 20])
    assert dict(t.items()) == {"a": 1, 1: 10, 2: 20}


def test_table_from_recursive_turns_nested_containers_into_tables(lua):
    t = lua.table_from({"point": {"x": 1}, "list": [1, 2]}, recursive=True)
    assert lua.eval("(...).point.x + #(...).list", t) == 3
    flat = lua.table_from({"point": {"x": 1}})
    assert lua.eval("type((...).point)", flat) == "userdata"


def test_proxies_pass_back_into_lua_as_the_same_object(lua):
    t = lua.eval("{}")
    lua.globals().t = t
    assert lua.eval("rawequal(t, ...)", t) is True


def test_proxies_cannot_cross_runtimes(lua):
    with luarun.Lua() as other:
        with pytest.raises(luarun.InvalidArgument, match="another Lua runtime"):
            other.eval("...", lua.table())


def test_str_uses_lua_tostring(lua):
    assert str(lua.eval("setmetatable({}, {__tostring = function() return 'T' end})")) == "T"
    assert str(lua.eval("{}")).startswith("table: ")


def test_closing_a_proxy_releases_it(lua):
    t = lua.table()
    t.close()
    with pytest.raises(luarun.Error, match="released"):
        len(t)


def test_function_results_follow_lupa_none_value_tuple(lua):
    assert lua.eval("function() end")() is None
    assert lua.eval("function() return 1 end")() == 1
    assert lua.eval("function() return 1, 2 end")() == (1, 2)


def test_functions_get_python_arguments(lua):
    concat = lua.eval("function(...) return table.concat({...}, ',') end")
    assert concat("a", 1, 2.5) == "a,1,2.5"


def test_up_to_256_results_come_back_and_more_is_an_error(lua):
    many = lua.eval("function(n) return table.unpack({}, 1, n) end")
    assert many(256) == (None,) * 256
    with pytest.raises(luarun.InvalidArgument, match="return a table instead"):
        many(300)


def test_lua_function_values_can_be_stored_and_called_from_lua(lua):
    double = lua.eval("function(x) return 2 * x end")
    lua.globals().double = double
    assert lua.eval("double(21)") == 42


def test_lua_type_names_proxies_like_lupa(lua):
    assert luarun.lua_type(lua.eval("{}")) == "table"
    assert luarun.lua_type(lua.eval("print")) == "function"
    assert luarun.lua_type(lua.eval("coroutine.create(print)")) == "thread"
    assert luarun.lua_type(42) is None and luarun.lua_type({}) is None
