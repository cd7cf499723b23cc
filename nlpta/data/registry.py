"""The named-corpus registry: ``"ud:en_ewt"``, ``"mdsd:books"``, ``"webis:de/books"``, ...

Each :class:`Corpus` knows its task, language, splits, domains, where its files are (relative to
the data root) and how to read one split. Names are resolved by :func:`get_corpus`; a UD treebank
folder that is not in the catalogue is still found by scanning ``pos/ud``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Errors
from . import conllu, reviews, tagged
from .paths import data_root

Loader = Callable[[Path, str, dict], Iterator[dict]]
"""``loader(root, split, options) -> rows``; a pool's generator returns its counts when exhausted."""


@dataclass
class Corpus:
    """One registered corpus.

    Attributes:
        name: registry name (``ud:en_ewt``).
        task: ``pos`` or ``sentiment``.
        lang: ISO 639-1 code of its language.
        description: one line for ``nlpta data list``.
        splits: the splits it has; ``None`` as a split means all labeled splits together.
        domains: the domains its rows carry (empty if unknown until read).
        path: its folder or file relative to the data root.
        loader: reads one split.
        expected: row counts per split from the data catalogue (checked by the corpus tests).
        default_splits: the splits that ``split=None`` concatenates.
    """

    name: str
    task: str
    lang: str
    description: str
    splits: tuple[str, ...]
    path: str
    loader: Loader
    domains: tuple[str, ...] = ()
    expected: dict[str, int] = field(default_factory=dict)
    default_splits: tuple[str, ...] | None = None
    seeded_split: bool = False
    """True if train/test are drawn with ``split_seed`` (no canonical split)."""

    def available(self, root: Path | None = None) -> bool:
        return ((root or data_root()) / self.path).exists()


REGISTRY: dict[str, Corpus] = {}


def register(c: Corpus) -> Corpus:
    REGISTRY[c.name] = c
    return c


# ----------------------------------------------------------------------------- UD treebanks
def _ewt_domain(sid: str, newdoc: str, meta: dict) -> str:
    return sid.split("-", 1)[0]


def _gum_like(prefix: str):
    rx = re.compile(rf"^{prefix}_([a-z]+)_")

    def fn(sid: str, newdoc: str, meta: dict) -> str:
        m = rx.match(sid) or rx.match(newdoc)
        return m.group(1) if m else ""

    return fn


_SEQUOIA = {"Europar": "europarl", "annodis": "news", "emea": "medical", "frwiki": "wiki"}


def _sequoia_domain(sid: str, newdoc: str, meta: dict) -> str:
    head = re.split(r"[._\-0-9]", sid, maxsplit=1)[0]
    return _SEQUOIA.get(head, head)


def _pud_domain(sid: str, newdoc: str, meta: dict) -> str:
    key = (newdoc or sid)[:1]
    return {"n": "news", "w": "wiki"}.get(key, "")


def _lines_domain(sid: str, newdoc: str, meta: dict) -> str:
    return f"doc{newdoc}" if newdoc else ""


