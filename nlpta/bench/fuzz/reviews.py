"""Malformed inputs for the sentiment readers (issue 18): Blitzer raw reviews and
``processed_acl`` counts, Webis-CLS-10 XML, FDU-MTL task files, one-text-per-line pools, JSONL,
CSV and TSV.

Each format starts from a small inline sample shaped like the real corpus files and derives
variants: truncations (at line boundaries and mid-line), flipped structural bytes, bad
encodings, wrong column counts, out-of-range labels, ratings and counts, and damaged gzip. Every
variant but the damaged-gzip ones is emitted twice, plain and gzip-compressed (the readers take
both). The expected outcome of each case follows from the format's definition:

* ``blitzer-raw``: the file declares UTF-8 and wraps its records in ``<reviews>`` ...
  ``</reviews>``: invalid UTF-8 and a missing ``</reviews>`` (a truncated file) are errors; a
  rating must be a number from 1 to 5.
* ``blitzer-processed``: ``ngram:count`` items with integer counts from 1 to
  :data:`nlpta.data.reviews.MAX_NGRAM_COUNT`, exactly one ``#label#:positive|negative``; UTF-8.
* ``webis``: well-formed XML, decoded per its declaration; every ``<item>`` has a ``<rating>``
  from 1 to 5 and a ``<text>``; no DOCTYPE (no entity expansion).
* ``fdu``, ``lines``, ``csv``, ``tsv``: a line that is not UTF-8 is read as Windows-1252 (what
  such files are; logged); a truncation at any point the format cannot tell loads the prefix.
* ``jsonl``: UTF-8 JSON objects, ``text`` a string without lone surrogates, labels from the map.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import ERROR, Case, damaged_gz, gz

Variant = tuple[str, bytes, Any, int | None]  # name, file bytes, expected rows or ERROR, error line


def _rows(ds) -> list[tuple]:
    return [(r["text"], r["label"]) for r in ds]


def _rated_rows(ds) -> list[tuple]:
    return [(r["text"], r["label"], r["rating"]) for r in ds]


def _load(**options) -> Callable[[Path], Any]:
    def load(path: Path):
        from ...data import load as _load_data

        return _load_data(str(path), **options)

    return load


def _emit(fmt: str, fname: str, variants: list[Variant], rng: random.Random, sample: bytes,
          normalize: Callable[[Any], Any], **options) -> list[Case]:
    """Plain and .gz cases for every variant, plus the damaged-gzip variants of ``sample``."""
    load = _load(**options)
    out: list[Case] = []
    for name, data, expect, line in variants:
        for f, d, suffix in ((fname, data, ""), (fname + ".gz", gz(data), "+gz")):
            out.append(Case(format=fmt, name=name + suffix, files={f: d},
                            load=(lambda folder, f=f: load(folder / f)), expect=expect, error_file=f,
                            line=line, normalize=normalize))
    for name, data in damaged_gz(sample, rng):
        f = fname + ".gz"
        out.append(Case(format=fmt, name=name, files={f: data}, load=(lambda folder, f=f: load(folder / f)),
                        expect=ERROR, error_file=f, normalize=normalize))
    return out


def _dec(line: bytes) -> str:
    """A line as the line-oriented readers decode it: UTF-8, else Windows-1252."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _mid_cuts(data: bytes, rng: random.Random, n: int, after: int = 0) -> list[int]:
    """``n`` cut offsets that fall strictly inside a line (not at its start, not on its newline)."""
    spots = [i for i in range(after + 1, len(data)) if data[i - 1:i] != b"\n" and data[i:i + 1] not in (b"\n", b"\r")]
    return sorted(rng.sample(spots, min(n, len(spots))))


def _line_cuts(data: bytes, rng: random.Random, n: int) -> list[int]:
    """``n`` offsets just after a newline (a truncation at a line boundary), the end excluded."""
    spots = [i + 1 for i, b in enumerate(data) if b == 0x0A and i + 1 < len(data)]
    return sorted(rng.sample(spots, min(n, len(spots))))


