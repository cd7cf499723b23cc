"""Malformed inputs for the POS readers: CoNLL-U (``conllu``), NLTK's ``word/TAG`` corpora as
read by :mod:`nlpta.data.tagged` (``nltk-tagged``: a Brown-style zip or folder) and ARK Twitter
``word<TAB>tag`` files (``ark``).

Every expected outcome follows from the format's definition: a truncation at a line boundary is a
valid prefix (rows computed here from the sample's structure, independently of the reader), a
line cut mid-way, a flipped tab, an undecodable byte, a wrong column count or an out-of-range ID
or tag is an error naming the file and line; damaged gzip or zip is an error naming the file.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from typing import Any

from ...data.tagged import ARK_TO_UPOS, BROWN_CATEGORIES, UNIVERSAL12_TO_UPOS
from . import ERROR, Case, damaged_gz, gz

# ----------------------------------------------------------------------------- CoNLL-U
# (line, kind, word) with kind: "c" comment, "w" word (FORM, UPOS, XPOS), "r" range (last ID),
# "e" empty node, "" blank
_C = [
    ("# newdoc id = doc1", "c", None),
    ("# sent_id = s1", "c", None),
    ("# text = I can't go.", "c", None),
    ("1\tI\tI\tPRON\tPRP\tCase=Nom\t3\tnsubj\t_\t_", "w", ("I", "PRON", "PRP")),
    ("2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_", "r", 3),
    ("2\tca\tcan\tAUX\tMD\t_\t4\taux\t_\t_", "w", ("ca", "AUX", "MD")),
    ("3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_", "w", ("n't", "PART", "RB")),
    ("4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No", "w", ("go", "VERB", "VB")),
    ("5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_", "w", (".", "PUNCT", ".")),
    ("", "", None),
    ("# sent_id = s2", "c", None),
    ("# text = Café closed, bought bread", "c", None),
    ("1\tCafé\tcafé\tPROPN\tNNP\t_\t2\tnsubj\t_\t_", "w", ("Café", "PROPN", "NNP")),
    ("2\tclosed\tclose\tVERB\tVBD\t_\t0\troot\t_\tSpaceAfter=No", "w", ("closed", "VERB", "VBD")),
    ("3\t,\t,\tPUNCT\t,\t_\t4\tpunct\t_\t_", "w", (",", "PUNCT", ",")),
    ("3.1\tthey\tthey\tPRON\tPRP\t_\t_\t_\t4:nsubj\t_", "e", None),
    ("4\tbought\tbuy\tVERB\tVBD\t_\t2\tconj\t_\t_", "w", ("bought", "VERB", "VBD")),
    ("5\tbread\tbread\tNOUN\tNN\t_\t4\tobj\t_\t_", "w", ("bread", "NOUN", "NN")),
    ("", "", None),
    ("# sent_id = s3", "c", None),
    ("1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_", "w", ("Yes", "INTJ", "UH")),
    ("2\t!\t!\tPUNCT\t.\t_\t1\tpunct\t_\t_", "w", ("!", "PUNCT", ".")),
    ("", "", None),
]


def _conllu_text(lines: list[tuple[str, str, Any]], eol: str = "\n") -> bytes:
    return "".join(line + eol for line, _, _ in lines).encode("utf-8")


def _conllu_expect(lines: list[tuple[str, str, Any]], name: str) -> Any:
    """Rows of ``lines`` (a prefix of the sample), or ``(ERROR, line)`` for a range left dangling."""
    rows: list[tuple] = []
    sid, toks, tags, xps, rng_end, rng_line = "", [], [], [], 0, 0
    n = 0

    def flush() -> tuple | None:
        nonlocal sid, toks, tags, xps, rng_end, rng_line, n
        if rng_end > len(toks):
            return (ERROR, rng_line)
        if toks:
            n += 1
            rows.append((sid or f"{name}#{n}", toks, tags, xps))
        sid, toks, tags, xps, rng_end, rng_line = "", [], [], [], 0, 0
        return None

    for i, (line, kind, w) in enumerate(lines, start=1):
        if kind == "":
            if (bad := flush()) is not None:
                return bad
        elif kind == "c" and line.startswith("# sent_id = "):
            sid = line.split("= ", 1)[1]
        elif kind == "w":
            toks, tags, xps = toks + [w[0]], tags + [w[1]], xps + [w[2]]
        elif kind == "r":
            rng_end, rng_line = w, i
    if (bad := flush()) is not None:
        return bad
    return rows


def _conllu_norm(rows: Any) -> list[tuple]:
    return [(r["id"], r["tokens"], r["upos"], r["xpos"]) for r in rows]


def _conllu_load(name: str):
    def load(folder: Path) -> list[dict]:
        from ...data import iter_conllu

        return list(iter_conllu(folder / name))

    return load


def _edit_line(lineno: int, new: str) -> list[tuple[str, str, Any]]:
    out = list(_C)
    out[lineno - 1] = (new, "x", None)
    return out


def _conllu_cases(rng: random.Random) -> list[Case]:
    base = "en_fuzz-ud-test.conllu"
    variants: list[tuple[str, bytes, Any, int | None]] = []  # (name, bytes, expect, line)
    full = _conllu_text(_C)
    variants.append(("valid", full, _conllu_expect(_C, base), None))
    variants.append(("crlf", _conllu_text(_C, "\r\n"), _conllu_expect(_C, base), None))
    variants.append(("bom", b"\xef\xbb\xbf" + full, _conllu_expect(_C, base), None))
    variants.append(("no-final-blank", full.rstrip(b"\n") + b"\n", _conllu_expect(_C, base), None))
    # truncations at line boundaries: a valid prefix (or a range left dangling: its line)
    for k in sorted(rng.sample(range(1, len(_C)), 8)):
        exp = _conllu_expect(_C[:k], base)
        line = exp[1] if isinstance(exp, tuple) else None
        variants.append((f"truncate-lines@{k}", _conllu_text(_C[:k]), ERROR if line else exp, line))
    # a token line cut mid-way: fewer than 10 columns
    word_lines = [i for i, (_, kind, _) in enumerate(_C, start=1) if kind == "w"]
    for k in sorted(rng.sample(word_lines, 3)):
        text = _C[k - 1][0]
        cut = rng.randrange(1, text.index("\t", len(text) - len(text.split("\t")[-1]) - 1))
        data = _conllu_text(_C[: k - 1]) + text[:cut].encode("utf-8")
        variants.append((f"truncate-midline@{k}:{cut}", data, ERROR, k))
    # structural bytes
    k = rng.choice(word_lines)
    variants.append((f"tab-to-space@{k}", _conllu_text(_edit_line(k, _C[k - 1][0].replace("\t", " ", 1))), ERROR, k))
    k = rng.choice([i for i in word_lines if _C[i][1] == "w"])  # the next line is a word too
    joined = list(_C)
    joined[k - 1] = (joined[k - 1][0] + " " + joined[k][0], "x", None)
    del joined[k]
    variants.append((f"newline-to-space@{k}", _conllu_text(joined), ERROR, k))
    variants.append(("extra-column@4", _conllu_text(_edit_line(4, _C[3][0] + "\textra")), ERROR, 4))
    variants.append(("missing-column@13", _conllu_text(_edit_line(13, _C[12][0].rsplit("\t", 1)[0])), ERROR, 13))
    variants.append(("tab-in-form@6", _conllu_text(_edit_line(6, _C[5][0].replace("\tca\t", "\tc\ta\t"))), ERROR, 6))
    # out of range
    variants.append(("range-3-2@5", _conllu_text(_edit_line(5, _C[4][0].replace("2-3", "3-2", 1))), ERROR, 5))
    variants.append(("range-2-2@5", _conllu_text(_edit_line(5, _C[4][0].replace("2-3", "2-2", 1))), ERROR, 5))
    variants.append(("range-5-9@5", _conllu_text(_edit_line(5, _C[4][0].replace("2-3", "2-9", 1))), ERROR, 5))
    variants.append(("range-not-next@5", _conllu_text(_edit_line(5, _C[4][0].replace("2-3", "4-5", 1))), ERROR, 5))
    variants.append(("empty-form@7", _conllu_text(_edit_line(7, _C[6][0].replace("\tn't\t", "\t\t", 1))), ERROR, 7))
    variants.append(("empty-upos@8", _conllu_text(_edit_line(8, _C[7][0].replace("\tVERB\t", "\t\t", 1))), ERROR, 8))
    variants.append(("unknown-upos@13", _conllu_text(_edit_line(13, _C[12][0].replace("PROPN", "PRPN"))), ERROR, 13))
    variants.append(("id-skip@14", _conllu_text(_edit_line(14, "3" + _C[13][0][1:])), ERROR, 14))
    variants.append(("id-zero@4", _conllu_text(_edit_line(4, "0" + _C[3][0][1:])), ERROR, 4))
    variants.append(("empty-node-misplaced@16", _conllu_text(_edit_line(16, "1.1" + _C[15][0][3:])), ERROR, 16))
    variants.append(("empty-node-skip@16", _conllu_text(_edit_line(16, "3.2" + _C[15][0][3:])), ERROR, 16))
    variants.append(("comment-in-sentence@7", _conllu_text(_C[:6] + [("# note", "c", None)] + _C[6:]), ERROR, 7))
    # encodings: the line of the bad byte
    k = rng.choice(word_lines)
    for tag, bad in (("invalid-utf8", b"\xff"), ("lone-surrogate", b"\xed\xa0\x80"), ("overlong", b"\xc0\xaf"),
                     ("latin1", "é".encode("latin-1"))):
        lines = full.split(b"\n")
        parts = lines[k - 1].split(b"\t")
        parts[1] = parts[1] + bad
        lines[k - 1] = b"\t".join(parts)
        variants.append((f"{tag}@{k}", b"\n".join(lines), ERROR, k))
    out: list[Case] = []
    for vname, data, expect, line in variants:
        for z in (False, True):
            name = base + (".gz" if z else "")
            out.append(Case("conllu", vname + ("+gz" if z else ""), {name: gz(data) if z else data},
                            _conllu_load(name), expect, line=line if expect is ERROR else None,
                            normalize=_conllu_norm))
    for dname, data in damaged_gz(full, rng):
        out.append(Case("conllu", dname, {base + ".gz": data}, _conllu_load(base + ".gz"), ERROR,
                        normalize=_conllu_norm))
    return out


# ----------------------------------------------------------------------------- NLTK word/TAG (Brown)
_BROWN_MAP = {
    "AT": "DET", "NP-TL": "NOUN", "NN-TL": "NOUN", "JJ-TL": "ADJ", "VBD": "VERB", "NR": "NOUN", "NN": "NOUN",
    "IN": "ADP", "NP$": "NOUN", "JJ": "ADJ", "``": ".", "''": ".", "CS": "ADP", "DTI": "DET", "NNS": "NOUN",
    ".": ".", ",": ".", "CC": "CONJ", "BEDZ": "VERB", "VBN": "VERB", "RB": "ADV", "PPS": "PRON", "MD": "VERB",
    "VB": "VERB", "CD": "NUM", "TO": "PRT",
}  # fmt: skip
_BROWN = {  # file id -> (category, sentences of (word, tag)) -- written below as Brown writes them
    "ca01": ("news", [
        [("The", "at"), ("Fulton", "np-tl"), ("County", "nn-tl"), ("Grand", "jj-tl"), ("Jury", "nn-tl"),
         ("said", "vbd"), ("Friday", "nr"), ("an", "at"), ("investigation", "nn"), ("of", "in"),
         ("Atlanta's", "np$"), ("primary", "nn"), ("election", "nn"), (".", ".")],
        [("The", "at"), ("jury", "nn"), ("said", "vbd"), ("``", "``"), ("it", "pps"), ("was", "bedz"),
         ("conducted", "vbn"), ("''", "''"), (".", ".")],
        [("It", "pps"), ("will", "md"), ("vote", "vb"), ("on", "in"), ("3", "cd"), ("issues", "nns"), (".", ".")],
    ]),
    "ca02": ("news", [
        [("Austin", "np-tl"), (",", ","), ("Texas", "np-tl"), ("said", "vbd"), ("so", "rb"), (".", ".")],
    ]),
    "cb01": ("editorial", [
        [("Assembly", "nn-tl"), ("session", "nn"), ("brought", "vbd"), ("much", "rb"), ("good", "jj"), (".", ".")],
        [("It", "pps"), ("was", "bedz"), ("to", "to"), ("vote", "vb"), ("and", "cc"), ("said", "vbd"), (".", ".")],
    ]),
}  # fmt: skip


def _brown_file(sents: list[list[tuple[str, str]]]) -> list[str]:
    """Lines of a Brown file: two blank lines, then each sentence on a tab-indented line + a blank."""
    lines = ["", ""]
    for s in sents:
        lines += ["\t" + " ".join(f"{w}/{t}" for w, t in s), ""]
    return lines


def _brown_files(files: dict[str, list[str]] | None = None, cats: str | None = None,
                 map_text: str | None = None) -> dict[str, bytes]:
    members = {fid: "\n".join(_brown_file(s)).encode("ascii") + b"\n" for fid, (_, s) in _BROWN.items()}
    for fid, lines in (files or {}).items():
        members[fid] = "\n".join(lines).encode("utf-8") if isinstance(lines, list) else lines
    members["cats.txt"] = (cats if cats is not None else
                           "".join(f"{fid} {c}\n" for fid, (c, _) in _BROWN.items())).encode("utf-8")
    members["README"] = b"BROWN CORPUS (fuzz sample)\n"
    return members


def _zip(members: dict[str, bytes], sub: str = "brown") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(f"{sub}/", (2013, 8, 27, 6, 3, 0)), b"")
        for name, data in sorted(members.items()):
            zf.writestr(zipfile.ZipInfo(f"{sub}/{name}", (2008, 12, 3, 4, 12, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


_ZIP = "pos/nltk_data/corpora/brown.zip"
_MAP = "pos/nltk_data/taggers/universal_tagset/en-brown.map"


def _map_bytes() -> bytes:
    return "".join(f"{k}\t{v}\n" for k, v in _BROWN_MAP.items()).encode("utf-8")


def _brown_expect(sents_by_file: dict[str, list[list[tuple[str, str]]]]) -> list[tuple]:
    out = []
    for cat in BROWN_CATEGORIES:
        for fid in sorted(f for f, (c, _) in _BROWN.items() if c == cat):
            for i, s in enumerate(sents_by_file[fid]):
                out.append((f"brown/{fid}/{i}", [w for w, _ in s],
                            [UNIVERSAL12_TO_UPOS[_BROWN_MAP[t.upper()]] for _, t in s], [t.upper() for _, t in s],
                            cat))
    return out


def _brown_norm(rows: Any) -> list[tuple]:
    return [(r["id"], r["tokens"], r["upos"], r["xpos"], r["domain"]) for r in rows]


def _brown_load(folder: Path) -> list[dict]:
    from ...data.tagged import iter_brown

    return list(iter_brown(folder))


def _brown_case(name: str, members: dict[str, bytes], expect: Any, line: int | None = None,
                as_folder: bool = False, error_file: str | None = None) -> Case:
    files: dict[str, bytes] = {_MAP: _map_bytes()}
    if as_folder:
        for m, data in members.items():
            files[f"pos/nltk_data/corpora/brown/{m}"] = data
        main = error_file or "pos/nltk_data/corpora/brown/ca01"
    else:
        files[_ZIP] = _zip(members)
        main = _ZIP
    return Case("nltk-tagged", name + ("+folder" if as_folder else ""), files, _brown_load, expect,
                error_file=main if expect is ERROR else None, line=line if expect is ERROR else None,
                normalize=_brown_norm)


def _nltk_cases(rng: random.Random) -> list[Case]:
    sents = {fid: s for fid, (_, s) in _BROWN.items()}
    ca01 = _brown_file(_BROWN["ca01"][1])
    token_lines = [i for i, ln in enumerate(ca01, start=1) if ln.strip()]
    out: list[Case] = []
    for folder in (False, True):
        ef = "pos/nltk_data/corpora/brown/ca01" if folder else None
        out.append(_brown_case("valid", _brown_files(), _brown_expect(sents), as_folder=folder))
        # truncations of ca01 at line boundaries: the sentences before the cut
        for k in sorted(rng.sample(range(0, len(ca01)), 4)):
            kept = [ln for ln in ca01[:k] if ln.strip()]
            exp = _brown_expect({**sents, "ca01": sents["ca01"][: len(kept)]})
            out.append(_brown_case(f"truncate-lines@{k}", _brown_files({"ca01": ca01[:k]}), exp, as_folder=folder))
        # cut inside a word (before its '/'): a token without a tag, on that line
        k = rng.choice(token_lines)
        line = ca01[k - 1]
        slashes = [p for p, ch in enumerate(line) if ch == "/" and p >= 2 and not line[p - 2 : p].isspace()
                   and " " not in line[p - 2 : p] and "\t" not in line[p - 2 : p]]
        cut = rng.choice(slashes) - 1
        out.append(_brown_case(f"truncate-midword@{k}", _brown_files({"ca01": ca01[: k - 1] + [line[:cut]]}), ERROR,
                               k, folder, ef))

        def edit(k: int, new: str) -> dict[str, bytes]:
            lines = list(ca01)
            lines[k - 1] = new
            return _brown_files({"ca01": lines})

        k = rng.choice(token_lines)
        out.append(_brown_case(f"unknown-tag@{k}", edit(k, ca01[k - 1].replace("/at ", "/zz ", 1)
                                                            .replace("/pps ", "/zz ", 1)), ERROR, k, folder, ef))
        out.append(_brown_case("unknown-tag-last@3", edit(3, ca01[2][:-1] + "zz"), ERROR, 3, folder, ef))
        k = rng.choice(token_lines)
        out.append(_brown_case(f"no-tag@{k}", edit(k, ca01[k - 1].replace("/nn ", " ", 1).replace("/in ", " ", 1)),
                               ERROR, k, folder, ef))
        out.append(_brown_case("empty-tag@3", edit(3, ca01[2].replace("/at ", "/ ", 1)), ERROR, 3, folder, ef))
        out.append(_brown_case("empty-word@5", edit(5, ca01[4].replace("The/at", "/at", 1)), ERROR, 5, folder, ef))
        out.append(_brown_case("slash-to-space@7", edit(7, ca01[6].replace("/", " ", 1)), ERROR, 7, folder, ef))
        lines = list(ca01)
        raw = _brown_files({"ca01": lines})
        for tag, bad in (("non-ascii", "é".encode()), ("invalid-byte", b"\xff")):
            b = raw["ca01"].split(b"\n")
            b[2] = b[2].replace(b"Fulton", b"Fult" + bad + b"on", 1)
            out.append(_brown_case(f"{tag}@3", {**raw, "ca01": b"\n".join(b)}, ERROR, 3, folder, ef))
        conllu = _conllu_text(_C)
        out.append(_brown_case("conllu-inside@1", {**raw, "ca01": conllu}, ERROR, 1, folder, ef))
        conllu2 = b"\n".join(ln for ln in conllu.split(b"\n") if not ln.startswith(b"#"))
        out.append(_brown_case("conllu-no-comments@1", {**raw, "ca01": conllu2}, ERROR, 1, folder, ef))
        # bad cats.txt
        cf = "pos/nltk_data/corpora/brown/cats.txt" if folder else None
        good = "".join(f"{fid} {c}\n" for fid, (c, _) in _BROWN.items())
        out.append(_brown_case("cats-no-category@2", _brown_files(cats=good.replace("ca02 news", "ca02")), ERROR, 2,
                               folder, cf))
        out.append(_brown_case("cats-unknown-category@3", _brown_files(cats=good.replace("editorial", "gossip")),
                               ERROR, 3, folder, cf))
        out.append(_brown_case("cats-unknown-file@4", _brown_files(cats=good + "cz99 news\n"), ERROR, 4, folder, cf))
        out.append(_brown_case("cats-missing-file", _brown_files(cats=good.replace("cb01 editorial\n", "")), ERROR,
                               None, folder, cf))
        out.append(_brown_case("cats-duplicate@4", _brown_files(cats=good + "ca01 news\n"), ERROR, 4, folder, cf))
        bad_cats = {**_brown_files(), "cats.txt": b"ca01 n\xffews\n" + good[10:].encode()}
        out.append(_brown_case("cats-invalid-utf8@1", bad_cats, ERROR, 1, folder, cf))
    # damaged zip archives
    z = _zip(_brown_files())
    mid = len(z) // 2
    for zname, data in (("zip-truncated-half", z[:mid]), ("zip-truncated-tail", z[:-10]), ("zip-empty", b""),
                        ("zip-not-a-zip", b"this is not a zip archive\n"), ("zip-gzip-instead", gz(z))):
        out.append(Case("nltk-tagged", zname, {_MAP: _map_bytes(), _ZIP: data}, _brown_load, ERROR,
                        error_file=_ZIP, normalize=_brown_norm))
    # a flipped byte inside a deflated member: CRC or deflate error
    info = zipfile.ZipFile(io.BytesIO(z)).getinfo("brown/ca01")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    i = start + rng.randrange(2, info.compress_size - 2)
    bad = bytearray(z)
    bad[i] ^= 0xFF
    out.append(Case("nltk-tagged", f"zip-member-flip@{i}", {_MAP: _map_bytes(), _ZIP: bytes(bad)}, _brown_load,
                    ERROR, error_file=_ZIP, normalize=_brown_norm))
    return out


# ----------------------------------------------------------------------------- ARK word<TAB>tag
_ARK = [
    [("I", "O"), ("predict", "V"), ("I", "O"), ("won't", "V"), ("win", "V"), ("a", "D"), ("single", "A"),
     ("game", "N"), ("I", "O"), ("bet", "V"), ("on", "P"), (".", ",")],
    [("@user", "@"), ("Got", "V"), ("Cliff", "^"), ("Lee", "^"), ("today", "N"), ("#win", "#"), ("!", ",")],
    [("Daaammmnn", "!"), ("café", "N"), ("http://t.co/x", "U"), ("lol", "!"), ("2", "$"), (":)", "E")],
]  # fmt: skip


def _ark_lines(tweets: list[list[tuple[str, str]]]) -> list[str]:
    lines: list[str] = []
    for t in tweets:
        lines += [f"{w}\t{tag}" for w, tag in t] + [""]
    return lines


def _ark_expect(tweets: list[list[tuple[str, str]]], stem: str) -> list[tuple]:
    return [(f"ark/{stem}/{n}", [w for w, _ in t], [ARK_TO_UPOS[g] for _, g in t], [g for _, g in t])
            for n, t in enumerate((t for t in tweets if t), start=1)]


def _ark_norm(rows: Any) -> list[tuple]:
    return [(r["id"], r["tokens"], r["upos"], r["xpos"]) for r in rows]


def _ark_load(name: str):
    def load(folder: Path) -> list[dict]:
        from ...data import iter_ark

        return list(iter_ark(folder / name))

    return load


def _ark_cases(rng: random.Random) -> list[Case]:
    stem = "oct27.train"
    lines = _ark_lines(_ARK)
    text = ("\n".join(lines) + "\n").encode("utf-8")
    tok_lines = [i for i, ln in enumerate(lines, start=1) if ln]
    variants: list[tuple[str, bytes, Any, int | None]] = []
    variants.append(("valid", text, _ark_expect(_ARK, stem), None))
    variants.append(("crlf", text.replace(b"\n", b"\r\n"), _ark_expect(_ARK, stem), None))
    variants.append(("bom", b"\xef\xbb\xbf" + text, _ark_expect(_ARK, stem), None))
    variants.append(("no-final-newline", text.rstrip(b"\n"), _ark_expect(_ARK, stem), None))
    for k in sorted(rng.sample(range(1, len(lines)), 5)):
        kept: list[list[tuple[str, str]]] = [[]]
        for ln in lines[:k]:
            if ln:
                w, t = ln.split("\t")
                kept[-1].append((w, t))
            else:
                kept.append([])
        variants.append((f"truncate-lines@{k}", ("\n".join(lines[:k]) + "\n").encode("utf-8"),
                         _ark_expect(kept, stem), None))
    for k in sorted(rng.sample(tok_lines, 3)):
        ln = lines[k - 1]
        cut = rng.randrange(1, ln.index("\t") + 2)  # inside the word, or just after the tab
        variants.append((f"truncate-midline@{k}:{cut}", ("\n".join(lines[: k - 1] + [ln[:cut]])).encode("utf-8"),
                         ERROR, k))

    def edit(k: int, new: str) -> bytes:
        ls = list(lines)
        ls[k - 1] = new
        return ("\n".join(ls) + "\n").encode("utf-8")

    k = rng.choice(tok_lines)
    variants.append((f"tab-to-space@{k}", edit(k, lines[k - 1].replace("\t", " ")), ERROR, k))
    k = rng.choice(tok_lines)
    variants.append((f"unknown-tag@{k}", edit(k, lines[k - 1].split("\t")[0] + "\tNN"), ERROR, k))
    k = rng.choice(tok_lines)
    variants.append((f"tab-in-token@{k}", edit(k, "a\t" + lines[k - 1]), ERROR, k))
    variants.append(("extra-column@2", edit(2, lines[1] + "\t0.98"), ERROR, 2))
    variants.append(("empty-word@3", edit(3, "\tO"), ERROR, 3))
    variants.append(("empty-tag@4", edit(4, "won't\t"), ERROR, 4))
    variants.append(("lowercase-tag@5", edit(5, "win\tv"), ERROR, 5))
    variants.append(("upos-instead@6", edit(6, "a\tDET"), ERROR, 6))
    k = rng.choice(tok_lines)
    for tag, bad in (("invalid-utf8", b"\xff"), ("lone-surrogate", b"\xed\xb0\x80"), ("latin1", b"caf\xe9")):
        ls = text.split(b"\n")
        ls[k - 1] = bad + ls[k - 1]
        variants.append((f"{tag}@{k}", b"\n".join(ls), ERROR, k))
    out: list[Case] = []
    for vname, data, expect, line in variants:
        for z in (False, True):
            name = stem + (".gz" if z else "")
            out.append(Case("ark", vname + ("+gz" if z else ""), {name: gz(data) if z else data}, _ark_load(name),
                            expect, line=line if expect is ERROR else None, normalize=_ark_norm))
    for dname, data in damaged_gz(text, rng):
        out.append(Case("ark", dname, {stem + ".gz": data}, _ark_load(stem + ".gz"), ERROR, normalize=_ark_norm))
    return out


def cases(seed: int) -> list[Case]:
    """Every POS-reader case (``conllu``, ``nltk-tagged``, ``ark``), generated from ``seed``."""
    rng = random.Random(seed)
    return _conllu_cases(rng) + _nltk_cases(rng) + _ark_cases(rng)
