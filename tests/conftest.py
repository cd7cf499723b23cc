"""Shared fixtures.

Tests that read the real corpora are marked ``@pytest.mark.data`` (deselect them with
``-m "not data"``) and request the :func:`data_root` fixture. Where the data root is missing they
skip with the reason shown in the ``-ra`` summary; with ``NLPTA_REQUIRE_DATA=1`` (CI with the
corpora mounted) they fail instead, so a misconfigured data path cannot pass as a green run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlpta.data import data_root as _find_data_root

REQUIRE_ENV = "NLPTA_REQUIRE_DATA"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The corpus root (``$NLPTA_DATA`` or ``../shared/data``); skip, or fail if required, when absent."""
    root = _find_data_root()
    if not root.is_dir():
        reason = (
            f"corpus data root {root} does not exist; set NLPTA_DATA to the folder holding "
            "the corpora"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1 requires the corpora)", pytrace=False)
        pytest.skip(reason)
    return root
