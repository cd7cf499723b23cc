"""Row schemas: one per task, every row with a ``domain`` and a ``lang``.

POS rows: ``id, tokens, upos, xpos, domain, lang``. Sentiment rows: ``id, text, label, rating,
domain, lang`` (label 0 negative, 1 positive, -1 unlabeled; rating ``nan`` where unknown).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import datasets

from .._sampling import sample_rows as _sample_rows
from ..errors import Errors

UPOS_TAGS: tuple[str, ...] = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip
UPOS_SET = frozenset(UPOS_TAGS)

POS_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "tokens": datasets.Sequence(datasets.Value("string")),
        "upos": datasets.Sequence(datasets.Value("string")),
        "xpos": datasets.Sequence(datasets.Value("string")),
        "domain": datasets.Value("string"),
        "lang": datasets.Value("string"),
    }
)

SENTIMENT_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "label": datasets.Value("int64"),
        "rating": datasets.Value("float32"),
        "domain": datasets.Value("string"),
        "lang": datasets.Value("string"),
    }
)

UNLABELED = -1
SENTIMENT_LABELS = (0, 1, UNLABELED)


def pos_dataset(rows: Iterable[Mapping]) -> datasets.Dataset:
    """Build a POS :class:`datasets.Dataset` from row dicts (missing ``xpos``/``upos`` become ``[]``)."""
    cols: dict[str, list] = {k: [] for k in POS_FEATURES}
    for r in rows:
        cols["id"].append(str(r["id"]))
        cols["tokens"].append(list(r["tokens"]))
        cols["upos"].append(list(r.get("upos") or []))
        cols["xpos"].append(list(r.get("xpos") or []))
        cols["domain"].append(str(r.get("domain") or ""))
        cols["lang"].append(str(r.get("lang") or ""))
    return datasets.Dataset.from_dict(cols, features=POS_FEATURES)


def sentiment_dataset(rows: Iterable[Mapping]) -> datasets.Dataset:
    """Build a sentiment :class:`datasets.Dataset` from row dicts (``rating`` defaults to NaN).

    Raises:
        LabelError: a label other than 0 (negative), 1 (positive) or -1 (unlabeled).
    """
    cols: dict[str, list] = {k: [] for k in SENTIMENT_FEATURES}
    for r in rows:
        label = int(r.get("label", UNLABELED))
        if label not in SENTIMENT_LABELS:
            raise Errors.E104(detail=f"row {r.get('id')!r} has label {r.get('label')!r}; expected 0 (negative), "
                              "1 (positive) or -1 (unlabeled)")
        cols["id"].append(str(r["id"]))
        cols["text"].append(str(r["text"]))
        cols["label"].append(label)
        rating = r.get("rating")
        cols["rating"].append(float(rating) if rating is not None else math.nan)
        cols["domain"].append(str(r.get("domain") or ""))
        cols["lang"].append(str(r.get("lang") or ""))
    return datasets.Dataset.from_dict(cols, features=SENTIMENT_FEATURES)


def task_of(ds: datasets.Dataset) -> str:
    """Return ``"pos"`` or ``"sentiment"`` from a dataset's columns."""
    if "tokens" in ds.column_names:
        return "pos"
    if "text" in ds.column_names:
        return "sentiment"
    raise Errors.E111(detail=f"a dataset with neither 'tokens' (POS) nor 'text' (sentiment) columns: "
                      f"{ds.column_names}; build one with nlpta.data.load, pos_dataset or sentiment_dataset")


def strip_labels(ds: datasets.Dataset) -> datasets.Dataset:
    """Return ``ds`` without labels (``upos``/``xpos`` emptied, or ``label`` set to -1)."""
    was_disabled = datasets.utils.logging.is_progress_bar_enabled() is False
    datasets.disable_progress_bars()
    try:
        if task_of(ds) == "pos":
            return ds.map(lambda r: {"upos": [], "xpos": []})
        return ds.map(lambda r: {"label": UNLABELED})
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def sample_rows(ds: datasets.Dataset, n: int | None, seed: int) -> datasets.Dataset:
    """A seeded sample of ``n`` rows, kept in their original order (``ds`` itself when ``n`` is
    None or not smaller than ``len(ds)``); see :func:`nlpta._sampling.sample_rows`."""
    return _sample_rows(ds, n, seed)
