"""Sentiment readers refuse what their format does not allow, naming the file and line, and load
valid input they used to refuse (issue 18, "Nothing silently wrong")."""

from __future__ import annotations

import gzip
import math
import re
from pathlib import Path

import pytest

from nlpta.data import load
from nlpta.data import reviews as R
from nlpta.data.schema import sentiment_dataset
from nlpta.errors import FormatError, LabelError, NlptaError, ParameterError

ROOT = Path(__file__).resolve().parents[1]

BLITZER = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<reviews>
<review>
<rating>
{rating}
</rating>
<title>
Good
</title>
<review_text>
Loved it &amp; more.
</review_text>
</review>
<review>
<rating>
1.0
</rating>
<review_text>
Dull.
</review_text>
</review>
</reviews>
"""
PROCESSED = "great:2 the_book:1 ok:1 #label#:positive\nbad:1 #label#:negative\n"
WEBIS = ('<?xml version="1.0" encoding="{enc}"?>\n<items>\n'
         "<item><rating>{rating}</rating><text>Sch\u00f6n &amp; gut</text><summary>Toll</summary></item>\n"
         "<item><rating>2.0</rating><text>Na ja</text><summary></summary></item>\n</items>\n")
FDU = "0\tbad shoes .\n1\tgreat fit\n"
LINES = "Great hotel.\nDirty room.\n"
JSONL = '{"text": "on time", "label": 1}\n{"text": "lost bag", "label": 0}\n'
CSV = 'text,label\n"on time, friendly",1\nlost bag,0\n'
TSV = "sentence\tlabel\non time\t1\nlost bag\t0\n"

SAMPLES = {  # file name -> (content, load options, expected (text, label) rows)
    "s.review": (BLITZER.format(rating="5.0"), {}, [("Good. Loved it & more.", 1), ("Dull.", 0)]),
    "p.review": (PROCESSED, {"format": "blitzer-processed"}, [("great great ok", 1), ("bad", 0)]),
    "train.review": (WEBIS.format(enc="utf-8", rating="5.0"), {}, [("Toll. Sch\u00f6n & gut", 1), ("Na ja", 0)]),
    "d.task.train": (FDU, {}, [("bad shoes .", 0), ("great fit", 1)]),
    "pool.txt": (LINES, {"format": "lines"}, [("Great hotel.", -1), ("Dirty room.", -1)]),
    "d.jsonl": (JSONL, {}, [("on time", 1), ("lost bag", 0)]),
    "d.csv": (CSV, {}, [("on time, friendly", 1), ("lost bag", 0)]),
    "d.tsv": (TSV, {"text_column": "sentence"}, [("on time", 1), ("lost bag", 0)]),
}


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _rows(ds) -> list[tuple]:
    return [(r["text"], r["label"]) for r in ds]


def _refused(path: Path, line: int | None = None, cls: type = NlptaError, **options) -> NlptaError:
    with pytest.raises(cls) as ei:
        load(str(path), **options)
    msg = str(ei.value)
    assert path.name in msg, msg
    if line is not None:
        assert f"{path.name}:{line}:" in msg, msg
    return ei.value


# ------------------------------------------------------------------------ 1. damaged gzip
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_load_plain_gz_and_with_a_bom(tmp_path, name):
    text, opts, expect = SAMPLES[name]
    assert _rows(load(str(_write(tmp_path, name, text)), **opts)) == expect
    (tmp_path / "gz").mkdir()
    assert _rows(load(str(_write(tmp_path / "gz", name + ".gz", gzip.compress(text.encode()))), **opts)) == expect
    (tmp_path / "bom").mkdir()
    assert _rows(load(str(_write(tmp_path / "bom", name, b"\xef\xbb\xbf" + text.encode())), **opts)) == expect


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("damage", ["truncated", "bad-crc", "bad-magic"])
def test_damaged_gzip_is_an_error_naming_the_file(tmp_path, name, damage):
    text, opts, _ = SAMPLES[name]
    z = gzip.compress(text.encode(), mtime=0)
    data = {"truncated": z[: len(z) // 2], "bad-crc": z[:-8] + bytes([z[-8] ^ 1]) + z[-7:],
            "bad-magic": b"\x1f\x8c" + z[2:]}[damage]
    err = _refused(_write(tmp_path, name + ".gz", data), cls=FormatError, **opts)
    assert err.code == "E102"


def test_no_sentiment_module_opens_gzip_itself():
    for mod in ("reviews", "api", "pools", "registry"):
        src = (ROOT / "nlpta" / "data" / f"{mod}.py").read_text(encoding="utf-8")
        assert not re.search(r"\bgzip\.(open|GzipFile)|^import gzip", src, re.M), mod


# ------------------------------------------------------------- 2. values out of range
@pytest.mark.parametrize("label", [5, 2, -2])
def test_lines_label_out_of_range(tmp_path, label):
    _refused(_write(tmp_path, "pool.txt", LINES), cls=LabelError, format="lines", label=label)


@pytest.mark.parametrize("label", ["x", 1.5, True, "1.0"])
def test_lines_label_not_an_integer(tmp_path, label):
    err = _refused(_write(tmp_path, "pool.txt", LINES), cls=ParameterError, format="lines", label=label)
    assert isinstance(err, ValueError)


def test_lines_label_as_string_and_direct_reader(tmp_path):
    p = _write(tmp_path, "pool.txt", LINES)
    assert set(load(str(p), format="lines", label="1")["label"]) == {1}
    with pytest.raises(LabelError):
        list(R.iter_lines(p, label=5))


@pytest.mark.parametrize("value", [2, -2, "1", True, 1.5])
def test_label_map_values_must_be_0_1_minus1_or_none(tmp_path, value):
    p = _write(tmp_path, "d.jsonl", '{"text": "a", "label": "good"}\n')
    err = _refused(p, cls=ParameterError, label_map={"good": value})
    assert "label_map" in str(err)


def test_label_map_none_drops_and_minus1_unlabels(tmp_path):
    p = _write(tmp_path, "d.jsonl", '{"text": "a", "label": "good"}\n{"text": "b", "label": "meh"}\n')
    assert _rows(load(str(p), label_map={"good": 1, "meh": None})) == [("a", 1)]
    assert _rows(load(str(p), label_map={"good": 1, "meh": -1})) == [("a", 1), ("b", -1)]


@pytest.mark.parametrize("rating", ["nan", "inf", "-inf", "99", "-4", "0", "6", "", "4,0"])
def test_blitzer_rating_out_of_range(tmp_path, rating):
    p = _write(tmp_path, "s.review", BLITZER.format(rating=rating))
    _refused(p, line=13, cls=FormatError)  # the line of </review>, where the record is checked


@pytest.mark.parametrize("rating", ["nan", "inf", "99", "-4", "0", "NaN", ""])
def test_webis_rating_out_of_range(tmp_path, rating):
    p = _write(tmp_path, "train.review", WEBIS.format(enc="utf-8", rating=rating))
    _refused(p, line=3, cls=FormatError)


def test_nan_rating_is_not_a_three_star_review(tmp_path):
    assert R.rating_to_label(3.0) is None
    with pytest.raises(FormatError):
        R.parse_rating("nan")
    assert R.parse_rating("4.5") == 4.5


@pytest.mark.parametrize("count", ["0", "-1", "1000000000", str(R.MAX_NGRAM_COUNT + 1), "1.5", "+2", "\u0663"])
def test_processed_counts_out_of_range(tmp_path, count):
    p = _write(tmp_path, "p.review", PROCESSED.replace("bad:1", f"bad:{count}"))
    _refused(p, line=2, cls=FormatError, format="blitzer-processed")


def test_processed_count_bound_and_line_bound(tmp_path):
    p = _write(tmp_path, "p.review", f"great:{R.MAX_NGRAM_COUNT} #label#:positive\n")
    assert load(str(p), format="blitzer-processed")[0]["text"].count("great") == R.MAX_NGRAM_COUNT
    n = R.MAX_LINE_TOKENS // R.MAX_NGRAM_COUNT + 1
    items = " ".join(f"w{i}:{R.MAX_NGRAM_COUNT}" for i in range(n))
    _refused(_write(tmp_path, "q.review", f"{items} #label#:positive\n"), line=1, format="blitzer-processed")


@pytest.mark.parametrize("line", ["great:1 #label#:positive #label#:negative", "great:1 #label#:positive #label#:positive"])
def test_processed_two_labels(tmp_path, line):
    _refused(_write(tmp_path, "p.review", PROCESSED.split("\n")[0] + "\n" + line + "\n"), line=2,
             format="blitzer-processed")


@pytest.mark.parametrize("text", ['{"a": 1}', "3", "null", '["a"]', "true", '"bad \\ud800"', '"\\udc00"'])
def test_jsonl_text_must_be_a_string_without_lone_surrogates(tmp_path, text):
    p = _write(tmp_path, "d.jsonl", JSONL + f'{{"text": {text}, "label": 1}}\n')
    _refused(p, line=3, cls=FormatError)


def test_jsonl_surrogate_pair_is_one_character(tmp_path):
    p = _write(tmp_path, "d.jsonl", '{"text": "ok \\ud83d\\ude00", "label": 1}\n')
    assert _rows(load(str(p))) == [("ok \U0001F600", 1)]


@pytest.mark.parametrize("line", ['{"text": "x", "label": 1} x', '{"text": "x", "text": "y", "label": 1}',
                                  '{"text": "x", "label": NaN}', '["x", 1]', b'{"text": "\xff", "label": 1}'])
def test_jsonl_malformed_lines(tmp_path, line):
    data = JSONL.encode() + (line if isinstance(line, bytes) else line.encode()) + b"\n"
    _refused(_write(tmp_path, "d.jsonl", data), line=3, cls=FormatError)


@pytest.mark.parametrize("label", ["2", "-2", "1.5", '"2"', "null", "[1]", "1e400"])
def test_jsonl_label_out_of_range(tmp_path, label):
    p = _write(tmp_path, "d.jsonl", JSONL + f'{{"text": "x", "label": {label}}}\n')
    _refused(p, line=3, cls=LabelError)


@pytest.mark.parametrize("fmt,name,opts", [("csv", "d.csv", {}), ("tsv", "d.tsv", {"text_column": "sentence"})])
@pytest.mark.parametrize("label", ["2", "1.5", "", "x", "10"])
def test_csv_tsv_label_out_of_range(tmp_path, fmt, name, opts, label):
    sep = "," if fmt == "csv" else "\t"
    text = SAMPLES[name][0] + f"more{sep}{label}\n"
    _refused(_write(tmp_path, name, text), line=4, cls=LabelError, **opts)


@pytest.mark.parametrize("fmt,name,opts", [("csv", "d.csv", {}), ("tsv", "d.tsv", {"text_column": "sentence"})])
@pytest.mark.parametrize("row", ["more{sep}1{sep}x", "more"])
def test_csv_tsv_wrong_column_count(tmp_path, fmt, name, opts, row):
    sep = "," if fmt == "csv" else "\t"
    _refused(_write(tmp_path, name, SAMPLES[name][0] + row.format(sep=sep) + "\n"), line=4, cls=FormatError, **opts)


def test_csv_strict_quoting(tmp_path):
    _refused(_write(tmp_path, "d.csv", CSV + '"lost" bag,0\n'), line=4, cls=FormatError)
    _refused(_write(tmp_path, "e.csv", CSV + '"lost bag,0\n'), cls=FormatError)


def test_blitzer_truncated_after_a_record_is_an_error(tmp_path):
    text = BLITZER.format(rating="5.0")
    cut = text[: text.index("</review>") + len("</review>\n")]
    _refused(_write(tmp_path, "s.review", cut), cls=FormatError)
    _refused(_write(tmp_path, "t.review", text + "<review>\n"), cls=FormatError)


def test_blitzer_field_twice_and_invalid_utf8(tmp_path):
    twice = BLITZER.format(rating="5.0").replace("<title>", "<rating>\n1.0\n</rating>\n<title>", 1)
    _refused(_write(tmp_path, "s.review", twice), line=7, cls=FormatError)
    bad = BLITZER.format(rating="5.0").encode().replace(b"Dull.", b"Dull \xff.")
    _refused(_write(tmp_path, "t.review", bad), line=19, cls=FormatError)


def test_webis_entities_and_nesting_refused(tmp_path):
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE items [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
            "<items><item><rating>5.0</rating><text>&b;</text></item></items>\n")
    _refused(_write(tmp_path, "train.review", bomb), cls=FormatError)
    nested = WEBIS.format(enc="utf-8", rating="5.0").replace("<text>", "<item><rating>1.0</rating><text>x</text></item><text>", 1)
    _refused(_write(tmp_path, "test.review", nested), line=3, cls=FormatError)


def test_sentiment_dataset_refuses_other_labels():
    with pytest.raises(LabelError):
        sentiment_dataset([{"id": "a", "text": "x", "label": 2}])
    ds = sentiment_dataset([{"id": "a", "text": "x", "label": -1}])
    assert ds[0]["label"] == -1 and math.isnan(ds[0]["rating"])


# ---------------------------------------------------------- 3. valid input that must load
@pytest.mark.parametrize("fmt,name,opts", [("csv", "d.csv", {}), ("tsv", "d.tsv", {"text_column": "sentence"})])
def test_csv_tsv_fields_over_131072_characters(tmp_path, fmt, name, opts):
    import csv

    sep = "," if fmt == "csv" else "\t"
    long = "word " * 40_000
    limit = csv.field_size_limit()
    ds = load(str(_write(tmp_path, name, SAMPLES[name][0] + f"{long}{sep}1\n")), **opts)
    assert ds[2]["text"] == long and len(long) > 131_072
    assert csv.field_size_limit() == limit  # the module-wide limit is left as it was


@pytest.mark.parametrize("enc", ["ISO-8859-1", "iso-8859-1", "latin1", "windows-1252"])
def test_webis_declared_single_byte_encoding(tmp_path, enc):
    p = _write(tmp_path, "train.review", WEBIS.format(enc=enc, rating="5.0").encode("latin-1"))
    assert _rows(load(str(p))) == SAMPLES["train.review"][2]


def test_webis_utf16_with_bom(tmp_path):
    p = _write(tmp_path, "train.review", WEBIS.format(enc="utf-16", rating="5.0").encode("utf-16"))
    assert _rows(load(str(p))) == SAMPLES["train.review"][2]


def test_webis_declared_utf8_with_latin1_bytes_is_refused(tmp_path):
    p = _write(tmp_path, "train.review", WEBIS.format(enc="utf-8", rating="5.0").encode("latin-1"))
    _refused(p, line=3, cls=FormatError)


def test_fdu_and_lines_read_a_non_utf8_line_as_windows_1252(tmp_path):
    p = _write(tmp_path, "d.task.train", b"0\tcaf\xe9 was cold\n1\tfine\n")
    assert _rows(load(str(p))) == [("caf\u00e9 was cold", 0), ("fine", 1)]