# ------------------------------------------------------------------------------ Blitzer raw
_B_REVIEWS = [  # rating, title, review text (lines)
    ("5.0", "One of the best", ["Sphere is an excellent novel &amp; hard to put down.", "", "Read it."]),
    ("1.0", "Waste", ["Dull from start to finish."]),
    ("3.0", "Average", ["Neither good nor bad."]),
    ("4.0", "Café stories", ["Nice, \u00e9l\u00e9gant and short."]),
    ("2.0", "Meh", ["Not what I expected <sigh>."]),
]


def _blitzer_lines(reviews=_B_REVIEWS) -> list[str]:
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', "<reviews>"]
    for i, (rating, title, text) in enumerate(reviews):
        lines += ["<review>", "<unique_id>", f"b{i}:x", "</unique_id>", "<rating>", rating, "</rating>",
                  "<title>", title, "</title>", "<review_text>", *text, "</review_text>", "</review>"]
    return [*lines, "</reviews>"]


def _blitzer_expect(reviews=_B_REVIEWS) -> list[tuple]:
    out = []
    for rating, title, text in reviews:
        r = float(rating)
        if r == 3:
            continue
        body = html.unescape("\n".join(text).strip())
        out.append((f"{html.unescape(title)}. {body}", int(r > 3), r))
    return out


def _blitzer_raw(rng: random.Random) -> list[Case]:
    lines = _blitzer_lines()
    sample = ("\n".join(lines) + "\n").encode()
    good = _blitzer_expect()
    v: list[Variant] = [("valid", sample, good, None),
                        ("bom", b"\xef\xbb\xbf" + sample, good, None),
                        ("crlf", sample.replace(b"\n", b"\r\n"), good, None),
                        ("no-final-newline", sample[:-1], good, None),
                        ("rating-4.5", sample.replace(b"\n4.0\n", b"\n4.5\n"), [g if g[2] != 4.0 else (g[0], 1, 4.5) for g in good], None),
                        ("only-3-star", ("\n".join(_blitzer_lines([_B_REVIEWS[2]])) + "\n").encode(), ERROR, None),
                        ("empty", b"", ERROR, None)]
    rating_line = lines.index("5.0") + 1
    end_line = lines.index("</review>") + 1  # a record's values are checked when it closes
    for bad in ("nan", "NaN", "inf", "-inf", "99", "-4", "0", "6", "five", "", "4.0 stars"):
        data = ("\n".join(lines[: rating_line - 1] + [bad] + lines[rating_line:]) + "\n").encode()
        v.append((f"rating={bad or 'empty'}", data, ERROR, end_line))
    dup = lines[: rating_line + 1] + ["<rating>", "1.0", "</rating>"] + lines[rating_line + 1:]
    v.append(("rating-twice", ("\n".join(dup) + "\n").encode(), ERROR, None))
    for field in ("rating", "review_text"):
        i = lines.index(f"<{field}>")
        j = lines.index(f"</{field}>", i)
        v.append((f"no-{field}", ("\n".join(lines[:i] + lines[j + 1:]) + "\n").encode(), ERROR, None))
    text_line = lines.index("Dull from start to finish.") + 1
    for name, bad in (("invalid-utf8", b"Dull \xff\xfe start"), ("latin1-byte", b"Caf\xe9 dull"),
                      ("surrogate-utf8", b"Dull \xed\xa0\x80 start"), ("truncated-utf8", b"Dull \xc3")):
        data = sample.replace(b"Dull from start to finish.", bad)
        v.append((name, data, ERROR, text_line))
    tag_lines = [i for i, ln in enumerate(lines) if ln.startswith("<") and not ln.startswith("<?")]
    for i in sorted(rng.sample(tag_lines, 8)):
        for ch in ("{", " x"):
            data = ("\n".join(lines[:i] + [ch + lines[i][1:]] + lines[i + 1:]) + "\n").encode()
            v.append((f"flip-lt@{i + 1}{'-' + ch.strip() if ch != '{' else ''}", data, ERROR, None))
    for k in _line_cuts(sample, rng, 6):
        v.append((f"truncate@{k}", sample[:k], ERROR, None))
    for k in _mid_cuts(sample, rng, 4):
        v.append((f"truncate-mid@{k}", sample[:k], ERROR, None))
    v.append(("record-outside-reviews", sample.replace(b"</reviews>\n", b"</reviews>\n<review>\n"), ERROR, None))
    return _emit("blitzer-raw", "sample.review", v, rng, sample, _rated_rows)


