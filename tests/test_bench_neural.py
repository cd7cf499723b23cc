"""The prepared GPU grid of ``scripts/bench_neural.py`` (issue 21), checked without a GPU and without
training: every configuration builds a valid task and a method that accepts its parameters, whose
LoRA settings inject into the architecture of the model it names; every section is a GPU section
with its seeds; each render puts the goal beside its anchor (from results computed by the section's
own ``compute`` against a fake runner); a missing section says "not regenerated"; ``use_rslora``,
``use_dora`` and ``targets: all-linear`` reach peft."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from nlpta.bench import missing_text, render_page
from nlpta.bench.runner import target_label
from nlpta.errors import NlptaError
from nlpta.tasks import TaskSpec, parse_task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from finetune_helpers import import_script, tiny_bert  # noqa: E402  (tests/ is on sys.path)

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
# the architecture of each zoo model the grid names (its config.json's model_type)
MODEL_TYPES = {"mpnet-base": "mpnet", "multilingual-e5-small": "bert"}
PROV = {"device": "cpu", "devices": ["2 × Test CPU (CPU) + Test GPU (GPU)"], "versions": {"nlpta": "0.1.0"},
        "commit": "abc", "command": "python scripts/bench_neural.py", "compute_seconds": 3.0, "runs": 1, "cached": 0}


@pytest.fixture(scope="module")
def bn():
    return import_script("bench_neural")


@pytest.fixture(scope="module")
def bert(tmp_path_factory) -> Path:
    return tiny_bert(tmp_path_factory.mktemp("bert"))


# ------------------------------------------------------------------------- configurations
def _data_specs(spec: TaskSpec) -> list:
    out = list(spec.sources) + [spec.target]
    return out + [x for x in (spec.unlabeled, spec.target_labeled) if x is not None]


def _tiny_model(model_type: str, kind: str):
    from transformers import (
        AutoConfig,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
    )

    cfg = AutoConfig.for_model(model_type, vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=64, num_labels=2 if kind == "sentiment" else 17)
    auto = AutoModelForSequenceClassification if kind == "sentiment" else AutoModelForTokenClassification
    return auto.from_config(cfg)


def test_every_configuration_builds_a_task_and_a_method(bn):
    from peft import get_peft_model

    from nlpta.data.registry import get_corpus
    from nlpta.methods import get_method
    from nlpta.methods.finetune import _Transformer

    counts = {name: len(fn([1])) for name, fn in bn.REQUESTS.items()}
    assert counts == {"neural-blitzer": 60, "neural-lora-gap": 24, "neural-webis": 27, "neural-xpos": 2,
                      "neural-hard-en": 8}
    assert len(bn.blitzer_requests(range(1, 11))) == 600
    # the gap table's full fine-tuning and r 8 q,v runs are the 12-pair table's (one cache entry each)
    blitzer = bn.blitzer_requests([1])
    assert sum(r in blitzer for r in bn.gap_requests([1])) == 2 * 2
    injected: dict = {}
    for name, fn in bn.REQUESTS.items():
        for req in fn([1]):
            spec = req["task"]
            assert isinstance(spec, TaskSpec) and parse_task(spec.to_dict()).to_dict() == spec.to_dict()
            for d in _data_specs(spec) + list(req.get("targets", ())):
                assert d.split in get_corpus(d.corpus).splits, (name, d.describe())
            assert req["isolate"] is True and req["record"] == ("info_",) and req["seed"] == 1
            m = get_method(req["method"], spec.task, seed=1, **req["params"])
            assert isinstance(m, _Transformer)
            p = m.params
            gap = name == "neural-lora-gap"  # the only grid that varies epochs and learning rate
            assert p["batch_size"] == 32 and (p["epochs"] == 3 or (gap and p["epochs"] == 1))
            assert p["max_length"] == (256 if spec.task == "sentiment" else 128)
            kw = m._model_kwargs()
            lc = kw["lora_config"]
            if req["method"] == "full-ft":
                assert lc is None and p["lr"] == 2e-5
                continue
            assert p["lr"] == 2e-4 or (gap and p["lr"] == 5e-4)
            if req["method"] in ("lora-dapt", "udalm", "lora-self-train"):
                assert spec.unlabeled is not None, (name, req["method"])
            # the LoRA settings must find their modules in the named model's architecture
            key = (p["model"], spec.task, repr(lc.target_modules), lc.use_dora)
            if key not in injected:
                net = get_peft_model(_tiny_model(MODEL_TYPES[p["model"]], spec.task),
                                     replace(lc, task_type=None, modules_to_save=["classifier"]))
                injected[key] = sum(1 for n, _ in net.named_modules() if n.endswith("lora_A"))
                assert injected[key] > 0, key
    # q,v on one MPNet layer: 2 adapted projections; all-linear: q, k, v, o and the two feed-forward layers
    assert injected[("mpnet-base", "sentiment", repr({"q", "v"}), False)] == 2
    assert injected[("mpnet-base", "sentiment", repr("all-linear"), False)] == 6
    assert injected[("multilingual-e5-small", "sentiment", repr({"query", "value"}), False)] == 2


def test_sections_are_gpu_sections_with_their_seeds(bn, monkeypatch):
    by = {s.name: s for s in bn.SECTIONS}
    assert list(by) == ["neural-blitzer", "neural-lora-gap", "neural-webis", "neural-xpos", "neural-hard-en",
                        "neural-throughput"]
    assert all(s.gpu and s.script == "scripts/bench_neural.py" for s in by.values())
    assert by["neural-blitzer"].seeds == list(range(1, 11)) and by["neural-lora-gap"].seeds == [1, 2, 3, 4, 5]
    assert all(by[n].seeds == [1, 2, 3] for n in ("neural-webis", "neural-xpos", "neural-hard-en"))
    assert by["neural-throughput"].seeds == [1]
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import bench

    names = [s.name for s in bench.all_sections()]
    assert names.count("neural-blitzer") == 1 and set(by) <= set(names)
    assert names.index("finetune-xling") < names.index("neural-blitzer")


def test_a_missing_section_says_not_regenerated(bn, tmp_path):
    for s in bn.SECTIONS:
        page = render_page([s], tmp_path)
        assert missing_text(s, tmp_path) in page
        assert "**Not regenerated**" in page and f"`python scripts/bench_neural.py --only {s.name}`" in page


# --------------------------------------------------------------------------------- renders
BASE = {"lora": 0.88, "full-ft": 0.90, "lora-dapt": 0.87, "udalm": 0.93, "lora-self-train": 0.885}
SHARE = {(8, False): 0.008, (16, False): 0.011, (64, False): 0.027, (8, True): 0.017, (16, True): 0.029}


class FakeBench:
    """Answers ``prefetch`` / ``run`` / ``measure`` as the runner does, with planted numbers:
    accuracy = the method's base (+ 2 points for an all-linear adapter) + 0.2 points per seed."""

    def __init__(self, bn) -> None:
        self.bn, self.prefetched, self.ran, self.measured = bn, [], [], []

    def prefetch(self, requests) -> None:
        self.prefetched += [dict(r) for r in requests]

    def run(self, task, method, seed, params=None, *, targets=(), record=(), isolate=None, subprocess=False) -> dict:
        self.ran.append({"task": task, "method": method, "seed": seed, "params": params, "targets": targets,
                         "record": record, "isolate": isolate})
        p = params or {}
        linear = p.get("targets") == "all-linear"
        acc = BASE[method] + (0.02 if linear else 0.0) + 0.002 * (seed - 1)
        share = 1.0 if method == "full-ft" else SHARE[(p["r"], linear)]
        info = {"train": {"seconds": 20.0, "steps": 150, "epochs": 3.0},
                "trainable": {"trainable": int(share * 109_000_000), "total": 109_000_000, "share": share}}
        return {"accuracy": acc, "fit_seconds": 30.0, "peak_rss_mb": 3000.0, "peak_gpu_mb": 6000.0,
                "per_domain": {"legal": {"accuracy": acc}, "poetry": {"accuracy": acc - 0.1}},
                "targets": {target_label(t): {"accuracy": acc - 0.01} for t in targets},
                "model": {"info_": info}}

    def measure(self, fn, seed=None, **config) -> dict:
        self.measured.append((fn.__name__, config))
        if fn is self.bn.adapter_size:
            return {"bytes": 4 * 2 ** 20, "files": {"adapter_model.safetensors": 4 * 2 ** 20}}
        assert fn is self.bn.throughput
        return {"train_examples_per_s": 250.0, "train_steps": 100, "train_seconds": 12.8, "infer_per_s": 900.0,
                "infer_unit": "reviews" if config["kind"] == "sentiment" else "words", "infer_units": 2000,
                "infer_seconds": 2.2, "peak_gpu_mb": 5120.0, "gpu": "Test GPU",
                "trainable": {"trainable": 1, "total": 100, "share": 0.01}}