# code -> (folder, lang, default domain, domain function, known domains, description, counts)
UD_TREEBANKS: dict[str, tuple] = {
    "en_ewt": ("UD_English-EWT", "en", "web", _ewt_domain,
               ("answers", "email", "newsgroup", "reviews", "weblog"),
               "English Web Treebank, 5 web genres", {"train": 12544, "dev": 2001, "test": 2077}),
    "en_gum": ("UD_English-GUM", "en", "", _gum_like("GUM"),
               ("academic", "bio", "conversation", "court", "essay", "fiction", "interview", "letter",
                "news", "podcast", "speech", "textbook", "vlog", "voyage", "whow"),
               "Georgetown University Multilayer corpus, 15 genres", {"train": 10224, "dev": 1575, "test": 1464}),
    "en_gentle": ("UD_English-GENTLE", "en", "", _gum_like("GENTLE"),
                  ("dictionary", "esports", "legal", "medical", "poetry", "proof", "syllabus", "threat"),
                  "GENTLE: 8 out-of-domain genres (test only)", {"test": 1334}),
    "en_atis": ("UD_English-Atis", "en", "flights", None, (), "ATIS flight queries", {}),
    "en_partut": ("UD_English-ParTUT", "en", "partut", None, (), "ParTUT: legal, Europarl, TED", {}),
    "en_lines": ("UD_English-LinES", "en", "", _lines_domain, (), "LinES: fiction, software manual, Europarl (domain = doc id)", {}),
    "en_eslspok": ("UD_English-ESLSpok", "en", "spoken-learner", None, (), "spoken English of learners", {}),
    "en_ctetex": ("UD_English-CTeTex", "en", "requirements", None, (), "software requirements (test only)", {}),
    "en_childes": ("UD_English-CHILDES", "en", "child-speech", None, (), "child-directed and child speech (dev only)", {}),
    "fr_sequoia": ("UD_French-Sequoia", "fr", "", _sequoia_domain, ("europarl", "medical", "news", "wiki"),
                   "French Sequoia, 4 domains", {"train": 2231, "dev": 412, "test": 456}),
    "tr_imst": ("UD_Turkish-IMST", "tr", "news-nonfiction", None, (), "Turkish IMST", {"train": 3435, "dev": 1100, "test": 1100}),
}
for _code, _lang, _desc in (
    ("de_gsd", "de", "German GSD (dev + test; no train here)"),
    ("fr_gsd", "fr", "French GSD (dev + test; no train here)"),
    ("es_gsd", "es", "Spanish GSD (dev + test; no train here)"),
    ("zh_gsdsimp", "zh", "Chinese GSDSimp (dev + test; no train here)"),
    ("fi_tdt", "fi", "Finnish TDT (dev + test; no train here)"),
    ("ru_gsd", "ru", "Russian GSD (dev + test; no train here)"),
):
    _folder = {"de": "German", "fr": "French", "es": "Spanish", "zh": "Chinese", "fi": "Finnish", "ru": "Russian"}[_lang]
    _tb = _code.split("_")[1].upper().replace("GSDSIMP", "GSDSimp")
    UD_TREEBANKS[_code] = (f"UD_{_folder}-{_tb}", _lang, "gsd", None, (), _desc, {})
_PUD_LANGS = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "cs": "Czech", "fi": "Finnish", "ru": "Russian", "tr": "Turkish",
    "zh": "Chinese", "ar": "Arabic", "hi": "Hindi", "ko": "Korean", "id": "Indonesian",
}  # fmt: skip
for _lang, _name in _PUD_LANGS.items():
    UD_TREEBANKS[f"{_lang}_pud"] = (f"UD_{_name}-PUD", _lang, "", _pud_domain, ("news", "wiki"),
                                    f"{_name} PUD: parallel 1,000 sentences, news + wiki", {"test": 1000})


def _ud_loader(folder: str, code: str, lang: str, default_domain: str, domain_fn) -> Loader:
    def load(root: Path, split: str, opts: dict) -> Iterator[dict]:
        base = root / "pos" / "ud" / folder
        files = sorted(base.glob(f"{code}-ud-{split}.conllu*"))
        if not files:
            raise Errors.E101(detail=f"{code}-ud-{split}.conllu[.gz] in the treebank folder", path=base)
        yield from conllu.iter_conllu(
            files[0], lang=lang, domain_fn=domain_fn, default_domain=default_domain or code,
        )

    return load


def _register_ud(code: str, folder: str, lang: str, default_domain: str, domain_fn, domains, desc, counts) -> None:
    splits = tuple(counts) if counts else ("train", "dev", "test")
    register(Corpus(
        name=f"ud:{code}", task="pos", lang=lang, description=desc, splits=splits,
        path=f"pos/ud/{folder}", loader=_ud_loader(folder, code, lang, default_domain, domain_fn),
        domains=tuple(domains) or ((default_domain,) if default_domain else ()), expected=dict(counts),
    ))


