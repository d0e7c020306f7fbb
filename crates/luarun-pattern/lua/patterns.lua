-- luarun pattern functions: installs the interruptible Rust port of string.find, match,
-- gmatch, gsub and rep (the luarun-pattern crate) into the string table, which is also the string
-- metatable's __index, so s:find(...) uses it too.
--
-- The Rust functions return (failure_marker, value, level) instead of raising, because
-- mlua would raise a userdata; these wrappers raise the value itself. Level 2 (from
-- `checked`, tail-called by the wrapper) is the wrapper's caller: the position luaL_error
-- gives a C function's messages. Level 0 re-raises a value unchanged.
local string, raw, failure_marker = ...
local error, select = error, select

local function checked(...)
  if ... == failure_marker then
    local _, value, level = ...
    error(value, level)
  end
  return ...
end

local find, match, gmatch, gsub, rep = raw.find, raw.match, raw.gmatch, raw.gsub, raw.rep

string.find = function(...)
  return checked(find(...))
end

string.match = function(...)
  return checked(match(...))
end

string.gmatch = function(...)
  local iterate, value, level = gmatch(...)
  if iterate == failure_marker then
    error(value, level) -- raised here, not in `checked`: level 2 is still our caller
  end
  return function()
    return checked(iterate())
  end
end

string.gsub = function(...)
  return checked(gsub(...))
end

string.rep = function(...)
  return checked(rep(...))
end