def _render(bn, name: str, seeds=(1, 2, 3)) -> tuple[str, FakeBench]:
    s = next(x for x in bn.SECTIONS if x.name == name)
    fake = FakeBench(bn)
    res = s.compute(fake, list(seeds))
    stored = json.loads(json.dumps({"name": s.name, "seeds": list(seeds), "results": res, "provenance": PROV}))
    return s.render(stored), fake  # rendered from the JSON as stored (string seed keys)


def test_blitzer_render_puts_the_goal_beside_udalm(bn):
    md, fake = _render(bn, "neural-blitzer")
    assert len(fake.prefetched) == 12 * 5 * 3 and len(fake.ran) == 12 * 5 * 3
    assert all(r["isolate"] and r["record"] == ("info_",) for r in fake.ran)
    assert "| books → dvd | 88.2 ± 0.5 | 90.2 ± 0.5 | 87.2 ± 0.5 | 93.2 ± 0.5 | 88.7 ± 0.5 | +5.0 ± 0.0 |" in md
    assert "| **average (12 pairs)** | **88.2 ± 0.5** |" in md
    assert "91.74" in md and "**Goal: 12-pair average ≥ 92.0.**" in md
    assert "`udalm` 93.2 ± 0.5 **met**" in md and "`lora` 88.2 ± 0.5 not met (-3.8)" in md
    assert "Best: `udalm`." in md
    assert "| kitchen | 88.2 ± 0.5 |" in md and "| 93.77 |" in md  # per target, beside the published figure
    assert "batch 32" in md and "lr 2e-4" in md and "2e-5" in md and "3 epochs" in md
    assert "Seeds: 1,2,3" in md and "Test GPU" in md


