"""Raw text in, predictions out: ``Method.predict`` / ``Method.annotate`` on strings and the
``nlpta predict`` command, with real models fitted on real corpora (``none`` on 300 EWT sentences
for POS, on 300 Blitzer book reviews for sentiment), saved and read back as a user would.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nlpta
from nlpta.cli import main
from nlpta.data import UPOS_TAGS, iter_conllu
from nlpta.errors import NlptaError
from nlpta.tasks import DataSpec, TaskSpec, TransferTask

pytestmark = [pytest.mark.data, pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]

# Unicode that a tokenizer could get wrong: accents (precomposed and combining), emoji (outside the
# BMP, with a skin-tone modifier and a ZWJ sequence), CJK, an em dash, tabs and runs of spaces
TEXTS = [
    "The café's crème brûlée was great 😀 -- I'd go back!",
    "  Two  spaces, a\ttab, and e\u0301 combining; 👍🏽 and 👨‍👩‍👧 too.  ",
    "東京 is big — really big.",
    "Don't panic.",
]


def _fit(kind: str, **params):
    if kind == "pos":
        spec = TaskSpec(name="p", task="pos", method="none", source=DataSpec("ud:en_ewt", split="train", limit=300),
                        target=DataSpec("ud:en_ewt", split="test", limit=10))
    else:
        spec = TaskSpec(name="s", task="sentiment", method="none",
                        source=DataSpec("mdsd:books", split="train", limit=300),
                        target=DataSpec("mdsd:kitchen", split="test", limit=10))
    return nlpta.get_method("none", kind, seed=1, **params).fit(TransferTask(spec, seed=1))


def _run_folder(root: Path, model, target: str) -> Path:
    """A run folder as ``nlpta run --save-model`` leaves it: task.yaml + model-seed1/."""
    run = root / "run"
    model.save(run / "model-seed1")
    (run / "task.yaml").write_text(f"name: t\ntask: {model.task}\nsource: {{corpus: {target}}}\n"
                                   f"target: {{corpus: {target}, split: test}}\nmethod: none\n", encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def pos_run(tmp_path_factory, data_root) -> Path:
    return _run_folder(tmp_path_factory.mktemp("pos"), _fit("pos", max_iter=20), "ud:en_ewt")


@pytest.fixture(scope="module")
def senti_run(tmp_path_factory, data_root) -> Path:
    return _run_folder(tmp_path_factory.mktemp("senti"), _fit("sentiment", Cs=[1.0]), "mdsd:kitchen")


def _check_offsets(text: str, rec: dict) -> None:
    assert len(rec["tokens"]) == len(rec["offsets"]) == len(rec["tags"]) > 0
    for tok, (a, b) in zip(rec["tokens"], rec["offsets"], strict=True):
        assert text[a:b] == tok
    starts = [a for a, _ in rec["offsets"]]
    assert starts == sorted(starts)
    # no character but whitespace is lost or invented
    assert "".join(rec["tokens"]) == "".join(text.split())
    assert set(rec["tags"]) <= set(UPOS_TAGS)


# ------------------------------------------------------------------ the Python API
def test_pos_predict_on_raw_text_maps_offsets_back(pos_run):
    m = nlpta.load_model(pos_run / "model-seed1")
    recs = m.annotate(TEXTS)
    assert [r["text"] for r in recs] == TEXTS
    for text, rec in zip(TEXTS, recs, strict=True):
        _check_offsets(text, rec)
        assert rec["tokenizer"].startswith("spacy")
    assert "😀" in recs[0]["tokens"] and "e\u0301" in recs[1]["tokens"]  # offsets count code points
    assert "東京" in recs[2]["tokens"]
    assert m.predict(TEXTS) == [r["tags"] for r in recs]
    # the same tokens given as rows (a list of dicts, or a Dataset of the POS schema) get the same tags
    rows = [{"id": f"r{i}", "tokens": r["tokens"]} for i, r in enumerate(recs)]
    assert m.predict(rows) == [r["tags"] for r in recs]
    assert m.predict(m.rows(rows)) == [r["tags"] for r in recs]
    again = m.annotate(rows)
    assert [r["id"] for r in again] == ["r0", "r1", "r2", "r3"] and all(r["tokenizer"] is None for r in again)
    assert [r["tags"] for r in again] == [r["tags"] for r in recs]
    for r in again:  # tokens without a text: joined by spaces, offsets into that text
        _check_offsets(r["text"], r)
    assert m.predict([]) == [] and m.annotate([]) == []


def test_model_language_comes_from_the_run_folder(pos_run, tmp_path):
    assert nlpta.load_model(pos_run / "model-seed1").language() == "en"
    run = tmp_path / "fr"
    shutil.copytree(pos_run, run)
    (run / "task.yaml").write_text("name: t\ntask: pos\nsource: {corpus: ud:en_ewt}\ntarget: {corpus: ud:fr_gsd}\n")
    m = nlpta.load_model(run / "model-seed1")
    assert m.language() == "fr"
    rec = m.annotate(["Aujourd'hui, j'ai vu l'école."])[0]
    assert rec["tokenizer"].endswith(":fr") or "fr_" in rec["tokenizer"]
    _check_offsets("Aujourd'hui, j'ai vu l'école.", rec)
    assert m.annotate(["Don't."], lang="en")[0]["tokens"] == ["Do", "n't", "."]


def test_sentiment_label_and_probability(senti_run):
    m = nlpta.load_model(senti_run / "model-seed1")
    texts = ["A wonderful, moving book; I loved every page.", "Boring and badly written. A waste of money.",
             "ok 🙂"]
    recs = m.annotate(texts)
    assert [r["text"] for r in recs] == texts
    assert [r["label"] for r in recs] == m.predict(texts)
    proba = m.model_.predict_proba(texts)  # the fitted classifier itself
    for r, row in zip(recs, proba, strict=True):
        assert r["probability"] == pytest.approx(float(row.max()))
        assert 0.5 <= r["probability"] <= 1.0
        assert list(m.model_.classes_)[int(row.argmax())] == r["label"]
    assert recs[0]["label"] == 1 and recs[1]["label"] == 0
    assert m.predict([{"id": "x", "text": texts[0]}]) == [1]


def test_probability_is_none_when_predict_takes_another_path(senti_run):
    """A method whose labels are not its final estimator's gets ``probability: None``, not a
    probability of some other label."""
    base = nlpta.load_model(senti_run / "model-seed1")

    class Flipped(type(base)):
        def predict(self, ds):
            return [1 - int(y) for y in self.model_.predict(ds["text"])]

    m = Flipped(task="sentiment", seed=1, Cs=[1.0])
    m.model_ = base.model_
    recs = m.annotate(["A wonderful book."])
    assert recs[0]["label"] == 1 - base.predict(["A wonderful book."])[0]
    assert recs[0]["probability"] is None


def test_predict_input_errors(pos_run, senti_run):
    pos = nlpta.load_model(pos_run / "model-seed1")
    senti = nlpta.load_model(senti_run / "model-seed1")
    with pytest.raises(NlptaError, match=r"\[E330\].*single string"):
        pos.predict("The cat sat.")
    with pytest.raises(NlptaError, match=r"\[E330\]"):
        senti.annotate(42)
    with pytest.raises(NlptaError, match=r"\[E331\] item 1 .*int"):
        pos.predict(["ok", 3])
    with pytest.raises(NlptaError, match=r"\[E331\] row 0 .*'tokens'.*'text'"):
        pos.predict([{"words": ["a"]}])
    with pytest.raises(NlptaError, match=r"\[E331\] row 0 .*no 'text'"):
        senti.predict([{"tokens": ["great"]}])
    with pytest.raises(NlptaError, match=r"\[E331\] row 0 .*list of strings"):
        pos.predict([{"tokens": "a b"}])
    with pytest.raises(NlptaError, match=r"\[E113\]"):
        pos.annotate(["x"], lang="qq")


# ------------------------------------------------------------------ nlpta predict
def test_cli_predict_pos_jsonl_conllu_csv(pos_run, tmp_path, capsys):
    lines = TEXTS[:2] + ["", "   "] + TEXTS[2:]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    by_line = {i + 1: t for i, t in enumerate(lines) if t.strip()}
    out = {f: tmp_path / f"out.{f}" for f in ("jsonl", "conllu", "csv")}
    for f, path in out.items():
        assert main(["predict", str(pos_run), "--input", str(src), "--format", f, "--out", str(path)]) == 0
    recs = [json.loads(x) for x in out["jsonl"].read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in recs] == sorted(by_line)  # blank lines skipped, line numbers kept
    for r in recs:
        assert r["text"] == by_line[r["line"]]
        _check_offsets(r["text"], r)
    # CoNLL-U: read back by nlpta's own strict reader; TokenRange points into `# text`
    sents = list(iter_conllu(out["conllu"]))
    assert [s["tokens"] for s in sents] == [r["tokens"] for r in recs]
    assert [s["upos"] for s in sents] == [r["tags"] for r in recs]
    blocks = out["conllu"].read_text(encoding="utf-8").strip("\n").split("\n\n")
    for block, r in zip(blocks, recs, strict=True):
        text = next(x for x in block.splitlines() if x.startswith("# text = "))[len("# text = "):]
        assert text == r["text"].replace("\t", " ")
        for row in (x.split("\t") for x in block.splitlines() if not x.startswith("#")):
            rng = next(v for v in row[9].split("|") if v.startswith("TokenRange="))
            a, b = map(int, rng.removeprefix("TokenRange=").split(":"))
            assert r["text"][a:b] == row[1]
    # CSV: one row per token
    with out["csv"].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(len(r["tokens"]) for r in recs)
    for row in rows:
        assert by_line[int(row["line"])][int(row["start"]):int(row["end"])] == row["token"]
    assert [row["tag"] for row in rows] == [t for r in recs for t in r["tags"]]
    assert "wrote" in capsys.readouterr().err


def test_cli_predict_jsonl_rows_and_sentiment(senti_run, pos_run, tmp_path):
    src = tmp_path / "rows.jsonl"
    src.write_text('{"id": "a", "text": "A wonderful, moving book. I loved it."}\n\n'
                   '{"id": "b", "text": "Boring. A waste of money.", "label": 0}\n', encoding="utf-8")
    out = tmp_path / "s.jsonl"
    assert main(["predict", str(senti_run / "model-seed1"), "--input", str(src), "--out", str(out)]) == 0
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["id"], r["label"]) for r in recs] == [(1, "a", 1), (3, "b", 0)]
    assert all(0.5 <= r["probability"] <= 1 for r in recs)
    assert main(["predict", str(senti_run), "--input", str(src), "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["id"], int(r["label"])) for r in rows] == [("a", 1), ("b", 0)]
    assert [float(r["probability"]) for r in rows] == pytest.approx([r["probability"] for r in recs], abs=1e-6)
    # POS rows that come with tokens keep them
    toks = tmp_path / "toks.jsonl"
    toks.write_text('{"tokens": ["I", "like", "New", "York", "."]}\n', encoding="utf-8")
    assert main(["predict", str(pos_run), "--input", str(toks), "--out", str(out)]) == 0
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["tokens"] == ["I", "like", "New", "York", "."] and rec["text"] == "I like New York ."
    assert rec["offsets"][2] == [7, 10] and len(rec["tags"]) == 5


def test_cli_predict_through_a_pipe(pos_run):
    """stdin -> nlpta predict -> stdout, in a child process with a non-UTF-8 locale."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": ""}
    data = ("\n".join(TEXTS) + "\n").encode("utf-8")
    res = subprocess.run([sys.executable, "-m", "nlpta", "predict", str(pos_run), "--input", "-", "--out", "-",
                          "--batch-size", "2"], input=data, capture_output=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr.decode()
    recs = [json.loads(x) for x in res.stdout.decode("utf-8").splitlines()]
    assert [r["text"] for r in recs] == TEXTS
    for r in recs:
        _check_offsets(r["text"], r)


class _Input:
    """A stdin whose ``buffer`` yields ``n`` lines and counts how many were taken."""

    def __init__(self, n: int) -> None:
        self.n, self.taken = n, 0
        self.buffer = self

    def __iter__(self):
        for i in range(self.n):
            self.taken += 1
            yield f"review {i}: {'great, I loved it' if i % 2 else 'dull and a waste of money'}\n".encode()


class _Output:
    """A stdout whose ``buffer`` records, at every write, how many input lines had been taken."""

    def __init__(self, source: _Input) -> None:
        self.source, self.buffer, self.writes = source, self, []
        self.data = bytearray()

    def write(self, b: bytes) -> int:
        self.writes.append((self.source.taken, self.data.count(b"\n")))
        self.data += b
        return len(b)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False


def test_cli_predict_streams_100k_lines(senti_run, monkeypatch):
    """100,000 input lines: the output of each batch is written before the next batch is read, so
    at no point are more than two batches of input held."""
    n, batch = 100_000, 5_000
    src = _Input(n)
    dst = _Output(src)
    monkeypatch.setattr(sys, "stdin", src)
    monkeypatch.setattr(sys, "stdout", dst)
    assert main(["predict", str(senti_run), "--input", "-", "--out", "-", "--format", "csv",
                 "--batch-size", str(batch)]) == 0
    assert src.taken == n
    assert dst.writes and dst.writes[0][0] <= batch + 1
    assert all(taken - done <= 2 * batch for taken, done in dst.writes)
    rows = list(csv.reader(io.StringIO(dst.data.decode("utf-8"))))
    assert len(rows) == n + 1 and rows[0] == ["line", "id", "label", "probability", "text"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, n + 1))
    labels = [int(r[2]) for r in rows[1:]]
    assert labels[1] == 1 and labels[0] == 0 and set(labels) == {0, 1}
    assert all(0.5 <= float(r[3]) <= 1 for r in rows[1:])


