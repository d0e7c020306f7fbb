"""A program written for lupa, ported by changing its import.

Run it with ``--lupa`` where lupa is installed to compare: the output is the same.
"""

import sys

if "--lupa" in sys.argv:
    import lupa.lua54 as lua_module  # the original program's import
else:
    import luarun.lua54 as lua_module  # the only line that changed

LuaRuntime = lua_module.LuaRuntime
LuaError = lua_module.LuaError
unpacks_lua_table = lua_module.unpacks_lua_table

lua = LuaRuntime(unpack_returned_tuples=True, max_memory=50_000_000)

# Tables both ways.
table = lua.table_from({"name": "sensor", "readings": lua.table(3, 1, 2)})
print("readings:", sorted(table["readings"].values()))
print("sum:", lua.eval("function(t) local s = 0 for _, v in ipairs(t) do s = s + v end return s end")(table["readings"]))

# Python callbacks and objects in Lua.
class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, count):
        self.items[name] = self.items.get(name, 0) + count
        return len(self.items), self.items[name]

inventory = Inventory()
lua.globals().inventory = inventory
print("add:", lua.eval("inventory.add('bolt', 3)"), lua.eval("inventory.add('bolt', 2)"))

# python.iter over a list, python.enumerate.
print("iter:", lua.eval("function(xs) local r = {} for x in python.iter(xs) do r[#r+1] = x * 10 end return table.concat(r, ' ') end")([1, 2, 3]))
print("enumerate:", lua.eval("function(xs) local r = {} for i, x in python.enumerate(xs) do r[#r+1] = i .. '=' .. x end return table.concat(r, ' ') end")(["a", "b"]))

# Coroutines as generators.
counter = lua.eval("function(n) for i = 1, n do coroutine.yield(i) end end")
print("coroutine:", list(counter.coroutine(4)))
accumulate = lua.eval("function() local total = 0 while true do total = total + coroutine.yield(total) end end").coroutine()
accumulate.send(None)
print("send:", [accumulate.send(x) for x in (5, 10, 20)])

# Attribute handlers.
def getter(obj, name):
    return f"{type(obj).__name__}.{name}"

def setter(obj, name, value):
    raise AttributeError(f"{name} is read-only")

guarded = LuaRuntime(attribute_handlers=(getter, setter))
guarded.globals().thing = inventory
print("handler:", guarded.eval("thing.anything"))
try:
    guarded.execute("thing.x = 1")
except AttributeError as error:
    print("setter refused:", error)

# Exceptions keep their identity through Lua's pcall.
class Refused(Exception):
    pass

problem = Refused("no")

def check(x):
    if x < 0:
        raise problem
    return x

lua.globals().check = check
ok, caught = lua.eval("pcall(check, -1)")
print("pcall:", ok, caught is problem)
try:
    lua.execute("local ok, e = pcall(check, -1) error(e)")
except Refused as error:
    print("re-raised the same object:", error is problem)

# unpacks_lua_table.
@unpacks_lua_table
def connect(host, port=80, secure=False):
    return f"{host}:{port}{' (tls)' if secure else ''}"

lua.globals().connect = connect
print("kwargs:", lua.eval("connect{'example.org', port = 443, secure = true}"))

# Memory limits.
try:
    lua.execute("local t = {} for i = 1, 1e8 do t[i] = i end")
except LuaError as error:
    print("memory:", type(error).__name__)
print("still usable:", lua.eval("1 + 1"))