# ------------------------------------------------------------------------ Blitzer processed
_P_LINES = [
    ("great:2 not_bad:1 the:3 the_book:1", "positive"),
    ("boring:1 waste:2 a_waste:1", "negative"),
    ("<num>_stars:1 caf\u00e9:1 ok:1", "positive"),
]


def _processed_line(items: str, label: str) -> str:
    return f"{items} #label#:{label}"


def _processed_expect(lines=_P_LINES) -> list[tuple]:
    out = []
    for items, label in lines:
        uni = []
        for it in items.split():
            f, _, c = it.rpartition(":")
            if "_" not in f:
                uni += [f] * int(c)
        out.append((" ".join(uni), int(label == "positive")))
    return out


def _blitzer_processed(rng: random.Random) -> list[Case]:
    lines = [_processed_line(*p) for p in _P_LINES]
    sample = ("\n".join(lines) + "\n").encode()
    good = _processed_expect()
    v: list[Variant] = [("valid", sample, good, None),
                        ("bom", b"\xef\xbb\xbf" + sample, good, None),
                        ("crlf", sample.replace(b"\n", b"\r\n"), good, None),
                        ("blank-line", sample.replace(b"\n", b"\n\n", 1), good, None),
                        ("count-max", sample.replace(b"great:2", b"great:10000"), [(" ".join(["great"] * 10000 + ["the"] * 3), 1)] + good[1:], None),
                        ("empty", b"", ERROR, None)]
    for bad in ("0", "-1", "-0", "1000000000", "10001", "1.5", "x", "", "1e3", "+2", "2\u0662", "\u0663"):
        v.append((f"count={bad or 'empty'}", sample.replace(b"great:2", f"great:{bad}".encode()), ERROR, 1))
    for name, line in (("two-labels", "great:1 #label#:positive #label#:negative"),
                       ("two-labels-same", "great:1 #label#:positive #label#:positive"),
                       ("label-neutral", "great:1 #label#:neutral"),
                       ("label-empty", "great:1 #label#:"),
                       ("no-label", "great:1 bad:1"),
                       ("no-colon", "great #label#:positive"),
                       ("no-feature", ":3 #label#:positive"),
                       ("label-only-as-feature", "#label#:1 great:1")):
        v.append((name, ("\n".join(lines[:1] + [line] + lines[2:]) + "\n").encode(), ERROR, 2))
    for name, bad in (("invalid-utf8", b"bor\xffing:1"), ("surrogate-utf8", b"\xed\xa0\x80:1")):
        v.append((name, sample.replace(b"boring:1", bad), ERROR, 2))
    for k in _line_cuts(sample, rng, 2):
        n = sample[:k].count(b"\n")
        v.append((f"truncate@{k}", sample[:k], good[:n], None))
    for k in _mid_cuts(sample, rng, 8):
        v.append((f"truncate-mid@{k}", sample[:k], ERROR, _line_of(sample, k)))
    return _emit("blitzer-processed", "sample.review", v, rng, sample, _rows)


# ----------------------------------------------------------------------------- Webis-CLS-10
_W_ITEMS = [  # rating, text, summary
    ("5.0", "Sehr gut &amp; sch\u00f6n, ein Buch f\u00fcr alle.", "Toll"),
    ("1.0", "Langweilig.\n Zu lang.", "Schlecht"),
    ("3.0", "Mittelm\u00e4\u00dfig.", "Na ja"),
    ("2.0", "Nicht mein Fall.", ""),
    ("4.0", "Gr\u00f6\u00dfer als gedacht, aber gut.", "Gut"),
]


def _webis_doc(encoding: str = "utf-8", items=_W_ITEMS) -> str:
    out = [f'<?xml version="1.0" encoding="{encoding}"?>', "<items>"]
    for i, (rating, text, summary) in enumerate(items):
        out.append(f"<item><category>B\u00fccher</category><rating>{rating}</rating><asin>{i}</asin>"
                   f"<text>{text}</text><summary>{summary}</summary>"
                   "<helpfulness_votes><value>1</value><value>2</value></helpfulness_votes></item>")
    return "\n".join([*out, "</items>"]) + "\n"


