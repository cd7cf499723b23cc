"""Bilingual dictionaries: the one MUSE loader of nlpta, and the tokenizers that read text against one.

A dictionary file has one ``source target`` word pair per line (space or tab separated, plain or
``.gz``), as the MUSE dictionaries of Conneau et al. (2018, *Word translation without parallel
data*) under ``<data root>/lexicons/muse/<src>-<tgt>[.<part>].txt.gz`` and those of Glavaš et al.
(2019); a source word may have several lines. Language code ``jp`` (Webis-CLS-10's name for
Japanese) is read as ``ja`` (MUSE's) everywhere.

Japanese text has no spaces: :func:`word_tokenizer` segments it by greedy longest match against
the dictionary's Japanese words (unknown characters become one-character tokens).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import Errors
from .paths import data_root, open_binary

MUSE_SPLITS = {"train": ".0-5000", "test": ".5000-6500", "full": ""}
"""MUSE file suffix per split: ``train`` (pairs of the 0-5000 most frequent source words), ``test``
(5000-6500) and ``full`` (the whole dictionary)."""

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_JA_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def lang_code(lang: str) -> str:
    """The MUSE code of a language: ``jp`` -> ``ja``; any other code unchanged."""
    return "ja" if lang == "jp" else lang


def muse_path(src: str, tgt: str, split: str = "full") -> Path:
    """Return the path of the MUSE dictionary ``src-tgt`` under ``<data root>/lexicons/muse``.

    Args:
        src, tgt: language codes (``jp`` is read as ``ja``).
        split: ``full`` (default), ``train`` (0-5000) or ``test`` (5000-6500).

    Raises:
        NlptaError (E110): an unknown ``split``. DataNotFoundError: no such file (the path is named).
    """
    if split not in MUSE_SPLITS:
        raise Errors.E110(split=split, expected=", ".join(MUSE_SPLITS))
    src, tgt = lang_code(src), lang_code(tgt)
    p = data_root() / "lexicons" / "muse" / f"{src}-{tgt}{MUSE_SPLITS[split]}.txt.gz"
    if not p.is_file():
        raise Errors.E101(detail=f"the MUSE {split} dictionary for {src}-{tgt} (looked for {p}); pass a dictionary "
                          "file instead", path=p)
    return p


def muse_dictionary(src: str, tgt: str, split: str = "test") -> Path:
    """:func:`muse_path` with the BLI default ``split="test"`` (the 5000-6500 test pairs)."""
    return muse_path(src, tgt, split)


def load_dictionary(path: str | Path, lower: bool = False) -> list[tuple[str, str]]:
    """Return the ``(source, target)`` word pairs of a dictionary file, in file order (blank lines
    skipped; ``lower`` lower-cases both words; the MUSE files are lower case already).

    A line is two non-empty words separated by one space or one tab (a line holding a tab is
    split on tabs only); trailing spaces and ``\r`` are ignored and a byte-order mark at the start
    is dropped. Plain and ``.gz`` files are read alike (gzip detected by its magic bytes).

    Raises:
        DataNotFoundError: no such file. FormatError [E102]: a line that is not two non-empty
            words, text that is not UTF-8, a damaged ``.gz`` file, or a file without pairs (file
            and line named).
    """
    p = Path(path)
    if not p.is_file():
        raise Errors.E101(detail="the dictionary file (expected 'source target' per line)", path=p)
    pairs: list[tuple[str, str]] = []
    with open_binary(p) as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise Errors.E102(detail=f"not UTF-8 text ({e.reason} at byte {e.start + 1} of the line)", path=p,
                                  line=lineno) from None
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            line = line.rstrip("\n").rstrip("\r").rstrip(" ")
            if not line.strip():
                continue
            parts = line.split("\t") if "\t" in line else line.split(" ")
            if len(parts) != 2 or not all(x.strip() for x in parts):
                got = f"{len(parts)} field(s)" if len(parts) != 2 else "an empty word"
                raise Errors.E102(detail=f"expected 'source target' (two non-empty words, one space or one tab "
                                         f"between them), got {got}: {line[:60]!r}", path=p, line=lineno)
            a, b = parts
            pairs.append((a.lower(), b.lower()) if lower else (a, b))
    if not pairs:
        raise Errors.E102(detail="the dictionary holds no word pairs (expected 'source target' per line)", path=p)
    return pairs


def max_match_tokenizer(words: Iterable[str], max_len: int = 8) -> Callable[[str], list[str]]:
    """Return a tokenizer that segments text by greedy longest match against ``words`` (for
    scripts without spaces); runs outside the Japanese scripts are split into words."""
    vocab = {w for w in words if w}
    longest = min(max_len, max((len(w) for w in vocab), default=1))

    def tokenize(text: str) -> list[str]:
        out: list[str] = []
        for chunk in _WORD.findall(text.lower()):
            if not _JA_SCRIPT.search(chunk):
                out.append(chunk)
                continue
            i = 0
            while i < len(chunk):
                for L in range(min(longest, len(chunk) - i), 0, -1):
                    if L == 1 or chunk[i : i + L] in vocab:
                        out.append(chunk[i : i + L])
                        i += L
                        break
        return out

    return tokenize


def word_tokenizer(lang: str, dictionary_words: Iterable[str] = ()) -> Callable[[str], list[str]]:
    """Return a tokenizer to lower-cased words; Japanese (``ja``/``jp``) by longest match against
    ``dictionary_words``."""
    if lang_code(lang) == "ja":
        return max_match_tokenizer(dictionary_words)
    return lambda text: _WORD.findall(text.lower())
