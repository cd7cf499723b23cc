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
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import Errors
from .paths import open_binary, strict_lines

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


_NLTK_TAGGED = {
    # name: (folder inside the zip, file-id regex, category file, universal map, encoding, separator,
    #        unknown tags allowed (documented: the corpus itself uses tags outside NLTK's map))
    "brown": ("brown", r"c[a-z]\d\d", "cats.txt", "en-brown", "ascii", "/", False),
    "masc_tagged": ("masc_tagged", r"(spoken|written)/.*\.txt", "categories.txt", "en-ptb", "utf-8", "_", True),
}
"""NLTK corpora in ``word<sep>TAG`` text, read here line by line (same sentences and tags as
NLTK's ``TaggedCorpusReader``): one sentence per non-blank line, tokens split on whitespace, the
tag after the last separator, upper-cased. Brown's tags are all in NLTK's ``en-brown`` map, so a
token without a tag or with a tag outside the map is an error (file and line). MASC uses tags
outside NLTK's ``en-ptb`` map (``-``, ``...``, untagged tokens): those become ``X``, as NLTK does."""

_CONLLU_HINT = re.compile(r"^(# ?(sent_id|text|newdoc|newpar|global\.columns)\b|[1-9][0-9]*(-[0-9]+|\.[0-9]+)?\t)")
_MAP_CACHE: dict[tuple, dict[str, str]] = {}


