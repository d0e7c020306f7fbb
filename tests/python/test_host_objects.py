"""Python objects other than functions reach Lua as host objects."""

from __future__ import annotations

import gc
import weakref

import pytest

import luarun


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
        self._secret = "hidden"

    def scaled(self, k):
        return Point(self.x * k, self.y * k)

    def __str__(self):
        return f"Point({self.x}, {self.y})"


def test_attributes_can_be_read_and_written(lua):
    p = Point(1, 2)
    lua.globals().p = p
    assert lua.eval("p.x + p.y") == 3
    lua.execute("p.x = 10")
    assert p.x == 10


def test_methods_work_with_colon_and_dot_calls(lua):
    lua.globals().p = Point(1, 2)
    assert lua.eval("p:scaled(3).x") == 3
    assert lua.eval("p.scaled(2).y") == 4


def test_tostring_uses_python_str(lua):
    lua.globals().p = Point(1, 2)
    assert lua.eval("tostring(p)") == "Point(1, 2)"


def test_objects_come_back_to_python_as_themselves(lua):
    p = Point(0, 0)
    assert lua.eval("...", p) is p
    assert lua.eval("type(...)", p) == "userdata"


def test_private_names_are_refused_by_default(lua):
    lua.globals().p = Point(1, 2)
    for expression in ("p._secret", "p.__class__", "p.__dict__"):
        ok, message = lua.eval(f"(function() local ok, e = pcall(function() return {expression} end) return ok, tostring(e) end)()")
        assert ok is False
        assert "_" in message and ("refused" in message or "private" in message)
    ok, _ = lua.eval("(function() local ok, e = pcall(function() p._secret = 1 end) return ok, tostring(e) end)()")
    assert ok is False


def test_a_custom_attribute_filter_decides(lua):
    def only_x(obj, name, is_setting):
        if name != "x" or is_setting:
            raise AttributeError(f"{name} is off limits")
        return name

    with luarun.Lua(attribute_filter=only_x) as strict:
        strict.globals().p = Point(1, 2)
        assert strict.eval("p.x") == 1
        ok, message = strict.eval("(function() local ok, e = pcall(function() return p.y end) return ok, tostring(e) end)()")
        assert not ok and "y is off limits" in message


def test_dicts_are_indexed_by_key_and_nil_deletes(lua):
    d = {"a": 1, 2: "two", "_private_key": "data is not an attribute"}
    lua.globals().d = d
    assert lua.eval("d.a + 1") == 2
    assert lua.eval("d[2]") == "two"
    assert lua.eval("d._private_key") == "data is not an attribute"
    assert lua.eval("d.missing") is None
    lua.execute("d.b = 'new' d.a = nil")
    assert d == {2: "two", "_private_key": "data is not an attribute", "b": "new"}


def test_dict_methods_are_reachable_when_no_key_shadows_them(lua):
    lua.globals().d = {"a": 1}
    assert lua.eval("d:get('a')") == 1
    ok, _ = lua.eval("(function() local ok, e = pcall(function() return d.__class__ end) return ok, tostring(e) end)()")
    assert ok is False


def test_lists_use_python_indices_length_and_methods(lua):
    items = [10, 20]
    lua.globals().items = items
    assert lua.eval("items[0] + items[1]") == 30
    assert lua.eval("#items") == 2
    lua.execute("items:append(30) items[0] = 5")
    assert items == [5, 20, 30]
    ok, message = lua.eval("(function() local ok, e = pcall(function() return items[7] end) return ok, tostring(e) end)()")
    assert not ok and "IndexError" in message


def test_callable_objects_and_classes_can_be_called(lua):
    lua.globals().Point = Point
    assert lua.eval("Point(3, 4).y") == 4
    assert lua.eval("type(Point)") == "userdata"


def test_missing_attributes_raise_a_lua_error(lua):
    lua.globals().p = Point(1, 2)
    ok, message = lua.eval("(function() local ok, e = pcall(function() return p.z end) return ok, tostring(e) end)()")
    assert not ok and "AttributeError" in message


def test_operations_python_objects_lack_fail_cleanly(lua):
    lua.globals().p = Point(1, 2)
    ok, message = lua.eval("(function() local ok, e = pcall(function() return #p end) return ok, tostring(e) end)()")
    assert not ok and "TypeError" in message
    ok, message = lua.eval("(function() local ok, e = pcall(function() return p() end) return ok, tostring(e) end)()")
    assert not ok and "not callable" in message


def test_lua_garbage_collection_releases_the_python_object(lua):
    p = Point(1, 2)
    alive = weakref.ref(p)
    lua.globals().p = p
    del p
    gc.collect()
    assert alive() is not None
    lua.execute("p = nil collectgarbage() collectgarbage()")
    gc.collect()
    assert alive() is None


def test_host_objects_survive_being_stored_in_lua_tables(lua):
    lua.execute("store = {}")
    lua.eval("function(o) store.o = o end")(Point(7, 8))
    gc.collect()
    assert lua.eval("store.o.x") == 7


def test_pairs_iterates_dict_items_and_indexed_list_items(lua):
    lua.globals().d = {"a": 1, "b": 2}
    lua.globals().items = ["x", "y"]
    total = "local s = 0 for k, v in pairs(d) do s = s + v end return s"
    assert lua.execute(total) == 3
    joined = lua.execute("local r = '' for i, v in pairs(items) do r = r .. i .. v end return r")
    assert joined == "0x1y"


def test_pairs_over_a_generator_object_consumes_it(lua):
    lua.globals().squares = (n * n for n in range(4))
    assert lua.execute("local s = 0 for _, v in pairs(squares) do s = s + v end return s") == 14


def test_introspection_attributes_that_lead_to_globals_are_refused(lua):
    def generator():
        yield 1

    lua.globals().gen = generator()
    lua.globals().Point = Point
    for expression in ("gen.gi_frame", "gen.gi_code", "Point.mro"):
        ok, message = lua.eval(f"(function() local ok, e = pcall(function() return {expression} end) return ok, tostring(e) end)()")
        assert ok is False and "refused" in message, expression


def test_tostring_of_a_python_object_shows_no_heap_address(lua):
    first, second = object(), object()
    text = lua.eval("tostring(...)", first)
    assert hex(id(first))[2:] not in text
    assert text.startswith("<object object at 0x")
    assert text == lua.eval("tostring(...)", first)  # stable: identity still shows
    assert text != lua.eval("tostring(...)", second)
