-- luarun modules: runs once in a state, the first time the host preloads a module or
-- sets a module path (src/modules.rs). Returns the functions the host calls.
--
-- Preloaded modules are sources the host registered under a name; `require(name)`
-- compiles one as text (never bytecode) through load_string, under the running call's
-- limits, and runs it with Lua's preload arguments (name, ":preload:"). States with the
-- package library keep Lua's require and get a package.preload entry; states without it
-- get a minimal require that only sees preloaded modules.
local load_string = ...
local error, type, tostring = error, type, tostring
local package = package
-- Lua 5.4's require also returns the loader's data (":preload:"), Lua 5.1's does not.
local second_result = _VERSION ~= "Lua 5.1"

local preload_table
if package then
  preload_table = function() return package.preload end
else
  local preload, loaded = {}, {}
  preload_table = function() return preload end
  require = function(name)
    if type(name) ~= "string" then
      error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
    end
    local value = loaded[name]
    if value ~= nil then
      return value
    end
    local loader = preload[name]
    if not loader then
      error("module '" .. name .. "' not found:\n\tno preloaded module '" .. name
        .. "' (this state has no package library: only modules the host preloaded"
        .. " can be required)", 2)
    end
    value = loader(name, ":preload:")
    if value ~= nil then
      loaded[name] = value
    elseif loaded[name] == nil then
      loaded[name] = true
    end
    if second_result then
      return loaded[name], ":preload:"
    end
    return loaded[name]
  end
end

local control = {}

function control.preload(name, source)
  local function loader(...)
    local chunk, message = load_string(source, "=" .. name, "t")
    if not chunk then
      error("error loading module '" .. name .. "' (preloaded):\n\t" .. tostring(message), 0)
    end
    return chunk(...)
  end
  preload_table()[name] = loader
end

-- The C searchers replace mlua's stub (3) and take the all-in-one slot (4).
function control.enable_c_modules(c_searcher, croot_searcher)
  local searchers = package.searchers or package.loaders
  searchers[3] = c_searcher
  searchers[4] = croot_searcher
end

return control