def test_lora_gap_render_marks_the_goal(bn):
    md, fake = _render(bn, "neural-lora-gap", seeds=(1, 2, 3, 4, 5))
    assert len(fake.ran) == 2 * 12 * 5
    sizes = [c for n, c in fake.measured if n == "adapter_size"]
    assert len(sizes) == 12 and {"targets": "all-linear"}.items() <= sizes[4]["params"].items()
    assert "| reference |" in md
    assert "| full fine-tuning | 109,000,000 (100.00%) | 4.0 MB | 90.4 ± 0.4 | 90.4 ± 0.4 | — |" in md
    # all-linear: 2 points over the q,v adapters, level with full fine-tuning; met where ≤ 2% is trained
    assert "| r 8 all-linear | 1,853,000 (1.70%) | 4.0 MB | 90.4 ± 0.4 | 90.4 ± 0.4 | +0.0 ± 0.0 | 20 | 6,000 | **met** |" in md
    assert "| r 16 all-linear | 3,161,000 (2.90%) | 4.0 MB | 90.4 ± 0.4 | 90.4 ± 0.4 | +0.0 ± 0.0 | 20 | 6,000 | " \
           "within, but > 2% trained |" in md
    assert "| r 8 q,v | 872,000 (0.80%) | 4.0 MB | 88.4 ± 0.4 | 88.4 ± 0.4 | -2.0 ± 0.0 | 20 | 6,000 | below |" in md
    assert "interval's lower end, 90.4 ± 0.4) while training ≤ 2% of the parameters.** " \
           "Met by: r 8 all-linear; r 8 all-linear, DoRA." in md


def test_webis_render_shows_anchors_and_goals(bn):
    md, fake = _render(bn, "neural-webis")
    assert len(fake.ran) == 3 * 3 * 3 * 3
    zero_shot = [r for r in fake.ran if r["method"] == "lora"]
    assert zero_shot and all(r["task"].unlabeled is None for r in zero_shot)
    assert all(r["task"].unlabeled is not None for r in fake.ran if r["method"] != "lora")
    assert all(r["task"].target.split == "test" and r["task"].target.limit is None for r in fake.ran)
    assert "| de books | 88.2 ± 0.5 | 87.2 ± 0.5 | 93.2 ± 0.5 |" in md
    assert "| de | 88.2 ± 0.5 | 87.2 ± 0.5 | 93.2 ± 0.5 | 84.0 | 88.1 | ≥ 88.5 | `udalm` **met** |" in md
    assert "| fr |" in md and "| 88.4 | 89.3 | ≥ 89.5 |" in md and "| 85.0 | 84.5 | ≥ 85.5 |" in md


