"""Bilingual dictionaries (the translation oracle of CL-SCL) and the tokenizers CL-SCL reads.

A dictionary file has one ``source_word target_word`` pair per line (whitespace or tab separated;
``.gz`` or plain), as the MUSE dictionaries (Conneau et al. 2018) in
``<data root>/lexicons/muse/<src>-<tgt>.txt.gz``; a word may have several translations.
Japanese text has no spaces: it is segmented by greedy longest match against the dictionary's
Japanese words (unknown characters become one-character tokens).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

from ..data import data_root
from ..errors import DataNotFoundError, FormatError

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_JA_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def muse_path(src: str, tgt: str) -> Path:
    """The MUSE dictionary ``src-tgt`` under the data root (``jp`` is read as ``ja``)."""
    src, tgt = ("ja" if x == "jp" else x for x in (src, tgt))
    p = data_root() / "lexicons" / "muse" / f"{src}-{tgt}.txt.gz"
    if not p.exists():
        raise DataNotFoundError(f"no MUSE dictionary {src}-{tgt} (looked for {p}); pass a dictionary file instead",
                                path=p)
    return p


def load_dictionary(path: str | Path) -> list[tuple[str, str]]:
    """``(source, target)`` word pairs of a dictionary file, lower-cased, in file order.

    Raises:
        DataNotFoundError: the file does not exist.
        FormatError: a non-blank line is not two whitespace-separated words (file and line named).
    """
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError("dictionary file not found", path=p)
    opener = gzip.open if p.suffix == ".gz" else open
    pairs: list[tuple[str, str]] = []
    with opener(p, "rt", encoding="utf-8", errors="strict") as fh:
        try:
            for n, line in enumerate(fh, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 2:
                    raise FormatError(f"expected 'source_word target_word' (two fields), got {len(parts)} field(s)",
                                      path=p, line=n)
                pairs.append((parts[0].lower(), parts[1].lower()))
        except UnicodeDecodeError as e:
            raise FormatError(f"not UTF-8 text ({e.reason})", path=p) from None
    if not pairs:
        raise FormatError("the dictionary holds no word pairs", path=p)
    return pairs


def max_match_tokenizer(words, max_len: int = 8) -> Callable[[str], list[str]]:
    """Greedy longest-match segmentation against ``words`` (for scripts without spaces)."""
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


def word_tokenizer(lang: str, dictionary_words=()) -> Callable[[str], list[str]]:
    """Lower-cased word tokens; Japanese (``ja``/``jp``) by longest match against ``dictionary_words``."""
    if lang in ("ja", "jp"):
        return max_match_tokenizer(dictionary_words)
    return lambda text: _WORD.findall(text.lower())
