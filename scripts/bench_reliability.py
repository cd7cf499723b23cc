"""Reliability: malformed inputs fed to every reader (corpora, task files, vectors, dictionaries),
and what came out of each.

    python scripts/bench_reliability.py                       # this section, then BENCHMARKS.md
    python scripts/bench_reliability.py --only reliability --out /tmp/page.md

The inputs are the cases of ``nlpta.bench.fuzz`` (the same ones ``tests/test_fuzz.py`` runs):
small valid samples of each format and seeded variants of them -- truncations, byte flips, bad
encodings, wrong column counts, out-of-range values, damaged gzip. Each case ends in one outcome of
:func:`nlpta.bench.fuzz.outcome`.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlpta.bench import Section, main, provenance_line  # noqa: E402

SCRIPT = "scripts/bench_reliability.py"
PREFIX = "reliability"
FUZZ_SEED = 20261207
COLUMNS = [("ok", "loaded right"), ("located", "located error"), ("clear", "other clear error"),
           ("raw", "raw traceback"), ("hang", "hang"), ("silent", "silently accepted"),
           ("rejected", "valid input refused")]


def fuzz_outcomes(seed: int) -> dict:
    """``{format: {"counts": {outcome: n}, "kinds": [variant kinds], "bad": [first failures]}}``."""
    from nlpta.bench.fuzz import OUTCOMES, all_cases, outcome

    out: dict = {}
    for c in all_cases(seed):
        row = out.setdefault(c.format, {"counts": dict.fromkeys(OUTCOMES, 0), "kinds": [], "bad": []})
        o, detail = outcome(c)
        row["counts"][o] += 1
        kind = re.sub(r"(\+gz|\.gz|\+folder)$", "", re.split(r"[@#]", c.name)[0])  # plain and .gz: one kind
        if kind not in row["kinds"]:
            row["kinds"].append(kind)
        if o not in ("ok", "located") and len(row["bad"]) < 5:
            row["bad"].append(f"{c.name}: {o}: {detail[:160]}")
    return out


def compute(bench, seeds: list[int]) -> dict:
    return {"formats": bench.measure(fuzz_outcomes, seed=FUZZ_SEED), "fuzz_seed": FUZZ_SEED}


def render(r: dict) -> str:
    res = {k: v for k, v in r["results"]["formats"].items() if isinstance(v, dict)}  # (the runner adds "device")
    lines = [
        "## Reliability: malformed input to every reader",
        "",
        "Each reader, the task-file parser, the vector loaders and the dictionary loader got small valid inline "
        "samples of their format and seeded variants of them (the cases of `nlpta.bench.fuzz`, which "
        "`tests/test_fuzz.py` also runs). A case passes when it loads exactly the rows a correct reader gives, "
        "or raises an `NlptaError` naming the file (and the line, where there is one: *located error*). "
        "*Other clear error*: an `NlptaError` without the file or line; *raw traceback*: any other exception; "
        "*hang*: over 10 s; *silently accepted*: loaded something other than the right rows, or loaded an input "
        "that had to fail; *valid input refused*: an `NlptaError` for an input that is valid.",
        "",
        "| format | inputs | " + " | ".join(h for _, h in COLUMNS) + " |",
        "|---|---:|" + "---:|" * len(COLUMNS),
    ]
    tot = dict.fromkeys((k for k, _ in COLUMNS), 0)
    for fmt, row in sorted(res.items()):
        c = row["counts"]
        for k, _ in COLUMNS:
            tot[k] += c.get(k, 0)
        lines.append(f"| {fmt} | {sum(c.values())} | " + " | ".join(str(c.get(k, 0)) for k, _ in COLUMNS) + " |")
    lines.append(f"| **all** | **{sum(tot.values())}** | " + " | ".join(f"**{tot[k]}**" for k, _ in COLUMNS) + " |")
    lines += ["", "Inputs tried per format (variant kinds; each plain and gzipped where the reader takes .gz):", ""]
    for fmt, row in sorted(res.items()):
        lines.append(f"- `{fmt}`: " + ", ".join(f"`{k}`" for k in row["kinds"]))
    bad = [(fmt, b) for fmt, row in sorted(res.items()) for b in row["bad"]]
    if bad:
        lines += ["", "Cases that did not pass (first five per format):", ""]
        lines += [f"- `{fmt}` {b}" for fmt, b in bad]
    lines += ["", provenance_line(r["provenance"], None)]
    return "\n".join(lines)


SECTIONS = [Section("reliability", "## Reliability: malformed input to every reader", compute, render, seeds=[],
                    script=SCRIPT)]
PAGE = SECTIONS

if __name__ == "__main__":
    from bench import page

    sys.exit(main(SECTIONS, page, prefix=PREFIX, description=__doc__.splitlines()[0]))
