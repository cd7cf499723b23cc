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
from ..errors import EmptyDataError, Errors
from . import conllu, own, reviews, tagged
from .paths import data_root, find_file, open_binary, read_lines
from .pools import pool_stats
from .registry import REGISTRY, UD_TREEBANKS, Corpus, get_corpus, refresh_ud
from .schema import pos_dataset, sentiment_dataset, strip_labels

log = logging.getLogger(__name__)

_CACHE: dict[tuple, datasets.Dataset] = {}
_CACHE_MAX = 48

PATH_FORMATS = ("conllu", "blitzer", "blitzer-processed", "webis", "fdu", "csv", "tsv", "jsonl", "lines", "ark",
                *own.POS_FORMATS)

_READER_VERSION = 1
"""Part of the on-disk cache key of files read through ``Dataset.from_generator``: raise it when a
reader's output for the same file changes."""


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
    task: str | None = None,
    **options,
) -> datasets.Dataset:
    """Load a corpus as a :class:`datasets.Dataset` with the POS or sentiment row schema.

    Args:
        name: a registered name (``ud:en_ewt``, ``mdsd:books``, ``webis:de/books``, ...; see
            :func:`list_corpora`), a path to a file or folder in one of the supported formats
            (:data:`PATH_FORMATS`, a ``save_to_disk`` folder; see :mod:`nlpta.data.own`), or
            ``hf:owner/name`` for a Hub dataset (options ``config``, ``revision``; needs internet).
        split: ``train``, ``dev``, ``test``, ``unlabeled``, ... as the corpus has them; ``None``
            means all labeled splits together.
        domain: keep only rows of this domain (or these domains).
        lang: keep only rows of this language.
        labeled: ``False`` strips labels (target text used as unlabeled data).
        task: ``pos`` or ``sentiment`` where a file's form does not tell (raw lines or a text
            column with ``task="pos"`` are tokenized into unlabeled POS rows with ``offsets``).
        **options: reader options, e.g. ``split_seed`` (Blitzer's seeded split), ``with_title``,
            ``format``, ``domain_name``/``lang_code`` (of rows that do not say), column names
            ``text_column``/``label_column``/``tokens_column``/``tags_column``/``xpos_column``/
            ``id_column``/``domain_column``/``lang_column``, ``label_map``, ``tagset``
            (``upos``, ``universal``, ``en-ptb``, ...) or ``tag_map`` for POS tags, ``sep``,
            ``domain_regex`` (first group of it, applied to CoNLL-U ``sent_id``), ``cache_dir``
            (where files are written as Arrow; default the ``datasets`` cache).

    Files, folders and Hub datasets stream into a memory-mapped Arrow file
    (``Dataset.from_generator``); registered corpora are read whole.

    Returns:
        the rows; POS: ``id, tokens, upos, xpos, domain, lang`` (and ``offsets`` when tokenized
        from raw text; the tokenizer is recorded in ``info.description``); sentiment: ``id, text,
        label, rating, domain, lang``.

    Raises:
        UnknownCorpusError, DataNotFoundError, EmptyDataError, FormatError, LabelError.
    """
    if task not in (None, "pos", "sentiment"):
        raise Errors.E112(option="task", detail=f"{task!r}; expected 'pos' or 'sentiment'")
    key = (str(name), str(data_root()), _stat(str(name)), split, _freeze(domain), lang, labeled, task,
           _freeze(options))
    if key in _CACHE:
        return _CACHE[key]
    sname = str(name)
    pool = None
    if sname.startswith("hf:") or sname not in REGISTRY and _is_path(sname):
        ds = _load_streamed(sname, split, domain, lang, labeled, task, dict(options))
        _remember(key, ds)
        return ds
    corpus = get_corpus(sname)
    task, source = corpus.task, corpus.name
    rows, pool = _drain(_load_registered(corpus, split, options))
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
    _remember(key, ds)
    return ds


def _remember(key: tuple, ds: datasets.Dataset) -> None:
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = ds