for _code, (_folder, _lang, _dd, _fn, _doms, _desc, _counts) in UD_TREEBANKS.items():
    _register_ud(_code, _folder, _lang, _dd, _fn, _doms, _desc, _counts)


_UD_SCANNED: set[tuple[str, int]] = set()


def refresh_ud(root: Path | None = None) -> None:
    """Register UD treebank folders under ``pos/ud`` that the catalogue does not name, and set
    the splits of every UD corpus from the files actually present."""
    root = root or data_root()
    ud = root / "pos" / "ud"
    if not ud.is_dir():
        return
    stamp = (str(ud), ud.stat().st_mtime_ns)  # a folder added or removed changes the mtime
    if stamp in _UD_SCANNED:
        return
    for folder in sorted(ud.iterdir()):
        if not folder.is_dir():
            continue
        files = sorted(folder.glob("*-ud-*.conllu*"))
        if not files:
            continue
        code = files[0].name.split("-ud-")[0]
        if f"ud:{code}" not in REGISTRY:
            lang = code.split("_")[0]
            _register_ud(code, folder.name, lang, code, None, (), f"UD treebank {folder.name}", {})
        names = {f.name for f in files}
        present = tuple(s for s in ("train", "dev", "test") if any(n.startswith(f"{code}-ud-{s}.conllu") for n in names))
        if present:
            REGISTRY[f"ud:{code}"].splits = present
    _UD_SCANNED.add(stamp)


register(Corpus(
    name="tweebank", task="pos", lang="en", description="Tweebank v2 (UD tweets)",
    splits=("train", "dev", "test"), path="pos/tweebank_v2",
    loader=lambda root, split, opts: conllu.iter_conllu(
        root / "pos" / "tweebank_v2" / f"en-ud-tweet-{split}.conllu.gz", lang="en", default_domain="tweets",
        id_prefix="tweebank/"),
    domains=("tweets",), expected={"train": 1639, "dev": 710, "test": 1201},
))

_ARK_FILES = {"train": "oct27.train", "dev": "oct27.dev", "test": "oct27.test", "daily547": "daily547.conll"}
register(Corpus(
    name="ark_twpos", task="pos", lang="en",
    description="ARK Twitter POS (Oct27 + Daily547), ARK tags mapped to UPOS (tag in xpos)",
    splits=tuple(_ARK_FILES), path="pos/ark_twpos",
    loader=lambda root, split, opts: tagged.iter_ark(root / "pos" / "ark_twpos" / (_ARK_FILES[split] + ".gz")),
    domains=("tweets",), expected={"train": 1000, "dev": 327, "test": 500, "daily547": 547},
    default_splits=("train", "dev", "test"),
))
register(Corpus(
    name="brown", task="pos", lang="en",
    description="Brown corpus (NLTK), 15 categories as domains, universal tags mapped to UPOS",
    splits=("all",), path="pos/nltk_data/corpora/brown.zip",
    loader=lambda root, split, opts: tagged.iter_brown(root, opts.get("categories")),
    domains=tagged.BROWN_CATEGORIES, expected={"all": 57340},
))
register(Corpus(
    name="ptb-sample", task="pos", lang="en",
    description="Penn Treebank WSJ 10% sample (NLTK), universal tags mapped to UPOS",
    splits=("all",), path="pos/nltk_data/corpora/treebank.zip",
    loader=lambda root, split, opts: tagged.iter_ptb_sample(root), domains=("news",), expected={"all": 3914},
))

