"""Unlabeled pools for the Blitzer Amazon domains, cleaned of every labeled review.

Blitzer's own ``unlabeled.review`` files are not available; the pool is built from the HATN
Amazon pool (``amazon5_hatn``, which shares 135-504 reviews per domain with Blitzer's labeled
sets) and FDU-MTL's ``unlabel`` files (which repeat some Blitzer test reviews). Any pool review that is one of the domain's labeled reviews (so possibly in a
test split, whatever the split seed) is removed, and so are duplicates inside the pool. Matching
ignores case, spacing, punctuation and HTML entities and compares review endings, so a title
prefix (HATN) or re-tokenization (FDU-MTL) does not hide a test review.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from . import reviews

log = logging.getLogger(__name__)

FDU_NAME = {"books": "books", "dvd": "dvd", "electronics": "electronics", "kitchen": "kitchen_housewares"}
KEY_CHARS = 80
POOL_STATS: dict[str, dict[str, int]] = {}
"""The counts of the last pool built per domain (shown by ``nlpta data show``)."""

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


def amazon_unlabeled_pool(root: Path, domain: str, opts: dict | None = None) -> Iterator[dict]:
    """Yield unlabeled rows (label -1) for a Blitzer domain; counts go to the log and
    :data:`POOL_STATS`."""
    opts = opts or {}
    labeled = []
    base = root / "sentiment" / "blitzer_mdsd" / "raw" / domain
    for name in ("negative", "positive"):
        for with_title in (False, True):
            labeled.extend(
                r["text"] for r in reviews.iter_blitzer_raw(base / f"{name}.review.gz", domain=domain,
                                                            with_title=with_title)
            )
    exclude = ReviewIndex(labeled)
    sources: list[tuple[str, Iterator[dict]]] = []
    hatn = root / "sentiment" / "amazon5_hatn" / domain
    if hatn.is_dir() and opts.get("hatn", True):
        for name in ("negative", "positive"):
            sources.append(("hatn", reviews.iter_lines(hatn / f"review_{name}.gz", domain=domain, lang="en",
                                                        id_prefix=f"pool/{domain}/hatn/{name}/")))
    fdu = root / "sentiment" / "fdu_mtl" / f"{FDU_NAME.get(domain, domain)}.task.unlabel.gz"
    if fdu.exists() and opts.get("fdu", True):
        sources.append(("fdu", reviews.iter_fdu_task(fdu, domain=domain, labeled=False)))
    stats = {"hatn": 0, "fdu": 0, "removed_labeled": 0, "removed_duplicate": 0, "kept": 0}
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
            r["id"] = r["id"] if r["id"].startswith("pool/") else f"pool/{domain}/{src}/{stats[src]}"
            yield r
    POOL_STATS[domain] = stats
    log.info(
        "mdsd:%s unlabeled pool: %d HATN + %d FDU-MTL reviews, removed %d that are labeled (test) "
        "reviews and %d duplicates, kept %d",
        domain, stats["hatn"], stats["fdu"], stats["removed_labeled"], stats["removed_duplicate"], stats["kept"],
    )