def _webis_expect(items=_W_ITEMS) -> list[tuple]:
    out = []
    for rating, text, summary in items:
        r = float(rating)
        if r == 3:
            continue
        t = html.unescape(text).strip()
        out.append((f"{summary}. {t}" if summary else t, int(r > 3), r))
    return out


def _webis(rng: random.Random) -> list[Case]:
    doc = _webis_doc()
    sample = doc.encode()
    good = _webis_expect()
    item1 = 3  # the line of the first <item>
    v: list[Variant] = [("valid", sample, good, None),
                        ("bom", b"\xef\xbb\xbf" + sample, good, None),
                        ("crlf", sample.replace(b"\n", b"\r\n"), good, None),
                        ("no-declaration", sample.split(b"\n", 1)[1], good, None),
                        ("declared-iso-8859-1", _webis_doc("ISO-8859-1").encode("latin-1"), good, None),
                        ("declared-latin1-lower", _webis_doc("iso-8859-1").encode("latin-1"), good, None),
                        ("declared-windows-1252", _webis_doc("windows-1252", [("5.0", "Preis 10 \u20ac, gut.", "Ok")]).encode("cp1252"),
                         [("Ok. Preis 10 \u20ac, gut.", 1, 5.0)], None),
                        ("declared-utf-16", _webis_doc("utf-16").encode("utf-16"), good, None),
                        ("only-3-star", _webis_doc(items=[_W_ITEMS[2]]).encode(), ERROR, None),
                        ("empty", b"", ERROR, None),
                        ("no-items", b'<?xml version="1.0" encoding="utf-8"?>\n<items>\n</items>\n', ERROR, None)]
    for bad in ("nan", "NaN", "inf", "-Infinity", "99", "-4", "0", "6", "f\u00fcnf", "", "4,0"):
        data = sample.replace(b"<rating>5.0</rating>", f"<rating>{bad}</rating>".encode(), 1)
        v.append((f"rating={bad or 'empty'}", data, ERROR, item1))
    v.append(("no-rating", sample.replace(b"<rating>5.0</rating>", b"", 1), ERROR, item1))
    v.append(("no-text", sample.replace("<text>Sehr gut &amp; sch\u00f6n, ein Buch f\u00fcr alle.</text>".encode(), b"", 1), ERROR, item1))
    v.append(("nested-item", sample.replace(b"<asin>0</asin>", b"<item><rating>1.0</rating><text>x</text></item>", 1), ERROR, item1))
    v.append(("declared-utf8-latin1-bytes", doc.encode("latin-1"), ERROR, item1))
    nicht = _line_of(sample, sample.index(b"Nicht mein"))
    v.append(("invalid-utf8", sample.replace(b"Nicht mein", b"Nicht \xff mein"), ERROR, nicht))
    v.append(("surrogate-charref", sample.replace(b"Nicht mein", b"Nicht &#xD800; mein"), ERROR, nicht))
    v.append(("nul-byte", sample.replace(b"Nicht mein", b"Nicht \x00 mein"), ERROR, nicht))
    v.append(("undefined-entity", sample.replace(b"Nicht mein", b"Nicht &nbsp; mein"), ERROR, nicht))
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE items [\n<!ENTITY a "aaaaaaaaaa">\n'
            + b"".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">\n'.encode() for p, c in zip("abcdefgh", "bcdefghi", strict=True))
            + b"]>\n<items><item><rating>5.0</rating><text>&i;</text></item></items>\n")
    v.append(("entity-bomb", bomb, ERROR, None))
    v.append(("doctype", sample.replace(b"<items>", b"<!DOCTYPE items>\n<items>", 1), good, None))
    v.append(("trailing-garbage", sample + b"<items>\n", ERROR, None))
    # structural bytes: the '<' of a tag turned into a space, or a '>' into a space: never well-formed
    tag_starts = [i for i in range(len(sample)) if sample[i:i + 1] == b"<" and sample[i + 1:i + 2] not in (b"?", b"")]
    for i in sorted(rng.sample(tag_starts, 6)):
        data = bytearray(sample)
        data[i] = 0x20
        v.append((f"flip-lt@{i}", bytes(data), ERROR, None))
        j = sample.index(b">", i)
        data = bytearray(sample)
        data[j] = 0x20
        v.append((f"flip-gt@{j}", bytes(data), ERROR, None))
    for k in _line_cuts(sample, rng, 3):
        v.append((f"truncate@{k}", sample[:k], ERROR, None))
    for k in _mid_cuts(sample, rng, 3):
        v.append((f"truncate-mid@{k}", sample[:k], ERROR, None))
    return _emit("webis", "train.review", v, rng, sample, _rated_rows)