def test_cli_predict_errors(pos_run, senti_run, tmp_path, capsys, monkeypatch):
    def err(*argv) -> str:
        capsys.readouterr()
        assert main(["predict", *argv]) == 2
        return capsys.readouterr().err

    src = tmp_path / "in.txt"
    src.write_text("fine\n", encoding="utf-8")
    out = str(tmp_path / "o.jsonl")
    two = tmp_path / "two"
    shutil.copytree(pos_run, two)
    shutil.copytree(pos_run / "model-seed1", two / "model-seed7")
    assert "[E915]" in (e := err(str(two), "--input", str(src), "--out", out)) and "--seed" in e and "1, 7" in e
    assert "[E915]" in (e := err(str(two), "--seed", "3", "--input", str(src), "--out", out)) and "seeds 1, 7" in e
    assert main(["predict", str(two), "--seed", "7", "--input", str(src), "--out", out]) == 0
    assert "[E915]" in err(str(tmp_path / "nope"), "--input", str(src), "--out", out)
    assert "[E915]" in err(str(tmp_path), "--input", str(src), "--out", out)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", True)
    assert "[E917]" in err("nobody-here/no-such-model", "--input", str(src), "--out", out)
    assert "[E916]" in err(str(pos_run), "--input", str(tmp_path / "missing.txt"), "--out", out)
    assert "[E912]" in err(str(senti_run), "--input", str(src), "--format", "conllu", "--out", out)
    assert "[E912]" in err(str(pos_run), "--input", str(src), "--batch-size", "0", "--out", out)
    assert "[E113]" in err(str(pos_run), "--input", str(src), "--lang", "qq", "--out", out)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": 5}\n', encoding="utf-8")
    assert f"[E102] {bad}:2:" in err(str(pos_run), "--input", str(bad), "--out", out)
    bad.write_text('{"text": "ok"}\n{"text": "a", "text": "b"}\n', encoding="utf-8")
    assert f"[E102] {bad}:2:" in (e := err(str(pos_run), "--input", str(bad), "--out", out)) and "duplicate" in e
    bad.write_text('{"text": "ok"}\n[1, 2]\n', encoding="utf-8")
    assert f"[E102] {bad}:2:" in err(str(pos_run), "--input", str(bad), "--out", out)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("fine\ncaf\u00e9\n".encode("latin-1"))
    assert f"[E102] {latin}:2:" in err(str(pos_run), "--input", str(latin), "--out", out)
    assert not Path(out + ".tmp").exists() and not any(p.name.startswith(".o.jsonl.") for p in tmp_path.iterdir())
    # a failed run leaves an existing output file as it was
    Path(out).write_text("previous\n")
    err(str(pos_run), "--input", str(latin), "--out", out)
    assert Path(out).read_text() == "previous\n"


def test_cli_predict_on_an_adapter_model_folder(tmp_path):
    """A folder written by ``AdapterModel.save_pretrained`` (what ``nlpta push`` uploads) predicts
    with the probability of its label: the softmax of the transformer's logits."""
    import numpy as np
    from finetune_helpers import sentiment_rows, tiny_bert

    from nlpta.finetune.model import AdapterModel
    from nlpta.finetune.trainer import TrainConfig

    m = AdapterModel("sentiment", model=str(tiny_bert(tmp_path / "bert")), max_length=16,
                     train=TrainConfig(max_steps=1, batch_size=8))
    m.fit(sentiment_rows(16))
    folder = m.save_pretrained(tmp_path / "adapter")
    texts = ["the book is great", "an awful broken pan"]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(folder), "--input", str(src), "--out", str(out)]) == 0
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    logits = np.asarray(m.logits(nlpta.get_method("lora", "sentiment").rows(texts)))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert [r["label"] for r in recs] == p.argmax(1).tolist()
    assert [r["probability"] for r in recs] == pytest.approx(p.max(1).tolist(), abs=1e-5)
