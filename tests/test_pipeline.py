"""`nlpta run` end to end: on files written by the test (no corpus needed) and on a tiny real task."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from nlpta.cli import main
from nlpta.pipeline import run_task
from nlpta.tasks import DataSpec, TaskSpec, TransferTask

POS_WORDS = ["great", "excellent", "love", "perfect", "wonderful", "sturdy"]
NEG_WORDS = ["awful", "broken", "terrible", "waste", "refund", "flimsy"]
FILLER = ["the", "it", "this", "product", "was", "really", "and", "i", "very", "a"]


def _reviews(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = ["text\tlabel"]
    for i in range(n):
        y = i % 2
        words = rng.choices(FILLER, k=8) + rng.choices(POS_WORDS if y else NEG_WORDS, k=2)
        rng.shuffle(words)
        lines.append(" ".join(words) + f"\t{y}")
    path.write_text("\n".join(lines) + "\n")


def test_run_on_files_writes_run_folder(tmp_path):
    _reviews(tmp_path / "src.tsv", 200, 1)
    _reviews(tmp_path / "tgt.tsv", 80, 2)
    task = tmp_path / "task.yaml"
    task.write_text(
        "name: toy\ntask: sentiment\nsource: {corpus: src.tsv}\ntarget: {corpus: tgt.tsv}\nseeds: [1, 2]\n"
    )
    out = tmp_path / "run"
    rc = main(["run", str(task), "--out", str(out)])
    assert rc == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "toy" and m["method"] == "none" and m["seeds"] == [1, 2]
    assert m["summary"]["accuracy"]["n"] == 2
    assert m["summary"]["accuracy"]["mean"] > 0.9  # the planted words separate the classes
    assert m["runs"][0]["n"] == 80
    preds = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 160 and {p["seed"] for p in preds} == {1, 2}
    report = (out / "report.md").read_text()
    assert "toy" in report and "Accuracy" in report
    assert (out / "task.yaml").exists()


def test_run_bad_method_exits_2(tmp_path, capsys):
    _reviews(tmp_path / "a.tsv", 20, 1)
    task = tmp_path / "task.yaml"
    task.write_text("name: toy\ntask: sentiment\nsource: {corpus: a.tsv}\ntarget: {corpus: a.tsv}\n")
    rc = main(["run", str(task), "--method", "nope", "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "unknown method 'nope'" in capsys.readouterr().err


def test_tiny_real_pos_task(tmp_path, data_root):
    spec = TaskSpec(
        name="tiny-pos", task="pos",
        source=DataSpec("ud:en_ewt", split="train", domain="email", limit=300),
        target=DataSpec("ud:en_ewt", split="test", domain="reviews", limit=100),
        seeds=[1],
    )
    r = run_task(spec, out_dir=tmp_path / "pos")
    acc = r.accuracy
    assert 0.70 < acc < 0.99
    m = json.loads((tmp_path / "pos" / "metrics.json").read_text())
    assert m["unit"] == "token" and set(m["summary"]["per_domain"]) == {"reviews"}
    assert "NOUN" in m["runs"][0]["per_tag"]


def test_tiny_real_sentiment_in_domain_beats_chance(tmp_path, data_root):
    spec = TaskSpec(
        name="tiny-senti", task="sentiment",
        source=DataSpec("mdsd:books", split="train", limit=400),
        target=DataSpec("mdsd:kitchen", split="test"),
        seeds=[1, 2],
        params={"Cs": [10.0]},
    )
    none = run_task(spec, write=False)
    ind = run_task(spec, method="in-domain", write=False)
    assert none.metrics["runs"][0]["n"] == 400
    assert none.accuracy > 0.6
    # in-domain (1,600 kitchen reviews) beats books-trained with 400 reviews
    assert ind.accuracy > none.accuracy


def test_seed_sets_blitzer_split(data_root):
    spec = TaskSpec(name="s", task="sentiment", source=DataSpec("mdsd:books", split="train"),
                    target=DataSpec("mdsd:kitchen", split="test"))
    a, b, a2 = TransferTask(spec, seed=1), TransferTask(spec, seed=2), TransferTask(spec, seed=1)
    assert a.target["id"] == a2.target["id"]
    assert a.target["id"] != b.target["id"]
    assert not set(a.source["id"]) & set(a.target["id"])


def test_in_domain_without_train_split_is_a_clear_error(data_root):
    from nlpta.errors import TaskSpecError

    spec = TaskSpec(name="x", task="pos", source=DataSpec("ud:en_ewt", split="train"),
                    target=DataSpec("ud:de_pud", split="test"))
    with pytest.raises(TaskSpecError, match="no train split"):
        spec.target_train()


def test_shipped_sentiment_task_via_cli_reports_pool(tmp_path, data_root, capsys):
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "bk"
    rc = main(["run", str(root / "tasks" / "senti-books-to-kitchen.yaml"), "--seed", "1", "--param", "Cs=[10.0]",
               "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and str(out / "report.md") in printed
    m = json.loads((out / "metrics.json").read_text())
    pool = m["data"]["unlabeled"]["pool"]
    assert pool["removed_labeled"] > 0 and pool["kept"] == m["data"]["unlabeled"]["rows"]
    assert m["params"] == {"Cs": [10.0]}
    assert 0.70 < m["summary"]["accuracy"]["mean"] < 0.90
    assert "Unlabeled pool" in (out / "report.md").read_text()


def test_in_domain_on_a_single_target_file_needs_target_labeled(tmp_path):
    from nlpta import data
    from nlpta.errors import NlptaError, TaskSpecError

    _reviews(tmp_path / "a.tsv", 20, 1)
    spec = TaskSpec(name="x", task="sentiment", source=DataSpec(str(tmp_path / "a.tsv")),
                    target=DataSpec(str(tmp_path / "a.tsv")))
    with pytest.raises(TaskSpecError, match="single file"):
        spec.target_train()
    with pytest.raises(NlptaError, match="no splits"):
        data.load(str(tmp_path / "a.tsv"), split="test")


def test_run_folder_task_yaml_reruns(tmp_path):
    _reviews(tmp_path / "src.tsv", 100, 1)
    _reviews(tmp_path / "tgt.tsv", 40, 2)
    spec = TaskSpec(name="toy", task="sentiment", source=DataSpec(str(tmp_path / "src.tsv")),
                    target=DataSpec(str(tmp_path / "tgt.tsv")), params={"Cs": [1.0]}, seeds=[3])
    first = run_task(spec, out_dir=tmp_path / "r1")
    again = run_task(tmp_path / "r1" / "task.yaml", out_dir=tmp_path / "r2")
    assert again.metrics["params"] == {"Cs": [1.0]} and again.metrics["seeds"] == [3]
    assert again.accuracy == first.accuracy


def test_diagnose_contexts_option_injects_the_scorer():
    """``diagnose: {contexts: embeddings}`` (and ``nlpta diagnose --contexts embeddings``) pass a
    semantic-shift scorer into the evaluators, which import no method family themselves."""
    from nlpta.embeddings.shift import semantic_shift
    from nlpta.pipeline import context_options

    opts = context_options("embeddings", seed=3)
    assert opts["mode"] == "unlabeled" and opts["scorer"].func is semantic_shift
    assert opts["scorer"].keywords["seed"] == 3
    assert context_options("words", 0) == {"contexts": "words"}
