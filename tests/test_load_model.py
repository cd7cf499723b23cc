"""Every registered method is a thing a user can keep: fitted on a tiny task, saved, read back
with :func:`nlpta.load_model` (no pickle anywhere in the folder), it predicts exactly what the
fitted object predicted. A method added to the registry without a case here fails the first test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from finetune_helpers import tiny_bert  # noqa: E402  (tests/ is on sys.path)

import nlpta
from nlpta.errors import NlptaError
from nlpta.methods import METHODS, MODEL_FILE
from nlpta.tasks import DataSpec, TaskSpec, TransferTask

BLITZER = dict(source=DataSpec("mdsd:books", split="train", limit=160),
               target=DataSpec("mdsd:kitchen", split="test", limit=40),
               unlabeled=DataSpec("mdsd:kitchen", split="unlabeled", labeled=False, limit=200))
EWT = dict(source=DataSpec("ud:en_ewt", split="train", domain="email", limit=120),
           target=DataSpec("ud:en_ewt", split="test", domain="reviews", limit=30),
           unlabeled=DataSpec("ud:en_ewt", split="train", domain="reviews", labeled=False, limit=120))
WEBIS = dict(source=DataSpec("webis:en/dvd", split="train", limit=200),
             target=DataSpec("webis:fr/dvd", split="test", limit=40),
             unlabeled=DataSpec("webis:fr/dvd", split="train", labeled=False, limit=300))
MULTI = dict(source=[DataSpec("mdsd:books", split="train", limit=100), DataSpec("mdsd:dvd", split="train", limit=100)],
             target=DataSpec("mdsd:kitchen", split="test", limit=40),
             unlabeled=DataSpec("mdsd:kitchen", split="unlabeled", labeled=False, limit=200))

_TINY = {"max_steps": 2, "max_length": 32, "batch_size": 8, "max_examples": 32, "eval_batch_size": 16}

# method -> (kind, data, params); "{bert}" is replaced by a tiny random BERT folder
CASES: dict[str, list[tuple[str, dict, dict]]] = {
    "none": [("sentiment", BLITZER, {"Cs": [1.0]}), ("pos", EWT, {"max_iter": 50})],
    "in-domain": [("sentiment", {**BLITZER, "target_labeled": DataSpec("mdsd:kitchen", split="train", limit=80)},
                   {"Cs": [1.0]})],
    "scl": [("sentiment", BLITZER, {"n_pivots": 30, "h": 10}), ("pos", EWT, {})],
    "scl-mi": [("sentiment", BLITZER, {"n_pivots": 30, "h": 10})],
    "sfa": [("sentiment", BLITZER, {"n_pivots": 30, "h": 10})],
    "cl-scl": [("sentiment", WEBIS, {})],
    "dict-translate": [("sentiment", WEBIS, {})],
    "reweight-clf": [("sentiment", BLITZER, {"Cs": [1.0]}), ("pos", EWT, {"max_iter": 50})],
    "kmm": [("sentiment", BLITZER, {"Cs": [1.0]})],
    "kliep": [("sentiment", BLITZER, {"Cs": [1.0]})],
    "ms-weighted": [("sentiment", MULTI, {"Cs": [1.0]})],
    "ms-ensemble": [("sentiment", MULTI, {"Cs": [1.0]})],
    "dann": [("sentiment", BLITZER, {"epochs": 2, "max_features": 500})],
    "lora": [("sentiment", BLITZER, {"model": "{bert}", **_TINY}), ("pos", EWT, {"model": "{bert}", **_TINY})],
    "lora-dapt": [("sentiment", BLITZER, {"model": "{bert}", "dapt_steps": 2, "dapt_examples": 32, **_TINY})],
    "full-ft": [("pos", EWT, {"model": "{bert}", **_TINY})],
    "lora-dann": [("sentiment", BLITZER, {"model": "{bert}", "max_unlabeled": 32, **_TINY})],
    "udalm": [("sentiment", BLITZER, {"model": "{bert}", "max_unlabeled": 32, **_TINY}),
              ("pos", EWT, {"model": "{bert}", "max_unlabeled": 32, "task_weight": 0.7, **_TINY})],
    "lora-self-train": [("pos", EWT, {"model": "{bert}", "max_unlabeled": 32, "rounds": 1, "threshold": None,
                                      "top_share": 0.5, **_TINY})],
    "coral": [("sentiment", BLITZER, {"Cs": [1.0], "svd_dim": 40})],
    "label-shift": [("sentiment", BLITZER, {"Cs": [1.0], "folds": 2, "n_bootstrap": 20}),
                    ("pos", EWT, {"max_iter": 50, "folds": 2, "n_bootstrap": 20})],
    "self-train": [("sentiment", BLITZER, {"Cs": [1.0], "rounds": 1}),
                   ("pos", EWT, {"max_iter": 50, "rounds": 1, "threshold": None, "top_share": 0.5})],
}


# cross-lingual `align` needs two vector spaces: its round trip (English -> a pseudo-language with
# rotated GloVe, vector files deleted before loading) is in tests/test_models.py
ELSEWHERE = {"align": ("test_models.py", "test_align_saves_the_vectors_it_predicts_with")}


def test_every_registered_method_has_a_case():
    missing = sorted(set(METHODS) - set(CASES) - set(ELSEWHERE))
    assert not missing, f"add a round-trip case for {missing}"
    for f, name in ELSEWHERE.values():
        assert f"def {name}(" in (Path(__file__).parent / f).read_text(encoding="utf-8")


def _params(params: dict, bert: Path, method: str, kind: str) -> dict:
    out = {k: (str(bert) if v == "{bert}" else v) for k, v in params.items()}
    defaults = METHODS[method].defaults.get(kind, {})
    return {k: v for k, v in out.items() if k in defaults}


@pytest.fixture(scope="module")
def bert(tmp_path_factory) -> Path:
    return tiny_bert(tmp_path_factory.mktemp("bert"))


CASE_IDS = [(m, i) for m in sorted(CASES) for i in range(len(CASES[m]))]


@pytest.mark.data
@pytest.mark.parametrize("method,i", CASE_IDS, ids=[f"{m}-{CASES[m][i][0]}" for m, i in CASE_IDS])
def test_fit_save_load_model_predicts_the_same(method, i, tmp_path, bert, data_root):
    kind, spec_kw, params = CASES[method][i]
    params = _params(params, bert, method, kind)
    spec = TaskSpec(name=f"rt-{method}", task=kind, method=method, **spec_kw)
    task = TransferTask(spec, seed=1)
    m = nlpta.get_method(method, kind, seed=1, **params).fit(task)
    before = m.predict(task.target)
    folder = m.save(tmp_path / "model")
    assert (folder / MODEL_FILE).is_file()
    for f in folder.rglob("*"):
        assert f.suffix not in (".pkl", ".pickle", ".pt", ".bin", ".joblib"), f"{f.name}: pickle-based file"
    loaded = nlpta.load_model(folder)
    assert type(loaded) is type(m) and loaded.task == kind and loaded.seed == 1
    after = loaded.predict(task.target)
    assert after == before
    assert len(before) == len(task.target)


def test_load_model_errors(tmp_path):
    with pytest.raises(NlptaError, match="method.json"):
        nlpta.load_model(tmp_path)
    (tmp_path / MODEL_FILE).write_text('{"method": "nope", "task": "pos", "seed": 1, "params": {}}')
    with pytest.raises(NlptaError, match="unknown method 'nope'"):
        nlpta.load_model(tmp_path)
    (tmp_path / MODEL_FILE).write_text("{not json")
    with pytest.raises(NlptaError, match="unreadable"):
        nlpta.load_model(tmp_path)


@pytest.mark.data
def test_cli_run_save_model_then_load_model(tmp_path, data_root):
    """`nlpta run --save-model` writes one model folder per seed; `nlpta.load_model` reads it back
    and predicts what the run wrote to predictions.jsonl."""
    import json

    from nlpta.cli import main

    task = tmp_path / "t.yaml"
    task.write_text("name: tiny\ntask: sentiment\nsource: {corpus: mdsd:books, split: train, limit: 120}\n"
                    "target: {corpus: mdsd:kitchen, split: test, limit: 30}\nmethod: none\nparams: {Cs: [1.0]}\n")
    out = tmp_path / "run"
    assert main(["run", str(task), "--seeds", "1,2", "--save-model", "--out", str(out)]) == 0
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    for seed in (1, 2):
        model = nlpta.load_model(out / f"model-seed{seed}")
        assert model.seed == seed and model.params["Cs"] == [1.0]
        target = TransferTask(TaskSpec(name="tiny", task="sentiment", source=DataSpec("mdsd:books", split="train", limit=120),
                                       target=DataSpec("mdsd:kitchen", split="test", limit=30)), seed=seed).target
        assert model.predict(target) == [r["pred"] for r in rows if r["seed"] == seed]
