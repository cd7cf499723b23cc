"""nlpta.bench: cache keys, reuse, failures, provenance in tables, paired intervals, assembly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nlpta.bench import (
    HEADER,
    Bench,
    BenchError,
    Section,
    assemble_markdown,
    cache_key,
    compute_section,
    main,
    provenance_line,
    render_page,
)
from nlpta.bench.cache import hash_code, package_files
from nlpta.bench.specs import blitzer
from nlpta.bench.stats import below, fmt_ci, fmt_paired, mean_over, paired, verdict

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


# ----------------------------------------------------------------------------- cache keys
def test_cache_key_changes_with_each_part():
    t = blitzer("books", "kitchen", limit=100)
    base = cache_key(t, "none", {}, 1, "v1")
    assert base == cache_key(blitzer("books", "kitchen", limit=100), "none", {}, 1, "v1")
    others = [
        cache_key(blitzer("books", "dvd", limit=100), "none", {}, 1, "v1"),  # task
        cache_key(blitzer("books", "kitchen", limit=50), "none", {}, 1, "v1"),  # task (limit)
        cache_key(blitzer("books", "kitchen", limit=100, unlabeled=True), "none", {}, 1, "v1"),  # task (unlabeled)
        cache_key(t, "in-domain", {}, 1, "v1"),  # method
        cache_key(t, "none", {"cv": 3}, 1, "v1"),  # parameters
        cache_key(t, "none", {}, 2, "v1"),  # seed
        cache_key(t, "none", {}, 1, "v2"),  # code version
    ]
    assert len({base, *others}) == len(others) + 1


def test_cache_key_ignores_what_does_not_change_a_result():
    a, b = blitzer("books", "kitchen", limit=100), blitzer("books", "kitchen", limit=100)
    b.name, b.description, b.seeds = "another name", "prose", [7, 8]
    assert cache_key(a, "none", {}, 1, "v") == cache_key(b, "none", {}, 1, "v")
    # the task's own params count when its method is the one run (as run_task merges them)
    b.method, b.params = "none", {"cv": 3}
    assert cache_key(b, "none", {}, 1, "v") == cache_key(a, "none", {"cv": 3}, 1, "v")
    assert cache_key(b, "in-domain", {}, 1, "v") == cache_key(a, "in-domain", {}, 1, "v")


def test_code_version_covers_the_package_but_not_the_runner(tmp_path):
    pkg = tmp_path / "nlpta"
    for rel in ("__init__.py", "pipeline.py", "methods/__init__.py", "bench/runner.py", "bench/frozen.py",
                "cli/run.py"):
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(f"# {rel}\n")
    files = {p.relative_to(pkg).as_posix() for p in package_files(pkg)}
    assert files == {"__init__.py", "pipeline.py", "methods/__init__.py", "bench/frozen.py"}
    v0 = hash_code(package_files(pkg), "0.1.0", pkg)
    assert hash_code(package_files(pkg), "0.2.0", pkg) != v0  # nlpta.__version__
    (pkg / "bench/runner.py").write_text("# changed\n")
    (pkg / "cli/run.py").write_text("# changed\n")
    assert hash_code(package_files(pkg), "0.1.0", pkg) == v0
    (pkg / "methods/__init__.py").write_text("# changed\n")
    assert hash_code(package_files(pkg), "0.1.0", pkg) != v0


# ----------------------------------------------------------------------------- reuse and failure
def counted(calls: list, x: int) -> dict:
    calls.append(x)
    return {"value": x * 2}


def test_measure_is_cached_and_keyed_by_config_and_version(tmp_path):
    calls: list = []
    b = Bench(tmp_path, version="v1", log=lambda s: None)
    fn = lambda x: counted(calls, x)  # noqa: E731
    assert b.measure(fn, x=3)["value"] == 6
    assert b.measure(fn, x=3)["value"] == 6
    assert calls == [3]
    b.measure(fn, x=4)
    Bench(tmp_path, version="v2", log=lambda s: None).measure(fn, x=3)
    assert calls == [3, 4, 3]
    s = b.usage.summary()
    assert (s["runs"], s["cached"]) == (2, 0) and "device" not in s and s["devices"]


def test_failure_raises_and_is_not_cached(tmp_path):
    b = Bench(tmp_path, version="v1", log=lambda s: None)

    def broken(x):
        raise ValueError("no such thing")

    with pytest.raises(BenchError, match="no such thing"):
        b.measure(broken, x=1)
    assert len(b.cache) == 0


def _section(name: str, compute, seeds=(1, 2, 3), gpu=False) -> Section:
    def render(r):
        return f"## {name}\n\nvalue {r['results'].get('value')}\n\n" + provenance_line(r["provenance"], r["seeds"])

    return Section(name, f"## {name}", compute, render, seeds=list(seeds), gpu=gpu, script="scripts/bench_test.py")


def test_main_exits_nonzero_when_a_run_fails_and_keeps_the_page(tmp_path):
    def fails(bench, seeds):
        bench.measure(lambda: 1 / 0)
        return {}

    out = tmp_path / "BENCH.md"
    out.write_text("old page\n")
    args = ["--cache", str(tmp_path / "c"), "--results", str(tmp_path / "r"), "--out", str(out)]
    ok = _section("fine", lambda bench, seeds: {"value": 1})
    assert main([ok, _section("broken", fails)], argv=args) == 1
    assert out.read_text() == "old page\n"
    assert (tmp_path / "r" / "fine.json").exists() and not (tmp_path / "r" / "broken.json").exists()
    assert main([ok], argv=args) == 0
    assert "value 1" in out.read_text()


def test_a_failing_script_exits_nonzero(tmp_path):
    script = tmp_path / "bench_fail.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from nlpta.bench import Section, main
        def compute(bench, seeds):
            bench.measure(lambda: {{}}[\"missing\"])
        s = Section("x", "## x", compute, lambda r: "", seeds=[1])
        sys.exit(main([s], argv=["--cache", {str(tmp_path / 'c')!r}, "--results", {str(tmp_path / 'r')!r},
                                  "--out", {str(tmp_path / 'B.md')!r}]))
    """))
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert "FAILED in section x" in p.stderr and not (tmp_path / "B.md").exists()


