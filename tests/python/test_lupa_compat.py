"""lupa's documented API and behaviour on luarun, on both flavors: what a program
written for lupa relies on after changing its import."""

from __future__ import annotations

import gc
import weakref

import pytest

import luarun
from luarun import LuaRuntime


@pytest.fixture(params=luarun.FLAVORS)
def flavor(request):
    return request.param


@pytest.fixture
def lua(flavor):
    with LuaRuntime(flavor=flavor) as runtime:
        yield runtime


# --- the runtime ----------------------------------------------------------------------


def test_lua_version_is_a_tuple_and_the_implementation_a_string(lua, flavor):
    if flavor == "lua54":
        assert lua.lua_version == (5, 4)
        assert lua.lua_implementation == "Lua 5.4"
    else:
        assert lua.lua_version == (5, 1)
        assert lua.lua_implementation.startswith("LuaJIT 2.1")


def test_flavor_modules_name_their_runtime():
    from luarun import luajit21, lua54

    assert lua54.LUA_VERSION == (5, 4) and luajit21.LUA_VERSION == (5, 1)
    with luajit21.LuaRuntime() as runtime:
        assert runtime.flavor == "luajit"
    with lua54.LuaRuntime() as runtime:
        assert runtime.eval("_VERSION") == "Lua 5.4"


def test_integer_bounds_are_exported():
    assert luarun.LUA_MAXINTEGER == 2**63 - 1
    assert luarun.LUA_MININTEGER == -(2**63)


def test_python_functions_reach_lua_as_callable_objects(lua):
    assert lua.eval("type(...)", len) == "userdata"
    assert lua.eval("(...)('abc')", len) == 3
    assert lua.eval("type(python.as_function(...))", len) == "function"


def test_returned_tuples_are_one_value_unless_asked(flavor):
    def pair():
        return (1, 2)

    with LuaRuntime(flavor=flavor) as lupa_like:
        lupa_like.globals().pair = pair
        assert lupa_like.eval("select('#', pair())") == 1
        assert lupa_like.eval("pair()") == (1, 2)  # the tuple comes back as itself
    with LuaRuntime(flavor=flavor, unpack_returned_tuples=True) as unpacking:
        unpacking.globals().pair = pair
        assert unpacking.eval("select('#', pair())") == 2


def test_unsafe_lupa_defaults_are_opt_in(flavor):
    with LuaRuntime(flavor=flavor) as lua:
        assert lua.eval("python.eval") is None
        assert lua.eval("python.builtins") is None
        assert lua.eval("os") is None and lua.eval("io") is None
    with LuaRuntime(
        flavor=flavor, register_eval=True, register_builtins=True, libs=luarun.ALL_LIBS
    ) as lua:
        assert lua.eval("python.eval('6 * 7')") == 42
        assert lua.eval("python.builtins.len('abcd')") == 4
        assert lua.eval("type(os.time())") == "number"


def test_string_hash_seed_is_accepted(flavor):
    with LuaRuntime(flavor=flavor, string_hash_seed=1234) as lua:
        assert lua.eval("1") == 1


# --- coroutines -------------------------------------------------------------------------


def test_a_coroutine_is_a_python_generator(lua):
    gen = lua.eval("function(n) for i = 1, n do coroutine.yield(i, i * i) end end")
    assert list(gen.coroutine(3)) == [(1, 1), (2, 4), (3, 9)]


def test_the_final_return_values_are_the_last_item(lua):
    f = lua.eval("function() coroutine.yield(1) return 'done' end")
    co = f.coroutine()
    assert next(co) == 1
    assert next(co) == "done"
    with pytest.raises(StopIteration):
        next(co)
    with pytest.raises(StopIteration):
        next(co)  # and stays finished


