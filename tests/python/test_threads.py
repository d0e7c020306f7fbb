"""The GIL is released while Lua runs: other threads go on, and interrupt works."""

from __future__ import annotations

import threading

import pytest

import luarun


def run_in_thread(function):
    outcome = {}

    def target():
        try:
            outcome["result"] = function()
        except BaseException as exception:  # noqa: BLE001 - inspected by the test
            outcome["error"] = exception

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def test_interrupt_from_another_thread_stops_an_endless_loop():
    # If the GIL were held during the call, this thread could never interrupt and the
    # timeout would end the loop instead: the exception type tells which one happened.
    with luarun.Lua(timeout=30) as busy:
        started = threading.Event()
        busy.globals().started = started.set
        thread, outcome = run_in_thread(lambda: busy.execute("started() while true do end"))
        assert started.wait(10)
        busy.interrupt()
        thread.join(30)
        assert not thread.is_alive()
        assert type(outcome.get("error")) is luarun.LuaInterrupted


def test_other_states_run_while_one_is_busy():
    with luarun.Lua(timeout=30) as busy, luarun.Lua() as free:
        started = threading.Event()
        busy.globals().started = started.set
        thread, outcome = run_in_thread(lambda: busy.execute("started() while true do end"))
        assert started.wait(10)
        assert free.eval("6 * 7") == 42  # the busy thread holds no lock this needs
        busy.interrupt()
        thread.join(30)
        assert isinstance(outcome.get("error"), luarun.LuaInterrupted)


def test_calls_on_one_state_from_several_threads_are_serialized():
    with luarun.Lua() as lua:
        lua.execute("counter = 0 function bump() local c = counter counter = c + 1 end")
        bump = lua.globals().bump

        def work():
            for _ in range(500):
                bump()

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert lua.eval("counter") == 2000


@pytest.mark.parametrize("runtimes", [4])
def test_separate_states_in_threads_all_finish_with_correct_results(runtimes):
    results = [None] * runtimes

    def work(i):
        with luarun.Lua() as lua:
            total = "local n, s = ..., 0 for k = 1, n do s = s + k end return s"
            results[i] = lua.execute(total, 200_000 + i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(runtimes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(200_000 + i) * (200_001 + i) // 2 for i in range(runtimes)]