register(Corpus(
    name="conll2000", task="pos", lang="en",
    description="CoNLL-2000 chunking data (WSJ, NLTK), PTB tags mapped to UPOS via the universal set",
    splits=("train", "test"), path="pos/nltk_data/corpora/conll2000.zip",
    loader=lambda root, split, opts: tagged.iter_nltk_tagged(root, "conll2000", "conll2000", [f"{split}.txt"],
                                                             domain="news"),
    domains=("news",), expected={"train": 8936},
))
register(Corpus(
    name="masc", task="pos", lang="en",
    description="MASC (NLTK masc_tagged), 20 written and spoken genres as domains, PTB tags mapped to UPOS",
    splits=("all",), path="pos/nltk_data/corpora/masc_tagged.zip",
    loader=lambda root, split, opts: tagged.iter_nltk_tagged(root, "masc_tagged", "masc"),
))
register(Corpus(
    name="nps_chat", task="pos", lang="en",
    description="NPS chat posts (NLTK), one post per row, tags mapped to UPOS",
    splits=("all",), path="pos/nltk_data/corpora/nps_chat.zip",
    loader=lambda root, split, opts: tagged.iter_nltk_tagged(root, "nps_chat", "nps_chat", domain="chat", posts=True),
    domains=("chat",), expected={"all": 10567},
))

# ------------------------------------------------------------------------------- sentiment
MDSD_DOMAINS = ("books", "dvd", "electronics", "kitchen")
FDU_DOMAINS = (
    "apparel", "baby", "books", "camera_photo", "dvd", "electronics", "health_personal_care", "imdb",
    "kitchen_housewares", "magazines", "MR", "music", "software", "sports_outdoors", "toys_games", "video",
)  # fmt: skip
HATN_DOMAINS = ("books", "dvd", "electronics", "kitchen", "video")
WEBIS_LANGS = ("en", "de", "fr", "jp")
WEBIS_DOMAINS = ("books", "dvd", "music")
XLING21_LANGS = (
    "ar", "ar_dz", "bg", "de", "el", "en", "es", "eu", "fi", "he", "hr", "id", "ja", "ko", "mt",
    "no", "sk", "th", "tr", "vi", "zh",
)  # fmt: skip
OPENER_LANGS = ("en", "es", "ca", "eu")
OPENER_CLASSES = {"strneg": (0, 0.0), "neg": (0, 1.0), "mixed": (None, 2.0), "pos": (1, 3.0), "strpos": (1, 4.0)}


def _mdsd_loader(domain: str) -> Loader:
    def load(root: Path, split: str, opts: dict) -> Iterator[dict]:
        if split == "unlabeled":
            from .pools import amazon_unlabeled_pool

            return (yield from amazon_unlabeled_pool(root, domain, opts))  # the pool's counts
        yield from reviews.iter_blitzer_domain(root / "sentiment" / "blitzer_mdsd" / "raw" / domain, domain, split,
                                               **reviews.blitzer_split_options(opts))

    return load


for _d in MDSD_DOMAINS:
    register(Corpus(
        name=f"mdsd:{_d}", task="sentiment", lang="en",
        description=f"Blitzer et al. 2007 Amazon {_d} reviews (train/test: seeded 1,600/400 split; "
        "unlabeled: HATN + FDU-MTL pools minus every labeled review)",
        splits=("train", "test", "all", "unlabeled"), path=f"sentiment/blitzer_mdsd/raw/{_d}",
        loader=_mdsd_loader(_d), domains=(_d,), expected={"all": 2000, "train": 1600, "test": 400},
        default_splits=("all",), seeded_split=True,
    ))
    register(Corpus(
        name=f"mdsd-acl:{_d}", task="sentiment", lang="en",
        description=f"Blitzer {_d}, processed_acl n-gram counts (text = unigram bag; n-grams in 'ngrams')",
        splits=("all",), path=f"sentiment/blitzer_mdsd/processed_acl/{_d}",
        loader=(lambda d: lambda root, split, opts: (
            r for name in ("negative", "positive")
            for r in reviews.iter_blitzer_processed(
                root / "sentiment" / "blitzer_mdsd" / "processed_acl" / d / f"{name}.review.gz", domain=d)
        ))(_d),
        domains=(_d,), expected={"all": 2000},
    ))


