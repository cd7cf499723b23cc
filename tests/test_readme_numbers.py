"""The README quotes no figure that BENCHMARKS.md lacks: every measured number in the README's
prose (a decimal like ``77.4``, an interval like ``± 0.9``, a signed gain like ``+3.6``) appears in
BENCHMARKS.md, which ``make bench`` writes from computed results."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![\w.])[+−-]?\d+\.\d+(?: ± \d+\.\d+)?(?![\w.])")


def _prose(text: str) -> str:
    text = re.sub(r"```.*?```", "", text, flags=re.S)   # code blocks: examples, not results
    text = re.sub(r"`[^`]*`", "", text)                  # inline code: parameters, versions
    return text


def readme_figures() -> set[str]:
    prose = _prose((ROOT / "README.md").read_text(encoding="utf-8"))
    # the error-code table and version numbers are not measurements
    prose = re.sub(r"^\|.*\|$", "", prose, flags=re.M)
    prose = re.sub(r"\s+", " ", prose)  # a figure broken over two lines is still one figure
    return {m.group(0).replace("−", "-") for m in NUMBER.finditer(prose)}


def test_every_readme_figure_is_in_benchmarks():
    bench = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8").replace("−", "-")
    bench_numbers = {m.group(0) for m in NUMBER.finditer(bench)}
    bench_numbers |= {n.lstrip("+") for n in bench_numbers}
    missing = sorted(f for f in readme_figures() if f not in bench_numbers and f.lstrip("+") not in bench_numbers)
    assert not missing, f"README figures not in BENCHMARKS.md: {missing}"


def test_the_check_sees_figures():
    figs = readme_figures()
    assert "77.4 ± 0.9" in figs, sorted(figs)  # an interval is checked as one figure