def test_send_resumes_with_values(lua):
    f = lua.eval(
        "function(a) local b, c = coroutine.yield(a * 2) local d = coroutine.yield(b + c) "
        "return d end"
    )
    co = f.coroutine(5)
    with pytest.raises(TypeError):
        co.send(1)  # a just-started coroutine takes only None
    assert co.send(None) == 10
    assert co.send((3, 4)) == 7
    assert co.send("x") == "x"
    assert not co


def test_an_error_inside_a_coroutine_raises_and_keeps_its_value(lua):
    co = lua.eval("function() coroutine.yield(1) error({code = 7}) end").coroutine()
    assert next(co) == 1
    with pytest.raises(luarun.LuaError) as caught:
        next(co)
    assert caught.value.value["code"] == 7


def test_a_python_exception_inside_a_coroutine_comes_back_as_itself(lua):
    problem = KeyError("k")

    def fail():
        raise problem

    co = lua.eval("function(f) coroutine.yield(1) f() end").coroutine(fail)
    next(co)
    with pytest.raises(KeyError) as caught:
        next(co)
    assert caught.value is problem


def test_a_thread_from_lua_is_iterable_and_callable(lua):
    thread = lua.eval("coroutine.create(function(a, b) coroutine.yield(a) coroutine.yield(b) end)")
    assert luarun.lua_type(thread) == "thread"
    assert isinstance(thread, luarun.LuaThread)
    assert list(thread("x", "y")) == ["x", "y"]
    assert not thread


def test_wrapped_coroutines_work_from_lua_with_python_values(lua):
    produce = lua.eval("coroutine.wrap(function(t) for _, v in ipairs(t) do coroutine.yield(v) end end)")
    assert produce(lua.table(1, 2)) == 1
    assert produce() == 2


# --- the python table -------------------------------------------------------------------


def test_python_iter_walks_any_iterable_keeping_none_and_tuples(lua):
    seen = lua.eval(
        "(function(xs) local r = {} for x in python.iter(xs) do r[#r + 1] = x end return r end)(...)",
        [1, None, (2, 3), "s"],
    )
    assert [seen[i] for i in range(1, 5)] == [1, None, (2, 3), "s"]
    assert lua.eval("(function(xs) local n = 0 for _ in python.iter(xs) do n = n + 1 end return n end)(...)", range(50)) == 50


def test_python_iterex_unpacks_tuples(lua):
    text = lua.eval(
        "(function(d) local r = {} for k, v in python.iterex(d) do r[#r + 1] = k .. '=' .. v end "
        "table.sort(r) return table.concat(r, ',') end)(...)",
        {"a": 1, "b": 2}.items(),
    )
    assert text == "a=1,b=2"


def test_python_enumerate_counts_from_zero_or_a_start(lua):
    code = (
        "(function(xs, s) local r = {} for i, x in python.enumerate(xs, s) do "
        "r[#r + 1] = i .. ':' .. tostring(x) end return table.concat(r, ',') end)(...)"
    )
    assert lua.eval(code, ["a", None]) == "0:a,1:nil"
    assert lua.eval(code, ["a", "b"], 1) == "1:a,2:b"


def test_python_none_is_one_object_that_is_none_in_python(lua):
    assert lua.eval("python.none == python.none")
    assert lua.eval("python.none") is None
    table = lua.eval("{python.none, 2}")
    assert len(table) == 2 and table[1] is None
    assert lua.eval("tostring(python.none)") == "None"


def test_python_args_passes_positional_and_keyword_arguments(lua):
    def f(a, b=0, *, c=0):
        return a * 100 + b * 10 + c

    assert lua.eval("(...)(python.args{1, 2, c = 3})", f) == 123
    assert lua.eval("(...)(4, python.args{c = 5})", f) == 405


def test_protocol_wrappers_choose_items_or_attributes(lua):
    class Both:
        value = "attribute"

        def __getitem__(self, key):
            return "item"

    both = Both()
    assert lua.eval("(...).value", both) == "item"  # objects with item access use it
    assert lua.eval("python.as_attrgetter(...).value", both) == "attribute"
    assert lua.eval("(...).value", luarun.as_attrgetter(both)) == "attribute"
    assert lua.eval("(...)['value']", luarun.as_itemgetter(both)) == "item"
    assert lua.eval("python.as_attrgetter(...)", both) is both  # unwrapped in Python


