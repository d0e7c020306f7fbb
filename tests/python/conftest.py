"""pytest setup: the tests import the package from bindings/python (so they test the
working tree) and load the library from LUARUN_LIBRARY or the repository's
target/release, as luarun._lib searches."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import luarun  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-wheel",
        action="store_true",
        default=bool(os.environ.get("LUARUN_TEST_WHEEL")),
        help="also run the slow test that pip-installs the package into a fresh venv",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wheel: builds and installs the package (slow)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-wheel"):
        return
    skip = pytest.mark.skip(reason="slow packaging test: run with `make test-wheel`")
    for item in items:
        if "wheel" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def lua():
    with luarun.Lua() as runtime:
        yield runtime
