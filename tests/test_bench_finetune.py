"""The CPU-protocol sections of ``scripts/bench_finetune.py`` that issue 21 measures without a GPU
(hard English, the LoRA gap on MiniLM), checked without training: each section's own ``compute``
runs against a fake runner with planted accuracies, and its render (from the JSON as stored) shows
the planted numbers, the paired differences, the anchors and the goal verdicts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from finetune_helpers import import_script  # noqa: E402  (tests/ is on sys.path)

PROV = {"device": "cpu", "devices": ["2 × Test CPU (CPU)"], "versions": {"nlpta": "0.1.0"}, "commit": "abc",
        "command": "python scripts/bench_finetune.py", "compute_seconds": 3.0, "runs": 1, "cached": 0}
# planted target accuracy per method (+ 0.2 points per seed)
BASE = {"lora": 0.86, "full-ft": 0.89, "udalm": 0.87, "lora-self-train": 0.90, "lora-dapt": 0.87}


@pytest.fixture(scope="module")
def bf():
    return import_script("bench_finetune")


class FakeBench:
    def __init__(self) -> None:
        self.prefetched, self.ran, self.measured = [], [], []

    def prefetch(self, requests) -> None:
        self.prefetched += [dict(r) for r in requests]

    def run(self, task, method, seed, params=None, *, targets=(), record=(), isolate=None) -> dict:
        self.ran.append({"task": task, "method": method, "seed": seed, "params": params, "record": record,
                         "isolate": isolate})
        p = params or {}
        acc = BASE[method] + 0.002 * (seed - 1)
        if p.get("use_dora") or p.get("targets") == "all-linear":
            acc += 0.03  # level with full fine-tuning
        if method == "lora-dapt" and p.get("dapt_warmup") == 0:
            acc -= 0.05  # a DAPT stage without the head warm-up
        share = 1.0 if method == "full-ft" else (0.02 if p.get("targets") == "all-linear" else 0.01) * (
            {16: 2, 4: 0.5}.get(p.get("r"), 1))
        info = {"train": {"seconds": 100.0, "steps": 100, "epochs": 1.0, "mlm_warmup_steps": 125},
                "trainable": {"trainable": int(share * 22_700_000), "total": 22_700_000, "share": share},
                "self_training": {"rounds": [{"round": 1, "selected": 900}]} if method == "lora-self-train" else None,
                "dapt": {"steps": 100, "head_warmup_steps": 0 if p.get("dapt_warmup") == 0 else 50,
                         "losses": [{"step": 50, "loss": 9.0}, {"step": 100, "loss": 7.0}]}
                if method == "lora-dapt" else None}
        from nlpta.bench import target_label

        # each extra target 1 point under the one before it
        extra = {target_label(t): {"accuracy": acc - 0.01 * (i + 1)} for i, t in enumerate(targets)}
        return {"accuracy": acc, "peak_rss_mb": 1800.0, "model": {"info_": info}, "n_rows": 400,
                "predict_seconds": 8.0, "targets": extra,
                "per_domain": {"legal": {"accuracy": acc}, "poetry": {"accuracy": acc - 0.1}}}

    def measure(self, fn, seed=None, **config) -> dict:
        self.measured.append((fn.__name__, config))
        if fn.__name__ == "throughput":  # planted: MiniLM 40 examples/s, e5 half of it, mpnet a quarter
            speed = {"minilm-l6": 40.0, "multilingual-e5-small": 20.0, "mpnet-base": 10.0}[config["params"]["model"]]
            return {"train_examples_per_s": speed, "infer_per_s": 10 * speed,
                    "infer_unit": "reviews" if config["kind"] == "sentiment" else "words",
                    "trainable": {"share": 1.0 if config["method"] == "full-ft" else 0.01}}
        return {"bytes": 2 ** 20}


def _render(bf, name: str, seeds=(1, 2, 3)) -> tuple[str, FakeBench]:
    s = next(x for x in bf.SECTIONS if x.name == name)
    assert s.gpu and s.seeds == list(seeds)
    fake = FakeBench()
    res = s.compute(fake, list(seeds))
    stored = json.loads(json.dumps({"name": s.name, "seeds": list(seeds), "results": res, "provenance": PROV}))
    return s.render(stored), fake


def test_hard_english_cpu_section(bf):
    md, fake = _render(bf, "finetune-hard-en")
    assert len(fake.prefetched) == len(fake.ran) == 2 * 3 * 3
    assert all(r["isolate"] and r["record"] == ("info_",) for r in fake.ran)
    # only the adapting methods read target text; Tweebank's is its train split without tags
    assert all((r["task"].unlabeled is None) == (r["method"] == "lora") for r in fake.ran)
    tb = [r["task"] for r in fake.ran if r["task"].target.corpus == "tweebank" and r["task"].unlabeled]
    assert tb and all(t.unlabeled.split == "train" and not t.unlabeled.labeled for t in tb)
    assert all(r["params"]["max_examples"] == 4000 and r["params"]["lr"] == 2e-3 for r in fake.ran)
    assert "| GENTLE | 86.2 ± 0.5 | 87.2 ± 0.5 | 90.2 ± 0.5 | +1.0 ± 0.0 | +4.0 ± 0.0 | 87.5 | ≥ 92 | " \
           "`lora-self-train` not met (-1.8) |" in md
    assert "| Tweebank v2 | 86.2 ± 0.5 |" in md and "| 77.1 | ≥ 88 |" in md
    assert "| poetry | 76.2 ± 0.5 | 77.2 ± 0.5 | 80.2 ± 0.5 |" in md
    assert "Seeds: 1,2,3" in md


def test_lora_gap_cpu_section(bf):
    md, fake = _render(bf, "finetune-lora-gap")
    assert len(fake.ran) == len(bf.GAP_CPU) * 3
    assert all(r["task"].name == "books->kitchen" and r["task"].unlabeled is not None for r in fake.ran)
    sizes = [c for n, c in fake.measured if n == "adapter_size"]
    assert len(sizes) == len(bf.GAP_CPU) and sizes[0]["method"] == "full-ft"
    assert "| full fine-tuning | 22,700,000 (100.00%) | 1.0 MB | 89.2 ± 0.5 | — | 100 | 1800 | reference |" in md
    assert "| r 8 q,v | 227,000 (1.00%) | 1.0 MB | 86.2 ± 0.5 | -3.0 ± 0.0 | 100 | 1800 | below |" in md
    assert "| r 8 q,v, DoRA | 227,000 (1.00%) | 1.0 MB | 89.2 ± 0.5 | +0.0 ± 0.0 | 100 | 1800 | **met** |" in md
    assert "| r 16 all-linear | 908,000 (4.00%) | 1.0 MB | 89.2 ± 0.5 | +0.0 ± 0.0 | 100 | 1800 | " \
           "within, but > 2% trained |" in md
    assert "| r 4 all-linear | 227,000 (1.00%) | 1.0 MB | 89.2 ± 0.5 | +0.0 ± 0.0 | 100 | 1800 | **met** |" in md
    assert "Met by: r 4 all-linear; r 8 q,v, DoRA." in md


def test_dapt_warmup_cpu_section(bf):
    md, fake = _render(bf, "finetune-dapt-warmup")
    assert len(fake.ran) == 3 * 3
    dapt = [r for r in fake.ran if r["method"] == "lora-dapt"]
    assert len(dapt) == 6 and sum(r["params"].get("dapt_warmup") == 0 for r in dapt) == 3
    assert all("dapt_warmup" not in r["params"] for r in dapt if r["params"].get("dapt_warmup") != 0)
    # its lora runs are the very requests of the LoRA-gap section's "r 8 q,v" (shared cache entries)
    gap = bf.gap_cpu_request("r 8 q,v", 1)
    lora = [r for r in fake.ran if r["method"] == "lora"]
    assert len(lora) == 3 and all(r["params"] == gap["params"] and r["task"] == gap["task"] for r in lora)
    assert "| books → kitchen | 86.2 ± 0.5 | 82.2 ± 0.5 | 87.2 ± 0.5 | +5.0 ± 0.0 | +1.0 ± 0.0 |" in md
    assert "9.00 → 7.00 without the warm-up" in md and "(warm-up steps: 50;" in md


def test_xling_cpu_section_covers_the_full_test_sets_and_all_webis_cells(bf):
    md, fake = _render(bf, "finetune-xling")
    assert len(fake.prefetched) == len(fake.ran) == (2 + 3) * 3  # 2 POS configurations + 3 Webis domains, 3 seeds
    assert all(r["method"] == "lora" and r["isolate"] and r["task"].unlabeled is None for r in fake.ran)
    pos = [r for r in fake.ran if r["task"].task == "pos"]
    # the full test sets: no row limit on any target
    assert all(r["task"].target.limit is None and r["task"].target.split == "test" for r in fake.ran)
    assert {r["task"].target.corpus for r in pos} == {"ud:de_gsd"}
    assert sum(r["params"].get("targets") == "all-linear" for r in pos) == 3
    sent = [r for r in fake.ran if r["task"].task == "sentiment"]
    assert {r["task"].source.corpus for r in sent} == {"webis:en/books", "webis:en/dvd", "webis:en/music"}
    # German GSD is the run's own target; French GSD the first extra target (1 point under)
    assert "| de GSD (`ud:de_gsd` test) | 86.2 ± 0.5 | 89.2 ± 0.5 | +3.0 ± 0.0 | 88.61 | ≥ 89.0 | " \
           "`lora r 4 all-linear` met on the mean |" in md
    assert "| fr GSD (`ud:fr_gsd` test) | 85.2 ± 0.5 | 88.2 ± 0.5 | +3.0 ± 0.0 | 87.44 | ≥ 88.0 |" in md
    assert "| es PUD (`ud:es_pud` test) | 81.2 ± 0.5 | 84.2 ± 0.5 | +3.0 ± 0.0 | — | — | — |" in md
    assert "| de | 86.2 ± 0.5 | 86.2 ± 0.5 | 86.2 ± 0.5 | 86.2 ± 0.5 | 84.0 | 88.1 | ≥ 88.5 | not met (-2.3) |" in md
    assert "| jp | 84.2 ± 0.5 |" in md
    assert "50.0 test sentences / s predicted" in md and "16.0 training reviews / s" in md


def test_throughput_cpu_section_puts_each_model_beside_minilm(bf):
    md, fake = _render(bf, "finetune-throughput", seeds=(1,))
    assert len(fake.measured) == 3 * 4 and all(n == "throughput" for n, _ in fake.measured)
    cfg = [c for _, c in fake.measured]
    assert all(c["precision"] == "fp32" and c["train_steps"] == bf.CPU_THROUGHPUT_STEPS for c in cfg)
    lora = [c["params"] for c in cfg if c["method"] == "lora"]
    assert {tuple(p["targets"]) for p in lora} == {("query", "value"), ("q", "v")}
    assert all("targets" not in c["params"] for c in cfg if c["method"] == "full-ft")
    assert "| mpnet-base | sentiment | `lora` | 10.0 | 0.25× | 100 reviews/s | 0.25× | 1.00% |" in md
    assert "| multilingual-e5-small | pos | `full-ft` | 20.0 | 0.50× | 200 words/s | 0.50× | 100.00% |" in md


def test_xpos_data_section_pairs_the_sample_with_all_of_ewt(bf):
    md, fake = _render(bf, "finetune-xpos-data")
    assert len(fake.prefetched) == len(fake.ran) == 2 * 3  # 3,000 sentences and all of EWT, 3 seeds
    assert all(r["method"] == "lora" and r["isolate"] and r["task"].task == "pos" for r in fake.ran)
    assert all(r["params"]["targets"] == "all-linear" and r["params"]["r"] == 4 for r in fake.ran)
    assert sorted({r["params"]["max_examples"] for r in fake.ran}, key=str) == [3000, None]
    # the 3,000-sentence runs ask exactly what the xling section's all-linear runs ask (one cache entry)
    xling = bf.xling_configs()[1][3]
    assert next(r["params"] for r in fake.ran if r["params"]["max_examples"] == 3000) == xling
    assert all(r["task"].target.limit is None for r in fake.ran)
    # planted: the same accuracy for both sizes, so the paired difference is 0 and the goal verdicts follow
    assert ("| de GSD (`ud:de_gsd` test) | 89.2 ± 0.5 | 89.2 ± 0.5 | +0.0 ± 0.0 | 88.61 | ≥ 89.0 | "
            "met on the mean |") in md
    assert "| es PUD (`ud:es_pud` test) | 84.2 ± 0.5 | 84.2 ± 0.5 | +0.0 ± 0.0 | — | — | — |" in md
    assert "1.7 min of training per run (16.0 sentences / s)" in md


def test_xsent_linear_section_covers_every_webis_cell(bf):
    md, fake = _render(bf, "finetune-xsent-linear")
    assert len(fake.prefetched) == len(fake.ran) == 3 * 3  # 3 Webis domains, 3 seeds
    assert all(r["method"] == "lora" and r["task"].task == "sentiment" and r["task"].unlabeled is None
               and r["params"]["targets"] == "all-linear" and r["task"].target.limit is None for r in fake.ran)
    assert {r["task"].source.corpus for r in fake.ran} == {"webis:en/books", "webis:en/dvd", "webis:en/music"}
    # German is each run's own target; French 1 point under it, Japanese 2 (the fake's extra targets)
    assert "| de | 89.2 ± 0.5 | 89.2 ± 0.5 | 89.2 ± 0.5 | 89.2 ± 0.5 | 84.0 | 88.1 | ≥ 88.5 | **met** |" in md
    assert "| fr | 88.2 ± 0.5 | 88.2 ± 0.5 | 88.2 ± 0.5 | 88.2 ± 0.5 | 88.4 | 89.3 | ≥ 89.5 | not met (-1.3) |" in md
    assert "| jp | 87.2 ± 0.5 |" in md