def _hatn_loader(domain: str) -> Loader:
    def load(root: Path, split: str, opts: dict) -> Iterator[dict]:
        base = root / "sentiment" / "amazon5_hatn" / domain
        for name, lab in (("negative", 0), ("positive", 1)):
            yield from reviews.iter_lines(base / f"review_{name}.gz", label=lab, domain=domain, lang="en",
                                          id_prefix=f"hatn/{domain}/{name}/")

    return load


for _d in HATN_DOMAINS:
    register(Corpus(
        name=f"amazon5:{_d}", task="sentiment", lang="en",
        description=f"HATN Amazon pool, {_d}, 3,000+3,000 (shares some reviews with Blitzer's labeled set; exact duplicates dropped)",
        splits=("all",), path=f"sentiment/amazon5_hatn/{_d}", loader=_hatn_loader(_d), domains=(_d,),
    ))


def _fdu_loader(domain: str) -> Loader:
    def load(root: Path, split: str, opts: dict) -> Iterator[dict]:
        if split == "unlabeled":
            from .pools import fdu_unlabeled_pool

            return (yield from fdu_unlabeled_pool(root, domain, opts))  # the pool's counts
        yield from reviews.iter_fdu_task(root / "sentiment" / "fdu_mtl" / f"{domain}.task.{split}.gz", domain=domain)

    return load


for _d in FDU_DOMAINS:
    register(Corpus(
        name=f"fdu:{_d}", task="sentiment", lang="en",
        description=f"FDU-MTL {_d} (Liu et al. 2017; lower-cased, tokenized; unlabeled: minus test reviews)",
        splits=("train", "test", "unlabeled"), path=f"sentiment/fdu_mtl/{_d}.task.train.gz",
        loader=_fdu_loader(_d), domains=(_d,),
        expected={"test": 400},
        default_splits=("train", "test"),
    ))


def _webis_loader(lang: str, domain: str) -> Loader:
    def load(root: Path, split: str, opts: dict) -> Iterator[dict]:
        if split == "unlabeled":
            raise Errors.E101(
                detail="Webis-CLS-10's unlabeled sets (not available here); use "
                "`split: train` with `labeled: false` for target-language text without labels",
                path=root / "sentiment" / "webis_cls10" / lang / domain,
            )
        iso = "ja" if lang == "jp" else lang
        yield from reviews.iter_webis(root / "sentiment" / "webis_cls10" / lang / domain / f"{split}.review.gz",
                                      domain=domain, lang=iso, with_summary=opts.get("with_summary", True))

    return load


for _l in WEBIS_LANGS:
    for _d in WEBIS_DOMAINS:
        register(Corpus(
            name=f"webis:{_l}/{_d}", task="sentiment", lang="ja" if _l == "jp" else _l,
            description=f"Webis-CLS-10 {_l} {_d} (Prettenhofer & Stein 2010)",
            splits=("train", "test"), path=f"sentiment/webis_cls10/{_l}/{_d}",
            loader=_webis_loader(_l, _d), domains=(_d,), expected={"train": 2000, "test": 2000},
        ))

