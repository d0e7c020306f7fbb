"""``map_lua``: a Lua function over the items of a dask bag, on states kept per worker.

A task carries the Lua source, the function's name and the state options as plain
strings and numbers (:class:`LuaJob`). Each worker process keeps, per job, the
``luarun.Lua`` states it created (one per task running at once, so one per worker
thread), loads the code once into each, and reuses them for every later partition.
A Lua error or a call stopped by its limit raises in that task alone: the state stays
usable and the worker lives on.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Tuple

import dask.bag as db

import luarun
from luarun import InvalidArgument, LuaTypeError

#: Keyword arguments of :class:`luarun.Lua` that ``options`` may hold.
OPTION_NAMES = (
    "memory_limit",
    "timeout",
    "max_instructions",
    "libs",
    "allow_bytecode",
    "encoding",
    "flavor",
)

#: Jobs (code + options) whose states a worker keeps; the least recently used beyond
#: this are closed.
MAX_CACHED_JOBS = 16

#: Lua tables nested deeper than this in a result are refused (a table holding itself).
MAX_RESULT_DEPTH = 100


@dataclass(frozen=True)
class LuaJob:
    """What every task of one :func:`map_lua` carries: the code, the global function
    it calls and the state options, sorted into a tuple so equal jobs share states."""

    code: str
    function_name: str
    options: Tuple[Tuple[str, Any], ...]

    def new_runtime(self) -> luarun.Lua:
        """A state with the options, the code run and the function checked."""
        lua = luarun.Lua(**dict(self.options))
        try:
            lua.execute(self.code, name=f"=map_lua code for {self.function_name}")
            kind = lua.eval(f"type({self.function_name})")
        except BaseException:
            lua.close()
            raise
        if kind != "function":
            lua.close()
            raise LuaTypeError(
                f"map_lua: after running the code, the global {self.function_name!r} is "
                f"a {kind}, not a function; define `function {self.function_name}(item) "
                "... end` in the code"
            )
        return lua


class _Runtimes:
    """The states one worker process keeps for one job: idle ones wait in a list."""

    def __init__(self) -> None:
        self.idle: List[luarun.Lua] = []
        self.created = 0

    def close(self) -> None:
        for lua in self.idle:
            lua.close()
        self.idle.clear()


class RuntimeCache:
    """Per process: job -> its states, least recently used first."""

    def __init__(self, max_jobs: int = MAX_CACHED_JOBS) -> None:
        self.max_jobs = max_jobs
        self.jobs: OrderedDict[LuaJob, _Runtimes] = OrderedDict()
        self.lock = threading.Lock()

    def acquire(self, job: LuaJob) -> luarun.Lua:
        """An idle state of ``job``, or a new one when all are busy."""
        with self.lock:
            runtimes = self.jobs.get(job)
            if runtimes is None:
                runtimes = self.jobs[job] = _Runtimes()
                while len(self.jobs) > self.max_jobs:
                    self.jobs.popitem(last=False)[1].close()
            self.jobs.move_to_end(job)
            if runtimes.idle:
                return runtimes.idle.pop()
        lua = job.new_runtime()  # outside the lock: running the code may take long
        with self.lock:
            self.jobs.get(job, runtimes).created += 1
        return lua

    def release(self, job: LuaJob, lua: luarun.Lua) -> None:
        """Gives a state back for the next task of ``job`` (closed if evicted)."""
        with self.lock:
            runtimes = self.jobs.get(job)
            if runtimes is not None:
                runtimes.idle.append(lua)
                return
        lua.close()

    def info(self) -> List[dict]:
        with self.lock:
            return [
                {
                    "function": job.function_name,
                    "code_sha256": hashlib.sha256(job.code.encode()).hexdigest(),
                    "options": dict(job.options),
                    "states_created": runtimes.created,
                    "states_idle": len(runtimes.idle),
                }
                for job, runtimes in self.jobs.items()
            ]

    def clear(self) -> None:
        with self.lock:
            jobs, self.jobs = self.jobs, OrderedDict()
        for runtimes in jobs.values():
            runtimes.close()


_CACHE = RuntimeCache()


def worker_cache_info() -> List[dict]:
    """What this process keeps for :func:`map_lua`: one dict per job with
    ``function``, ``code_sha256``, ``options``, ``states_created`` and ``states_idle``.
    On a cluster: ``client.run(luarun.dask.worker_cache_info)``."""
    return _CACHE.info()


def clear_worker_cache() -> None:
    """Closes every state this process keeps for :func:`map_lua` (idle ones now, busy
    ones when their task ends). On a cluster: ``client.run(clear_worker_cache)``."""
    _CACHE.clear()


def _to_lua(lua: luarun.Lua, item: Any) -> Any:
    """Lists, tuples and dicts become Lua tables; numpy scalars plain numbers."""
    if isinstance(item, (list, tuple, dict)):
        return lua.table_from(item, recursive=True)
    if type(item).__module__ == "numpy" and hasattr(item, "item"):
        return item.item()
    return item


def _plain(value: Any, function_name: str, depth: int = 0) -> Any:
    """A result as plain Python: tables with keys 1..n become lists, other tables dicts."""
    if isinstance(value, tuple):
        return tuple(_plain(v, function_name, depth) for v in value)
    if isinstance(value, luarun.LuaTable):
        if depth >= MAX_RESULT_DEPTH:
            raise InvalidArgument(
                f"map_lua: {function_name} returned tables nested more than "
                f"{MAX_RESULT_DEPTH} deep (a table that holds itself?); return plain data"
            )
        pairs = [(_plain(k, function_name, depth + 1), _plain(v, function_name, depth + 1))
                 for k, v in value.items()]
        keys = [k for k, _ in pairs]
        if pairs and all(type(k) is int for k in keys) and set(keys) == set(
            range(1, len(pairs) + 1)
        ):
            return [v for _, v in sorted(pairs, key=lambda pair: pair[0])]
        return dict(pairs)
    if isinstance(value, luarun.LuaObject):
        raise LuaTypeError(
            f"map_lua: {function_name} returned a Lua {luarun.lua_type(value)}, which cannot "
            "leave its state; return nil, booleans, numbers, strings or tables of them"
        )
    return value


def run_partition(items: Iterable[Any], job: LuaJob) -> List[Any]:
    """The task behind every partition: ``job.function_name(item)`` for each item, on a
    state this worker keeps. A failing call raises the same luarun exception with the
    item's place in the partition added to the Lua message."""
    lua = _CACHE.acquire(job)
    try:
        function = lua.globals()[job.function_name]
        results = []
        for index, item in enumerate(items):
            try:
                results.append(_plain(function(_to_lua(lua, item)), job.function_name))
            except luarun.Error as error:
                raise type(error)(
                    f"map_lua: {job.function_name}(item {index} of this partition: "
                    f"{_short(item)}) failed: {error.message}",
                    error.status,
                ) from None
        return results
    finally:
        _CACHE.release(job, lua)


