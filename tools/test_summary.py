#!/usr/bin/env python3
"""Runs the test suites of `make test` one after another and ends with one summary line
across all of them ("make test: N passed, M failed, K skipped in S suites").

Each suite is a make target run as `make <target>`; its output goes to the terminal as
it comes and to build/test-logs/<target>.log. Every suite runs even after one fails, so
the summary covers the whole tree; the exit status is non-zero when any suite failed.

Counts come from each runner's own summary lines: cargo's "test result:", the C and C++
harnesses' "N checks, M failed", node's TAP "# pass / # fail / # skipped", pytest's
final line. A suite that prints none of them (lint, test-install) counts as one test;
a suite whose counts show no failure but whose exit status is non-zero counts one more
failure, so a crash after the last count is never lost. "SKIPPED" lines count as
skipped.

Usage: test_summary.py [--make MAKE] TARGET...
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

CARGO = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")
HARNESS = re.compile(r"^\S+ ?(?:\(C\+\+\))?: (\d+) checks, (\d+) failed")
TAP = re.compile(r"^# (pass|fail|skipped) (\d+)$")
PYTEST = re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+) in [\d.]+s")
PYTEST_PART = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


@dataclass
class Counts:
    """Tests of one suite (or of all)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seen: bool = field(default=False, compare=False)

    def add(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped


def count_line(line: str, counts: Counts) -> None:
    """Adds what one output line reports to `counts`."""
    text = line.strip()
    if match := CARGO.search(text):
        counts.passed += int(match[1])
        counts.failed += int(match[2])
        counts.skipped += int(match[3])
        counts.seen = True
    elif match := HARNESS.match(text):
        checks, failed = int(match[1]), int(match[2])
        counts.passed += checks - failed
        counts.failed += failed
        counts.seen = True
    elif match := TAP.match(text):
        kind, number = match[1], int(match[2])
        if kind == "pass":
            counts.passed += number
        elif kind == "fail":
            counts.failed += number
        else:
            counts.skipped += number
        counts.seen = True
    elif match := PYTEST.match(text):
        for number, kind in PYTEST_PART.findall(match[1]):
            if kind in ("passed", "xfailed", "xpassed"):
                counts.passed += int(number)
            elif kind == "skipped":
                counts.skipped += int(number)
            else:
                counts.failed += int(number)
        counts.seen = True
    elif text.startswith("SKIPPED"):
        counts.skipped += 1


def run_suite(make: str, target: str, logs: Path) -> Counts:
    """Runs `make target`, echoing and logging its output; returns its counts."""
    counts = Counts()
    log_path = logs / f"{target}.log"
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        process = subprocess.Popen(
            [make, "--no-print-directory", target],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            count_line(line, counts)
        status = process.wait()
    if not counts.seen:
        # No runner summary: the suite as a whole is one test.
        if status == 0:
            counts.passed += 1
        else:
            counts.failed += 1
    elif status != 0 and counts.failed == 0:
        counts.failed += 1  # exited non-zero after its last count
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make", default=os.environ.get("MAKE", "make"))
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args()
    logs = Path("build/test-logs")
    logs.mkdir(parents=True, exist_ok=True)
    total = Counts()
    per_suite = []
    for target in args.targets:
        print(f"==== make {target}", flush=True)
        counts = run_suite(args.make, target, logs)
        total.add(counts)
        per_suite.append(f"{target} {counts.passed}/{counts.failed}")
    failed_suites = [s for s in per_suite if not s.endswith("/0")]
    print()
    print("suites (passed/failed): " + ", ".join(per_suite))
    if failed_suites:
        print(f"failed: {', '.join(failed_suites)}; logs in {logs}/")
    print(
        f"make test: {total.passed} passed, {total.failed} failed, {total.skipped} skipped "
        f"in {len(args.targets)} suites"
    )
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main())
