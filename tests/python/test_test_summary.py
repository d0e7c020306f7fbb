"""tools/test_summary.py: the counts it reads from each runner's summary lines."""

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "tools" / "test_summary.py"
_SPEC = importlib.util.spec_from_file_location("test_summary", _PATH)
summary = importlib.util.module_from_spec(_SPEC)
sys.modules["test_summary"] = summary  # dataclasses look their module up by name
_SPEC.loader.exec_module(summary)


def counts_of(*lines):
    counts = summary.Counts()
    for line in lines:
        summary.count_line(line, counts)
    return counts


def test_each_runner_format_is_counted():
    counts = counts_of(
        "test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out",
        "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        "test_state: 234 checks, 2 failed",
        "test_render (C++): 66 checks, 0 failed",
        "# pass 107",
        "# fail 1",
        "# skipped 1",
        "1 failed, 66 passed, 43 deselected in 4.77s",
        "SKIPPED test-node: node and npm not found",
    )
    assert (counts.passed, counts.failed, counts.skipped) == (
        12 + 3 + 232 + 66 + 107 + 66,
        1 + 2 + 1 + 1,
        2 + 1 + 1,
    )
    assert counts.seen


def test_other_lines_count_nothing():
    counts = counts_of("== build/c/test_state", "ok   interrupt_from_another_thread", "")
    assert (counts.passed, counts.failed, counts.skipped, counts.seen) == (0, 0, 0, False)
