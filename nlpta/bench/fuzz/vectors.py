"""Malformed word-vector files and bilingual dictionaries (issue 18).

Formats: ``word2vec-text`` (``<count> <dim>`` header, then ``word x1 .. xdim`` per line),
``glove-text`` (no header; a word may contain spaces, as in GloVe 840B: the last ``dim`` fields
are the vector), ``word2vec-bin`` (``<count> <dim>\\n`` then ``word<space><dim little-endian
float32>`` records, each optionally followed by ``\\n``) and ``muse-dictionary`` (``source
target`` per line, one space or one tab between them).

Every vector value must be finite with ``|x| <= 1e6`` (:data:`nlpta.embeddings.io.MAX_ABS_VALUE`);
a header that promises more (or fewer) rows than the file holds is an error.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from . import ERROR, Case, damaged_gz, gz

DIM = 3
ROWS = [
    ("the", [0.5, -1.25, 2.0]),
    ("cat", [1.0, 0.0, -0.5]),
    ("sat", [0.25, 0.75, -2.0]),
    ("mat", [-1.0, 1.0, 0.125]),
    ("on", [3.5, -0.75, 0.0625]),
]


def _fmt(x: float) -> str:
    return repr(x).removesuffix(".0") if x == int(x) else repr(x)


def _line(word: str, vec: list[float]) -> str:
    return word + " " + " ".join(_fmt(x) for x in vec)


def _text(rows: list[tuple[str, list[float]]], header: bool, n: int | None = None) -> str:
    lines = [f"{len(rows) if n is None else n} {DIM}"] if header else []
    lines += [_line(w, v) for w, v in rows]
    return "".join(x + "\n" for x in lines)


def _norm(kv) -> tuple[list[str], list[list[float]]]:
    return list(kv.index_to_key), kv.vectors.tolist()


def _expect(rows: list[tuple[str, list[float]]]) -> tuple[list[str], list[list[float]]]:
    return [w for w, _ in rows], [list(v) for _, v in rows]


def _loader(name: str, fmt: str):
    def load(folder: Path):
        from ...embeddings import load_vectors

        return load_vectors(folder / name, fmt=fmt)

    return load


def _text_cases(fmt_name: str, header: bool, rng: random.Random) -> list[Case]:
    fmt = "word2vec" if header else "glove"
    ext = ".vec" if header else ".txt"
    off = 1 if header else 0  # line number of data row i (0-based) is i + 1 + off
    variants: list[tuple[str, bytes, object, int | None]] = []  # name, bytes, expect, line

    def add(name: str, text: str | bytes, expect: object = ERROR, line: int | None = None) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        variants.append((name, data, expect, line))

    good = _text(ROWS, header)
    add("valid", good, _expect(ROWS))
    add("bom", "\ufeff" + good, _expect(ROWS))
    add("crlf", good.replace("\n", "\r\n"), _expect(ROWS))
    add("trailing-space", good.replace("\n", " \n"), _expect(ROWS))
    add("no-final-newline", good.rstrip("\n"), _expect(ROWS))
    spaced = [("at name@x.com", [0.5, 1.0, 2.0]), *ROWS[:2], (". . .", [1.5, -1.0, 0.0])]
    add("glove840b-word-with-spaces", _text(spaced, header), _expect(spaced))
    dup = [*ROWS[:3], ("cat", [9.0, 9.0, 9.0])]
    add("duplicate-word-keeps-first", _text(dup, header), _expect(ROWS[:3]))
    # truncation at line boundaries
    for k in range(len(ROWS)):
        if header:
            add(f"truncate-rows@{k}", _text(ROWS[:k], True, n=len(ROWS)))
        elif k == 0:
            add("empty-file", "")
        else:
            add(f"truncate-rows@{k}", _text(ROWS[:k], False), _expect(ROWS[:k]))
    add("blank-only", "\n\n\n")
    # truncation inside a line, before its last field (a correct reader can tell)
    for i in range(0 if header else 1, len(ROWS)):
        w, v = ROWS[i]
        line = _line(w, v)
        last = line.rindex(" ")
        cut = rng.randrange(1, last + 1)
        prefix = _text(ROWS[:i], header, n=len(ROWS) if header else None) + line[:cut]
        add(f"truncate-mid@{i}:{cut}", prefix, line=i + 1 + off)
    # bad values
    for bad in ("nan", "inf", "-inf", "1e7", "-3e38e", "1e39", "NaN"):
        i, j = rng.randrange(len(ROWS)), rng.randrange(DIM)
        rows = [(w, [_fmt(x) for x in v]) for w, v in ROWS]
        rows[i][1][j] = bad
        text = ([f"{len(ROWS)} {DIM}"] if header else []) + [w + " " + " ".join(v) for w, v in rows]
        add(f"value-{bad}@{i}", "\n".join(text) + "\n", line=i + 1 + off)
    # wrong column counts
    for i in range(1, len(ROWS)):
        w, v = ROWS[i]
        rows = [_line(a, b) for a, b in ROWS]
        rows[i] = _line(w, v[:-1])
        text = ([f"{len(ROWS)} {DIM}"] if header else []) + rows
        add(f"missing-value@{i}", "\n".join(text) + "\n", line=i + 1 + off)
        rows[i] = _line(w, [*v, 7.0])
        text = ([f"{len(ROWS)} {DIM}"] if header else []) + rows
        add(f"extra-value@{i}", "\n".join(text) + "\n", line=i + 1 + off)
    # byte flips into structural bytes
    lines = [_line(w, v) for w, v in ROWS]
    for i in range(1, len(ROWS)):
        base = list(lines)
        line = base[i]
        spaces = [p for p, c in enumerate(line) if c == " "][1:]  # between two numbers
        p = rng.choice(spaces)
        base[i] = line[:p] + "x" + line[p + 1:]
        hdr = [f"{len(ROWS)} {DIM}"] if header else []
        add(f"flip-space@{i}:{p}", "\n".join(hdr + base) + "\n", line=i + 1 + off)
        base = list(lines)
        digits = [p for p, c in enumerate(line) if c.isdigit() and p > len(ROWS[i][0])]
        p = rng.choice(digits)
        base[i] = line[:p] + "o" + line[p + 1:]
        add(f"flip-digit@{i}:{p}", "\n".join(hdr + base) + "\n", line=i + 1 + off)
        base = list(lines)
        base[i - 1] = base[i - 1] + " " + base[i]
        del base[i]
        add(f"flip-newline@{i}", "\n".join(hdr + base) + "\n", line=i + off)
        base = list(lines)
        base[i] = ROWS[i][0][:1] + "\xe9" + line[1:]
        add(f"latin1-word@{i}", ("\n".join(hdr + base) + "\n").encode("latin-1"), line=i + 1 + off)
    # a letter of a word turned into a space: GloVe 840B words may hold spaces, so it loads
    rows = list(ROWS)
    rows[2] = ("s t", ROWS[2][1])
    add("flip-letter-to-space@2", _text(rows, header), _expect(rows))
    if header:
        add("header-fewer-rows", _text(ROWS, True, n=3), line=None)
        add("header-zero", _text(ROWS, True, n=0), line=None)
        add("header-huge", _text(ROWS, True, n=1_000_000_000), line=None)
        add("header-negative", _text(ROWS, True, n=-4), line=1)
        add("header-wrong-dim", _text(ROWS, False).join([f"{len(ROWS)} 2\n", ""]), line=2)
        add("header-one-field", _text(ROWS, False).join([f"{len(ROWS)}\n", ""]), line=1)
        add("header-flip-newline", _text(ROWS, True).replace("\n", " ", 1), line=1)
        add("bom-header-only", "\ufeff5 3\n", line=None)

    cases: list[Case] = []
    for name, data, expect, line in variants:
        cases.append(Case(fmt_name, name, {"v" + ext: data}, _loader("v" + ext, fmt), expect, line=line,
                          normalize=_norm))
    for name, data, expect, _line_ in variants[:: 3]:  # a third of them gzipped as well
        cases.append(Case(fmt_name, name + ".gz", {"v" + ext + ".gz": gz(data)}, _loader("v" + ext + ".gz", fmt),
                          expect, line=_line_, normalize=_norm))
    for name, data in damaged_gz(good.encode(), rng):
        cases.append(Case(fmt_name, name, {"v" + ext + ".gz": data}, _loader("v" + ext + ".gz", fmt),
                          normalize=_norm))
    return cases


def _record(word: bytes, vec: list[float], nl: bool = True) -> bytes:
    return word + b" " + struct.pack(f"<{len(vec)}f", *vec) + (b"\n" if nl else b"")


def _bin(rows, n: int | None = None, dim: int = DIM, nl: bool = True) -> bytes:
    head = f"{len(rows) if n is None else n} {dim}\n".encode()
    return head + b"".join(_record(w.encode(), v, nl) for w, v in rows)


def _bin_cases(rng: random.Random) -> list[Case]:
    fmt_name = "word2vec-bin"
    variants: list[tuple[str, bytes, object]] = []

    def add(name: str, data: bytes, expect: object = ERROR) -> None:
        variants.append((name, data, expect))

    good = _bin(ROWS)
    add("valid", good, _expect(ROWS))
    add("no-record-newlines", _bin(ROWS, nl=False), _expect(ROWS))
    add("bom", b"\xef\xbb\xbf" + good, _expect(ROWS))
    dup = [*ROWS[:3], ("cat", [9.0, 9.0, 9.0])]
    add("duplicate-word-keeps-first", _bin(dup), _expect(ROWS[:3]))
    head = len(f"{len(ROWS)} {DIM}\n")
    for k in range(len(ROWS)):
        add(f"truncate-records@{k}", _bin(ROWS[:k], n=len(ROWS)))
    for _ in range(6):
        cut = rng.randrange(head + 1, len(good) - 1)
        add(f"truncate-mid@{cut}", good[:cut])
    add("empty-file", b"")
    add("header-only", good[:head])
    add("header-huge-count", _bin(ROWS, n=1_000_000_000))
    add("header-huge-dim", _bin(ROWS, dim=1_000_000_000))
    add("header-zero", _bin(ROWS, n=0))
    add("header-negative", _bin(ROWS, n=-5))
    add("header-not-numbers", b"five three\n" + good[head:])
    add("header-one-field", b"5\n" + good[head:])
    add("header-flip-space", good.replace(b" ", b"x", 1))
    add("header-fewer-records", _bin(ROWS, n=3))
    add("trailing-garbage", good + b"junk")
    add("extra-record", good + _record(b"dog", [1.0, 2.0, 3.0]))
    for bad in (float("nan"), float("inf"), -float("inf"), 2e6, -1e30):
        i, j = rng.randrange(len(ROWS)), rng.randrange(DIM)
        rows = [(w, list(v)) for w, v in ROWS]
        rows[i][1][j] = bad
        add(f"value-{bad}@{i}", _bin(rows))
    i = rng.randrange(len(ROWS))
    add(f"word-not-utf8@{i}", good.replace(ROWS[i][0].encode() + b" ", b"\xff\xfe" + ROWS[i][0].encode() + b" ", 1))
    add("empty-word", good[:head] + _record(b"", [1.0, 1.0, 1.0]) + b"".join(
        _record(w.encode(), v) for w, v in ROWS[1:]))
    add("no-space-after-word", good[:head] + b"x" * 5000)

    cases = [Case(fmt_name, n, {"v.bin": d}, _loader("v.bin", "word2vec-binary"), e, normalize=_norm)
             for n, d, e in variants]
    cases += [Case(fmt_name, n + ".gz", {"v.bin.gz": gz(d)}, _loader("v.bin.gz", "word2vec-binary"), e,
                   normalize=_norm) for n, d, e in variants[::2]]
    cases += [Case(fmt_name, n, {"v.bin.gz": d}, _loader("v.bin.gz", "word2vec-binary"), normalize=_norm)
              for n, d in damaged_gz(good, rng)]
    return cases


PAIRS = [("the", "le"), ("cat", "chat"), ("cat", "minou"), ("sat", "assis"), ("mat", "tapis")]


def _dict_loader(name: str, lower: bool = False):
    def load(folder: Path):
        from ...data.lexicons import load_dictionary

        return load_dictionary(folder / name, lower=lower)

    return load


def _dict_cases(rng: random.Random) -> list[Case]:
    fmt_name = "muse-dictionary"
    variants: list[tuple[str, bytes, object, int | None]] = []

    def add(name: str, text: str | bytes, expect: object = ERROR, line: int | None = None) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        variants.append((name, data, expect, line))

    def text(pairs, sep: str = " ") -> str:
        return "".join(f"{a}{sep}{b}\n" for a, b in pairs)

    good = text(PAIRS)
    add("valid", good, PAIRS)
    add("tab-separated", text(PAIRS, "\t"), PAIRS)
    add("bom", "\ufeff" + good, PAIRS)
    add("crlf", good.replace("\n", "\r\n"), PAIRS)
    add("no-final-newline", good.rstrip("\n"), PAIRS)
    add("blank-lines", good.replace("\n", "\n\n", 2), PAIRS)
    add("trailing-space", good.replace("\n", " \n"), PAIRS)
    uni = [("日本", "japon"), ("straße", "rue"), ("café", "kaffee")]
    add("unicode", text(uni), uni)
    for k in range(len(PAIRS)):
        add(f"truncate-lines@{k}", text(PAIRS[:k]), PAIRS[:k] if k else ERROR, None)
    add("blank-only", "\n \n\n")
    for i in range(len(PAIRS)):
        a, b = PAIRS[i]
        cut = rng.randrange(1, len(a) + 2)  # inside the source word or just after the separator
        add(f"truncate-mid@{i}:{cut}", text(PAIRS[:i]) + (a + " " + b)[:cut], line=i + 1)
    for i in range(len(PAIRS)):
        rows = [f"{a} {b}" for a, b in PAIRS]
        rows[i] = rows[i] + " extra"
        add(f"three-fields@{i}", "\n".join(rows) + "\n", line=i + 1)
        rows = [f"{a} {b}" for a, b in PAIRS]
        rows[i] = PAIRS[i][0]
        add(f"one-field@{i}", "\n".join(rows) + "\n", line=i + 1)
    i = rng.randrange(len(PAIRS))
    rows = [f"{a}\t{b}" for a, b in PAIRS]
    rows[i] = "\t" + PAIRS[i][1]
    add(f"empty-source@{i}", "\n".join(rows) + "\n", line=i + 1)
    rows = [f"{a}\t{b}" for a, b in PAIRS]
    rows[i] = PAIRS[i][0] + "\t\t" + PAIRS[i][1]
    add(f"empty-middle-field@{i}", "\n".join(rows) + "\n", line=i + 1)
    rows = [f"{a} {b}" for a, b in PAIRS]
    rows[i] = " " + rows[i]
    add(f"leading-space@{i}", "\n".join(rows) + "\n", line=i + 1)
    rows = [f"{a} {b}" for a, b in PAIRS]
    rows[i] = rows[i].replace(" ", "x")
    add(f"flip-space@{i}", "\n".join(rows) + "\n", line=i + 1)
    j = rng.randrange(1, len(PAIRS))
    rows = [f"{a} {b}" for a, b in PAIRS]
    rows[j - 1] += " " + rows.pop(j)
    add(f"flip-newline@{j}", "\n".join(rows) + "\n", line=j)
    rows = [f"{a} {b}" for a, b in PAIRS]
    rows[i] = rows[i] + "\xe9"
    add(f"latin1@{i}", ("\n".join(rows) + "\n").encode("latin-1"), line=i + 1)
    add(f"invalid-utf8@{i}", ("\n".join(f"{a} {b}" for a, b in PAIRS[:i]) + ("\n" if i else "")).encode()
        + b"\xff\xfe x\n", line=i + 1)

    cases: list[Case] = []
    for name, data, expect, line in variants:
        cases.append(Case(fmt_name, name, {"d.txt": data}, _dict_loader("d.txt"), expect, line=line))
    for name, data, expect, line in variants[::2]:
        cases.append(Case(fmt_name, name + ".gz", {"d.txt.gz": gz(data)}, _dict_loader("d.txt.gz"), expect,
                          line=line))
    upper = [("The", "Le"), ("CAT", "Chat")]
    cases.append(Case(fmt_name, "lower", {"d.txt": text(upper).encode()}, _dict_loader("d.txt", lower=True),
                      [("the", "le"), ("cat", "chat")]))
    for name, data in damaged_gz(good.encode(), rng):
        cases.append(Case(fmt_name, name, {"d.txt.gz": data}, _dict_loader("d.txt.gz")))
    return cases


def cases(seed: int) -> list[Case]:
    """Every vector-file and dictionary case, generated from ``seed``."""
    rng = random.Random(seed)
    return (_text_cases("word2vec-text", True, rng) + _text_cases("glove-text", False, rng) + _bin_cases(rng)
            + _dict_cases(rng))
