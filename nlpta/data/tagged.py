"""Readers for word-per-line tagged corpora that are not CoNLL-U: NLTK's tagged corpora
(Brown, the WSJ sample) and the ARK Twitter POS data (``word<TAB>tag``, blank line between tweets).

Tag mappings to UD's UPOS, documented here because they decide what an accuracy means:

* NLTK universal tagset (Petrov, Das & McDonald 2012; 12 tags) -> UPOS: ``CONJ`` -> ``CCONJ``,
  ``PRT`` -> ``PART``, ``.`` -> ``PUNCT``; the other nine keep their names. The 12-tag set has no
  PROPN, AUX, SCONJ, INTJ or SYM, so Brown rows use only 12 of the 17 UPOS tags; compare them with
  UD data through :data:`UPOS_TO_UNIVERSAL12` (applied to both sides).
* ARK Twitter tags (Gimpel et al. 2011; Owoputi et al. 2013) -> UPOS: see :data:`ARK_TO_UPOS`.
  The ARK set fuses some categories (``L`` = pronoun+verb, ``S`` = nominal+possessive, ``P`` =
  adposition or subordinator), which map to their first part; the original tag stays in ``xpos``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import Errors
from .paths import read_lines

UNIVERSAL12_TO_UPOS = {
    "NOUN": "NOUN", "VERB": "VERB", "ADJ": "ADJ", "ADV": "ADV", "PRON": "PRON", "DET": "DET",
    "ADP": "ADP", "NUM": "NUM", "CONJ": "CCONJ", "PRT": "PART", ".": "PUNCT", "X": "X",
}  # fmt: skip

UPOS_TO_UNIVERSAL12 = {
    "ADJ": "ADJ", "ADP": "ADP", "ADV": "ADV", "AUX": "VERB", "CCONJ": "CCONJ", "DET": "DET",
    "INTJ": "X", "NOUN": "NOUN", "NUM": "NUM", "PART": "PART", "PRON": "PRON", "PROPN": "NOUN",
    "PUNCT": "PUNCT", "SCONJ": "ADP", "SYM": "X", "VERB": "VERB", "X": "X",
}  # fmt: skip
"""Collapse UPOS to the 12 tags Brown can express (named by their UPOS names)."""

ARK_TO_UPOS = {
    "N": "NOUN", "O": "PRON", "S": "NOUN", "^": "PROPN", "Z": "PROPN", "L": "PRON", "M": "PROPN",
    "V": "VERB", "A": "ADJ", "R": "ADV", "!": "INTJ", "D": "DET", "P": "ADP", "&": "CCONJ",
    "T": "PART", "X": "DET", "Y": "DET", "#": "X", "@": "PROPN", "~": "PUNCT", "U": "X",
    "E": "SYM", "$": "NUM", ",": "PUNCT", "G": "X",
}  # fmt: skip

BROWN_CATEGORIES = (
    "adventure", "belles_lettres", "editorial", "fiction", "government", "hobbies", "humor",
    "learned", "lore", "mystery", "news", "religion", "reviews", "romance", "science_fiction",
)  # fmt: skip


def _nltk_corpus(root: Path, name: str):
    nltk_dir = root / "pos" / "nltk_data"
    if not (nltk_dir / "corpora" / f"{name}.zip").exists() and not (nltk_dir / "corpora" / name).exists():
        raise Errors.E101(detail=f"NLTK corpus {name!r}; expected corpora/{name}.zip under it", path=nltk_dir)
    import nltk

    if str(nltk_dir) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_dir))
    os.environ.setdefault("NLTK_DATA", str(nltk_dir))
    from nltk.corpus import brown, conll2000, masc_tagged, nps_chat, treebank

    return {"brown": brown, "treebank": treebank, "conll2000": conll2000, "masc_tagged": masc_tagged,
            "nps_chat": nps_chat}[name]


def iter_nltk_tagged(root: Path, corpus: str, prefix: str, fileids: list[str] | None = None,
                     domain: str | None = None, posts: bool = False, drop_xpos: tuple[str, ...] = ()) -> Iterator[dict]:
    """Yield POS rows from an NLTK tagged corpus (``brown``, ``treebank``, ``conll2000``,
    ``masc_tagged``, ``nps_chat``): tags mapped to UPOS through NLTK's universal tagset, the
    corpus tag kept in ``xpos``; tokens whose corpus tag is in ``drop_xpos`` (PTB's ``-NONE-``
    traces) are left out. The domain is ``domain`` if given, else the file's NLTK category
    (MASC's genres), else the first part of the file id."""
    c = _nltk_corpus(root, corpus)
    for fileid in fileids or c.fileids():
        cats = c.categories(fileid) if domain is None and hasattr(c, "categories") else []
        dom = domain or (cats[0] if cats else fileid.split("/")[0])
        if posts:
            uni, raw = c.tagged_posts(fileid, tagset="universal"), c.tagged_posts(fileid)
        else:
            uni, raw = c.tagged_sents(fileid, tagset="universal"), c.tagged_sents(fileid)
        for i, (us, rs) in enumerate(zip(uni, raw, strict=True)):
            triples = [(w, u, r) for (w, u), (_, r) in zip(us, rs, strict=True) if r not in drop_xpos]
            if not triples:
                continue
            yield {
                "id": f"{prefix}/{fileid}/{i}",
                "tokens": [w for w, _, _ in triples],
                "upos": [UNIVERSAL12_TO_UPOS.get(u, "X") for _, u, _ in triples],
                "xpos": [r for _, _, r in triples],
                "domain": dom,
                "lang": "en",
            }


def iter_brown(root: Path, categories: list[str] | None = None) -> Iterator[dict]:
    """Yield POS rows from NLTK's Brown corpus; ``domain`` is the Brown category, tags mapped
    Brown -> universal (NLTK) -> UPOS; the Brown tag stays in ``xpos``."""
    brown = _nltk_corpus(root, "brown")
    for cat in categories or BROWN_CATEGORIES:
        if cat not in BROWN_CATEGORIES:
            raise Errors.E104(detail=f"unknown Brown category {cat!r}; expected one of {BROWN_CATEGORIES}")
        yield from iter_nltk_tagged(root, "brown", "brown", brown.fileids(categories=cat), domain=cat)


def iter_ptb_sample(root: Path) -> Iterator[dict]:
    """Yield POS rows from NLTK's 10% WSJ sample (PTB tags in ``xpos``, ``-NONE-`` traces removed)."""
    yield from iter_nltk_tagged(root, "treebank", "ptb", domain="news", drop_xpos=("-NONE-",))


def iter_ark(path: str | Path, domain: str = "tweets") -> Iterator[dict]:
    """Yield POS rows from an ARK Twitter POS file (``word<TAB>tag`` lines, blank between tweets)."""
    path = Path(path)
    stem = path.name.removesuffix(".gz")
    toks: list[str] = []
    tags: list[str] = []
    n = 0

    def row() -> dict:
        return {"id": f"ark/{stem}/{n}", "tokens": toks, "upos": [ARK_TO_UPOS[t] for t in tags], "xpos": tags,
                "domain": domain, "lang": "en"}

    for lineno, line in read_lines(path):
        if not line.strip():
            if toks:
                n += 1
                yield row()
                toks, tags = [], []
            continue
        word, sep, tag = line.rpartition("\t")
        if not sep:
            raise Errors.E102(detail="expected 'word<TAB>tag'", path=path, line=lineno)
        if tag not in ARK_TO_UPOS:
            raise Errors.E104(detail=f"unknown ARK tag {tag!r}; expected one of {sorted(ARK_TO_UPOS)}", path=path,
                              line=lineno)
        toks.append(word)
        tags.append(tag)
    if toks:
        n += 1
        yield row()