# ---------------------------------------------------------------------------------- FDU-MTL
_F_LINES = [
    ("0", "i ordered a pair for my husband and was very disappointed , they look cheap ."),
    ("1", "love hush puppies . they are comfortable"),
    ("0", "the strap broke\u2028after a week \u0085 returned it ."),
    ("1", "great fit , \u00e9l\u00e9gant and warm"),
]


def _fdu(rng: random.Random) -> list[Case]:
    lines = [f"{lab}\t{text}" for lab, text in _F_LINES]
    sample = ("\n".join(lines) + "\n").encode()
    good = [(t.strip(), int(lab)) for lab, t in _F_LINES]
    cp = "i ordered a pair for my husband and was very disappointed , they look cheap ."
    v: list[Variant] = [("valid", sample, good, None),
                        ("bom", b"\xef\xbb\xbf" + sample, good, None),
                        ("crlf", sample.replace(b"\n", b"\r\n"), good, None),
                        ("blank-line", sample.replace(b"\n", b"\n\n", 1), good, None),
                        ("no-final-newline", sample[:-1], good, None),
                        ("empty-text", sample.replace(b"1\tlove hush puppies . they are comfortable", b"1\t"),
                         [good[0], ("", 1), *good[2:]], None),
                        ("tab-in-text", sample.replace(b"love hush", b"love\thush"), [good[0], ("love\thush puppies . they are comfortable", 1), *good[2:]], None),
                        ("cp1252-line", sample.replace(cp.encode(), cp.replace("pair", "pa\u00efr").encode("cp1252")),
                         [(cp.replace("pair", "pa\u00efr"), 0), *good[1:]], None),
                        ("empty", b"", ERROR, None)]
    for bad in ("2", "-1", "x", "01", "1.0", "", "positive", "0 1"):
        v.append((f"label={bad or 'empty'}", ("\n".join(lines[:1] + [f"{bad}\t{_F_LINES[1][1]}"] + lines[2:]) + "\n").encode(), ERROR, 2))
    v.append(("no-tab", ("\n".join(lines[:2] + [_F_LINES[2][1]] + lines[3:]) + "\n").encode(), ERROR, 3))
    v.append(("tab-to-space", sample.replace(b"1\tlove", b"1 love"), ERROR, 2))
    for k in _line_cuts(sample, rng, 3):
        v.append((f"truncate@{k}", sample[:k], good[: sample[:k].count(b"\n")], None))
    for k in _mid_cuts(sample, rng, 8, after=2):
        n = sample[:k].count(b"\n")
        last = _dec(sample[sample.rfind(b"\n", 0, k) + 1:k])
        lab, sep, text = last.partition("\t")
        if not sep:
            v.append((f"truncate-mid@{k}", sample[:k], ERROR, n + 1))
        else:
            v.append((f"truncate-mid@{k}", sample[:k], [*good[:n], (text.strip(), int(lab))], None))
    unl = ("\n".join(t for _, t in _F_LINES) + "\n").encode()
    cases = _emit("fdu", "apparel.task.train", v, rng, sample, _rows)
    uv: list[Variant] = [("unlabel-valid", unl, [(t.strip(), -1) for _, t in _F_LINES], None),
                         ("unlabel-bom", b"\xef\xbb\xbf" + unl, [(t.strip(), -1) for _, t in _F_LINES], None)]
    cases += _emit("fdu", "apparel.task.unlabel", uv, rng, unl, _rows)
    return cases


# ------------------------------------------------------------------------ one text per line
_L_TEXTS = ["Great little hotel, friendly staff.", "Room was dirty &amp; loud.", "Great little hotel, friendly staff.",
            "Breakfast: \u00e9norme et d\u00e9licieux !", "Would come back \U0001F600"]


