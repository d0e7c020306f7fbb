-- luarun prelude (LuaJIT states): runs once in every new LuaJIT state, before any user
-- code. Lua 5.4 states have no prelude: their guards are C functions (guards.rs,
-- coroutines.rs, text_loaders.rs, host_function.rs), which scripts cannot tell from
-- Lua's own.
--
-- 1. Limit errors (interrupt, instruction and time limits) must not be swallowed by Lua:
--    pcall, xpcall, coroutine.resume and load (whose reader's errors
--    come back as values) re-raise any error caught while the running call has been
--    stopped.
-- 2. Optional sandbox rules: only text chunks in every loader (load, loadstring,
--    loadfile, dofile, require), no __gc finalizers.
-- 3. C functions that call back into Lua check the host stack first.
local is_stopped, allow_bytecode, allow_finalizers, tracked_resume, check_c_stack,
  load_string, raw_tostring = ...
local error, rawget, select, type = error, rawget, select, type

-- LuaJIT: tostring is luarun's C function (it hides addresses, see addresses.rs),
-- which compiled traces cannot inline; values without an address take LuaJIT's own
-- tostring, which they can. (LuaJIT's tostring ignores __tostring on these types too.)
do
  local hidden_tostring = tostring
  tostring = function(...)
    local kind = type((...))
    if kind == "number" or kind == "string" or kind == "boolean" then
      return raw_tostring((...))
    end
    return hidden_tostring(...)
  end
end

-- 0. load (and LuaJIT's loadstring, the same function) of a string compiles through
--    the host's load_string, which feeds the parser in small pieces and stops between
--    them when the call must stop (the parser runs no instructions, so no hook reaches
--    it). Reader functions run Lua code, which the hook reaches; they go to Lua's load.
do
  local raw_load = load
  local function load_any(chunk, ...)
    local kind = type(chunk)
    if kind == "string" or kind == "number" then
      return load_string(chunk, ...)
    end
    return raw_load(chunk, ...)
  end
  load = load_any
  if loadstring then
    loadstring = load_any
  end
end

local function rethrow_if_stopped(ok, ...)
  if not ok and is_stopped() then
    error((...), 0)
  end
  return ok, ...
end

do
  local raw_pcall = pcall
  pcall = function(f, ...)
    return rethrow_if_stopped(raw_pcall(f, ...))
  end

  local raw_xpcall = xpcall
  xpcall = function(f, handler, ...)
    if handler == nil then
      error("bad argument #2 to 'xpcall' (value expected)", 2)
    end
    local function guarded_handler(e)
      if is_stopped() then
        return e
      end
      return handler(e)
    end
    return rethrow_if_stopped(raw_xpcall(f, guarded_handler, ...))
  end
end

-- Resumes go through the host's tracked_resume, which records the running coroutine so
-- that an interrupt or a deadline can reach a loop inside it, and bounds how deeply
-- coroutines nest.
if coroutine then
  local raw_create = coroutine.create
  local resume = tracked_resume

  coroutine.resume = function(co, ...)
    return rethrow_if_stopped(resume(co, ...))
  end

  coroutine.wrap = function(f)
    local co = raw_create(f)
    -- As the built-in wrap: a string error gets the position of the call (level 2:
    -- finish_wrap is tail-called, so level 2 is whoever called the wrapped function),
    -- except a memory error's.
    local function finish_wrap(ok, ...)
      if ok then
        return ...
      end
      local err = ...
      if is_stopped() then
        error(err, 0)
      end
      if type(err) == "string" and err ~= "not enough memory" then
        error(err, 2)
      end
      error(err, 0)
    end
    return function(...)
      return finish_wrap(resume(co, ...))
    end
  end
end

if not allow_bytecode then
  -- Every global that loads code loads text only: hand-made bytecode can crash the VM.
  -- Each wrapper forces mode "t", so a binary chunk fails to load with Lua's own
  -- message. An explicit nil env must stay explicit, so argument counts are preserved.
  do
    local function text_only(raw_load)
      return function(...)
        local chunk, name, _, env = ...
        if select("#", ...) >= 4 then
          return raw_load(chunk, name, "t", env)
        end
        return raw_load(chunk, name, "t")
      end
    end
    load = text_only(load)
    -- LuaJIT: loadstring is load itself, mode argument included.
    if loadstring then
      loadstring = text_only(loadstring)
    end
  end

  local raw_loadfile = loadfile
  if raw_loadfile then
    loadfile = function(...)
      local filename, _, env = ...
      if select("#", ...) >= 3 then
        return raw_loadfile(filename, "t", env)
      end
      return raw_loadfile(filename, "t")
    end
    if dofile then
      -- As the built-in dofile: a load error is raised unchanged, results pass through.
      dofile = function(filename)
        local chunk, message = raw_loadfile(filename, "t")
        if not chunk then
          error(message, 0)
        end
        return chunk()
      end
    end
  end

  -- require's Lua-file searcher loads whatever the file holds; this one loads text only.
  -- (mlua already replaced the C searchers; preload stays as it is.)
  local package = package
  local searchers = package and (package.searchers or package.loaders)
  if searchers and raw_loadfile then
    local searchpath = package.searchpath
    searchers[2] = function(name)
      local path = package.path
      if type(path) ~= "string" then
        error("'package.path' must be a string", 0)
      end
      local filename, not_found = searchpath(name, path)
      if not filename then
        return not_found
      end
      local loader, message = raw_loadfile(filename, "t")
      if not loader then
        error("error loading module '" .. name .. "' from file '" .. filename
          .. "':\n\t" .. message, 0)
      end
      return loader, filename
    end
  end

  if string then
    string.dump = nil
  end
end

if not allow_finalizers then
  -- Lua runs __gc metamethods with hooks disabled, where no limit can stop them.
  -- LuaJIT's newproxy(true) makes a userdata whose metatable the script fills in
  -- (rawset included), so no wrapper could keep __gc out of it: it goes.
  newproxy = nil
  do
    local raw_setmetatable = setmetatable
    setmetatable = function(t, mt)
      if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
        error("__gc metamethods are disabled in this state: limits cannot stop a "
          .. "finalizer (enable the allow_finalizers option to allow them)", 2)
      end
      return raw_setmetatable(t, mt)
    end
  end
end

-- load (and LuaJIT's loadstring, the same function) runs a reader function and returns
-- its error as nil, message: a stop raised inside the reader must not become a value.
do
  local function rethrowing(raw_load)
    return function(...)
      local chunk, message = raw_load(...)
      if chunk == nil and is_stopped() then
        error(message, 0)
      end
      return chunk, message
    end
  end
  load = rethrowing(load)
  if loadstring then
    loadstring = rethrowing(loadstring)
  end
end

-- 4. LuaJIT re-enters Lua from these C functions without bounding how deeply (Lua 5.4
--    bounds C re-entries itself, 200 levels): each first checks how much host stack
--    the nesting uses (check_c_stack, see cstack.rs; nil in Lua 5.4 states). Tail
--    calls, so errors name the function as the caller wrote it. gsub and format check
--    only when they can call back (a function or table replacement; a table or
--    userdata argument, for __tostring): the check is a C call, which JIT-compiled
--    loops pay dearly for. (LuaJIT's tostring and pcall re-enter by tail calls.)
if check_c_stack then
  local function guarded(f)
    return function(...)
      check_c_stack()
      return f(...)
    end
  end
  if string then
    local gsub, format = string.gsub, string.format
    string.gsub = function(...)
      local _, _, replacement = ...
      local kind = type(replacement)
      if kind == "function" or kind == "table" then
        check_c_stack()
      end
      return gsub(...)
    end
    string.format = function(...)
      for i = 2, select("#", ...) do
        local kind = type((select(i, ...)))
        if kind == "table" or kind == "userdata" then
          check_c_stack()
          break
        end
      end
      return format(...)
    end
  end
  if table then
    table.sort = guarded(table.sort)
  end
  load = guarded(load)
  if loadstring then
    loadstring = guarded(loadstring)
  end
  print = guarded(print)
  if require then
    require = guarded(require)
  end
end
