"""Own data in every common form (issue 19): POS and sentiment rows round-trip through each
reader ``nlpta.data.load`` knows; raw POS text is tokenized; pools stream to memory-mapped Arrow;
bad rows are located; ``nlpta diagnose`` runs on POS JSONL files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import datasets
import pytest

from nlpta import data
from nlpta.cli import main
from nlpta.data import dataset_meta
from nlpta.errors import NlptaError

ROWS = [
    {"id": "s1", "tokens": ["The", "café", "serves", "crème", "brûlée", "."],
     "upos": ["DET", "NOUN", "VERB", "NOUN", "NOUN", "PUNCT"], "domain": "food", "lang": "en"},
    {"id": "s2", "tokens": ["I", "love", "it", "👍🏽", "!"], "upos": ["PRON", "VERB", "PRON", "SYM", "PUNCT"],
     "domain": "food", "lang": "en"},
    {"id": "s3", "tokens": ["Zürich", "is", "far", "away"], "upos": ["PROPN", "AUX", "ADV", "ADV"],
     "domain": "travel", "lang": "en"},
]
SENT = [
    {"id": "r1", "text": "Great book, \"truly\" great.", "label": 1, "domain": "books", "lang": "en"},
    {"id": "r2", "text": "Boring;\tslow — 2/10", "label": 0, "domain": "books", "lang": "en"},
    {"id": "r3", "text": "Ça marche, merci 😊", "label": 1, "domain": "kitchen", "lang": "fr"},
]


def _same_pos(ds: datasets.Dataset, rows: list[dict], keys=("tokens", "upos")) -> None:
    assert len(ds) == len(rows)
    for got, want in zip(ds, rows, strict=True):
        for k in keys:
            assert got[k] == want[k], k


def _cached(ds: datasets.Dataset, where: Path) -> None:
    """Rows were written to Arrow under ``where`` and are memory-mapped (not an in-memory list)."""
    assert ds.cache_files and all(Path(f["filename"]).is_relative_to(where) for f in ds.cache_files)
    assert isinstance(ds.data, datasets.table.MemoryMappedTable)


# ------------------------------------------------------------------- POS round trips
def test_pos_jsonl_round_trip(tmp_path):
    p = tmp_path / "mine.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    ds = data.load(p, cache_dir=str(tmp_path / "c"))
    _same_pos(ds, ROWS, ("id", "tokens", "upos", "domain", "lang"))
    _cached(ds, tmp_path / "c")
    assert data.task_of(ds) == "pos" and "offsets" not in ds.column_names
    assert data.load(p, domain="travel", cache_dir=str(tmp_path / "c"))["id"] == ["s3"]
    assert len(data.load(p, labeled=False, cache_dir=str(tmp_path / "c"))) == 3
    assert all(u == [] for u in data.load(p, labeled=False, cache_dir=str(tmp_path / "c"))["upos"])
    with pytest.raises(NlptaError) as ei:
        data.load(p, domain="news", cache_dir=str(tmp_path / "c"))
    assert ei.value.code == "E105" and "food (2)" in str(ei.value) and "travel (1)" in str(ei.value)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_pos_table_with_json_list_columns(tmp_path, fmt):
    p = tmp_path / f"mine.{fmt}"
    with open(p, "w", encoding="utf-8", newline="") as fh:
        # TSV has no quoting: fields go in as they are
        w = csv.writer(fh, delimiter=",") if fmt == "csv" else csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE,
                                                                           quotechar=None)
        w.writerow(["sid", "words", "tags", "genre"])
        for r in ROWS:
            w.writerow([r["id"], json.dumps(r["tokens"], ensure_ascii=False), json.dumps(r["upos"]), r["domain"]])
    ds = data.load(p, tokens_column="words", tags_column="tags", id_column="sid", domain_column="genre",
                   lang_code="en", cache_dir=str(tmp_path / "c"))
    _same_pos(ds, ROWS, ("id", "tokens", "upos", "domain", "lang"))


@pytest.mark.parametrize("name", ["mine.tsv", "mine.txt"])
def test_token_per_line_round_trip(tmp_path, name):
    p = tmp_path / name
    p.write_text("\n\n".join("\n".join(f"{t}\t{u}" for t, u in zip(r["tokens"], r["upos"], strict=True))
                             for r in ROWS) + "\n", encoding="utf-8")
    ds = data.load(p, domain_name="mine", cache_dir=str(tmp_path / "c"))
    _same_pos(ds, ROWS)
    assert set(ds["domain"]) == {"mine"}


def test_nltk_word_tag_round_trip_and_tag_maps(tmp_path):
    p = tmp_path / "mine.txt"
    p.write_text("".join(" ".join(f"{t}/{u}" for t, u in zip(r["tokens"], r["upos"], strict=True)) + "\n"
                         for r in ROWS), encoding="utf-8")
    _same_pos(data.load(p, cache_dir=str(tmp_path / "c")), ROWS)
    # the 12 universal tags of Petrov et al. are mapped to UPOS, the raw tag kept in xpos
    q = tmp_path / "uni.txt"
    q.write_text("Dogs/NOUN and/CONJ cats/NOUN ./.\n", encoding="utf-8")
    ds = data.load(q, tagset="universal", cache_dir=str(tmp_path / "c"))
    assert ds[0]["upos"] == ["NOUN", "CCONJ", "NOUN", "PUNCT"] and ds[0]["xpos"] == ["NOUN", "CONJ", "NOUN", "."]
    ds = data.load(q, tag_map={"NOUN": "NOUN", "CONJ": "CCONJ", ".": "PUNCT"}, cache_dir=str(tmp_path / "c"))
    assert ds[0]["upos"] == ["NOUN", "CCONJ", "NOUN", "PUNCT"]


def test_conllu_round_trip(tmp_path):
    p = tmp_path / "mine.conllu"
    blocks = []
    for r in ROWS:
        lines = [f"# sent_id = {r['id']}"] + [f"{i}\t{t}\t_\t{u}\t_\t_\t_\t_\t_\t_"
                                               for i, (t, u) in enumerate(zip(r["tokens"], r["upos"], strict=True), 1)]
        blocks.append("\n".join(lines))
    p.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    _same_pos(data.load(p, cache_dir=str(tmp_path / "c")), ROWS, ("id", "tokens", "upos"))


def test_saved_datasets_folder(tmp_path):
    # nlpta's own schema, and a Hub-style one with class-label tags and other column names
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "own"))
    _same_pos(data.load(tmp_path / "own", cache_dir=str(tmp_path / "c")), ROWS, ("id", "tokens", "upos", "domain"))
    names = sorted({u for r in ROWS for u in r["upos"]})
    feats = datasets.Features({"words": datasets.Sequence(datasets.Value("string")),
                               "pos": datasets.Sequence(datasets.ClassLabel(names=names))})
    hub_like = datasets.Dataset.from_dict(
        {"words": [r["tokens"] for r in ROWS], "pos": [[names.index(u) for u in r["upos"]] for r in ROWS]},
        features=feats)
    datasets.DatasetDict({"train": hub_like, "test": hub_like.select([0])}).save_to_disk(str(tmp_path / "dd"))
    ds = data.load(tmp_path / "dd", split="train", tokens_column="words", tags_column="pos",
                   cache_dir=str(tmp_path / "c"))
    _same_pos(ds, ROWS)
    assert len(data.load(tmp_path / "dd", split="test", tokens_column="words", tags_column="pos",
                         cache_dir=str(tmp_path / "c"))) == 1
    with pytest.raises(NlptaError) as ei:
        data.load(tmp_path / "dd", tokens_column="words", tags_column="pos", cache_dir=str(tmp_path / "c"))
    assert ei.value.code == "E106"
    # sentiment with a class-label column
    sent = datasets.Dataset.from_dict(
        {"review": [r["text"] for r in SENT], "stars": [r["label"] for r in SENT]},
        features=datasets.Features({"review": datasets.Value("string"),
                                    "stars": datasets.ClassLabel(names=["neg", "pos"])}))
    sent.save_to_disk(str(tmp_path / "sent"))
    ds = data.load(tmp_path / "sent", text_column="review", label_column="stars", cache_dir=str(tmp_path / "c"))
    assert ds["text"] == [r["text"] for r in SENT] and ds["label"] == [r["label"] for r in SENT]


# ------------------------------------------------------------- sentiment round trips
def test_sentiment_forms_still_load(tmp_path):
    j = tmp_path / "s.jsonl"
    j.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in SENT), encoding="utf-8")
    c = tmp_path / "s.csv"
    with open(c, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        w.writerows([r["id"], r["text"], r["label"]] for r in SENT)
    lines = tmp_path / "s.txt"
    lines.write_text("".join(r["text"].replace("\t", " ") + "\n" for r in SENT), encoding="utf-8")
    for p, kw in ((j, {"id_column": "id"}), (c, {"id_column": "id"})):
        ds = data.load(p, cache_dir=str(tmp_path / "c"), **kw)
        assert data.task_of(ds) == "sentiment"
        assert ds["text"] == [r["text"] for r in SENT] and ds["label"] == [r["label"] for r in SENT]
        assert ds["id"] == [r["id"] for r in SENT]
    ds = data.load(lines, format="lines", cache_dir=str(tmp_path / "c"))
    assert ds["label"] == [-1] * 3 and ds["text"][2] == SENT[2]["text"]
    assert data.load(lines, task="sentiment", cache_dir=str(tmp_path / "c"))["text"] == ds["text"]


# ----------------------------------------------------------------- raw POS text
def test_raw_text_is_tokenized_unlabeled_pos(tmp_path):
    texts = ["Don't  stop — café au lait 👍🏽!", "Zwei  Biere,\tbitte.", "e.g. the U.S.A. is big"]
    p = tmp_path / "target.txt"
    p.write_text("\n".join(texts) + "\n\n", encoding="utf-8")
    ds = data.load(p, task="pos", cache_dir=str(tmp_path / "c"))
    assert len(ds) == 3 and "offsets" in ds.column_names
    for text, row in zip(texts, ds, strict=True):
        assert row["upos"] == [] and row["tokens"]
        assert [text[a:b] for a, b in row["offsets"]] == row["tokens"]
    assert ds[0]["tokens"][:2] == ["Do", "n't"]
    meta = dataset_meta(ds)
    assert meta["tokenizer"]["tokenizer"].startswith("spacy:en_core_web_sm") and meta["tokenizer"]["lang"] == "en"
    # a text column in JSONL, with the language choosing the tokenizer
    j = tmp_path / "target.jsonl"
    j.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    de = data.load(j, task="pos", lang="de", cache_dir=str(tmp_path / "c"))
    assert dataset_meta(de)["tokenizer"]["tokenizer"] == "spacy.blank:de" and set(de["lang"]) == {"de"}
    assert [texts[1][a:b] for a, b in de[1]["offsets"]] == de[1]["tokens"]
    # without task=pos, the same JSONL is sentiment text
    assert data.task_of(data.load(j, label_column=None, cache_dir=str(tmp_path / "c"))) == "sentiment"


def test_large_pool_streams_to_memory_mapped_arrow(tmp_path):
    n = 200_000
    p = tmp_path / "pool.txt"
    with open(p, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(f"review number {i} says the item is fine\n")
    ds = data.load(p, format="lines", cache_dir=str(tmp_path / "c"))
    assert len(ds) == n and ds[n - 1]["text"] == f"review number {n - 1} says the item is fine"
    _cached(ds, tmp_path / "c")
    assert set(ds.unique("label")) == {-1}


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name,content,code,line", [
    ("a.jsonl", '{"tokens": ["a"], "upos": ["NOUN"]}\n{"tokens": ["b", "c"], "upos": ["NOUN"]}\n', "E102", 2),
    ("b.jsonl", '{"tokens": ["a"], "upos": ["NOUN"]}\n\n{"tokens": ["b"], "upos": ["NN"]}\n', "E104", 3),
    ("c.jsonl", '{"tokens": ["a"], "upos": ["NOUN"]}\n{"tokens": "b c", "upos": []}\n', "E102", 2),
    ("d.jsonl", '{"tokens": ["a"]}\n{"tokens": ["", "x"]}\n', "E102", 2),
    ("e.txt", "The/DET dog/NOUN\nbarks/VERB ./PUNCT now\n", "E102", 2),
    ("f.txt", "The/DET dog/NOUN\nbarks/VRB\n", "E104", 2),
    ("g.tsv", "The\tDET\ndog\tNOUN\n\ncat\tNOUN\nsat\tVERB\tx\n", "E102", 5),
    ("h.csv", 'tokens,upos\n"[""a""]","[""NOUN""]"\n"[a, b]","[]"\n', "E102", 3),
])
def test_bad_rows_are_located(tmp_path, name, content, code, line):
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    with pytest.raises(NlptaError) as ei:
        data.load(p, cache_dir=str(tmp_path / "c"))
    assert ei.value.code == code and ei.value.line == line and ei.value.path == str(p), str(ei.value)


def test_task_mismatch_and_hub_offline(tmp_path, monkeypatch):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    with pytest.raises(NlptaError) as ei:
        data.load(p, task="sentiment", cache_dir=str(tmp_path / "c"))
    assert ei.value.code in ("E102", "E111")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(NlptaError) as ei:
        data.load("hf:someone/some_dataset", split="train", config="default")
    assert ei.value.code == "E114" and "offline" in str(ei.value) and "someone/some_dataset" in str(ei.value)


# ------------------------------------------------------------------ diagnose CLI
@pytest.mark.data
def test_diagnose_on_own_pos_jsonl(tmp_path, require_corpus, capsys):
    require_corpus("ud:en_ewt")
    for role, split, dom in (("s", "train", "email"), ("t", "dev", "reviews")):
        ds = data.load("ud:en_ewt", split=split, domain=dom).select(range(300))
        with open(tmp_path / f"{role}.jsonl", "w", encoding="utf-8") as fh:
            for r in ds:
                fh.write(json.dumps({k: r[k] for k in ("id", "tokens", "upos", "domain", "lang")},
                                    ensure_ascii=False) + "\n")
    src = data.load(tmp_path / "s.jsonl", cache_dir=str(tmp_path / "c"))
    assert src["tokens"] == data.load("ud:en_ewt", split="train", domain="email").select(range(300))["tokens"]
    rc = main(["diagnose", "--source", str(tmp_path / "s.jsonl"), "--target", str(tmp_path / "t.jsonl"),
               "--task", "pos", "--permutations", "20", "--no-plots", "--out", str(tmp_path / "d")])
    assert rc == 0
    rep = json.loads((tmp_path / "d" / "bias.json").read_text())
    assert rep["task"] == "pos" and rep["summary"]["oov_token_rate"] > 0.05
    # raw target text, tokenized, as the unlabeled target
    (tmp_path / "t.txt").write_text("\n".join(" ".join(r["tokens"]) for r in data.load(tmp_path / "t.jsonl")) + "\n",
                                    encoding="utf-8")
    rc = main(["diagnose", "--source", str(tmp_path / "s.jsonl"), "--target", str(tmp_path / "t.txt"),
               "--task", "pos", "--permutations", "20", "--no-plots", "--out", str(tmp_path / "d2")])
    assert rc == 0
    assert json.loads((tmp_path / "d2" / "bias.json").read_text())["task"] == "pos"