class _Source:
    """An NLTK corpus as a zip (``corpora/NAME.zip``) or an unpacked folder (``corpora/NAME/``);
    members are read whole, and a damaged zip raises ``FormatError`` naming it."""

    def __init__(self, nltk_dir: Path, name: str, sub: str) -> None:
        corpora = nltk_dir / "corpora"
        self.nltk_dir = nltk_dir
        self.zip = corpora / f"{name}.zip"
        self.folder = corpora / sub
        self.sub = sub
        if self.folder.is_dir():
            self.zip = None  # type: ignore[assignment]
            self.where: Path = self.folder
            self._names = sorted(str(f.relative_to(self.folder)).replace(os.sep, "/")
                                 for f in self.folder.rglob("*") if f.is_file())
        elif self.zip.exists():
            self.where = self.zip
            try:
                self._zf = zipfile.ZipFile(self.zip)
                prefix = sub.rstrip("/") + "/"
                self._names = sorted(n[len(prefix):] for n in self._zf.namelist()
                                     if n.startswith(prefix) and not n.endswith("/"))
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
                raise Errors.E102(detail=f"not a readable zip archive ({e}); download the NLTK corpus {name!r} "
                                         "again", path=self.zip) from None
        else:
            raise Errors.E101(detail=f"NLTK corpus {name!r}; expected corpora/{name}.zip under it", path=nltk_dir)

    def names(self) -> list[str]:
        return self._names

    def label(self, member: str) -> str:
        """How errors name ``member``: ``.../brown.zip/brown/ca01`` or the file's path."""
        return f"{self.where}/{member}" if self.zip is None else f"{self.zip}/{self.sub}/{member}"

    def read(self, member: str) -> bytes:
        if self.zip is None:
            with open_binary(self.folder / member) as fh:
                return fh.read()
        try:
            return self._zf.read(f"{self.sub}/{member}")
        except KeyError:
            raise Errors.E101(detail=f"{member!r} inside the zip archive", path=self.zip) from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
                RuntimeError) as e:
            raise Errors.E102(detail=f"damaged zip member {member!r} ({type(e).__name__}: {e}); download the "
                                     "corpus again", path=self.zip) from None

    def lines(self, member: str, encoding: str) -> Iterator[tuple[int, str]]:
        for i, raw in enumerate(self.read(member).split(b"\n"), start=1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as e:
                raise Errors.E102(detail=f"byte {raw[e.start]:#04x} at column {e.start + 1} is not valid {encoding}; "
                                         f"this corpus is {encoding} text", path=self.label(member), line=i) from None
            yield i, line.rstrip("\r")


def _universal_map(nltk_dir: Path, name: str) -> dict[str, str]:
    """NLTK's map ``name`` (``en-brown``, ``en-ptb``) -> the 12 universal tags, read from
    ``taggers/universal_tagset[.zip]`` under ``nltk_dir`` (else wherever NLTK finds it)."""
    zpath = nltk_dir / "taggers" / "universal_tagset.zip"
    fpath = nltk_dir / "taggers" / "universal_tagset" / f"{name}.map"
    found = fpath if fpath.exists() else zpath if zpath.exists() else None
    st = found.stat() if found else None
    key = (str(found or nltk_dir), name, st.st_mtime_ns if st else 0, st.st_size if st else 0)
    if key in _MAP_CACHE:
        return _MAP_CACHE[key]
    text: str | None = None
    where: Path = fpath
    try:
        if fpath.exists():
            text = fpath.read_bytes().decode("utf-8")
        elif zpath.exists():
            where = zpath
            with zipfile.ZipFile(zpath) as zf:
                text = zf.read(f"universal_tagset/{name}.map").decode("utf-8")
    except (zipfile.BadZipFile, KeyError, zlib.error, OSError, UnicodeDecodeError, EOFError) as e:
        raise Errors.E102(detail=f"cannot read NLTK's universal tag map {name}.map ({type(e).__name__}: {e})",
                          path=where) from None
    if text is None:
        try:
            from nltk.tag.mapping import tagset_mapping

            mapping = dict(tagset_mapping(name, "universal"))
        except LookupError:
            raise Errors.E101(detail=f"NLTK's universal tag map {name}.map; expected taggers/universal_tagset.zip "
                                     "under it", path=nltk_dir) from None
    else:
        mapping = {}
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            fine, sep, coarse = line.strip().partition("\t")
            if not sep or coarse not in UNIVERSAL12_TO_UPOS:
                raise Errors.E102(detail="expected 'TAG<TAB>UNIVERSAL' with one of the 12 universal tags",
                                  path=f"{where}/{name}.map" if where == zpath else where, line=i)
            mapping[fine] = coarse
    _MAP_CACHE[key] = mapping
    return mapping


def _categories(src: _Source, cat_file: str, files: list[str], allowed: tuple[str, ...] | None) -> dict[str, list[str]]:
    """``{fileid: sorted categories}`` from the corpus's category file (``fileid cat [cat ...]``)."""
    out: dict[str, list[str]] = {}
    known = set(files)
    where = src.label(cat_file)
    for i, line in src.lines(cat_file, "utf-8"):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise Errors.E102(detail="expected 'fileid category' (a file id and at least one category)", path=where,
                              line=i)
        fid, cats = fields[0], fields[1:]
        if fid not in known:
            raise Errors.E102(detail=f"file id {fid!r} is not a file of this corpus", path=where, line=i)
        if fid in out:
            raise Errors.E102(detail=f"file id {fid!r} listed twice", path=where, line=i)
        for c in cats:
            if allowed is not None and c not in allowed:
                raise Errors.E104(detail=f"unknown category {c!r}; expected one of {', '.join(allowed)}", path=where,
                                  line=i)
        out[fid] = sorted(set(cats))
    missing = [f for f in files if f not in out]
    if missing and allowed is not None:  # MASC leaves a few files without a genre: domain = their folder
        raise Errors.E102(detail=f"{len(missing)} corpus file(s) have no category, e.g. {missing[0]!r}; expected one "
                                 "line 'fileid category' per file", path=where)
    return out


def _tagged_file(src: _Source, fileid: str, encoding: str, sep: str, mapping: dict[str, str],
                 lenient: bool) -> Iterator[list[tuple[str, str, str]]]:
    """Sentences of one ``word<sep>TAG`` file as ``[(word, upos, xpos), ...]`` (one per
    non-blank line, as NLTK's TaggedCorpusReader reads them)."""
    where = src.label(fileid)
    for i, physical in src.lines(fileid, encoding):
        # NLTK splits sentences on every Unicode line boundary (MASC has U+2028 inside lines)
        for line in physical.splitlines() if physical else ():
            words = line.split()
            if not words:
                continue
            yield _tagged_line(line, words, where, i, sep, mapping, lenient)


def _tagged_line(line: str, words: list[str], where: str, i: int, sep: str, mapping: dict[str, str],
             lenient: bool) -> list[tuple[str, str, str]]:
    """One sentence: ``[(word, upos, xpos), ...]``, or an error naming ``where`` and line ``i``."""
    if _CONLLU_HINT.match(line) and (line.startswith("#") or len(line.split("\t")) == 10):
        raise Errors.E102(detail="this looks like CoNLL-U, not NLTK's 'word/TAG' text; read it with the "
                                 "CoNLL-U reader (nlpta.data.load(path) or iter_conllu)", path=where, line=i)
    sent = []
    for tok in words:
        loc = tok.rfind(sep)
        word, tag = (tok[:loc], tok[loc + len(sep):].upper()) if loc >= 0 else (tok, None)
        if tag is None and not lenient:
            raise Errors.E102(detail=f"token {tok!r} has no tag; expected 'word{sep}TAG'", path=where, line=i)
        if not word and not lenient:
            raise Errors.E102(detail=f"token {tok!r} has an empty word; expected 'word{sep}TAG'", path=where,
                              line=i)
        if tag is not None and tag not in mapping and not lenient:
            raise Errors.E104(detail=f"unknown tag {tag!r} (not in NLTK's universal tag map of this corpus)",
                              path=where, line=i)
        uni = mapping.get(tag, "X") if tag is not None else "X"
        sent.append((word, UNIVERSAL12_TO_UPOS[uni], tag))
    return sent


def _conll_chunk_file(src: _Source, fileid: str, mapping: dict[str, str]) -> Iterator[list[tuple[str, str, str]]]:
    """Sentences of a CoNLL-2000 file (``word TAG CHUNK`` lines, blank line between sentences)."""
    where = src.label(fileid)
    sent: list[tuple[str, str, str]] = []
    for i, line in src.lines(fileid, "ascii"):
        cols = line.split()
        if not cols:
            if sent:
                yield sent
                sent = []
            continue
        if len(cols) != 3:
            raise Errors.E102(detail=f"expected 3 columns 'word TAG CHUNK', found {len(cols)}", path=where, line=i)
        if cols[1] not in mapping:
            raise Errors.E104(detail=f"unknown tag {cols[1]!r} (not in NLTK's PTB universal tag map)", path=where,
                              line=i)
        sent.append((cols[0], UNIVERSAL12_TO_UPOS[mapping[cols[1]]], cols[1]))
    if sent:
        yield sent


def _nltk_reader_sents(src: _Source, corpus: str, fileid: str, posts: bool, mapping: dict[str, str],
                       drop_xpos: tuple[str, ...], lenient: bool) -> Iterator[list[tuple[str, str, str]]]:
    """Sentences through NLTK's own reader (PTB ``.mrg`` trees, NPS chat XML), its failures
    turned into ``FormatError`` naming the file."""
    import xml.etree.ElementTree as ET

    import nltk
    from nltk.corpus.reader import BracketParseCorpusReader, NPSChatCorpusReader
    from nltk.data import FileSystemPathPointer, ZipFilePathPointer

    nltk_dir = str(src.nltk_dir)
    if nltk_dir not in nltk.data.path:  # NLTK refuses to open corpora outside its data path
        nltk.data.path.insert(0, nltk_dir)
    root = FileSystemPathPointer(str(src.folder)) if src.zip is None else ZipFilePathPointer(str(src.zip),
                                                                                             src.sub + "/")
    where = src.label(fileid)
    try:
        if corpus == "nps_chat":
            sents = list(NPSChatCorpusReader(root, [fileid]).tagged_posts(fileid))
        else:
            sents = list(BracketParseCorpusReader(root, [fileid], encoding="ascii").tagged_sents(fileid))
    except (ValueError, IndexError, AssertionError, UnicodeDecodeError, ET.ParseError, zipfile.BadZipFile,
            zlib.error, EOFError, OSError, TypeError, AttributeError) as e:
        raise Errors.E102(detail=f"NLTK cannot read it ({type(e).__name__}: {e})", path=where) from None
    for sent in sents:
        out = []
        for w, t in sent:
            if t in drop_xpos:
                out.append((w, "X", t))
                continue
            if (not isinstance(t, str) or t not in mapping) and not lenient:
                raise Errors.E104(detail=f"unknown tag {t!r} for token {w!r} (not in NLTK's PTB universal tag map)",
                                  path=where)
            out.append((w, UNIVERSAL12_TO_UPOS[mapping.get(t, "X")], t))
        yield out


_NLTK_OTHER = {
    # name: (folder, file-id regex, map, reader, unknown tags allowed)
    "treebank": ("treebank/combined", r"wsj_.*\.mrg", "en-ptb", "mrg", False),
    "conll2000": ("conll2000", r"(train|test)\.txt", "en-ptb", "chunk", False),
    "nps_chat": ("nps_chat", r"(?!README|\.).*\.xml", "en-ptb", "nps", True),
}
"""NPS chat uses tags outside NLTK's PTB map (``^NN``, ``BES``, ``GW``, ...): those become ``X``."""


def iter_nltk_tagged(root: Path, corpus: str, prefix: str, fileids: list[str] | None = None,
                     domain: str | None = None, posts: bool = False, drop_xpos: tuple[str, ...] = (),
                     categories: dict[str, list[str]] | None = None) -> Iterator[dict]:
    """Yield POS rows from an NLTK tagged corpus (``brown``, ``treebank``, ``conll2000``,
    ``masc_tagged``, ``nps_chat``) under ``root/pos/nltk_data/corpora`` (its ``.zip`` or an
    unpacked folder): tags mapped to UPOS through NLTK's universal tagset, the corpus tag kept in
    ``xpos``; tokens whose corpus tag is in ``drop_xpos`` (PTB's ``-NONE-`` traces) are left out.
    The domain is ``domain`` if given, else the file's category (MASC's genres), else the first
    part of the file id.

    Raises:
        DataNotFoundError: [E101] the corpus or NLTK's universal tag map is missing.
        FormatError: [E102] a damaged zip, bytes not in the corpus's encoding, a token without a
            tag, a file that looks like CoNLL-U, a bad category file (file and line where known).
        LabelError: [E104] a tag outside NLTK's universal map of the corpus (see
            :data:`_NLTK_TAGGED`; MASC and NPS chat map those to ``X``).
    """
    nltk_dir = Path(root) / "pos" / "nltk_data"
    if corpus in _NLTK_TAGGED:
        sub, pattern, cat_file, map_name, encoding, sep, lenient = _NLTK_TAGGED[corpus]
    elif corpus in _NLTK_OTHER:
        sub, pattern, map_name, kind, lenient = _NLTK_OTHER[corpus]
        cat_file = ""
    else:
        raise Errors.E103(name=corpus, detail=f"expected one of {sorted(_NLTK_TAGGED) + sorted(_NLTK_OTHER)}")
    src = _Source(nltk_dir, corpus, sub)
    mapping = _universal_map(nltk_dir, map_name)
    files = [n for n in src.names() if re.fullmatch(pattern, n)]
    if not files:
        raise Errors.E105(detail=f"no corpus files matching {pattern!r} in it", path=src.where)
    if categories is None and cat_file and domain is None:
        categories = _categories(src, cat_file, files, BROWN_CATEGORIES if corpus == "brown" else None)
    for fileid in fileids or files:
        if fileid not in files:
            raise Errors.E101(detail=f"file {fileid!r} of NLTK corpus {corpus!r}", path=src.where)
        cats = (categories or {}).get(fileid, []) if domain is None else []
        dom = domain or (cats[0] if cats else fileid.split("/")[0])
        if corpus in _NLTK_TAGGED:
            sents = _tagged_file(src, fileid, encoding, sep, mapping, lenient)
        elif kind == "chunk":
            sents = _conll_chunk_file(src, fileid, mapping)
        else:
            sents = _nltk_reader_sents(src, corpus, fileid, posts, mapping, drop_xpos, lenient)
        for i, sent in enumerate(sents):
            triples = [t for t in sent if t[2] not in drop_xpos]
            if not triples:
                continue
            yield {
                "id": f"{prefix}/{fileid}/{i}",
                "tokens": [w for w, _, _ in triples],
                "upos": [u for _, u, _ in triples],
                "xpos": [r for _, _, r in triples],
                "domain": dom,
                "lang": "en",
            }


def iter_brown(root: Path, categories: list[str] | None = None) -> Iterator[dict]:
    """Yield POS rows from NLTK's Brown corpus; ``domain`` is the Brown category, tags mapped
    Brown -> universal (NLTK) -> UPOS; the Brown tag stays in ``xpos``.

    Raises:
        LabelError: [E104] an unknown category name, or a Brown tag outside NLTK's map.
        FormatError, DataNotFoundError: as :func:`iter_nltk_tagged`.
    """
    for cat in categories or BROWN_CATEGORIES:
        if cat not in BROWN_CATEGORIES:
            raise Errors.E104(detail=f"unknown Brown category {cat!r}; expected one of {BROWN_CATEGORIES}")
    nltk_dir = Path(root) / "pos" / "nltk_data"
    sub, pattern, cat_file = _NLTK_TAGGED["brown"][:3]
    src = _Source(nltk_dir, "brown", sub)
    files = [n for n in src.names() if re.fullmatch(pattern, n)]
    if not files:
        raise Errors.E105(detail=f"no Brown files matching {pattern!r} in it", path=src.where)
    cats = _categories(src, cat_file, files, BROWN_CATEGORIES)
    for cat in categories or BROWN_CATEGORIES:
        fids = sorted(f for f, cs in cats.items() if cat in cs)
        if fids:
            yield from iter_nltk_tagged(root, "brown", "brown", fids, domain=cat, categories=cats)


def iter_ptb_sample(root: Path) -> Iterator[dict]:
    """Yield POS rows from NLTK's 10% WSJ sample (PTB tags in ``xpos``, ``-NONE-`` traces removed)."""
    yield from iter_nltk_tagged(root, "treebank", "ptb", domain="news", drop_xpos=("-NONE-",))


def iter_ark(path: str | Path, domain: str = "tweets") -> Iterator[dict]:
    """Yield POS rows from an ARK Twitter POS file (``word<TAB>tag`` lines, blank between tweets).

    Raises:
        FormatError: [E102] bytes that are not UTF-8, a damaged ``.gz``, a line without exactly two
            tab-separated columns, an empty word (file and line).
        LabelError: [E104] a tag outside the 25 ARK tags of :data:`ARK_TO_UPOS`.
    """
    path = Path(path)
    stem = path.name.removesuffix(".gz")
    toks: list[str] = []
    tags: list[str] = []
    n = 0

    def row() -> dict:
        return {"id": f"ark/{stem}/{n}", "tokens": toks, "upos": [ARK_TO_UPOS[t] for t in tags], "xpos": tags,
                "domain": domain, "lang": "en"}

    for lineno, line in strict_lines(path, what="ARK tagged"):
        if not line.strip():
            if toks:
                n += 1
                yield row()
                toks, tags = [], []
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise Errors.E102(detail=f"expected 2 tab-separated columns 'word<TAB>tag', found {len(cols)}", path=path,
                              line=lineno)
        word, tag = cols
        if not word:  # (a word of only a no-break space exists: oct27.train, tagged G)
            raise Errors.E102(detail="empty word; expected 'word<TAB>tag'", path=path, line=lineno)
        if tag not in ARK_TO_UPOS:
            raise Errors.E104(detail=f"unknown ARK tag {tag!r}; expected one of {sorted(ARK_TO_UPOS)}", path=path,
                              line=lineno)
        toks.append(word)
        tags.append(tag)
    if toks:
        n += 1
        yield row()
