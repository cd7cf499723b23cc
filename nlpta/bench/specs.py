"""The benchmark tasks several sections share, built in one place so that the same run has the
same cache key wherever a table asks for it (the pivots table's ``none`` column is the baselines
table's run, not a copy of it)."""

from __future__ import annotations

from collections.abc import Sequence

from nlpta.errors import Errors
from nlpta.tasks import DataSpec, TaskSpec

BLITZER_DOMAINS = ("books", "dvd", "electronics", "kitchen")
BLITZER_PAIRS = tuple((s, t) for s in BLITZER_DOMAINS for t in BLITZER_DOMAINS if s != t)
EWT_GENRES = ("answers", "email", "newsgroup", "reviews", "weblog")
GUM_GENRES = ("academic", "bio", "conversation", "court", "essay", "fiction", "interview", "letter", "news",
              "podcast", "speech", "textbook", "vlog", "voyage", "whow")


def blitzer(source: str, target: str, unlabeled: bool = False, limit: int | None = None) -> TaskSpec:
    """Blitzer reviews ``source`` → ``target`` (per seed: 1,600 train / 400 test of each domain's
    2,000 labeled reviews); ``unlabeled``: the target's unlabeled pool too; ``limit``: a seeded
    sample of that many source and target rows (tests)."""
    return TaskSpec(name=f"{source}->{target}", task="sentiment",
                    source=DataSpec(f"mdsd:{source}", split="train", limit=limit),
                    target=DataSpec(f"mdsd:{target}", split="test", limit=limit),
                    unlabeled=DataSpec(f"mdsd:{target}", split="unlabeled", labeled=False) if unlabeled else None)


def blitzer_in_domain(domain: str, limit: int | None = None) -> TaskSpec:
    """The ``in-domain`` ceiling's task for ``domain`` (train on its train split, test on its test)."""
    return blitzer(domain, domain, limit=limit)


def blitzer_multi(target: str, unlabeled: bool = True) -> TaskSpec:
    """Leave one domain out: the other three domains' train splits pooled → ``target``."""
    return TaskSpec(name=f"rest->{target}", task="sentiment",
                    source=[DataSpec(f"mdsd:{s}", split="train") for s in BLITZER_DOMAINS if s != target],
                    target=DataSpec(f"mdsd:{target}", split="test"),
                    unlabeled=DataSpec(f"mdsd:{target}", split="unlabeled", labeled=False) if unlabeled else None)


def ud(source: DataSpec | Sequence[DataSpec], target: DataSpec, name: str,
       unlabeled: DataSpec | None = None, task: str = "pos") -> TaskSpec:
    """A task (POS unless ``task`` says otherwise) from data entries."""
    return TaskSpec(name=name, task=task, source=list(source) if not isinstance(source, DataSpec) else source,
                    target=target, unlabeled=unlabeled)


def ewt(source: str | None, target: str | None, source_limit: int | None = None, unlabeled: bool = False,
        target_split: str = "test") -> TaskSpec:
    """EWT genre ``source`` (train split; ``None``: all genres) → genre ``target`` (test split;
    ``None``: all genres, reported per genre); ``unlabeled``: the target genre's train sentences
    without tags."""
    return TaskSpec(name=f"ewt {source or 'all'}->{target or 'all'}", task="pos",
                    source=DataSpec("ud:en_ewt", split="train", domain=source, limit=source_limit),
                    target=DataSpec("ud:en_ewt", split=target_split, domain=target),
                    unlabeled=DataSpec("ud:en_ewt", split="train", domain=target, labeled=False) if unlabeled else None)


def ewt_multi(target: str, per_source_limit: int) -> TaskSpec:
    """Leave one EWT genre out: a seeded sample of ``per_source_limit`` train sentences of each other
    genre → ``target``'s test split, with its train sentences (untagged) as unlabeled rows."""
    return TaskSpec(name=f"ewt rest->{target}", task="pos",
                    source=[DataSpec("ud:en_ewt", split="train", domain=g, limit=per_source_limit)
                            for g in EWT_GENRES if g != target],
                    target=DataSpec("ud:en_ewt", split="test", domain=target),
                    unlabeled=DataSpec("ud:en_ewt", split="train", domain=target, labeled=False))


def webis(lang: str, domain: str, unlabeled: bool = True) -> TaskSpec:
    """Webis-CLS-10: English ``domain`` train → ``lang`` ``domain`` test; the target language's
    train reviews (labels dropped) as unlabeled text."""
    return TaskSpec(name=f"en->{lang}/{domain}", task="sentiment",
                    source=DataSpec(f"webis:en/{domain}", split="train"),
                    target=DataSpec(f"webis:{lang}/{domain}", split="test"),
                    unlabeled=DataSpec(f"webis:{lang}/{domain}", split="train", labeled=False) if unlabeled else None)


FDU_PAIRS = (("apparel", "baby"), ("baby", "toys_games"), ("camera_photo", "software"), ("software", "electronics"),
             ("health_personal_care", "sports_outdoors"), ("sports_outdoors", "apparel"), ("imdb", "MR"),
             ("MR", "video"), ("magazines", "music"), ("music", "dvd"))


def fdu(source: str, target: str, unlabeled: bool = True, pool: str = "unlabel") -> TaskSpec:
    """FDU-MTL ``source`` train → ``target`` test (per domain ~1,600 / 400). The unlabeled rows:
    ``pool="unlabel"`` -- the target's ``unlabel`` file (Amazon's natural label mix: a source-only
    model predicts 70-87% of it positive, where the test split is balanced); ``pool="train"`` -- the
    target's train split with its labels stripped (the test's label mix; no row of the test)."""
    if pool not in ("unlabel", "train"):
        raise Errors.E322(what="fdu(pool=...)", expected="'unlabel' or 'train'", got=repr(pool))
    split = "unlabeled" if pool == "unlabel" else "train"
    return TaskSpec(name=f"fdu {source}->{target}" + ("" if pool == "unlabel" else " (train pool)"), task="sentiment",
                    source=DataSpec(f"fdu:{source}", split="train"),
                    target=DataSpec(f"fdu:{target}", split="test"),
                    unlabeled=DataSpec(f"fdu:{target}", split=split, labeled=False) if unlabeled else None)
