"""Malformed-input cases for every reader, and the outcome of feeding each one in.

A format module (``nlpta.bench.fuzz.reviews``, ``.pos``, ``.vectors``, ``.tasks``) exposes
``cases(seed) -> list[Case]``: small inline samples of that format, then variants of them --
truncations, byte flips, bad encodings, wrong column counts, out-of-range values, damaged gzip
-- each with the outcome it must have: an :class:`~nlpta.errors.NlptaError` naming the file (and
the line where there is one), or exactly the rows a correct reader loads.

:func:`outcome` runs one case in a temporary folder, with a time limit, and classifies what
happened:

* ``ok`` -- loaded exactly the expected rows;
* ``located`` -- an ``NlptaError`` that names the file (and the expected line, where the case
  gives one);
* ``clear`` -- an ``NlptaError`` that does not name the file or line;
* ``raw`` -- any other exception (a traceback from deep inside a library);
* ``hang`` -- still running after the time limit;
* ``silent`` -- loaded, but not what was expected (garbage, or an input that had to fail);
* ``rejected`` -- a valid input refused with an ``NlptaError``.

``tests/test_fuzz.py`` asserts that every case ends ``ok`` or ``located``;
``scripts/bench_reliability.py`` counts the outcomes per format for BENCHMARKS.md.
"""

from __future__ import annotations

import gzip
import importlib
import random
import signal
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import NlptaError

FORMAT_MODULES = ("reviews", "pos", "vectors", "tasks")
OUTCOMES = ("ok", "located", "clear", "raw", "hang", "silent", "rejected")
ERROR = object()  # ``Case.expect`` for an input that must be refused


@dataclass
class Case:
    """One input and its required outcome.

    Attributes:
        format: the format family, e.g. ``"conllu"``, ``"blitzer"``, ``"word2vec-text"``.
        name: what was done to the sample, e.g. ``"truncate@57"``, ``"gz-corrupt"``.
        files: file name (relative) -> bytes, written into a fresh temporary folder.
        load: ``load(folder) -> result``; reads the case's files through nlpta's public API.
        expect: :data:`ERROR` (must raise an ``NlptaError`` naming ``error_file``), or the exact
            result a correct reader returns (compared with ``==`` after :attr:`normalize`).
        error_file: the file name the error must mention (default: the first of ``files``).
        line: the 1-based line the error must mention, where known.
        normalize: ``normalize(result) -> comparable`` (e.g. a Dataset to a list of dicts).
    """

    format: str
    name: str
    files: dict[str, bytes]
    load: Callable[[Path], Any]
    expect: Any = ERROR
    error_file: str | None = None
    line: int | None = None
    normalize: Callable[[Any], Any] = field(default=lambda r: r)

    @property
    def id(self) -> str:
        return f"{self.format}:{self.name}"


def gz(data: bytes) -> bytes:
    """``data`` gzipped deterministically (mtime 0)."""
    return gzip.compress(data, mtime=0)


def damaged_gz(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    """Damaged gzip variants of ``data``: truncated stream, flipped byte in the deflate body,
    bad CRC trailer, bad magic."""
    z = gz(data)
    out = [("gz-truncated-half", z[: len(z) // 2]), ("gz-truncated-trailer", z[:-4]), ("gz-header-only", z[:10])]
    body = bytearray(z)
    i = rng.randrange(10, max(11, len(z) - 8))
    body[i] ^= 0xFF
    out.append((f"gz-flip@{i}", bytes(body)))
    crc = bytearray(z)
    crc[-8] ^= 0x01
    out.append(("gz-bad-crc", bytes(crc)))
    out.append(("gz-bad-magic", b"\x1f\x8c" + z[2:]))
    return out


class _Timeout(BaseException):
    pass


def outcome(case: Case, timeout: float = 10.0) -> tuple[str, str]:
    """Run ``case``; return ``(outcome, detail)`` where outcome is one of :data:`OUTCOMES`."""
    with tempfile.TemporaryDirectory(prefix="nlpta-fuzz-") as tmp:
        folder = Path(tmp)
        for name, data in case.files.items():
            p = folder / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
        old = None
        if use_alarm:
            def _raise(signum, frame):
                raise _Timeout()

            old = signal.signal(signal.SIGALRM, _raise)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            result = case.load(folder)
            got = case.normalize(result)
        except _Timeout:
            return "hang", f"still running after {timeout:.0f} s"
        except NlptaError as e:
            msg = str(e)
            fname = case.error_file or next(iter(case.files))
            named = Path(fname).name in msg
            if case.expect is not ERROR:
                return "rejected", msg
            if named and (case.line is None or f":{case.line}" in msg or f"line {case.line}" in msg):
                return "located", msg
            return "clear", msg
        except Exception as e:  # noqa: BLE001 -- classifying it is the point
            tb = traceback.format_exception_only(type(e), e)[-1].strip()
            return "raw", tb
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        if case.expect is ERROR:
            return "silent", f"accepted: {_short(got)}"
        if got == case.expect:
            return "ok", ""
        return "silent", f"loaded {_short(got)}, expected {_short(case.expect)}"


def _short(x: Any, n: int = 200) -> str:
    s = repr(x)
    return s if len(s) <= n else s[:n] + "..."


def all_cases(seed: int = 0, formats: tuple[str, ...] = FORMAT_MODULES) -> list[Case]:
    """Every case of every format module (each seeded with ``seed``)."""
    out: list[Case] = []
    for mod in formats:
        out += importlib.import_module(f"{__name__}.{mod}").cases(seed)
    return out


def tally(cases: list[Case], timeout: float = 10.0) -> dict[str, dict[str, int]]:
    """``{format: {outcome: count}}`` over ``cases``."""
    counts: dict[str, dict[str, int]] = {}
    for c in cases:
        o, _ = outcome(c, timeout=timeout)
        row = counts.setdefault(c.format, dict.fromkeys(OUTCOMES, 0))
        row[o] += 1
    return counts