def _lines_expect(data: bytes, label: int = -1) -> list[tuple]:
    out, seen = [], set()
    for raw in data.split(b"\n"):
        t = html.unescape(_dec(raw).strip())
        if not t or t in seen:
            continue
        seen.add(t)
        out.append((t, label))
    return out


def _lines(rng: random.Random) -> list[Case]:
    sample = ("\n".join(_L_TEXTS) + "\n").encode()
    good = _lines_expect(sample)
    v: list[Variant] = [("valid", sample, good, None),
                        ("bom", b"\xef\xbb\xbf" + sample, good, None),
                        ("crlf", sample.replace(b"\n", b"\r\n"), good, None),
                        ("blank-lines", sample.replace(b"\n", b"\n\n  \n"), good, None),
                        ("cp1252-line", sample.replace("\u00e9norme".encode(), b"\xe9norme"),
                         _lines_expect(sample.replace("\u00e9norme".encode(), b"\xe9norme")), None),
                        ("empty", b"", ERROR, None),
                        ("only-blank", b"\n \n\t\n", ERROR, None)]
    for k in _line_cuts(sample, rng, 3):
        v.append((f"truncate@{k}", sample[:k], _lines_expect(sample[:k]), None))
    for k in _mid_cuts(sample, rng, 5):
        v.append((f"truncate-mid@{k}", sample[:k], _lines_expect(sample[:k]), None))
    cases = _emit("lines", "pool.txt", v, rng, sample, _rows, format="lines")
    for lab in (0, 1, -1, "1"):
        cases += _emit("lines", "pool.txt", [(f"label={lab!r}", sample, _lines_expect(sample, int(lab)), None)],
                       rng, sample, _rows, format="lines", label=lab)[:2]
    for lab in (5, 2, -2, "x", 1.5, "", True, "1.0"):
        cases += _emit("lines", "pool.txt", [(f"label={lab!r}", sample, ERROR, None)], rng, sample, _rows,
                       format="lines", label=lab)[:2]
    return cases


# ------------------------------------------------------------------------------------ JSONL
_J_ROWS = [{"text": "Great flight, on time.", "label": 1}, {"text": "Lost my bag \u2013 again.", "label": 0},
           {"text": "Crew were \"lovely\" \U0001F600", "label": 1}, {"text": "Delayed\nthree hours.", "label": "negative"}]


