"""Vector files and bilingual dictionaries refuse damaged input with the file and line (issue 18)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from nlpta.data.lexicons import load_dictionary
from nlpta.embeddings import load_vectors
from nlpta.embeddings.io import MAX_ABS_VALUE, VectorFormatError
from nlpta.errors import FormatError

ROWS = "the 0.5 -1.25 2\ncat 1 0 -0.5\nsat 0.25 0.75 -2\n"


def _w(p, data: str | bytes):
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def _bin(rows, n=None, dim=3) -> bytes:
    out = f"{len(rows) if n is None else n} {dim}\n".encode()
    for w, v in rows:
        out += w.encode() + b" " + struct.pack(f"<{len(v)}f", *v) + b"\n"
    return out


@pytest.mark.parametrize("name", ["v.vec.gz", "v.txt.gz", "v.bin.gz"])
def test_damaged_gz_vectors_name_the_file(tmp_path, name):
    data = gzip.compress(("3 3\n" + ROWS).encode(), mtime=0)
    p = _w(tmp_path / name, data[: len(data) // 2])
    fmt = {"v.vec.gz": "word2vec", "v.txt.gz": "glove", "v.bin.gz": "word2vec-binary"}[name]
    with pytest.raises(FormatError) as e:
        load_vectors(p, fmt=fmt)
    assert name in str(e.value)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "1e7", "1e39"])
@pytest.mark.parametrize("header", [True, False])
def test_non_finite_or_huge_values_name_the_line(tmp_path, bad, header):
    text = ROWS.replace("0.75", bad)
    p = _w(tmp_path / "v.txt", ("3 3\n" if header else "") + text)
    with pytest.raises(VectorFormatError) as e:
        load_vectors(p, fmt="word2vec" if header else "glove")
    assert e.value.code == "E410" and e.value.line == (4 if header else 3)
    assert "'sat'" in e.value.message and f"{MAX_ABS_VALUE:g}" in e.value.message


def test_binary_values_checked(tmp_path):
    p = _w(tmp_path / "v.bin", _bin([("a", [1.0, 2.0, 3.0]), ("b", [1.0, float("nan"), 0.0])]))
    with pytest.raises(VectorFormatError, match=r"record 2 of 2: the vector of 'b' holds nan") as e:
        load_vectors(p)
    assert e.value.code == "E410"


def test_wrong_dimension_and_extra_values_name_the_line(tmp_path):
    p = _w(tmp_path / "v.txt", "the 0.5 -1.25 2\ncat 1 0\n")
    with pytest.raises(VectorFormatError, match=r"v.txt:2: .*expected 3 numbers after the word 'cat', got 2"):
        load_vectors(p, fmt="glove")
    _w(p, "the 0.5 -1.25 2\ncat 1 0 -0.5 7\n")
    with pytest.raises(VectorFormatError, match=r"v.txt:2: .*got 4 \(too many values"):
        load_vectors(p, fmt="glove")
    _w(p, "the 0.5 -1.25 2 cat 1 0 -0.5\n")  # a newline lost: two rows run together
    with pytest.raises(VectorFormatError, match=r"v.txt:1: "):
        load_vectors(p, fmt="glove")


def test_header_promising_more_rows_is_a_truncated_file(tmp_path):
    p = _w(tmp_path / "v.vec", "5 3\n" + ROWS)
    with pytest.raises(VectorFormatError, match="promises 5 vectors .* ends after 3") as e:
        load_vectors(p)
    assert e.value.code == "E411"
    assert len(load_vectors(p, limit=2)) == 2  # a prefix is fine
    _w(p, "2 3\n" + ROWS)
    with pytest.raises(VectorFormatError, match="promises 2 vectors") as e:
        load_vectors(p)
    assert e.value.line == 4
    p = _w(tmp_path / "v.bin", _bin([("a", [1.0, 2.0, 3.0])], n=2))
    with pytest.raises(VectorFormatError, match="promises 2 vectors"):
        load_vectors(p)


def test_binary_header_checked_against_file_size_before_allocating(tmp_path):
    p = _w(tmp_path / "v.bin", b"1000000000 300\n" + b"a " + b"\0" * 1200)
    with pytest.raises(VectorFormatError, match=r"promises 1000000000 vectors of dimension 300, but the file holds "
                                                r"1,217 bytes") as e:  # the size check, before any record is read
        load_vectors(p)
    assert e.value.code == "E411"
    g = _w(tmp_path / "v.bin.gz", gzip.compress(_bin([("a", [1.0, 2.0, 3.0])], n=1_000_000_000), mtime=0))
    with pytest.raises(VectorFormatError, match="ends inside record 2"):
        load_vectors(g)
    _w(p, b"1 1000000000\na " + b"\0" * 8)
    with pytest.raises(VectorFormatError, match="E411"):
        load_vectors(p)


def test_bom_is_stripped(tmp_path):
    kv = load_vectors(_w(tmp_path / "g.txt", "\ufeff" + ROWS), fmt="glove")
    assert kv.index_to_key[0] == "the"
    kv = load_vectors(_w(tmp_path / "w.vec", "\ufeff3 3\n" + ROWS))  # sniffed as word2vec despite the BOM
    assert kv.index_to_key == ["the", "cat", "sat"]
    np.testing.assert_array_equal(kv["sat"], np.array([0.25, 0.75, -2], dtype=np.float32))


def test_glove_840b_word_with_spaces_loads(tmp_path):
    p = _w(tmp_path / "g.txt", "the 0.5 -1.25 2\n. . . 1 2 3\nat name@x.com 0 0 1\n")
    kv = load_vectors(p, fmt="glove")
    assert kv.index_to_key == ["the", ". . .", "at name@x.com"]
    np.testing.assert_array_equal(kv[". . ."], np.array([1, 2, 3], dtype=np.float32))
    first = load_vectors(_w(tmp_path / "h.txt", ". . . 1 2 3\nthe 0.5 -1.25 2\n"), fmt="glove")
    assert first.vector_size == 3 and first.index_to_key == [". . .", "the"]


def test_binary_garbage_after_records_and_empty_words(tmp_path):
    good = _bin([("a", [1.0, 2.0, 3.0]), ("b", [0.0, 0.5, 1.0])])
    assert load_vectors(_w(tmp_path / "v.bin", good)).index_to_key == ["a", "b"]
    with pytest.raises(VectorFormatError, match="more bytes follow record 2"):
        load_vectors(_w(tmp_path / "v.bin", good + b"junk"))
    with pytest.raises(VectorFormatError, match="empty word"):
        load_vectors(_w(tmp_path / "v.bin", _bin([("", [1.0, 2.0, 3.0])])))
    with pytest.raises(VectorFormatError, match="two positive integers"):
        load_vectors(_w(tmp_path / "v.bin", good.replace(b"2 3", b"-2 3", 1)))


# ------------------------------------------------------------------------------- dictionaries
def test_dictionary_valid_forms_load_exactly(tmp_path):
    pairs = [("the", "le"), ("cat", "chat"), ("cat", "minou")]
    text = "".join(f"{a} {b}\n" for a, b in pairs)
    assert load_dictionary(_w(tmp_path / "a.txt", text)) == pairs
    assert load_dictionary(_w(tmp_path / "b.txt", text.replace(" ", "\t"))) == pairs
    assert load_dictionary(_w(tmp_path / "c.txt", "\ufeff" + text.replace("\n", "\r\n"))) == pairs
    assert load_dictionary(_w(tmp_path / "d.txt.gz", gzip.compress(text.encode()))) == pairs


@pytest.mark.parametrize("line,what", [("cat chat minou", "3 field"), ("cat", "1 field"), (" cat chat", "empty word"),
                                       ("cat\t\tchat", "3 field"), ("\tchat", "empty word")])
def test_dictionary_bad_lines_name_the_line(tmp_path, line, what):
    p = _w(tmp_path / "d.txt", f"the le\n{line}\n")
    with pytest.raises(FormatError, match=rf"d.txt:2: malformed: expected 'source target'.*{what}") as e:
        load_dictionary(p)
    assert e.value.code == "E102"


def test_dictionary_undecodable_and_damaged_gz(tmp_path):
    p = _w(tmp_path / "d.txt", b"the le\ncat chat\ncaf\xe9 caf\xe9\n")
    with pytest.raises(FormatError, match=r"d.txt:3: .*not UTF-8"):
        load_dictionary(p)
    z = gzip.compress(b"the le\ncat chat\n" * 50, mtime=0)
    p = _w(tmp_path / "d.txt.gz", z[:-6])
    with pytest.raises(FormatError, match=r"d.txt.gz: .*damaged gzip"):
        load_dictionary(p)


@pytest.mark.data
def test_real_dictionaries_still_load(data_root):
    muse = load_dictionary(data_root / "lexicons" / "muse" / "en-ja.5000-6500.txt.gz")
    assert len(muse) > 1000 and all(a and b for a, b in muse)
    xling = next((data_root / "lexicons" / "xling_eval").rglob("*.tsv.gz"))
    assert len(load_dictionary(xling)) >= 500