# --- object access ----------------------------------------------------------------------


def test_attribute_handlers_replace_every_access(flavor):
    log = []

    def getter(obj, name):
        log.append(("get", name))
        return f"<{name}>"

    def setter(obj, name, value):
        log.append(("set", name, value))

    with LuaRuntime(flavor=flavor, attribute_handlers=(getter, setter)) as lua:
        obj = {"real": 1}
        assert lua.eval("(...).anything", obj) == "<anything>"
        lua.execute("local o = ... o.x = 5", obj)
    assert log == [("get", "anything"), ("set", "x", 5)]
    assert obj == {"real": 1}


def test_attribute_handlers_and_filter_exclude_each_other():
    with pytest.raises(luarun.InvalidArgument, match="mutually exclusive"):
        LuaRuntime(attribute_filter=lambda o, n, s: n, attribute_handlers=(None, None))
    with pytest.raises(luarun.InvalidArgument, match="pair"):
        LuaRuntime(attribute_handlers=len)


def test_encoding_none_still_reaches_attributes_and_methods(flavor):
    class Point:
        x = 5

        def moved(self, by):
            return self.x + by

    with luarun.Lua(encoding=None, flavor=flavor) as lua:
        lua.globals().p = Point()
        assert lua.eval("p.x") == 5
        assert lua.eval("p:moved(2)") == 7
        assert lua.eval("'text'") == b"text"


def test_unpacks_lua_table_takes_a_table_as_arguments(lua):
    @luarun.unpacks_lua_table
    def area(width, height=1):
        return width * height

    class Box:
        @luarun.unpacks_lua_table_method
        def scaled(self, factor, offset=0):
            return factor * 10 + offset

    lua.globals().area = area
    lua.globals().box = Box()
    assert lua.eval("area{3, height = 4}") == 12
    assert lua.eval("area(5)") == 5
    assert lua.eval("box:scaled{2, offset = 1}") == 21
    with pytest.raises(IndexError, match="without gaps"):
        lua.eval("area{[2] = 1}")


def test_overflow_handler_converts_big_ints(flavor):
    with LuaRuntime(flavor=flavor, overflow_handler=float) as lua:
        assert lua.eval("math.type and math.type(...) or type(...)", 2**70) in ("float", "number")
        assert lua.eval("...", 2**70) == float(2**70)
    with LuaRuntime(flavor=flavor) as plain:
        with pytest.raises(OverflowError, match="overflow_handler"):
            plain.eval("...", 2**70)
        assert plain.eval("1 + 1") == 2


# --- errors -----------------------------------------------------------------------------


def test_exceptions_keep_their_identity_through_pcall(lua):
    problem = ValueError("bad")

    def fail():
        raise problem

    lua.globals().fail = fail
    assert lua.eval("select(2, pcall(fail))") is problem
    with pytest.raises(ValueError) as caught:
        lua.execute("local ok, e = pcall(fail) error(e)")
    assert caught.value is problem


def test_a_table_error_value_reaches_python(lua):
    with pytest.raises(luarun.LuaError) as caught:
        lua.execute("error({code = 42})")
    assert caught.value.value["code"] == 42
    assert "table value" in str(caught.value)


def test_error_messages_show_no_luarun_internals(lua):
    with pytest.raises(luarun.LuaError) as caught:
        lua.execute("local co = coroutine.wrap(function() string.rep() end) co()")
    text = str(caught.value)
    assert "luarun prelude" not in text and "luarun patterns" not in text
    assert "in hook" not in text
    assert "bad argument" in text