def _short(item: Any) -> str:
    text = repr(item)
    return text if len(text) <= 60 else text[:57] + "..."


def _job(code: str | bytes, function_name: str, options: Mapping[str, Any] | None) -> LuaJob:
    if isinstance(code, bytes):
        code = code.decode()
    if not isinstance(function_name, str) or not function_name.isidentifier():
        raise InvalidArgument(
            f"function_name must name a global Lua function, like 'score', not {function_name!r}"
        )
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise InvalidArgument(
            f"unknown map_lua options {unknown}; choose from {', '.join(OPTION_NAMES)} "
            "(the keyword arguments of luarun.Lua)"
        )
    if isinstance(options.get("libs"), (list, set)):
        options["libs"] = tuple(sorted(options["libs"]))
    return LuaJob(code, function_name, tuple(sorted(options.items())))


def map_lua(
    code: str | bytes,
    function_name: str,
    items_or_bag: db.Bag | Iterable[Any],
    *,
    options: Mapping[str, Any] | None = None,
    npartitions: int | None = None,
) -> db.Bag:
    """A lazy bag of ``function_name(item)`` for every item, run by Lua on the workers.

    :param code: Lua source defining the global function (run once per state).
    :param function_name: the global Lua function called with each item.
    :param items_or_bag: a ``dask.bag.Bag``, or any iterable (made a bag of
        ``npartitions`` partitions). Items are nil, booleans, numbers, strings, or
        lists / tuples / dicts of them (they become Lua tables).
    :param options: keyword arguments of :class:`luarun.Lua` for every state:
        ``timeout`` and ``max_instructions`` (per item), ``memory_limit``, ``libs``,
        ``allow_bytecode``, ``encoding``, ``flavor``. Give untrusted code a
        ``timeout``: without one a runaway item keeps its worker thread forever.
    :returns: a bag of plain results (one per item; a tuple for several return values;
        Lua tables with keys 1..n as lists, other tables as dicts). ``.compute()``
        gives the list.

    Each worker process creates its states once per (code, options), one per task it
    runs at once, and keeps them (:func:`worker_cache_info`); globals a call sets stay
    for the next items on that state. A Lua error or a stopped runaway fails only that
    partition's task, raising the luarun exception (:class:`luarun.LuaError`,
    :class:`luarun.LuaTimeoutError`, ...) with the Lua message and the item.

    The code and options are checked here first (compiled, not run, on a local state),
    so a syntax error or a bad option is raised before anything is shipped.
    """
    job = _job(code, function_name, options)
    with luarun.Lua(**dict(job.options)) as lua:
        compiled = lua.globals().load(job.code, f"=map_lua code for {job.function_name}")
        if isinstance(compiled, tuple) and compiled[0] is None:
            raise luarun.LuaSyntaxError(f"map_lua: the code does not compile: {compiled[1]}")
    if isinstance(items_or_bag, db.Bag):
        bag = items_or_bag
    else:
        items = list(items_or_bag)
        bag = db.from_sequence(items, npartitions=npartitions or _partitions_for(len(items)))
    return bag.map_partitions(run_partition, job)


def _partitions_for(count: int) -> int:
    """A partition per ~1000 items, at least 1, at most 100 (dask's default cap)."""
    return max(1, min(100, -(-count // 1000)))