def _load_streamed(name: str, split: str | None, domain, lang: str | None, labeled: bool, task: str | None,
                   options: dict) -> datasets.Dataset:
    """A file, folder or Hub dataset through ``Dataset.from_generator`` (see :mod:`nlpta.data.own`)."""
    cache_dir = options.pop("cache_dir", None)
    if lang is not None:
        options["_lang"] = lang  # own-format rows that do not say their language (and the tokenizer) take it
    wanted = None if domain is None else sorted({domain} if isinstance(domain, str) else set(domain))
    if name.startswith("hf:"):
        kind, target, stat = "hub", name[3:], ()
        hub = own.open_hub(target, split, options)
        found = own.dataset_task(hub, task, options)
        extra = {"tokenizer_lang": options.get("lang_code") or options.get("_lang") or "en"} if (
            found == "pos" and own._opt(options, "tokens_column") not in hub.column_names) else {}
        source = name
        stat = (hub._fingerprint,)
    else:
        kind, path = "path", Path(name)
        if not labeled and path.is_file():
            options.setdefault("label_column", None)  # text-only rows are fine where labels are not read
        found, _, extra = _load_path(path, split, options, task)
        target, stat, source = str(path.resolve()), _stat(name), name
    if task is not None and found != task:
        raise Errors.E111(detail=f"task={task!r} given, but {name} holds {found} rows")
    offsets = "tokenizer_lang" in extra
    spec = {"source_kind": kind, "target": target, "stat": stat, "split": split, "options": options,
            "domain": wanted, "lang": lang, "labeled": labeled, "task_hint": task, "nlpta": __version__,
            "reader": _READER_VERSION}
    try:
        ds = own.build(found, spec, offsets=offsets, cache_dir=cache_dir)
    except EmptyDataError:
        if wanted is None and lang is None:
            raise Errors.E105(detail=f"{source} (split={split!r}) is empty") from None
        rows = _SOURCES[kind]({**spec, "domain": None, "lang": None})
        have = Counter((r["domain"], r["lang"]) for r in rows)
        doms: Counter = Counter()
        langs: Counter = Counter()
        for (d, lg), n in have.items():
            doms[d] += n
            langs[lg] += n
        if wanted is not None and not any(doms[d] for d in wanted):
            raise Errors.E105(
                detail=f"{source} (split={split!r}) has none of domain {wanted}; its domains are "
                + ", ".join(f"{d} ({n})" for d, n in sorted(doms.items()))
            ) from None
        raise Errors.E105(detail=f"{source} has none of language {lang!r}"
                          + (f" in domain {wanted}" if wanted is not None else "") + f"; it has {dict(langs)}") from None
    meta: dict = {"nlpta": __version__, "source": source, "split": split}
    if offsets:
        from .tokenize import tokenizer_info

        meta["tokenizer"] = tokenizer_info(extra["tokenizer_lang"])
    ds.info.description = json.dumps(meta)
    return ds


def _path_rows(spec: dict) -> Iterator[dict]:
    return _load_path(Path(spec["target"]), spec["split"], spec["options"], spec["task_hint"])[1]


def _hub_rows(spec: dict) -> Iterator[dict]:
    opts = spec["options"]
    hub = own.open_hub(spec["target"], spec["split"], opts)
    task = own.dataset_task(hub, spec["task_hint"], opts)
    return own.iter_dataset(hub, task, "hf:" + spec["target"], opts, opts.get("domain_name", ""),
                            opts.get("lang_code") or opts.get("_lang") or "")


_SOURCES = {"path": _path_rows, "hub": _hub_rows}
own._ROW_SOURCES.update(_SOURCES)


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


