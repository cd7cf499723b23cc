"""``nlpta.data.load``: any registered corpus or file path -> :class:`datasets.Dataset`."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import datasets

from .. import __version__
from ..errors import Errors
from . import conllu, reviews, tagged
from .paths import data_root, find_file, open_binary
from .pools import pool_stats
from .registry import REGISTRY, UD_TREEBANKS, Corpus, get_corpus, refresh_ud
from .schema import pos_dataset, sentiment_dataset, strip_labels

log = logging.getLogger(__name__)

_CACHE: dict[tuple, datasets.Dataset] = {}
_CACHE_MAX = 48

PATH_FORMATS = ("conllu", "blitzer", "blitzer-processed", "webis", "fdu", "csv", "tsv", "jsonl", "lines", "ark")


def list_corpora(task: str | None = None, available_only: bool = False) -> list[str]:
    """Return the registered corpus names (optionally of one task, or only those present)."""
    root = data_root()
    refresh_ud(root)
    names = sorted(REGISTRY)
    return [
        n for n in names
        if (task is None or REGISTRY[n].task == task) and (not available_only or REGISTRY[n].available(root))
    ]


def _is_path(name: str) -> bool:
    return "/" in name and (Path(name).exists() or Path(name + ".gz").exists()) or Path(name).exists()


def load(
    name: str | Path,
    split: str | None = None,
    domain: str | Sequence[str] | None = None,
    lang: str | None = None,
    labeled: bool = True,
    **options,
) -> datasets.Dataset:
    """Load a corpus as a :class:`datasets.Dataset` with the POS or sentiment row schema.

    Args:
        name: a registered name (``ud:en_ewt``, ``mdsd:books``, ``webis:de/books``, ...; see
            :func:`list_corpora`) or a path to a file or folder in one of the supported formats.
        split: ``train``, ``dev``, ``test``, ``unlabeled``, ... as the corpus has them; ``None``
            means all labeled splits together.
        domain: keep only rows of this domain (or these domains).
        lang: keep only rows of this language.
        labeled: ``False`` strips labels (target text used as unlabeled data).
        **options: reader options, e.g. ``split_seed`` (Blitzer's seeded split), ``with_title``,
            ``text_column``/``label_column``/``label_map``/``format`` for files,
            ``domain_regex`` (first group of it, applied to CoNLL-U ``sent_id``).

    Returns:
        the rows; POS: ``id, tokens, upos, xpos, domain, lang``; sentiment: ``id, text, label,
        rating, domain, lang``.

    Raises:
        UnknownCorpusError, DataNotFoundError, EmptyDataError, FormatError, LabelError.
    """
    key = (str(name), str(data_root()), _stat(str(name)), split, _freeze(domain), lang, labeled, _freeze(options))
    if key in _CACHE:
        return _CACHE[key]
    sname = str(name)
    pool = None
    if sname in REGISTRY or not _is_path(sname):
        corpus = get_corpus(sname)
        task, source = corpus.task, corpus.name
        rows, pool = _drain(_load_registered(corpus, split, options))
    else:
        task, gen = _load_path(Path(sname), split, options)
        source = sname
        rows = list(gen)
    if not rows:
        raise Errors.E105(detail=f"{source} (split={split!r}) is empty")
    if domain is not None:
        wanted = {domain} if isinstance(domain, str) else set(domain)
        have = Counter(r["domain"] for r in rows)
        rows = [r for r in rows if r["domain"] in wanted]
        if not rows:
            raise Errors.E105(
                detail=f"{source} (split={split!r}) has none of domain {sorted(wanted)}; its domains are "
                + ", ".join(f"{d} ({n})" for d, n in sorted(have.items()))
            )
    if lang is not None:
        have = Counter(r["lang"] for r in rows)
        rows = [r for r in rows if r["lang"] == lang]
        if not rows:
            raise Errors.E105(detail=f"{source} has none of language {lang!r}; it has {dict(have)}")
    ds = pos_dataset(rows) if task == "pos" else sentiment_dataset(rows)
    if not labeled:
        ds = strip_labels(ds)
    # what travels with the rows: where they came from and, for an unlabeled pool, its counts
    # (read back with nlpta.data.pool_stats / dataset_meta)
    meta: dict = {"nlpta": __version__, "source": source, "split": split}
    if pool is not None:
        meta["pool"] = pool
    ds.info.description = json.dumps(meta)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = ds
    return ds


def _stat(name: str) -> tuple:
    """Modification time and size of a path (so a rewritten file is read again); () for names."""
    p = Path(name)
    try:
        if p.is_file():
            st = p.stat()
            return (st.st_mtime_ns, st.st_size)
        if p.is_dir():
            return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(p.iterdir()) if f.is_file())
    except OSError:
        pass
    return ()


def _freeze(x):
    if isinstance(x, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in x.items()))
    if isinstance(x, list | tuple | set):
        return tuple(_freeze(v) for v in x)
    return x


def _drain(gen: Generator[dict, None, dict | None]) -> tuple[list[dict], dict | None]:
    """All rows of ``gen`` and the value it returns."""
    rows: list[dict] = []
    while True:
        try:
            rows.append(next(gen))
        except StopIteration as stop:
            return rows, stop.value


def _load_registered(corpus: Corpus, split: str | None, options: dict) -> Generator[dict, None, dict | None]:
    """Yield the rows of ``split`` (default: the corpus's default splits); return the counts of
    the unlabeled pool when the split is one (its loader returns them), else ``None``."""
    root = data_root()
    if not corpus.available(root):
        raise Errors.E101(
            detail=f"corpus {corpus.name!r}: expected {corpus.path} under the data root {root} "
            f"(from ${'NLPTA_DATA'} or ../shared/data beside the checkout). Set NLPTA_DATA to the "
            f"folder holding the corpora, or run `nlpta data fetch {corpus.name}` where there is internet",
            path=root / corpus.path,
        )
    if corpus.name.startswith("ud:"):
        refresh_ud(root)
    if split is None:
        splits = corpus.default_splits or tuple(s for s in corpus.splits if s != "unlabeled")
    else:
        if split not in corpus.splits:
            raise Errors.E106(split=split, detail=f"corpus {corpus.name!r} has splits {', '.join(corpus.splits)}")
        splits = (split,)
    pool = None
    for s in splits:
        counts = yield from corpus.loader(root, s, options)
        if s == "unlabeled" and isinstance(counts, dict):
            pool = counts
    return pool


def _head(path: Path, n: int = 400) -> str:
    """The first ``n`` bytes of ``path`` as text, for sniffing its format (UTF-16 is recognised by
    its byte-order mark, so a UTF-16 Webis file sniffs as XML)."""
    with open_binary(path) as fh:
        head = fh.read(n)
    enc = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    return head.decode(enc, errors="replace").lstrip("\ufeff")


def _sniff_review(path: Path) -> str:
    return "blitzer" if _head(path).lstrip().startswith("<") else "blitzer-processed"


def _conllu_domain_fn(path: Path, options: dict):
    if "domain_regex" in options:
        rx = re.compile(options["domain_regex"])

        def fn(sid, newdoc, meta):
            m = rx.search(sid)
            return (m.group(1) if m.groups() else m.group(0)) if m else ""

        return fn
    code = path.name.split("-ud-")[0]
    if code in UD_TREEBANKS:
        return UD_TREEBANKS[code][3]
    return None


def _load_path(path: Path, split: str | None, options: dict) -> tuple[str, Iterator[dict]]:
    """Read a user file or folder; returns ``(task, rows)``."""
    fmt = options.get("format")
    if fmt is not None and fmt not in PATH_FORMATS:
        raise Errors.E107(detail=f"unknown format {fmt!r}; expected one of {', '.join(PATH_FORMATS)}", path=path)
    dom = options.get("domain_name", "")
    lang = options.get("lang_code", "")
    if path.is_dir():
        files = sorted(path.glob("*.conllu*"))
        if files:
            if split:
                files = [f for f in files if f"-{split}." in f.name or f.name.startswith(f"{split}.")]
                if not files:
                    raise Errors.E101(detail=f"a *-{split}.conllu[.gz] file (the {split!r} split) in the folder",
                                      path=path)

            def gen() -> Iterator[dict]:
                for f in files:
                    yield from conllu.iter_conllu(f, lang=lang or f.name.split("_")[0][:3],
                                                  domain_fn=_conllu_domain_fn(f, options),
                                                  default_domain=dom or path.name)

            return "pos", gen()
        if any(p.name.startswith("positive.review") for p in path.iterdir()):
            return "sentiment", reviews.iter_blitzer_domain(path, dom or path.name, split,
                                                            **reviews.blitzer_split_options(options))
        if any(p.name.startswith(("train.review", "test.review")) for p in path.iterdir()):
            if split not in (None, "train", "test"):
                raise Errors.E106(split=split, detail="a Webis-CLS-10 folder has splits train, test", path=path)

            def gen_w() -> Iterator[dict]:
                for s in (split,) if split else ("train", "test"):
                    yield from reviews.iter_webis(path / f"{s}.review", domain=dom or path.name, lang=lang)

            return "sentiment", gen_w()
        raise Errors.E107(
            detail="the folder holds no *.conllu, positive/negative.review or train/test.review files; "
            "expected a UD treebank, a Blitzer domain or a Webis-CLS-10 domain folder",
            path=path,
        )
    p = find_file(path)
    if split not in (None, "all"):
        raise Errors.E106(
            split=split, detail="a single file has no splits; point at a folder with <name>-<split>.* files, "
            "or leave split out", path=p,
        )
    lname = p.name.lower().removesuffix(".gz")
    if fmt is None:
        if lname.endswith(".conllu") or lname.endswith(".conll") and "ud" in lname:
            fmt = "conllu"
        elif lname.endswith(".review"):
            fmt = "webis" if "<items" in _head(p) else _sniff_review(p)
        elif ".task." in lname:
            fmt = "fdu"
        elif lname.endswith(".xml"):
            fmt = "webis"
        elif lname.endswith((".jsonl", ".json")):
            fmt = "jsonl"
        elif lname.endswith(".tsv"):
            fmt = "tsv"
        elif lname.endswith(".csv"):
            fmt = "csv"
        else:
            raise Errors.E107(
                detail=f"no format is known for the name {p.name}; pass format= one of {', '.join(PATH_FORMATS)}",
                path=p,
            )
    dom = dom or p.parent.name
    if fmt == "conllu":
        return "pos", conllu.iter_conllu(p, lang=lang, domain_fn=_conllu_domain_fn(p, options), default_domain=dom)
    if fmt == "ark":
        return "pos", tagged.iter_ark(p, domain=dom)
    if fmt == "blitzer":
        return "sentiment", reviews.iter_blitzer_raw(p, domain=dom, lang=lang or "en",
                                                     with_title=options.get("with_title", True))
    if fmt == "blitzer-processed":
        return "sentiment", reviews.iter_blitzer_processed(p, domain=dom, lang=lang or "en")
    if fmt == "webis":
        return "sentiment", reviews.iter_webis(p, domain=dom, lang=lang)
    if fmt == "fdu":
        return "sentiment", reviews.iter_fdu_task(p, domain=dom if options.get("domain_name") else p.name.split(".task")[0], lang=lang or "en")
    if fmt == "lines":
        return "sentiment", reviews.iter_lines(p, label=reviews.check_label(options.get("label", -1), path=p),
                                               domain=dom, lang=lang)
    table_opts = {k: options[k] for k in ("text_column", "label_column", "label_map", "header", "domain_column", "id_column") if k in options}
    return "sentiment", reviews.iter_table(p, fmt=fmt, domain=dom, lang=lang, **table_opts)


def describe(name: str, **options) -> dict:
    """Sizes, domains and labels of a corpus, per split (for ``nlpta data show``)."""
    corpus = get_corpus(name) if not _is_path(name) else None
    splits = corpus.splits if corpus else (None,)
    out: dict = {"name": name}
    if corpus:
        out.update(task=corpus.task, lang=corpus.lang, description=corpus.description, path=str(data_root() / corpus.path))
    out["splits"] = {}
    for s in splits:
        ds = load(name, split=s, **options)
        info: dict = {"rows": len(ds), "domains": dict(Counter(ds["domain"]).most_common())}
        if "upos" in ds.column_names:
            tags = Counter(t for seq in ds["upos"] for t in seq)
            info["tokens"] = sum(len(t) for t in ds["tokens"])
            info["labels"] = dict(tags.most_common())
        else:
            info["labels"] = {str(k): v for k, v in sorted(Counter(ds["label"]).items())}
        pool = pool_stats(ds)
        if pool is not None:
            info["pool"] = pool
        out["splits"][s or "all"] = info
    return out