def test_xpos_render_shows_anchors_and_goals(bn):
    md, fake = _render(bn, "neural-xpos")
    assert {r["method"] for r in fake.ran} == {"lora", "full-ft"}
    assert all(len(r["targets"]) == 5 and all(t.limit is None for t in r["targets"]) for r in fake.ran)
    assert "| de GSD (`ud:de_gsd` test) | 88.2 ± 0.5 | 90.2 ± 0.5 | 88.61 | ≥ 89.0 | `full-ft` **met** |" in md
    assert "| fr GSD (`ud:fr_gsd` test) | 87.2 ± 0.5 | 89.2 ± 0.5 | 87.44 | ≥ 88.0 | `full-ft` **met** |" in md
    assert "| es GSD (`ud:es_gsd` test) | 87.2 ± 0.5 | 89.2 ± 0.5 | 90.28 | ≥ 90.5 | `full-ft` not met (-1.3) |" in md
    assert "| de PUD (`ud:de_pud` test) | 87.2 ± 0.5 | 89.2 ± 0.5 | — | — | — |" in md


def test_hard_english_render_shows_anchors_and_goals(bn):
    md, fake = _render(bn, "neural-hard-en")
    assert len(fake.ran) == 2 * 4 * 3
    assert all((r["task"].unlabeled is None) == (r["method"] == "lora") for r in fake.ran)
    tb = [r["task"] for r in fake.ran if r["task"].target.corpus == "tweebank" and r["task"].unlabeled]
    assert tb and all(t.unlabeled.split == "train" and not t.unlabeled.labeled for t in tb)
    selft = [r for r in fake.ran if r["method"] == "lora-self-train"]
    assert len(selft) == 2 * 3 and all(r["params"]["rounds"] == 2 and r["params"]["threshold"] == 0.9 for r in selft)
    assert "| GENTLE | 88.2 ± 0.5 | 93.2 ± 0.5 | 87.2 ± 0.5 | 88.7 ± 0.5 | 87.5 | ≥ 92 | `udalm` **met** |" in md
    assert "| Tweebank v2 | 88.2 ± 0.5 | 93.2 ± 0.5 | 87.2 ± 0.5 | 88.7 ± 0.5 | 77.1 | ≥ 88 | `udalm` **met** |" in md
    assert "| poetry | 78.2 ± 0.5 | 83.2 ± 0.5 | 77.2 ± 0.5 | 78.7 ± 0.5 |" in md


def test_throughput_render(bn, monkeypatch):
    monkeypatch.setattr(bn, "bf16_supported", lambda: True)
    md, fake = _render(bn, "neural-throughput", seeds=(1,))
    runs = [c for n, c in fake.measured if n == "throughput"]
    assert [(c["kind"], c["method"], c["precision"]) for c in runs][:2] == [("sentiment", "lora", "fp32"),
                                                                          ("sentiment", "lora", "bf16")]
    assert len(runs) == 8 and all(c["params"]["batch_size"] == 32 for c in runs)
    assert "| sentiment | `lora` | bf16 | 250 | 900 reviews/s | 5,120 | 1.00% |" in md
    assert "| pos | `full-ft` | fp32 | 250 | 900 words/s |" in md
    monkeypatch.setattr(bn, "bf16_supported", lambda: False)
    md, fake = _render(bn, "neural-throughput", seeds=(1,))
    assert "bf16 |" not in md and "fp32 only" in md


# ------------------------------------------------------------------ LoRA parameters to peft
def test_rslora_dora_and_all_linear_reach_the_lora_config():
    from nlpta.methods import get_method

    plain = get_method("lora", "pos", seed=1)._model_kwargs()["lora_config"]
    assert set(plain.target_modules) == {"query", "value"} and not plain.use_rslora and not plain.use_dora
    lc = get_method("udalm", "sentiment", seed=1, targets="all-linear", use_rslora=True,
                    use_dora=True)._model_kwargs()["lora_config"]
    assert lc.target_modules == "all-linear" and lc.use_rslora is True and lc.use_dora is True
    for bad in ({"use_dora": "yes"}, {"use_rslora": 1}, {"targets": "query"}, {"targets": [1]}):
        with pytest.raises(NlptaError, match="E322"):
            get_method("lora", "pos", seed=1, **bad)._model_kwargs()
    assert get_method("full-ft", "pos", seed=1, use_dora=True)._model_kwargs()["lora_config"] is None


