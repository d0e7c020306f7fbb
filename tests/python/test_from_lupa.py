"""``examples/from_lupa.py`` is a lupa program with its import changed; its output must
be what lupa printed for it (``from_lupa.expected`` was written by running the example
with ``--lupa`` under lupa 2.8, ``lupa.lua54``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_ported_lupa_program_prints_what_lupa_printed():
    env = dict(os.environ, PYTHONPATH=str(REPO / "bindings" / "python"))
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "from_lupa.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = (Path(__file__).parent / "from_lupa.expected").read_text()
    assert result.stdout == expected
