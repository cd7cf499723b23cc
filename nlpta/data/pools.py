"""Unlabeled pools for the Blitzer Amazon domains, cleaned of every labeled review.

Blitzer's own ``unlabeled.review`` files are not available; the pool is built from the HATN
Amazon pool (``amazon5_hatn``, which shares 135-504 reviews per domain with Blitzer's labeled
sets) and FDU-MTL's ``unlabel`` files (which repeat some Blitzer test reviews). Any pool review that is one of the domain's labeled reviews (so possibly in a
test split, whatever the split seed) is removed, and so are duplicates inside the pool. Matching
ignores case, spacing, punctuation and HTML entities and compares review endings, so a title
prefix (HATN) or re-tokenization (FDU-MTL) does not hide a test review.

The counts of a pool (rows read per source, removed as labeled, removed as duplicate, kept) travel
with the rows: the pool generators *return* them (``stats = yield from amazon_unlabeled_pool(...)``),
:func:`nlpta.data.load` stores them in the dataset's ``info.description`` (JSON) and
:func:`pool_stats` reads them back from any dataset made from the pool (``select`` keeps them).
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from . import reviews

if TYPE_CHECKING:
    import datasets

PoolRows = Generator[dict, None, dict[str, int]]
"""A pool: yields rows, returns its counts when exhausted."""

log = logging.getLogger(__name__)

FDU_NAME = {"books": "books", "dvd": "dvd", "electronics": "electronics", "kitchen": "kitchen_housewares"}
KEY_CHARS = 80

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """Lower-case, unescape HTML entities, keep only ASCII letters and digits."""
    return _NON_ALNUM.sub("", html.unescape(text).lower())


class ReviewIndex:
    """Beginnings and endings of reviews (the first/last :data:`KEY_CHARS` normalized
    characters, or the whole review if shorter); ``x in index`` if ``x`` starts or ends like one
    of them, so near-duplicates that share an opening or a closing are caught too."""

    def __init__(self, texts: list[str]) -> None:
        self.suffix: dict[int, set[str]] = {}
        self.prefix: dict[int, set[str]] = {}
        for t in texts:
            n = normalize(t)
            if len(n) < 20:  # too short to identify a review
                continue
            self.suffix.setdefault(min(len(n), KEY_CHARS), set()).add(n[-KEY_CHARS:])
            self.prefix.setdefault(min(len(n), KEY_CHARS), set()).add(n[:KEY_CHARS])

    def __contains__(self, text: str) -> bool:
        n = normalize(text)
        return any(len(n) >= L and n[-L:] in keys for L, keys in self.suffix.items()) or any(
            len(n) >= L and n[:L] in keys for L, keys in self.prefix.items()
        )


def _blitzer_labeled_texts(root: Path, domain: str) -> list[str]:
    """Every labeled Blitzer review of ``domain``, with and without its title."""
    base = root / "sentiment" / "blitzer_mdsd" / "raw" / domain
    if not base.is_dir():
        return []
    return [r["text"] for with_title in (False, True)
            for r in reviews.iter_blitzer_domain(base, domain, with_title=with_title)]


def _clean(name: str, sources: list[tuple[str, Iterator[dict]]], exclude: ReviewIndex, domain: str) -> PoolRows:
    stats = {src: 0 for src, _ in sources}
    stats.update(removed_labeled=0, removed_duplicate=0, kept=0)
    seen: set[str] = set()
    for src, rows in sources:
        for r in rows:
            stats[src] += 1
            if r["text"] in exclude:
                stats["removed_labeled"] += 1
                continue
            key = normalize(r["text"])[-KEY_CHARS:]
            if key in seen:
                stats["removed_duplicate"] += 1
                continue
            seen.add(key)
            stats["kept"] += 1
            r["label"] = -1
            r["id"] = f"pool/{domain}/{src}/{stats[src]}"
            yield r
    log.info("%s unlabeled pool: %s; removed %d labeled (test) reviews and %d duplicates, kept %d", name,
             " + ".join(f"{stats[src]} {src}" for src, _ in sources), stats["removed_labeled"],
             stats["removed_duplicate"], stats["kept"])
    return stats


def amazon_unlabeled_pool(root: Path, domain: str, opts: dict | None = None) -> PoolRows:
    """Yield unlabeled rows (label -1) for a Blitzer domain: the HATN pool and FDU-MTL's
    ``unlabel`` file, minus every labeled Blitzer review of the domain and FDU-MTL's test reviews,
    minus duplicates; return the counts ``{hatn, fdu, removed_labeled, removed_duplicate, kept}``
    (also logged)."""
    opts = opts or {}
    fdu_name = FDU_NAME.get(domain, domain)
    labeled = _blitzer_labeled_texts(root, domain)
    fdu_test = root / "sentiment" / "fdu_mtl" / f"{fdu_name}.task.test.gz"
    if fdu_test.exists():
        labeled.extend(r["text"] for r in reviews.iter_fdu_task(fdu_test, domain=domain))
    sources: list[tuple[str, Iterator[dict]]] = []
    hatn = root / "sentiment" / "amazon5_hatn" / domain
    if hatn.is_dir() and opts.get("hatn", True):
        for name in ("negative", "positive"):
            sources.append(("hatn", reviews.iter_lines(hatn / f"review_{name}.gz", domain=domain, lang="en")))
    fdu = root / "sentiment" / "fdu_mtl" / f"{fdu_name}.task.unlabel.gz"
    if fdu.exists() and opts.get("fdu", True):
        sources.append(("fdu", reviews.iter_fdu_task(fdu, domain=domain, labeled=False)))
    return (yield from _clean(f"mdsd:{domain}", sources, ReviewIndex(labeled), domain))


BLITZER_OF_FDU = {v: k for k, v in FDU_NAME.items()}


def fdu_unlabeled_pool(root: Path, domain: str, opts: dict | None = None) -> PoolRows:
    """Yield FDU-MTL's ``unlabel`` rows for ``domain`` minus the reviews of its test split (and,
    for the four Blitzer domains, every labeled Blitzer review), minus duplicates; return the
    counts ``{fdu, removed_labeled, removed_duplicate, kept}`` (also logged)."""
    base = root / "sentiment" / "fdu_mtl"
    labeled = [r["text"] for r in reviews.iter_fdu_task(base / f"{domain}.task.test.gz", domain=domain)]
    if domain in BLITZER_OF_FDU:
        labeled.extend(_blitzer_labeled_texts(root, BLITZER_OF_FDU[domain]))
    sources = [("fdu", reviews.iter_fdu_task(base / f"{domain}.task.unlabel.gz", domain=domain, labeled=False))]
    return (yield from _clean(f"fdu:{domain}", sources, ReviewIndex(labeled), domain))


def pool_stats(ds: datasets.Dataset) -> dict[str, int] | None:
    """Return the counts of the unlabeled pool ``ds`` was loaded from (``{hatn?, fdu?,
    removed_labeled, removed_duplicate, kept}``), read from ``ds.info.description``; ``None`` for a
    dataset that is not (a selection of) one pool."""
    meta = dataset_meta(ds)
    pool = meta.get("pool") if meta else None
    return dict(pool) if isinstance(pool, dict) else None


def dataset_meta(ds: datasets.Dataset) -> dict | None:
    """What :func:`nlpta.data.load` recorded about where ``ds`` came from (``{source, split,
    pool?}``), or ``None`` (another dataset, or a concatenation of several)."""
    try:
        meta = json.loads(ds.info.description or "")
    except (ValueError, TypeError):
        return None
    return meta if isinstance(meta, dict) and "nlpta" in meta else None