def _load_path(path: Path, split: str | None, options: dict,
               task: str | None = None) -> tuple[str, Iterator[dict], dict]:
    """Read a user file or folder; returns ``(task, rows, extra)``, ``extra`` holding
    ``tokenizer_lang`` when the rows are tokenized from raw text. The rows are a lazy iterator:
    this call only looks at the start of the file, to tell its form."""
    fmt = options.get("format")
    if fmt is not None and fmt not in PATH_FORMATS:
        raise Errors.E107(detail=f"unknown format {fmt!r}; expected one of {', '.join(PATH_FORMATS)}", path=path)
    dom = options.get("domain_name", "")
    lang = options.get("lang_code", "")
    if fmt == "datasets" or own.is_saved_dataset(path):
        lang = lang or options.get("_lang", "")
        saved = own.open_saved(path, split)
        found = own.dataset_task(saved, task, options)
        tok = found == "pos" and own._opt(options, "tokens_column") not in saved.column_names
        return found, own.iter_dataset(saved, found, str(path), options, dom or path.name, lang), (
            {"tokenizer_lang": lang or "en"} if tok else {})
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

            return "pos", gen(), {}
        if any(p.name.startswith("positive.review") for p in path.iterdir()):
            return "sentiment", reviews.iter_blitzer_domain(path, dom or path.name, split,
                                                            **reviews.blitzer_split_options(options)), {}
        if any(p.name.startswith(("train.review", "test.review")) for p in path.iterdir()):
            if split not in (None, "train", "test"):
                raise Errors.E106(split=split, detail="a Webis-CLS-10 folder has splits train, test", path=path)

            def gen_w() -> Iterator[dict]:
                for s in (split,) if split else ("train", "test"):
                    yield from reviews.iter_webis(path / f"{s}.review", domain=dom or path.name, lang=lang)

            return "sentiment", gen_w(), {}
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
    sniffed = own.sniff_file(p, fmt, task, options) if fmt not in ("conllu", "ark") else None
    if sniffed is not None:
        return _own_file(p, sniffed[1], options, dom or p.parent.name, lang or options.get("_lang", ""))
    if fmt is None and lname.endswith(".txt"):
        if task != "sentiment":
            raise Errors.E107(detail=f"no format is known for the name {p.name} (it is neither 'word/TAG' nor "
                              "'token<TAB>tag' text); pass task='pos' (raw text, tokenized), task='sentiment' (one "
                              f"review per line) or format= one of {', '.join(PATH_FORMATS)}", path=p)
        fmt = "lines"
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
        return "pos", conllu.iter_conllu(p, lang=lang, domain_fn=_conllu_domain_fn(p, options), default_domain=dom), {}
    if fmt == "ark":
        return "pos", tagged.iter_ark(p, domain=dom), {}
    if fmt == "blitzer":
        return "sentiment", reviews.iter_blitzer_raw(p, domain=dom, lang=lang or "en",
                                                     with_title=options.get("with_title", True)), {}
    if fmt == "blitzer-processed":
        return "sentiment", reviews.iter_blitzer_processed(p, domain=dom, lang=lang or "en"), {}
    if fmt == "webis":
        return "sentiment", reviews.iter_webis(p, domain=dom, lang=lang), {}
    if fmt == "fdu":
        return "sentiment", reviews.iter_fdu_task(p, domain=dom if options.get("domain_name") else p.name.split(".task")[0], lang=lang or "en"), {}
    if fmt == "lines":
        return "sentiment", reviews.iter_lines(p, label=reviews.check_label(options.get("label", -1), path=p),
                                               domain=dom, lang=lang), {}
    table_opts = {k: options[k] for k in ("text_column", "label_column", "label_map", "header", "domain_column", "id_column") if k in options}
    return "sentiment", reviews.iter_table(p, fmt=fmt, domain=dom, lang=lang, **table_opts), {}


def _own_file(p: Path, form: str, options: dict, dom: str, lang: str) -> tuple[str, Iterator[dict], dict]:
    """The POS forms of :mod:`nlpta.data.own` (``form`` from :func:`nlpta.data.own.sniff_file`)."""
    fmt = options.get("format")
    lname = p.name.lower().removesuffix(".gz")
    table = fmt if fmt in ("jsonl", "csv", "tsv") else (
        "jsonl" if lname.endswith((".jsonl", ".json")) else "tsv" if lname.endswith(".tsv")
        else "csv" if lname.endswith(".csv") else None)
    if form == "tagged":
        return "pos", own.iter_tagged(p, options, dom, lang), {}
    if form == "nltk":
        return "pos", own.iter_nltk_text(p, options, dom, lang), {}

    def records() -> Iterator[tuple[int, dict]]:
        return own.iter_json_objects(p) if table == "jsonl" else own.iter_csv_dicts(p, table or "csv")

    if form == "pos-records":
        return "pos", own.iter_pos_records(records(), p, options, dom, lang), {}
    tok_lang = lang or "en"
    if table is None:  # raw lines, one text each
        texts = ({"id": f"{p.name.split('.')[0]}/{i}", "text": line, "domain": dom, "lang": tok_lang}
                 for i, line in read_lines(p) if line.strip())
    else:
        texts = own.iter_text_records(records(), p, options, dom, tok_lang)
    return "pos", own.tokenize_rows(texts, tok_lang), {"tokenizer_lang": tok_lang}


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