@pytest.mark.data
def test_real_run_is_cached_and_reused(tmp_path, data_root, monkeypatch):
    b = Bench(tmp_path, version="test", log=lambda s: None)
    task = blitzer("books", "kitchen", limit=100)
    r1 = b.run(task, "none", 1)
    assert 0.4 < r1["accuracy"] <= 1 and r1["n"] == 100 and r1["data"]["source"]["rows"] == 100
    import nlpta.bench.runner as runner

    monkeypatch.setattr(runner, "_via_run_task", lambda *a, **k: pytest.fail("recomputed a cached run"))
    r2 = Bench(tmp_path, version="test", log=lambda s: None).run(task, "none", 1)
    assert r2 == r1
    # more targets and recorded attributes: the runner's own fit/evaluate path, under its own key
    r3 = b.run(task, "none", 1, targets=[{"corpus": "mdsd:dvd", "split": "test", "limit": 50}], record=["params"])
    assert r3["accuracy"] == r1["accuracy"] and r3["targets"]["mdsd:dvd split=test limit=50"]["n"] == 50
    assert r3["model"]["params"]["cv"] == 5
    assert b.key(task, "none", 1) != b.key(task, "none", 1, record=["params"])


# ----------------------------------------------------------------------------- statistics
def test_paired_interval_known_answers():
    d = paired({1: 0.5, 2: 0.6, 3: 0.7}, {1: 0.6, 2: 0.7, 3: 0.8, 4: 0.9})
    assert d["seeds"] == [1, 2, 3] and d["mean"] == pytest.approx(0.1) and d["half_width"] == pytest.approx(0)
    d = paired({1: 0, 2: 0, 3: 0}, {1: 1, 2: 2, 3: 3})  # differences 1, 2, 3: mean 2, sd 1
    assert d["mean"] == pytest.approx(2) and d["half_width"] == pytest.approx(4.302652729911275 / 3 ** 0.5)
    assert paired({1: 0.5}, {2: 0.5}) is None
    assert fmt_paired({1: 0, 2: 0, 3: 0}, {1: 0.01, 2: 0.02, 3: 0.03}) == "+2.0 ± 2.5"
    assert fmt_ci({1: 0.8}) == "80.0" and fmt_ci({}) == "—"
    assert fmt_ci({"1": 0.7, "2": 0.9}) == "80.0 ± 127.1"
    assert mean_over([{1: 0.5, 2: 0.7}, {1: 0.7, 2: 0.9, 3: 1.0}]) == {1: 0.6, 2: 0.8}
    assert below({1: 0.5, 2: 0.51}, {1: 0.8, 2: 0.81}) == "▼"
    assert below({1: 0.5, 2: 0.7}, {1: 0.6, 2: 0.8}) == "▽"
    assert below({1: 0.9}, {1: 0.5}) == ""


def test_verdict_cells():
    base = {1: 0.70, 2: 0.72, 3: 0.74}
    assert verdict({1: 0.80, 2: 0.83, 3: 0.84}, base).endswith("helped")
    assert verdict({1: 0.60, 2: 0.61, 3: 0.65}, base).endswith("**hurt**")
    assert verdict({1: 0.71, 2: 0.71, 3: 0.75}, base).endswith("inconclusive")
    assert verdict({1: 0.9}, base) == "—"