def test_rslora_dora_and_all_linear_reach_the_model(bert):
    from nlpta.methods import get_method

    def build(**p):
        am = get_method("lora", "sentiment", seed=1, model=str(bert), r=4, alpha=8, **p)._model()
        return am._wrap(am._task_model())

    def lora_layers(net):
        return {n: m for n, m in net.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A}

    qv = lora_layers(build())
    assert len(qv) == 4 and all(n.endswith(("query", "value")) for n in qv)  # 2 layers × query, value
    assert all(m.scaling["default"] == 2.0 and not m.lora_magnitude_vector for m in qv.values())
    every = lora_layers(build(targets="all-linear", use_rslora=True, use_dora=True))
    assert len(every) == 2 * 6 and any(n.endswith("intermediate.dense") for n in every)
    assert not any("classifier" in n or "pooler" in n for n in every)  # the head is trained whole
    assert all(m.scaling["default"] == 8 / math.sqrt(4) and "default" in m.lora_magnitude_vector
               for m in every.values())


def test_adapter_size_measures_what_save_pretrained_writes(bn, bert):
    qv = bn.adapter_size("lora", "sentiment", {"model": str(bert), "r": 4, "alpha": 8})
    wide = bn.adapter_size("lora", "sentiment", {"model": str(bert), "r": 4, "alpha": 8, "targets": "all-linear"})
    full = bn.adapter_size("full-ft", "sentiment", {"model": str(bert)})
    assert list(qv["files"]) == ["adapter_model.safetensors"] and list(full["files"]) == ["model.safetensors"]
    # fp32 safetensors: 4 bytes a parameter plus a small header
    for r in (qv, wide):
        assert 4 * r["trainable"] < r["bytes"] < 4 * r["trainable"] + 16_384
    assert 4 * full["total"] < full["bytes"] < 4 * full["total"] + 16_384 and full["share"] == 1.0
    assert wide["trainable"] > qv["trainable"] and 0 < qv["share"] < wide["share"] < 1


def test_targets_that_match_no_layer_name_the_model_s_layers(bert):
    """MPNet calls its attention projections q/k/v/o, so the default [query, value] targets match
    nothing there: a clear E322 listing the model's linear layers, not peft's raw ValueError."""
    from nlpta.errors import NlptaError
    from nlpta.methods import get_method

    am = get_method("lora", "sentiment", seed=1, model=str(bert), r=4, alpha=8, targets=["q", "v"])._model()
    with pytest.raises(NlptaError, match=r"E322.*targets.*query.*value"):
        am._wrap(am._task_model())


@pytest.mark.data
def test_preflight_fits_each_distinct_configuration_and_reports_failures(bn, bert, require_corpus):
    """``--preflight``: one 2-step fit per distinct configuration (seed 1), every stage of the
    method run (DAPT, the masked-LM loss), target rows predicted; a failure is a row, not a stop."""
    for name in ("webis:en/books", "webis:de/books", "ud:en_ewt", "ud:de_gsd"):
        require_corpus(name)
    confs = bn.preflight_configs()
    every = [r for fn in bn.REQUESTS.values() for r in fn([1])]
    # each request's configuration is among them once (the gap table's full-ft is the 12-pair table's)
    shrunk = {bn.preflight_key(r["method"], r["task"], r["params"]) for _, r in confs}
    assert len(shrunk) == len(confs) < len(every)
    assert {r["method"] for _, r in confs} == {r["method"] for r in every}
    assert all(r["params"]["max_steps"] == 2 and r["params"]["max_examples"] == 48 for _, r in confs)
    assert all(r["params"].get("dapt_steps") == 2 for _, r in confs if r["method"] == "lora-dapt")
    # the Webis grid has 27 requests (9 cells x 3 methods) but 3 distinct configurations
    webis = bn.preflight_configs(["neural-webis"])
    assert len(webis) == 3 and {r["method"] for _, r in webis} == {"lora", "lora-dapt", "udalm"}
    rows = bn.preflight(["neural-webis"], model=str(bert))  # query / value: BERT names, as in e5-small
    assert [r["ok"] for r in rows] == [True] * 3, [r.get("error") for r in rows]
    assert all(r["model"] == str(bert) and r["seconds"] > 0 for r in rows)
    bad = bn.preflight(["neural-xpos"], model=str(bert / "missing"))
    assert len(bad) == 2 and not any(r["ok"] for r in bad) and all("missing" in r["error"] for r in bad)
