"""Unit tests of the corpus readers on small inline samples (plain and gzip), no real corpora needed.

Every sample is written by the test into ``tmp_path``; the ``write`` fixture runs each test twice,
once with a plain file and once with the same content gzip-compressed (``<name>.gz``).
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pytest

import nlpta.data.api as api
from nlpta.data import (
    iter_blitzer_processed,
    iter_blitzer_raw,
    iter_conllu,
    iter_fdu_task,
    iter_table,
    iter_webis,
    load,
)
from nlpta.errors import (
    DataNotFoundError,
    EmptyDataError,
    FormatError,
    LabelError,
    NlptaError,
    UnknownCorpusError,
)


@pytest.fixture(params=["plain", "gz"])
def write(request, tmp_path):
    """``write(name, text) -> path``: a plain file, or ``name.gz`` holding the gzip of the text."""

    def _write(name: str, text: str | bytes, folder: Path | None = None) -> Path:
        data = text.encode("utf-8") if isinstance(text, str) else text
        base = folder or tmp_path
        base.mkdir(parents=True, exist_ok=True)
        if request.param == "gz":
            p = base / f"{name}.gz"
            p.write_bytes(gzip.compress(data))
        else:
            p = base / name
            p.write_bytes(data)
        return p

    return _write


@pytest.fixture
def fresh_cache(monkeypatch):
    """Give ``nlpta.data.load`` an empty cache for this test only (nothing leaks to other tests)."""
    monkeypatch.setattr(api, "_CACHE", {})


def assert_error_at(excinfo, path: Path, line: int | None) -> None:
    """The error names the file and, where given, the exact line (attribute and message)."""
    err = excinfo.value
    assert err.path == str(path)
    assert path.name in str(err)
    assert err.line == line
    if line is not None:
        assert f"{path.name}:{line}:" in str(err)


def tab(*rows: str) -> str:
    """CoNLL-U text from rows whose columns are separated by single spaces (comments kept as is)."""
    return "".join((r if r.startswith("#") or not r else "\t".join(r.split(" "))) + "\n" for r in rows)


# ---------------------------------------------------------------------------------- CoNLL-U
GOOD_CONLLU = tab(
    "# newdoc id = doc1",                                   # 1
    "# sent_id = email-001",                                # 2
    "# text = I don't know.",                               # 3
    "1 I I PRON PRP _ 4 nsubj _ _",                         # 4
    "2-3 don't _ _ _ _ _ _ _ _",                            # 5  multiword token: skipped
    "2 do do AUX VBP _ 4 aux _ _",                          # 6
    "3 n't not PART RB _ 4 advmod _ _",                     # 7
    "4 know know VERB VB _ 0 root _ _",                     # 8
    "4.1 knows know VERB VBZ _ _ _ 4:conj _",               # 9  empty node: skipped
    "5 . . PUNCT . _ 4 punct _ SpaceAfter=No",              # 10
    "",                                                     # 11
    "# sent_id = weblog-002",                               # 12
    "1 Hi hi INTJ UH _ 0 root _ _",                         # 13
    "2 ! ! PUNCT . _ 1 punct _ _",                          # 14
    "",                                                     # 15
    "# a comment without a key",                            # 16
    "1 Yes yes INTJ _ _ 0 root _ _",                        # 17 no sent_id, no XPOS
    "",                                                     # 18
    "# sent_id = answers-004",                              # 19
    "1 raw raw _ _ _ 0 root _ _",                           # 20 unlabeled sentence
    "2 text text _ _ _ 1 dep _ _",                          # 21
)  # fmt: skip   (no blank line at the end: the last sentence must still be read)


def test_conllu_good_file(write):
    p = write("sample.conllu", GOOD_CONLLU)
    rows = list(iter_conllu(p, lang="en", default_domain="web", id_prefix="x/"))
    assert [r["id"] for r in rows] == ["x/email-001", "x/weblog-002", f"x/{p.name}#3", "x/answers-004"]
    first = rows[0]
    assert first["tokens"] == ["I", "do", "n't", "know", "."]
    assert first["upos"] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert first["xpos"] == ["PRP", "VBP", "RB", "VB", "."]
    assert first["lang"] == "en" and first["domain"] == "web"
    assert rows[1]["tokens"] == ["Hi", "!"] and rows[1]["upos"] == ["INTJ", "PUNCT"]
    assert rows[2]["upos"] == ["INTJ"] and rows[2]["xpos"] == []  # '_' XPOS -> no XPOS
    assert rows[3]["tokens"] == ["raw", "text"] and rows[3]["upos"] == [] and rows[3]["xpos"] == []


def test_conllu_domain_fn_gets_sent_id_and_newdoc(write):
    p = write("sample.conllu", GOOD_CONLLU)
    seen = []

    def fn(sid, newdoc, meta):
        seen.append((sid, newdoc, meta.get("text")))
        return sid.split("-")[0] if "-" in sid else ""

    rows = list(iter_conllu(p, domain_fn=fn, default_domain="other"))
    assert [r["domain"] for r in rows] == ["email", "weblog", "other", "answers"]
    assert seen[0] == ("email-001", "doc1", "I don't know.")
    assert seen[1][1] == "doc1"  # newdoc id carries over to the next sentences


def test_load_conllu_path_with_domain_regex(write, fresh_cache):
    p = write("sample.conllu", GOOD_CONLLU)
    ds = load(str(p), domain_regex=r"^([a-z]+)-\d+$", domain_name="misc", lang_code="en")
    assert len(ds) == 4
    assert ds["domain"] == ["email", "weblog", "misc", "answers"]
    assert ds["lang"] == ["en"] * 4
    assert ds[0]["tokens"] == ["I", "do", "n't", "know", "."]
    assert ds[3]["upos"] == []
    only = load(str(p), domain_regex=r"^([a-z]+)-", domain="weblog")
    assert only["id"] == ["weblog-002"]


def test_load_conllu_default_domain_is_folder_name(write, tmp_path, fresh_cache):
    p = write("sample.conllu", GOOD_CONLLU, folder=tmp_path / "mygenre")
    ds = load(str(p))
    assert set(ds["domain"]) == {"mygenre"}
    assert len(ds) == 4


def test_load_conllu_ewt_file_name_gives_ewt_genres(write, fresh_cache):
    # a file named like the EWT treebank gets EWT's sent_id -> genre rule without options
    p = write("en_ewt-ud-dev.conllu", GOOD_CONLLU)
    ds = load(str(p))
    assert ds["domain"][:2] == ["email", "weblog"]
    assert ds["domain"][3] == "answers"


def test_load_finds_gz_beside_the_plain_name(tmp_path, fresh_cache):
    (tmp_path / "only.conllu.gz").write_bytes(gzip.compress(GOOD_CONLLU.encode()))
    ds = load(str(tmp_path / "only.conllu"))
    assert len(ds) == 4


BAD_CONLLU = {
    "wrong column count": (
        tab("# sent_id = s1", "1 A a DET DT _ 2 det _ _") + "2\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\n",
        FormatError, 3, "10 tab-separated columns",
    ),
    "bad id": (
        tab("# sent_id = s1", "1 A a DET DT _ 2 det _ _", "x2 dog dog NOUN NN _ 0 root _ _"),
        FormatError, 3, "bad token ID 'x2'",
    ),
    "zero-padded id": (
        tab("1 A a DET DT _ 0 root _ _", "", "01 B b DET DT _ 0 root _ _"),
        FormatError, 3, "bad token ID '01'",
    ),
    "out-of-order id": (
        tab("# sent_id = s1", "1 A a DET DT _ 3 det _ _", "3 dog dog NOUN NN _ 0 root _ _"),
        FormatError, 3, "out of order; expected 2",
    ),
    "sentence not starting at 1": (
        tab("1 A a DET DT _ 0 root _ _", "", "# sent_id = s2", "2 dog dog NOUN NN _ 0 root _ _"),
        FormatError, 4, "expected 1",
    ),
    "unknown upos": (
        tab("# sent_id = s1", "1 A a DET DT _ 2 det _ _", "2 dog dog NOUNS NN _ 0 root _ _"),
        LabelError, 3, "unknown UPOS tag 'NOUNS'",
    ),
    "ptb tag in upos column": (
        tab("1 A a DT DT _ 0 root _ _"),
        LabelError, 1, "unknown UPOS tag 'DT'",
    ),
    "comment inside a sentence": (
        tab("# sent_id = s1", "1 A a DET DT _ 0 root _ _", "# text = oops", "2 b b X _ _ 1 dep _ _"),
        FormatError, 3, "comment line inside a sentence",
    ),
    "tags mixed with underscore": (
        tab("", "# sent_id = s1", "1 A a DET DT _ 2 det _ _", "2 dog dog _ NN _ 0 root _ _"),
        LabelError, 3, "mixes UPOS tags and '_'",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_CONLLU))
def test_conllu_malformed(write, case):
    text, exc, line, fragment = BAD_CONLLU[case]
    p = write("bad.conllu", text)
    with pytest.raises(exc) as excinfo:
        list(iter_conllu(p))
    assert type(excinfo.value) is exc
    assert_error_at(excinfo, p, line)
    assert fragment in str(excinfo.value)


def test_conllu_malformed_via_load(write, fresh_cache):
    text, _, line, _ = BAD_CONLLU["unknown upos"]
    p = write("bad.conllu", GOOD_CONLLU + "\n" + text)
    with pytest.raises(LabelError) as excinfo:
        load(str(p))
    assert_error_at(excinfo, p, 21 + 1 + line)  # good file (21 lines) + blank line + offset


def test_conllu_error_rows_before_error_are_yielded(write):
    text = tab("# sent_id = ok", "1 A a DET DT _ 0 root _ _", "", "1 b b BAD _ _ 0 root _ _")
    p = write("bad.conllu", text)
    it = iter_conllu(p)
    assert next(it)["id"] == "ok"
    with pytest.raises(LabelError) as excinfo:
        next(it)
    assert excinfo.value.line == 4


def test_conllu_with_utf8_bom(write):
    p = write("bom.conllu", "\ufeff" + GOOD_CONLLU)
    rows = list(iter_conllu(p))
    assert rows[0]["id"] == "email-001"


# ------------------------------------------------------------------------------ Blitzer raw
def review(*fields: tuple[str, str]) -> str:
    return "<review>\n" + "".join(f"<{k}>\n{v}\n</{k}>\n" for k, v in fields) + "</review>\n"


GOOD_BLITZER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<reviews>\n'
    + review(("unique_id", "0001:great:joe"), ("rating", "5.0"), ("title", "Great &amp; cheap"),
             ("review_text", "Loved it.\nSecond line &quot;quoted&quot;."))
    + review(("rating", "1.0"), ("title", ""), ("review_text", "Awful."))
    + review(("rating", "3.0"), ("title", "So-so"), ("review_text", "Average."))
    + "</reviews>\n"
)  # fmt: skip


def test_blitzer_raw_label_from_file_name(write, tmp_path):
    p = write("positive.review", GOOD_BLITZER, folder=tmp_path / "books")
    rows = list(iter_blitzer_raw(p))
    assert len(rows) == 3  # the file name decides the label: nothing is dropped
    assert [r["label"] for r in rows] == [1, 1, 1]
    assert [r["rating"] for r in rows] == [5.0, 1.0, 3.0]
    assert rows[0]["text"] == 'Great & cheap. Loved it.\nSecond line "quoted".'
    assert rows[1]["text"] == "Awful."  # empty title: no ". " prefix
    assert [r["id"] for r in rows] == ["books/positive/1", "books/positive/2", "books/positive/3"]
    assert rows[0]["lang"] == "en"


def test_blitzer_raw_label_from_rating_and_without_title(write):
    p = write("mixed.review", GOOD_BLITZER)
    rows = list(iter_blitzer_raw(p, domain="dvd", with_title=False))
    assert [(r["label"], r["rating"]) for r in rows] == [(1, 5.0), (0, 1.0)]  # 3 stars dropped
    assert rows[0]["text"] == 'Loved it.\nSecond line "quoted".'
    assert {r["domain"] for r in rows} == {"dvd"}


def test_blitzer_raw_explicit_label_wins(write):
    p = write("positive.review", GOOD_BLITZER)
    assert [r["label"] for r in iter_blitzer_raw(p, label=0)] == [0, 0, 0]


def test_load_blitzer_raw_path(write, tmp_path, fresh_cache):
    p = write("negative.review", GOOD_BLITZER, folder=tmp_path / "kitchen")
    ds = load(str(p))
    assert ds["label"] == [0, 0, 0]
    assert ds["domain"] == ["kitchen"] * 3
    assert ds["text"][1] == "Awful."


_HEAD = review(("rating", "4.0"), ("review_text", "fine"))  # lines 1-8
BAD_BLITZER = {
    "unclosed review before the next": (
        "<review>\n<rating>\n4.0\n</rating>\n<review_text>\nok\n</review_text>\n" + _HEAD,
        8, "record opened at line 1 is not closed",
    ),
    "record without review_text": (
        _HEAD + "<review>\n<rating>\n4.0\n</rating>\n<title>\nt\n</title>\n</review>\n",
        16, "has no <review_text>",
    ),
    "record without rating": (
        _HEAD + "<review>\n<review_text>\nx\n</review_text>\n</review>\n",
        13, "has no <rating>",
    ),
    "non-numeric rating": (
        _HEAD + review(("rating", "five stars"), ("review_text", "x")),
        16, "rating 'five stars' is not a number (record at line 9)",
    ),
    "field outside a record": (
        _HEAD + "<rating>\n4.0\n</rating>\n",
        9, "<rating> outside a <review> record",
    ),
    "close without open": (
        _HEAD + "</review>\n",
        9, "</review> without an open <review>",
    ),
    "text outside a field": (
        "<review>\nstray text\n</review>\n",
        2, "unexpected line 'stray text'",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_BLITZER))
def test_blitzer_raw_malformed(write, case):
    text, line, fragment = BAD_BLITZER[case]
    p = write("positive.review", text)
    with pytest.raises(FormatError) as excinfo:
        list(iter_blitzer_raw(p))
    assert_error_at(excinfo, p, line)
    assert fragment in str(excinfo.value)


def test_blitzer_raw_file_ends_inside_record(write):
    p = write("positive.review", _HEAD + "<review>\n<rating>\n2.0\n</rating>\n")
    with pytest.raises(FormatError, match="file ends inside the record opened at line 9"):
        list(iter_blitzer_raw(p))


def test_blitzer_raw_file_ends_inside_record_sets_line(write):
    p = write("positive.review", _HEAD + "<review>\n<rating>\n2.0\n</rating>\n")
    with pytest.raises(FormatError) as excinfo:
        list(iter_blitzer_raw(p))
    assert excinfo.value.line == 9


# ------------------------------------------------------------------- Blitzer processed_acl
GOOD_PROCESSED = (
    "great:2 not_bad:1 book:1 #label#:positive\n"
    "\n"
    "awful:1 waste_of:1 #label#:negative\n"
)


def test_blitzer_processed_good(write, tmp_path):
    p = write("positive.review", GOOD_PROCESSED, folder=tmp_path / "books")
    rows = list(iter_blitzer_processed(p))
    assert [r["label"] for r in rows] == [1, 0]  # the label comes from the line, not the file name
    assert rows[0]["text"] == "great great book"  # unigrams repeated by count, n-grams left out
    assert rows[0]["ngrams"] == "great:2 not_bad:1 book:1"
    assert rows[1]["text"] == "awful"
    assert [r["id"] for r in rows] == ["books/positive/1", "books/positive/3"]


def test_load_sniffs_processed_review(write, tmp_path, fresh_cache):
    p = write("negative.review", GOOD_PROCESSED, folder=tmp_path / "dvd")
    ds = load(str(p))
    assert ds["label"] == [1, 0]
    assert ds["text"] == ["great great book", "awful"]
    assert all(math.isnan(x) for x in ds["rating"])


BAD_PROCESSED = {
    "missing label": ("good:1 #label#:positive\nbad:1 worse:2\n", FormatError, 2, "no '#label#"),
    "bad count": ("good:1 #label#:positive\n\nbad:x #label#:negative\n", FormatError, 3, "count 'x' of 'bad'"),
    "item without count": ("good #label#:positive\n", FormatError, 1, "is not 'ngram:count'"),
    "unknown label": ("good:1 #label#:neutral\n", LabelError, 1, "label 'neutral'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_PROCESSED))
def test_blitzer_processed_malformed(write, case):
    text, exc, line, fragment = BAD_PROCESSED[case]
    p = write("positive.review", text)
    with pytest.raises(exc) as excinfo:
        list(iter_blitzer_processed(p))
    assert type(excinfo.value) is exc
    assert_error_at(excinfo, p, line)
    assert fragment in str(excinfo.value)


# ------------------------------------------------------------------------------------ Webis
GOOD_WEBIS = """<?xml version="1.0" encoding="utf-8"?>
<items>
<item><category>Bücher</category><rating>5.0</rating><summary>Super</summary><text>Tolles Buch.
Zweite Zeile.</text></item>
<item><rating>3.0</rating><summary>Naja</summary><text>Geht so.</text></item>
<item><rating>1.0</rating><text> Schlecht &amp; teuer. </text></item>
</items>
"""


def test_webis_good_and_three_stars_dropped(write):
    p = write("train.review", GOOD_WEBIS)
    rows = list(iter_webis(p, domain="books", lang="de"))
    assert len(rows) == 2
    assert rows[0]["text"] == "Super. Tolles Buch.\nZweite Zeile."
    assert (rows[0]["label"], rows[0]["rating"]) == (1, 5.0)
    assert (rows[1]["text"], rows[1]["label"], rows[1]["rating"]) == ("Schlecht & teuer.", 0, 1.0)
    assert [r["id"] for r in rows] == ["de/books/train/1", "de/books/train/3"]
    assert {r["lang"] for r in rows} == {"de"}
    no_summary = list(iter_webis(p, domain="books", lang="de", with_summary=False))
    assert no_summary[0]["text"] == "Tolles Buch.\nZweite Zeile."


def test_load_webis_path(write, tmp_path, fresh_cache):
    p = write("test.review", GOOD_WEBIS, folder=tmp_path / "music")
    ds = load(str(p), lang_code="de")
    assert ds["label"] == [1, 0]
    assert ds["domain"] == ["music", "music"]
    assert ds["lang"] == ["de", "de"]


def test_webis_malformed_xml(write):
    text = GOOD_WEBIS.replace("<text> Schlecht &amp; teuer. </text>", "<text>Schlecht</txt>")
    p = write("train.review", text)
    with pytest.raises(FormatError) as excinfo:
        list(iter_webis(p))
    assert_error_at(excinfo, p, 6)
    assert "malformed: not well-formed XML" in str(excinfo.value)


def test_webis_item_without_rating(write):
    p = write("train.review", "<items>\n<item><text>no rating</text></item>\n</items>\n")
    with pytest.raises(FormatError, match="item 1 has no <rating> or no <text>"):
        list(iter_webis(p))


def test_webis_non_numeric_rating(write):
    p = write("train.review", "<items>\n<item><rating>gut</rating><text>x</text></item>\n</items>\n")
    with pytest.raises(FormatError, match="rating 'gut' is not a number"):
        list(iter_webis(p))


# -------------------------------------------------------------------------------- FDU-MTL
def test_fdu_train_good(write):
    # texts may hold other line-break characters: lines are split on "\n" only
    p = write("apparel.task.train", "1\tgreat shirt , fits well .\r\n0\ttoo small \u2028 returned .\n\n")
    rows = list(iter_fdu_task(p, domain="apparel"))
    assert [r["label"] for r in rows] == [1, 0]
    assert rows[0]["text"] == "great shirt , fits well ."
    assert rows[1]["text"] == "too small \u2028 returned ."
    assert [r["id"] for r in rows] == ["fdu/apparel/train/1", "fdu/apparel/train/2"]


def test_fdu_bad_label(write):
    p = write("apparel.task.test", "1\tok .\n0\tbad .\n2\tugly .\n")
    with pytest.raises(LabelError) as excinfo:
        list(iter_fdu_task(p))
    assert_error_at(excinfo, p, 3)
    assert "label '2'; expected 0 or 1" in str(excinfo.value)


def test_fdu_missing_tab(write):
    p = write("apparel.task.test", "1\tok .\nno label here\n")
    with pytest.raises(FormatError) as excinfo:
        list(iter_fdu_task(p))
    assert_error_at(excinfo, p, 2)


def test_fdu_unlabel_file_is_text_only(write):
    p = write("baby.task.unlabel", "a stroller\twith a tab inside .\n1\tlooks like a label .\n")
    rows = list(iter_fdu_task(p, domain="baby"))
    assert [r["label"] for r in rows] == [-1, -1]
    assert rows[0]["text"] == "a stroller\twith a tab inside ."
    assert rows[1]["text"] == "1\tlooks like a label ."
    assert rows[0]["id"] == "fdu/baby/unlabel/1"


def test_load_fdu_path(write, fresh_cache):
    p = write("toys_games.task.train", "1\tfun .\n0\tbroke .\n")
    ds = load(str(p))
    assert ds["label"] == [1, 0]
    assert ds["domain"] == ["toys_games", "toys_games"]
    unl = load(str(p), labeled=False)
    assert unl["label"] == [-1, -1] and unl["text"] == ["fun .", "broke ."]


def test_fdu_non_utf8_byte_is_read_or_reported_with_line(write):
    p = write("MR.task.train", "1\ta fine film .\n0\tclich\xe9s galore .\n".encode("cp1252"))
    try:
        rows = list(iter_fdu_task(p))
    except FormatError as err:  # acceptable fix: a FormatError naming the line
        assert err.line == 2
    else:  # acceptable fix: a fallback decoding that keeps the row
        assert [r["label"] for r in rows] == [1, 0]
        assert rows[1]["text"].startswith("clich")


# ---------------------------------------------------------------------- CSV / TSV / JSONL
GOOD_CSV = (
    "id,text,label,source\n"
    '7,"Good, really good",positive,a\n'
    "8,Bad,NEGATIVE,b\n"
    '9,"Two\nlines",neutral,a\n'
)
LABEL_MAP = {"positive": 1, "negative": 0, "neutral": None}


def test_csv_with_label_map_drops_class(write):
    p = write("data.csv", GOOD_CSV)
    rows = list(iter_table(p, label_map=LABEL_MAP, id_column="id", domain_column="source",
                           id_prefix="t/", lang="en"))
    assert [(r["id"], r["text"], r["label"], r["domain"]) for r in rows] == [
        ("t/7", "Good, really good", 1, "a"),
        ("t/8", "Bad", 0, "b"),
    ]
    assert rows[0]["lang"] == "en"


def test_csv_unknown_label_has_line(write):
    p = write("data.csv", GOOD_CSV)
    with pytest.raises(LabelError) as excinfo:
        list(iter_table(p))  # default labels know no 'neutral'
    assert_error_at(excinfo, p, 5)  # the quoted field spans lines 4-5
    assert "unknown label 'neutral'" in str(excinfo.value)


def test_csv_header_missing_column(write):
    p = write("data.csv", GOOD_CSV)
    with pytest.raises(FormatError) as excinfo:
        list(iter_table(p, text_column="review"))
    assert_error_at(excinfo, p, 1)
    assert "no column 'review'" in str(excinfo.value)


def test_csv_without_header_by_index(write):
    p = write("data.csv", '1,"a, b"\n0,c\n\n-1,d\n')
    rows = list(iter_table(p, text_column=1, label_column=0))
    assert [(r["text"], r["label"]) for r in rows] == [("a, b", 1), ("c", 0), ("d", 0)]
    assert [r["id"] for r in rows] == ["1", "2", "4"]


def test_csv_short_row(write):
    p = write("data.csv", "1,a\n0\n")
    with pytest.raises(FormatError) as excinfo:
        list(iter_table(p, text_column=1, label_column=0))
    assert_error_at(excinfo, p, 2)
    assert "row has 1 fields" in str(excinfo.value)


def test_tsv_quotes_are_text(write):
    p = write("data.tsv", 'sentence\tlabel\nit \'s "fine"\t1\nbad , bad\t0\n')
    rows = list(iter_table(p, text_column="sentence"))
    assert [(r["text"], r["label"]) for r in rows] == [('it \'s "fine"', 1), ("bad , bad", 0)]


def test_table_unlabeled(write):
    p = write("data.tsv", "text\nfoo\nbar\n")
    rows = list(iter_table(p, label_column=None))
    assert [(r["text"], r["label"]) for r in rows] == [("foo", -1), ("bar", -1)]


def test_csv_with_utf8_bom(write):
    p = write("bom.csv", "\ufefftext,label\nhello,1\n")
    assert [r["text"] for r in iter_table(p)] == ["hello"]


GOOD_JSONL = (
    '{"text": "fine", "label": 1, "id": "a"}\n'
    "\n"
    '{"text": "nope", "label": "negative", "id": "b"}\n'
    '{"text": "meh", "label": "neutral", "id": "c"}\n'
)


def test_jsonl_good(write):
    p = write("data.jsonl", GOOD_JSONL)
    rows = list(iter_table(p, label_map={"1": 1, "negative": 0, "neutral": None}, id_column="id"))
    assert [(r["id"], r["text"], r["label"]) for r in rows] == [("a", "fine", 1), ("b", "nope", 0)]


def test_jsonl_unknown_label_has_line(write):
    p = write("data.jsonl", GOOD_JSONL)
    with pytest.raises(LabelError) as excinfo:
        list(iter_table(p))
    assert_error_at(excinfo, p, 4)


@pytest.mark.parametrize(
    "bad_line, fragment",
    [("{not json}", "not a JSON object"), ("[1, 2]", "expected a JSON object per line"),
     ('{"label": 1}', "no key 'text'")],
)  # fmt: skip
def test_jsonl_bad_line(write, bad_line, fragment):
    p = write("data.jsonl", '{"text": "ok", "label": 0}\n\n' + bad_line + "\n")
    with pytest.raises(FormatError) as excinfo:
        list(iter_table(p))
    assert_error_at(excinfo, p, 3)
    assert fragment in str(excinfo.value)


def test_load_csv_with_columns_and_label_map(write, tmp_path, fresh_cache):
    p = write("data.csv", GOOD_CSV, folder=tmp_path / "tweets")
    ds = load(str(p), text_column="text", label_column="label", label_map=LABEL_MAP)
    assert ds["text"] == ["Good, really good", "Bad"]
    assert ds["label"] == [1, 0]
    assert ds["domain"] == ["tweets", "tweets"]
    assert ds["id"] == ["2", "3"]  # line numbers without id_column
    assert all(math.isnan(x) for x in ds["rating"])


def test_load_csv_header_missing_column(write, fresh_cache):
    p = write("data.csv", GOOD_CSV)
    with pytest.raises(FormatError) as excinfo:
        load(str(p), text_column="body", label_column="label")
    assert_error_at(excinfo, p, 1)


def test_load_csv_unknown_label(write, fresh_cache):
    p = write("data.csv", GOOD_CSV)
    with pytest.raises(LabelError) as excinfo:
        load(str(p), text_column="text", label_column="label", label_map={"positive": 1, "negative": 0})
    assert_error_at(excinfo, p, 5)


def test_load_tsv_and_jsonl(write, fresh_cache):
    tsv = write("s.tsv", "sentence\tlabel\nnice\t1\nugly\t0\n")
    ds = load(str(tsv), text_column="sentence", label_column="label")
    assert list(zip(ds["text"], ds["label"], strict=True)) == [("nice", 1), ("ugly", 0)]
    jl = write("s.jsonl", '{"body": "yes", "y": "pos"}\n{"body": "no", "y": "neg"}\n')
    ds = load(str(jl), text_column="body", label_column="y")
    assert list(zip(ds["text"], ds["label"], strict=True)) == [("yes", 1), ("no", 0)]


def test_load_jsonl_bad_line(write, fresh_cache):
    p = write("data.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": 0\n')
    with pytest.raises(FormatError) as excinfo:
        load(str(p))
    assert_error_at(excinfo, p, 2)


def test_load_unknown_format(tmp_path, fresh_cache):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    with pytest.raises(NlptaError, match="cannot tell how to read this path: no format is known for the name notes.txt") as excinfo:
        load(str(p))
    assert excinfo.value.code == "E107"
    with pytest.raises(NlptaError, match="unknown format 'xml'"):
        load(str(p), format="xml")


def test_load_empty_file(write, fresh_cache):
    p = write("empty.csv", "text,label\n")
    with pytest.raises(EmptyDataError, match=r"no rows: .*empty.csv(.gz)? \(split=None\) is empty"):
        load(str(p))


# --------------------------------------------------------------------------- load: errors
@pytest.mark.parametrize(
    "name, suggestion",
    [("mdsd:bookz", "mdsd:books"), ("ud:en_ewtt", "ud:en_ewt"), ("webis:de/book", "webis:de/books")],
)
def test_load_unknown_corpus_suggests(name, suggestion, fresh_cache):
    with pytest.raises(UnknownCorpusError) as excinfo:
        load(name)
    msg = str(excinfo.value)
    assert f"unknown corpus {name!r}" in msg
    assert "did you mean" in msg and suggestion in msg
    assert excinfo.value.code == "E103"


def test_load_unknown_domain_lists_domains(write, fresh_cache):
    p = write("sample.conllu", GOOD_CONLLU)
    with pytest.raises(EmptyDataError) as excinfo:
        load(str(p), domain_regex=r"^([a-z]+)-", domain_name="misc", domain="fiction")
    msg = str(excinfo.value)
    assert "has none of domain ['fiction']" in msg
    for dom in ("answers (1)", "email (1)", "misc (1)", "weblog (1)"):
        assert dom in msg


def test_load_unknown_language_lists_languages(write, fresh_cache):
    p = write("sample.conllu", GOOD_CONLLU)
    with pytest.raises(EmptyDataError, match="none of language 'fr'; it has {'en': 4}"):
        load(str(p), lang_code="en", lang="fr")


def make_webis_root(root: Path, n_items: int) -> Path:
    """A fake data root holding only ``webis:en/books`` (train) with ``n_items`` positive items."""
    folder = root / "sentiment" / "webis_cls10" / "en" / "books"
    folder.mkdir(parents=True)
    items = "".join(f"<item><rating>5.0</rating><text>good {i}</text></item>\n" for i in range(n_items))
    (folder / "train.review.gz").write_bytes(gzip.compress(f"<items>\n{items}</items>\n".encode()))
    return root


def test_load_registered_from_nlpta_data(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.setenv("NLPTA_DATA", str(make_webis_root(tmp_path / "root", 3)))
    ds = load("webis:en/books", split="train")
    assert ds["text"] == ["good 0", "good 1", "good 2"]
    assert ds["lang"] == ["en"] * 3 and ds["domain"] == ["books"] * 3


@pytest.mark.parametrize("split", ["dev", "unlabeled", "Train"])
def test_load_unknown_split(tmp_path, monkeypatch, fresh_cache, split):
    monkeypatch.setenv("NLPTA_DATA", str(make_webis_root(tmp_path / "root", 1)))
    with pytest.raises(NlptaError) as excinfo:
        load("webis:en/books", split=split)
    assert excinfo.value.code == "E106"
    assert f"no split {split!r}: corpus 'webis:en/books' has splits train, test" in str(excinfo.value)


def test_load_registered_corpus_missing_from_root(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.setenv("NLPTA_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as excinfo:
        load("sst2", split="dev")
    assert "not found: corpus 'sst2'" in str(excinfo.value)
    assert excinfo.value.path == str(tmp_path / "sentiment" / "sst2")


def test_load_cache_follows_data_root(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.setenv("NLPTA_DATA", str(make_webis_root(tmp_path / "a", 2)))
    assert len(load("webis:en/books", split="train")) == 2
    monkeypatch.setenv("NLPTA_DATA", str(make_webis_root(tmp_path / "b", 5)))
    assert len(load("webis:en/books", split="train")) == 5


def test_load_cache_sees_rewritten_file(tmp_path, fresh_cache):
    p = tmp_path / "data.tsv"
    p.write_text("text\tlabel\na\t1\n")
    assert load(str(p))["text"] == ["a"]
    p.write_text("text\tlabel\na\t1\nb\t0\n")
    assert load(str(p))["text"] == ["a", "b"]


# ------------------------------------------------------------------------ folder loading
def test_load_blitzer_folder_split(write, tmp_path, fresh_cache):
    folder = tmp_path / "electronics"
    pos = "".join(review(("rating", "5.0"), ("review_text", f"pos {i}")) for i in range(5))
    neg = "".join(review(("rating", "1.0"), ("review_text", f"neg {i}")) for i in range(5))
    write("positive.review", pos, folder=folder)
    write("negative.review", neg, folder=folder)
    every = load(str(folder))
    assert len(every) == 10 and sorted(every["label"]) == [0] * 5 + [1] * 5
    train = load(str(folder), split="train", n_test_per_class=2, split_seed=3)
    test = load(str(folder), split="test", n_test_per_class=2, split_seed=3)
    assert (len(train), len(test)) == (6, 4)
    assert sorted(test["label"]) == [0, 0, 1, 1]
    assert not set(train["text"]) & set(test["text"])
    assert set(train["text"]) | set(test["text"]) == set(every["text"])


def test_load_blitzer_folder_unknown_split(write, tmp_path, fresh_cache):
    folder = tmp_path / "electronics"
    write("positive.review", review(("rating", "5.0"), ("review_text", "p")), folder=folder)
    write("negative.review", review(("rating", "1.0"), ("review_text", "n")), folder=folder)
    with pytest.raises(NlptaError):
        load(str(folder), split="dev", n_test_per_class=1)


def test_blitzer_unclosed_field_is_named(tmp_path):
    p = tmp_path / "positive.review"
    p.write_text("<review>\n<rating>\n5.0\n</rating>\n<review_text>\nfine\n</review>\n")
    with pytest.raises(FormatError) as e:
        list(iter_blitzer_raw(p))
    assert e.value.line == 7 and "<review_text> opened at line 5" in e.value.message