# ----------------------------------------------------------------------------- provenance, tables, page
def test_section_table_states_seeds_and_provenance(tmp_path):
    b = Bench(tmp_path / "c", version="v", log=lambda s: None)
    sec = _section("demo", lambda bench, seeds: {"value": bench.measure(lambda s: {"v": s}, s=len(seeds))["v"]})
    r = compute_section(sec, b, tmp_path / "r", seeds=[1, 2])
    stored = json.loads((tmp_path / "r" / "demo.json").read_text())
    assert stored["seeds"] == [1, 2] and stored["results"] == {"value": 2}
    p = stored["provenance"]
    assert p["command"] == "python scripts/bench_test.py --only demo --seeds 1,2"
    assert {"device", "versions", "commit", "code", "wall_seconds", "compute_seconds"} <= set(p)
    md = sec.render(r)
    assert "Seeds: 1,2" in md and p["devices"][0] in md and "nlpta 0.1.0" in md and "commit " in md
    assert "`python scripts/bench_test.py --only demo --seeds 1,2`" in md
    assert "Seeds: none (deterministic)" in provenance_line(p, [])


def test_page_is_assembled_from_fragments_and_marks_missing_gpu_tables(tmp_path):
    text = assemble_markdown(["## A\n\nfirst\n", "  ", "## B"], header="# T")
    assert text == "# T\n\n## A\n\nfirst\n\n## B\n"
    b = Bench(tmp_path / "c", version="v", log=lambda s: None)
    cpu = _section("cpu-table", lambda bench, seeds: {"value": 7})
    gpu = _section("gpu-table", lambda bench, seeds: {"value": 8}, gpu=True)
    compute_section(cpu, b, tmp_path / "r")
    page = render_page(["## Intro\n\nprose", cpu, gpu], tmp_path / "r")
    assert page.startswith(HEADER.strip()) and "no GPU" not in page
    assert page.index("## Intro") < page.index("## cpu-table") < page.index("## gpu-table")
    assert "value 7" in page and "Seeds: 1,2,3" in page
    assert "**Not regenerated**" in page and "make bench-gpu" in page and "value 8" not in page
    compute_section(gpu, b, tmp_path / "r")
    assert "value 8" in render_page([cpu, gpu], tmp_path / "r")


def test_configuration_scripts_define_a_consistent_page(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import bench

    secs = bench.all_sections()
    names = [s.name for s in secs]
    assert len(names) == len(set(names)) and {"blitzer", "pivots-blitzer", "finetune-blitzer"} <= set(names)
    assert all(s.gpu == s.name.startswith(("finetune-", "neural-")) for s in secs)
    assert all(s.script.startswith("scripts/bench") and (SCRIPTS.parent / s.script).exists() for s in secs)


def test_baselines_table_renders_from_results():
    sys.path.insert(0, str(SCRIPTS))
    try:
        import bench
    finally:
        sys.path.remove(str(SCRIPTS))
    pairs = {f"{s}->{t}": {"1": 0.7, "2": 0.72} for s in ("books", "dvd", "electronics", "kitchen")
             for t in ("books", "dvd", "electronics", "kitchen") if s != t}
    ind = {d: {"1": 0.85, "2": 0.87} for d in ("books", "dvd", "electronics", "kitchen")}
    prov = {"device": "cpu", "devices": ["2 × Test CPU (CPU)"], "versions": {"nlpta": "0.1.0"}, "commit": "abc",
            "command": "python scripts/bench.py --only blitzer", "compute_seconds": 3.0, "runs": 32, "cached": 0}
    md = bench.render_blitzer({"results": {"pairs": pairs, "in_domain": ind}, "seeds": [1, 2], "provenance": prov})
    assert "| books → dvd | 71.0 ± 12.7 | 86.0 | 15.0 |" in md
    assert "over 2 seeds." in md and "*Seeds: 1,2 · device: 2 × Test CPU (CPU)" in md


@pytest.mark.data
def test_isolated_and_prefetched_runs_match_in_process(tmp_path, data_root):
    b = Bench(tmp_path, version="test", log=lambda s: None)
    task = blitzer("books", "kitchen", limit=80)
    here = b.run(task, "none", 2)
    alone = b.run(task, "none", 2, isolate=True)
    assert alone["accuracy"] == here["accuracy"] and alone["peak_rss_mb"] > 50
    b.prefetch([{"task": task, "method": "none", "seed": 3}, {"task": task, "method": "in-domain", "seed": 3}], jobs=2)
    n = len(b.cache)
    assert b.run(task, "in-domain", 3)["n"] == 80 and len(b.cache) == n  # read from the cache, not recomputed
    with pytest.raises(BenchError, match="unknown method"):
        b.prefetch([{"task": task, "method": "no-such-method", "seed": 1}])


@pytest.mark.data
def test_frozen_encoder_baseline(tmp_path, data_root):
    from nlpta.errors import NlptaError
    from nlpta.models import resolve

    try:
        resolve("minilm-l6")
    except NlptaError as e:
        pytest.skip(f"MiniLM weights not installed: {e}")
    b = Bench(tmp_path, version="test", log=lambda s: None)
    params = {"max_examples": 60, "max_length": 32, "cv": 2, "device": "cpu"}
    r = b.run(blitzer("books", "kitchen", limit=60), "frozen-encoder", 1, params, record=["C_", "train_rows_"])
    assert r["n"] == 60 and 0.3 <= r["accuracy"] <= 1
    assert r["model"]["train_rows_"] == 60 and r["model"]["C_"] in (0.1, 1.0, 10.0)
