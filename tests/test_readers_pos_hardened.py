"""POS readers refuse malformed input with the file and line (issue 18): damaged gzip and zip,
out-of-range CoNLL-U IDs, empty forms, tabs in tokens, untagged or unknown-tagged NLTK tokens,
CoNLL-U inside an NLTK corpus, undecodable bytes, bad category files."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from nlpta.data import iter_ark, iter_conllu
from nlpta.data.tagged import iter_brown
from nlpta.errors import FormatError, LabelError, NlptaError

SENT = (
    "# sent_id = s1\n"
    "1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n"
    "2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "2\tca\tcan\tAUX\tMD\t_\t4\taux\t_\t_\n"
    "3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_\n"
    "3.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t0:root\t_\n"
    "4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_\n\n"
)


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def test_conllu_valid_multiword_and_empty_node_plain_and_gz(tmp_path):
    for name, data in (("a.conllu", SENT.encode()), ("b.conllu.gz", gzip.compress(SENT.encode(), mtime=0))):
        rows = list(iter_conllu(_write(tmp_path, name, data)))
        assert [(r["id"], r["tokens"], r["upos"]) for r in rows] == [
            ("s1", ["I", "ca", "n't", "go"], ["PRON", "AUX", "PART", "VERB"])]


@pytest.mark.parametrize("old,new,line", [
    ("2-3\t", "3-2\t", 3),  # range backwards
    ("2-3\t", "2-2\t", 3),  # range of one word
    ("2-3\t", "2-9\t", 3),  # range past the sentence's last word
    ("2-3\t", "3-4\t", 3),  # range not starting at the next word
    ("3\tn't\t", "3\t\t", 5),  # empty FORM
    ("2\tca\t", "2\tc\ta\t", 4),  # a tab inside a token
    ("3.1\t", "1.1\t", 6),  # empty node after the wrong word
    ("3.1\t", "3.2\t", 6),  # empty nodes numbered out of order
])
def test_conllu_out_of_range_is_an_error_with_file_and_line(tmp_path, old, new, line):
    p = _write(tmp_path, "bad.conllu", SENT.replace(old, new, 1))
    with pytest.raises(FormatError) as e:
        list(iter_conllu(p))
    assert e.value.line == line and "bad.conllu" in str(e.value)


@pytest.mark.parametrize("bad", [b"\xff", b"\xed\xa0\x80", b"caf\xe9"])
def test_conllu_and_ark_undecodable_bytes_name_the_line(tmp_path, bad):
    lines = SENT.encode().split(b"\n")
    lines[3] = lines[3].replace(b"\tca\t", b"\tca" + bad + b"\t", 1)
    with pytest.raises(FormatError) as e:
        list(iter_conllu(_write(tmp_path, "enc.conllu", b"\n".join(lines))))
    assert e.value.line == 4
    with pytest.raises(FormatError) as e:
        list(iter_ark(_write(tmp_path, "enc.ark", b"I\tO\n" + bad + b"\tN\n")))
    assert e.value.line == 2


@pytest.mark.parametrize("cut", [lambda z: z[: len(z) // 2], lambda z: z[:-4], lambda z: b"\x1f\x8c" + z[2:]])
def test_damaged_gzip_names_the_file(tmp_path, cut):
    z = gzip.compress(SENT.encode() * 50, mtime=0)
    with pytest.raises(FormatError) as e:
        list(iter_conllu(_write(tmp_path, "x.conllu.gz", cut(z))))
    assert "x.conllu.gz" in str(e.value)
    z = gzip.compress(b"I\tO\nwin\tV\n\n" * 50, mtime=0)
    with pytest.raises(FormatError) as e:
        list(iter_ark(_write(tmp_path, "oct27.dev.gz", cut(z))))
    assert "oct27.dev.gz" in str(e.value)


@pytest.mark.parametrize("line,exc", [("a\tb\tN", FormatError), ("\tN", FormatError), ("win\tNN", LabelError),
                                      ("win V", FormatError), ("win\t", LabelError)])
def test_ark_bad_lines(tmp_path, line, exc):
    with pytest.raises(exc) as e:
        list(iter_ark(_write(tmp_path, "t.ark", f"I\tO\n{line}\n\n")))
    assert e.value.line == 2 and "t.ark" in str(e.value)


def test_ark_no_break_space_word_is_kept(tmp_path):
    rows = list(iter_ark(_write(tmp_path, "t.ark", "I\tO\n\u00a0\tG\n\n")))
    assert rows[0]["tokens"] == ["I", "\u00a0"] and rows[0]["xpos"] == ["O", "G"]


# ---- NLTK (Brown-style word/TAG in a zip)
_MAP = "AT\tDET\nNN\tNOUN\nVBD\tVERB\n.\t.\n"


def _brown(tmp_path: Path, ca01: bytes, cats: bytes = b"ca01 news\n", zip_bytes: bytes | None = None) -> Path:
    corpora = tmp_path / "pos" / "nltk_data" / "corpora"
    tag = tmp_path / "pos" / "nltk_data" / "taggers" / "universal_tagset"
    corpora.mkdir(parents=True)
    tag.mkdir(parents=True)
    (tag / "en-brown.map").write_text(_MAP)
    if zip_bytes is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("brown/ca01", ca01)
            zf.writestr("brown/cats.txt", cats)
        zip_bytes = buf.getvalue()
    (corpora / "brown.zip").write_bytes(zip_bytes)
    return tmp_path


def test_brown_valid_maps_tags(tmp_path):
    rows = list(iter_brown(_brown(tmp_path, b"\n\n\tThe/at dog/nn barked/vbd ./.\n\n")))
    assert [(r["id"], r["tokens"], r["upos"], r["xpos"], r["domain"]) for r in rows] == [
        ("brown/ca01/0", ["The", "dog", "barked", "."], ["DET", "NOUN", "VERB", "PUNCT"], ["AT", "NN", "VBD", "."],
         "news")]


@pytest.mark.parametrize("ca01,exc,line", [
    (b"\tThe/at dog/nn\n\tbarked ./.\n", FormatError, 2),  # a token without a tag
    (b"\tThe/at dog/zz ./.\n", LabelError, 1),  # a tag outside the map (it used to load as X)
    (b"\tThe/at /nn ./.\n", FormatError, 1),  # an empty word
    (b"\tThe/at d\xc3\xb6g/nn ./.\n", FormatError, 1),  # Brown is ASCII
    (SENT.encode(), FormatError, 1),  # CoNLL-U inside the NLTK corpus (it used to load as all X)
])
def test_brown_bad_tokens_name_file_and_line(tmp_path, ca01, exc, line):
    with pytest.raises(exc) as e:
        list(iter_brown(_brown(tmp_path, ca01)))
    assert e.value.line == line and "brown.zip" in str(e.value)
    if ca01 is not None and ca01.startswith(b"#"):
        assert "CoNLL-U" in str(e.value)


@pytest.mark.parametrize("cats,line", [(b"ca01\n", 1), (b"ca01 gossip\n", 1), (b"ca01 news\ncz99 news\n", 2),
                                       (b"", None), (b"ca01 n\xffews\n", 1)])
def test_brown_bad_cats_file(tmp_path, cats, line):
    with pytest.raises(NlptaError) as e:
        list(iter_brown(_brown(tmp_path, b"\tThe/at dog/nn\n", cats)))
    assert "cats.txt" in str(e.value) and e.value.line == line
    assert isinstance(e.value, FormatError | LabelError)


@pytest.mark.parametrize("damage", ["half", "not-zip", "member-flip"])
def test_bad_zip_names_the_archive(tmp_path, damage):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("brown/ca01", b"\tThe/at dog/nn ./.\n" * 200)
        zf.writestr("brown/cats.txt", b"ca01 news\n")
    z = bytearray(buf.getvalue())
    if damage == "half":
        z = z[: len(z) // 2]
    elif damage == "not-zip":
        z = bytearray(b"not a zip\n")
    else:
        z[60] ^= 0xFF  # inside ca01's deflated data
    with pytest.raises(FormatError) as e:
        list(iter_brown(_brown(tmp_path, b"", zip_bytes=bytes(z))))
    assert "brown.zip" in str(e.value)
