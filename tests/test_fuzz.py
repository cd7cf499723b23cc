"""Malformed inputs for every reader (issue 18): each case must end in an ``NlptaError`` that
names the file (and the line, where there is one), or load exactly the right rows.

The cases live in ``nlpta.bench.fuzz.<format>`` (the reliability benchmark counts the same
cases). They are generated from a seed; a failure prints it, and ``NLPTA_FUZZ_SEED`` reruns it.
"""

from __future__ import annotations

import importlib
import os

import pytest

from nlpta.bench.fuzz import FORMAT_MODULES, outcome

SEED = int(os.environ.get("NLPTA_FUZZ_SEED", "20261207"))


def _cases(mod: str):
    return importlib.import_module(f"nlpta.bench.fuzz.{mod}").cases(SEED)


@pytest.mark.parametrize("mod", FORMAT_MODULES)
def test_every_malformed_input_is_refused_with_its_file_or_loads_right(mod):
    cases = _cases(mod)
    per_format: dict[str, int] = {}
    for c in cases:
        per_format[c.format] = per_format.get(c.format, 0) + 1
    thin = {f: n for f, n in per_format.items() if n < 30}
    assert not thin, f"fewer than 30 cases for {thin}"
    bad = []
    for c in cases:
        o, detail = outcome(c)
        if o not in ("ok", "located"):
            bad.append(f"{c.id}: {o}: {detail}")
    assert not bad, f"seed {SEED} (NLPTA_FUZZ_SEED={SEED} reruns it); {len(bad)} of {len(cases)} cases:\n" + "\n".join(bad[:40])


@pytest.mark.parametrize("mod", FORMAT_MODULES)
def test_cases_are_seeded(mod):
    a = [(c.id, c.files) for c in _cases(mod)]
    b = [(c.id, c.files) for c in _cases(mod)]
    assert a == b