def test_keyboard_interrupt_in_a_callback_cannot_be_swallowed(flavor):
    def interrupted():
        raise KeyboardInterrupt

    # LuaJIT needs a limit to be interruptible (its JIT is off then).
    with LuaRuntime(flavor=flavor, timeout=30) as lua:
        lua.globals().f = interrupted
        with pytest.raises(KeyboardInterrupt):
            lua.execute("for i = 1, 3 do pcall(f) end while true do end")
        assert lua.eval("1 + 1") == 2  # no stale stop left for the next call


# --- memory -----------------------------------------------------------------------------


def test_max_memory_counts_beyond_the_fresh_runtime(flavor):
    with LuaRuntime(flavor=flavor, max_memory=200_000) as lua:
        assert lua.get_max_memory() == 200_000
        assert lua.get_max_memory(total=True) > 200_000
        assert 0 <= lua.get_memory_used() < lua.get_memory_used(total=True)
        with pytest.raises(luarun.LuaMemoryError):
            lua.execute("local t = {} for i = 1, 1e7 do t[i] = i end")
        lua.gccollect()
        lua.set_max_memory(0)
        assert lua.get_max_memory() == 0
        lua.execute("local t = {} for i = 1, 1e5 do t[i] = i end")
        lua.set_max_memory(10_000_000, total=True)
        assert lua.get_max_memory(total=True) == 10_000_000


def test_a_limit_below_current_use_is_refused(lua):
    with pytest.raises(luarun.InvalidArgument, match="holds now"):
        lua.set_max_memory(1, total=True)


def test_gccollect_frees_and_nogc_pauses_collection(lua):
    lua.execute("junk = {} for i = 1, 1e5 do junk[i] = {} end junk = nil")
    before = lua.get_memory_used()
    lua.gccollect()
    assert lua.get_memory_used() < before
    with lua.nogc():
        with lua.nogc():
            lua.execute("for i = 1, 1e4 do local t = {} end")
        lua.execute("for i = 1, 1e4 do local t = {} end")
    lua.gccollect()


# --- tables, require, modes -------------------------------------------------------------


def test_table_from_keeps_self_references_and_shared_parts(lua):
    data = {"name": "root"}
    data["self"] = data
    shared = [1, 2]
    data["a"], data["b"] = shared, shared
    table = lua.table_from(data, recursive=True)
    assert table["self"]["self"]["name"] == "root"
    assert lua.eval("(...).a == (...).b", table)


def test_table_from_a_lua_table_copies_its_pairs(lua):
    copy = lua.table_from(lua.eval("{3, 4, foo = 'bar'}"))
    assert dict(copy.items()) == {1: 3, 2: 4, "foo": "bar"}


def test_require_needs_the_package_library(flavor, tmp_path):
    with LuaRuntime(flavor=flavor) as lua:
        with pytest.raises(luarun.LuaError, match="package"):
            lua.require("anything")
    (tmp_path / "greeting.lua").write_text("return {hello = function() return 'hi' end}")
    with LuaRuntime(flavor=flavor, libs=luarun.SAFE_LIBS + ("package",)) as lua:
        lua.execute("package.path = ...", str(tmp_path / "?.lua"))
        assert lua.require("greeting").hello() == "hi"


def test_mode_refuses_the_chunk_kind_it_excludes(lua):
    with pytest.raises(luarun.LuaSyntaxError, match="text chunk"):
        lua.execute("return 1", mode="b")
    assert lua.execute("return 1", mode="t") == 1
    assert lua.eval("2", mode="bt") == 2
    with pytest.raises(luarun.InvalidArgument):
        lua.execute("return 1", mode="x")


# --- lifetime ---------------------------------------------------------------------------


def test_a_runtime_in_a_cycle_through_its_callbacks_is_collected(flavor):
    class Owner:
        def __init__(self):
            self.lua = LuaRuntime(flavor=flavor)
            self.lua.globals().callback = self.method
            self.table = self.lua.table(1, 2)

        def method(self):
            return self

    owner = Owner()
    owner.lua.execute("callback()")
    runtime = weakref.ref(owner.lua)
    del owner
    gc.collect()
    assert runtime() is None