def _jsonl(rng: random.Random) -> list[Case]:
    lines = [json.dumps(r, ensure_ascii=False) for r in _J_ROWS]
    sample = ("\n".join(lines) + "\n").encode()
    good = [(r["text"], {"negative": 0}.get(r["label"], r["label"])) for r in _J_ROWS]

    def with_line2(s: str) -> bytes:
        return ("\n".join(lines[:1] + [s] + lines[2:]) + "\n").encode()

    v: list[Variant] = [("valid", sample, good, None),
                        ("bom", b"\xef\xbb\xbf" + sample, good, None),
                        ("crlf", sample.replace(b"\n", b"\r\n"), good, None),
                        ("ascii-escapes", ("\n".join(json.dumps(r) for r in _J_ROWS) + "\n").encode(), good, None),
                        ("blank-line", sample.replace(b"\n", b"\n\n", 1), good, None),
                        ("surrogate-pair", with_line2('{"text": "ok \\ud83d\\ude00", "label": 0}'), [good[0], ("ok \U0001F600", 0), *good[2:]], None),
                        ("extra-key", with_line2('{"text": "Lost my bag.", "label": 0, "id": 7}'), [good[0], ("Lost my bag.", 0), *good[2:]], None),
                        ("empty", b"", ERROR, None)]
    for name, s in (("text-dict", '{"text": {"a": 1}, "label": 0}'), ("text-number", '{"text": 3, "label": 0}'),
                    ("text-null", '{"text": null, "label": 0}'), ("text-list", '{"text": ["a"], "label": 0}'),
                    ("text-bool", '{"text": true, "label": 0}'), ("lone-surrogate", '{"text": "bad \\ud800 x", "label": 0}'),
                    ("lone-low-surrogate", '{"text": "bad \\udc00", "label": 0}'),
                    ("label-2", '{"text": "x", "label": 2}'), ("label--2", '{"text": "x", "label": -2}'),
                    ("label-1.5", '{"text": "x", "label": 1.5}'), ("label-null", '{"text": "x", "label": null}'),
                    ("label-str-2", '{"text": "x", "label": "2"}'), ("label-word", '{"text": "x", "label": "meh"}'),
                    ("label-list", '{"text": "x", "label": [1]}'), ("label-inf", '{"text": "x", "label": 1e400}'),
                    ("nan-token", '{"text": "x", "label": NaN}'), ("no-text", '{"label": 0}'), ("no-label", '{"text": "x"}'),
                    ("duplicate-key", '{"text": "x", "text": "y", "label": 0}'), ("array", '["x", 0]'),
                    ("string", '"x"'), ("trailing-garbage", '{"text": "x", "label": 0} x'),
                    ("single-quotes", "{'text': 'x', 'label': 0}"), ("two-objects", '{"text": "x", "label": 0}{"text": "y", "label": 1}')):
        v.append((name, with_line2(s), ERROR, 2))
    v.append(("invalid-utf8", sample.replace(b"Lost my", b"Lost \xff my"), ERROR, 2))
    v.append(("latin1-byte", sample.replace(b"Lost my", b"L\xf6st my"), ERROR, 2))
    for k in _line_cuts(sample, rng, 3):
        v.append((f"truncate@{k}", sample[:k], good[: sample[:k].count(b"\n")], None))
    for k in _mid_cuts(sample, rng, 6):
        v.append((f"truncate-mid@{k}", sample[:k], ERROR, _line_of(sample, k)))
    cases = _emit("jsonl", "data.jsonl", v, rng, sample, _rows)
    mapped = ("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in (("a", "good"), ("b", "bad"), ("c", "meh"))) + "\n").encode()
    for name, lmap, expect in (("label-map", {"good": 1, "bad": 0, "meh": None}, [("a", 1), ("b", 0)]),
                               ("label-map-unlabeled", {"good": 1, "bad": 0, "meh": -1}, [("a", 1), ("b", 0), ("c", -1)]),
                               ("label-map-value-2", {"good": 2, "bad": 0, "meh": None}, ERROR),
                               ("label-map-value-str", {"good": "1", "bad": 0, "meh": None}, ERROR),
                               ("label-map-value-true", {"good": True, "bad": 0, "meh": None}, ERROR),
                               ("label-map-value-1.5", {"good": 1.5, "bad": 0, "meh": None}, ERROR),
                               ("label-map-value--2", {"good": -2, "bad": 0, "meh": None}, ERROR)):
        cases += _emit("jsonl", "mapped.jsonl", [(name, mapped, expect, None)], rng, mapped, _rows, label_map=lmap)[:2]
    return cases


# -------------------------------------------------------------------------------- CSV / TSV
_C_ROWS = [("Great flight, on time.", "1"), ('Lost my bag "again".', "0"), ("Delayed\nthree hours", "0"),
           ("Crew were lovely \u00e9", "1")]


def _csv_field(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n\r') else s


def _table(rng: random.Random, fmt: str) -> list[Case]:
    sep = "," if fmt == "csv" else "\t"
    tcol = "text" if fmt == "csv" else "sentence"
    rows = _C_ROWS if fmt == "csv" else [(t.replace("\n", " "), lab) for t, lab in _C_ROWS]
    enc = _csv_field if fmt == "csv" else (lambda s: s)
    lines = [f"{tcol}{sep}label"] + [f"{enc(t)}{sep}{lab}" for t, lab in rows]
    # the last row's text is quoted in CSV so that every mid-line cut of it is detectable
    if fmt == "csv":
        lines[-1] = f'"{rows[-1][0]}"{sep}{rows[-1][1]}'
    sample = ("\n".join(lines) + "\n").encode()
    good = [(t, int(lab)) for t, lab in rows]
    row2 = 3  # the file line of the second data row
    long_text = "word " * 40000  # 200,000 characters, more than csv's default field limit
    v: list[Variant] = [("valid", sample, good, None),
                        ("bom", b"\xef\xbb\xbf" + sample, good, None),
                        ("crlf", sample.replace(b"\n", b"\r\n") if fmt == "tsv" else
                         ("\r\n".join(lines) + "\r\n").encode(), good, None),
                        ("blank-line", sample.replace(b"\n", b"\n\n", 1), good, None),
                        ("no-final-newline", sample[:-1], good, None),
                        ("long-field", ("\n".join(lines[:2] + [f"{long_text}{sep}1"] + lines[3:]) + "\n").encode(),
                         [good[0], (long_text, 1), *good[2:]], None),
                        ("columns-swapped", ("\n".join([f"label{sep}{tcol}"] + [f"{lab}{sep}{enc(t)}" for t, lab in rows]) + "\n").encode(), good, None),
                        ("cp1252-field", sample.replace("Crew were lovely \u00e9".encode(), "Crew were lovely \u00e9".encode("cp1252")), good, None),
                        ("header-only", lines[0].encode() + b"\n", ERROR, None),
                        ("empty", b"", ERROR, None),
                        ("no-text-column", sample.replace(tcol.encode(), b"body", 1), ERROR, 1),
                        ("no-label-column", sample.replace(b"label", b"labl", 1), ERROR, 1),
                        ("duplicate-header", sample.replace(f"{sep}label".encode(), f"{sep}{tcol}".encode(), 1), ERROR, 1)]
    second = lines[row2 - 1]
    t2 = enc(rows[1][0])
    for name, s in (("extra-field", f"{second}{sep}x"), ("missing-field", t2), ("label=2", f"{t2}{sep}2"),
                    ("label=-1x", f"{t2}{sep}-1x"), ("label=1.5", f"{t2}{sep}1.5"), ("label=empty", f"{t2}{sep}"),
                    ("label=nan", f"{t2}{sep}nan"), ("label=word", f"{t2}{sep}meh"), ("label=10", f"{t2}{sep}10")):
        v.append((name, ("\n".join(lines[: row2 - 1] + [s] + lines[row2:]) + "\n").encode(), ERROR, row2))
    if fmt == "csv":
        v.append(("unclosed-quote", ("\n".join(lines[: row2 - 1] + ['"Lost my bag,0'] + lines[row2:]) + "\n").encode(), ERROR, None))
        v.append(("text-after-quote", ("\n".join(lines[: row2 - 1] + ['"Lost" my bag,0'] + lines[row2:]) + "\n").encode(), ERROR, row2))
    else:
        v.append(("quotes-literal", ("\n".join(lines[: row2 - 1] + [f'"Lost my bag{sep}0'] + lines[row2:]) + "\n").encode(),
                  [good[0], ('"Lost my bag', 0), *good[2:]], None))
    for k in _line_cuts(sample, rng, 3):
        head = sample[:k]
        recs = _split_records(head, fmt)
        v.append((f"truncate@{k}", head, ERROR if recs is None else good[: len(recs) - 1] or ERROR, None))
    last_start = sample.rfind(b"\n", 0, len(sample) - 1) + 1
    for k in _mid_cuts(sample, rng, 4, after=last_start):
        v.append((f"truncate-mid@{k}", sample[:k], ERROR, None))
    return _emit(fmt, f"data.{fmt}", v, rng, sample, _rows, **({"text_column": tcol} if fmt == "tsv" else {}))


def _split_records(data: bytes, fmt: str) -> list[str] | None:
    """The records in ``data`` (CSV: newlines inside quotes do not end a record); ``None`` when
    ``data`` ends inside a quoted field."""
    text = data.decode()
    if fmt == "tsv":
        return [ln for ln in text.split("\n") if ln]
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "\n" and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if quoted:
        return None
    return [r for r in out + ([cur] if cur else []) if r]


def cases(seed: int) -> list[Case]:
    """Every sentiment-reader case, generated from ``seed``."""
    out: list[Case] = []
    for i, make in enumerate((_blitzer_raw, _blitzer_processed, _webis, _fdu, _lines, _jsonl)):
        out += make(random.Random(seed * 31 + i))
    out += _table(random.Random(seed * 31 + 6), "csv")
    out += _table(random.Random(seed * 31 + 7), "tsv")
    return out