_SST2_FILES = {"train": ("alps_train", "alps_dev"), "dev": ("alps_test",), "test": ("autoprompt_test-labeled",)}
register(Corpus(
    name="sst2", task="sentiment", lang="en", description="SST-2 movie review sentences (GLUE)",
    splits=("train", "dev", "test"), path="sentiment/sst2",
    loader=lambda root, split, opts: (
        r for f in _SST2_FILES[split]
        for r in reviews.iter_table(root / "sentiment" / "sst2" / f"{f}.tsv.gz", text_column="sentence",
                                    label_column="label", fmt="tsv", domain="movies", lang="en",
                                    id_prefix=f"sst2/{f}/")),
    domains=("movies",), expected={"train": 67349, "dev": 872, "test": 1821},
))
register(Corpus(
    name="airline", task="sentiment", lang="en", description="airline reviews, binary (as used by PERL)",
    splits=("train", "dev", "test"), path="sentiment/airline_perl",
    loader=lambda root, split, opts: reviews.iter_table(
        root / "sentiment" / "airline_perl" / f"{split}.jsonl.gz", text_column="text", label_column="label",
        domain="airline", lang="en", id_prefix=f"airline/{split}/"),
    domains=("airline",),
))
register(Corpus(
    name="airline_tweets", task="sentiment", lang="en",
    description="US airline tweets; neutral tweets dropped (counted) for the binary schema",
    splits=("all",), path="sentiment/airline_tweets/Tweets.csv.gz",
    loader=lambda root, split, opts: reviews.iter_table(
        root / "sentiment" / "airline_tweets" / "Tweets.csv.gz", text_column="text",
        label_column="airline_sentiment", label_map={"negative": 0, "positive": 1, "neutral": None},
        domain="tweets", lang="en", id_prefix="airline_tweets/"),
    domains=("tweets",),
))
for _l in XLING21_LANGS:
    register(Corpus(
        name=f"xling21:{_l}", task="sentiment", lang=_l.split("_")[0],
        description=f"cross-lingual sentiment collection, {_l} (mixed sources)",
        splits=("train", "dev", "test"), path=f"sentiment/xling21/{_l}",
        loader=(lambda lang: lambda root, split, opts: reviews.iter_table(
            root / "sentiment" / "xling21" / lang / f"{split}.csv.gz", text_column=1, label_column=0,
            fmt="csv", header=False, domain="mixed", lang=lang.split("_")[0], id_prefix=f"xling21/{lang}/{split}/"))(_l),
        domains=("mixed",),
    ))


def _opener_loader(lang: str) -> Loader:
    def load(root: Path, split: str, opts: dict) -> Iterator[dict]:
        base = root / "sentiment" / "opener" / lang / "opener_sents" / split
        dropped = 0
        for cls, (lab, rating) in OPENER_CLASSES.items():
            rows = reviews.iter_lines(base / f"{cls}.txt.gz", domain="hotels", lang=lang,
                                      id_prefix=f"opener/{lang}/{split}/{cls}/", dedupe=False, rating=rating)
            for r in rows:
                if lab is None:
                    dropped += 1
                    continue
                r["label"] = lab
                yield r
        if dropped:
            import logging

            logging.getLogger(__name__).info("opener:%s %s: dropped %d 'mixed' sentences (no binary label)",
                                             lang, split, dropped)

    return load


for _l in OPENER_LANGS:
    register(Corpus(
        name=f"opener:{_l}", task="sentiment", lang=_l,
        description=f"OpeNER hotel review sentences, {_l}; 5 classes -> binary ('mixed' dropped; class in rating 0-4)",
        splits=("train", "dev", "test"), path=f"sentiment/opener/{_l}", loader=_opener_loader(_l),
        domains=("hotels",),
    ))


def get_corpus(name: str) -> Corpus:
    """Return the registered corpus ``name``.

    Raises:
        UnknownCorpusError: with the closest registered names.
    """
    if name in REGISTRY:
        return REGISTRY[name]
    alias = {"ewt": "ud:en_ewt", "gum": "ud:en_gum", "tweebank_v2": "tweebank"}.get(name)
    if alias:
        return REGISTRY[alias]
    if name.startswith("webis:ja/"):
        return REGISTRY["webis:jp/" + name.split("/", 1)[1]]
    if name.startswith("ud:"):
        refresh_ud()
        if name in REGISTRY:
            return REGISTRY[name]
    import difflib

    close = difflib.get_close_matches(name, list(REGISTRY), n=5, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise Errors.E103(
        name=name, detail=f"{hint}(`nlpta data list` shows every name; a file or folder path works too)"
    )
