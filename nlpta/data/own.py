"""Your own data, in any common form, for both tasks (issue 19).

POS rows come from JSON Lines (nlpta's row schema: ``tokens``, ``upos``, optional ``xpos``,
``id``, ``domain``, ``lang``), CSV/TSV whose tokens and tags columns hold JSON lists, token-per-line
text (``token<TAB>tag``, a blank line between sentences), NLTK-style ``word/TAG`` text (one
sentence per line), CoNLL-U (:func:`nlpta.data.iter_conllu`), a ``datasets`` folder saved with
``save_to_disk`` or a Hub dataset (``hf:owner/name``). POS text *without* tags is unlabeled
target text: raw lines (or a text column) are tokenized by :func:`nlpta.data.tokenize` and get
``upos: []`` and character ``offsets``. Sentiment rows keep their readers (:mod:`.reviews`).

Rows are written to an Arrow file by :meth:`datasets.Dataset.from_generator` (memory-mapped, in
the ``datasets`` cache), never gathered in one Python list, so a pool of millions of lines loads in
bounded memory. Every bad row raises an :class:`~nlpta.errors.NlptaError` naming the file and line.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import datasets

from ..errors import Errors, NlptaError
from .paths import data_root, iter_text_lines
from .reviews import (  # noqa: F401  (iter_json_objects: the JSON Lines reader of both tasks)
    MAX_FIELD_CHARS,
    _json_constant,
    _NotJson,
    check_label,
    iter_json_objects,
    parse_rating,
)
from .schema import POS_FEATURES, SENTIMENT_FEATURES, UPOS_SET
from .tagged import UNIVERSAL12_TO_UPOS

POS_OFFSETS_FEATURES = datasets.Features(
    {**POS_FEATURES, "offsets": datasets.Sequence(datasets.Sequence(datasets.Value("int64")))}
)
"""POS rows tokenized from raw text: the POS schema plus ``offsets`` (``[start, end]`` per token)."""

POS_FORMATS = ("tagged", "nltk", "datasets")
"""Formats this module adds to :data:`nlpta.data.PATH_FORMATS`: ``tagged`` (``token<TAB>tag`` per
line), ``nltk`` (``word/TAG`` sentences), ``datasets`` (a ``save_to_disk`` folder)."""

COLUMN_DEFAULTS = {
    "tokens_column": "tokens", "tags_column": "upos", "xpos_column": "xpos", "text_column": "text",
    "label_column": "label", "id_column": "id", "domain_column": "domain", "lang_column": "lang",
    "rating_column": "rating",
}  # fmt: skip
"""Column names read unless the options name others (``tokens_column="words"``)."""


def _opt(options: Mapping, key: str):
    return options.get(key, COLUMN_DEFAULTS.get(key))


# ------------------------------------------------------------------------------ tags
class TagMap:
    """Raw tags -> UD's UPOS: ``tagset="upos"`` (the tags must be UD's 17), ``"universal"`` (the 12
    tags of Petrov et al. 2012), the name of an NLTK map (``en-ptb``, ``en-brown``: read from the
    data root's ``pos/nltk_data``), or a ``tag_map`` dict. Mapped tags keep the raw tag in ``xpos``."""

    def __init__(self, tagset: str = "upos", tag_map: Mapping[str, str] | None = None) -> None:
        self.keep_raw = True
        if tag_map is not None:
            if not isinstance(tag_map, Mapping) or any(v not in UPOS_SET for v in tag_map.values()):
                raise Errors.E112(option="tag_map", detail="expected a mapping of your tags to UD's 17 UPOS tags "
                                  f"({', '.join(sorted(UPOS_SET))})")
            self.map: dict[str, str] | None = {str(k): str(v) for k, v in tag_map.items()}
            self.name = "tag_map"
        elif tagset == "upos":
            self.map, self.name, self.keep_raw = None, "upos", False
        elif tagset == "universal":
            self.map, self.name = dict(UNIVERSAL12_TO_UPOS), "universal"
        else:
            from .tagged import _universal_map

            nltk_map = _universal_map(data_root() / "pos" / "nltk_data", str(tagset))
            self.map = {k: UNIVERSAL12_TO_UPOS[v] for k, v in nltk_map.items()}
            self.name = str(tagset)

    def __call__(self, tags: list[str], path, line: int | None) -> tuple[list[str], list[str]]:
        """``(upos, xpos)`` for one sentence's raw tags (xpos is ``[]`` for UPOS input)."""
        if self.map is None:
            for t in tags:
                if t not in UPOS_SET:
                    raise Errors.E104(detail=f"tag {t!r} is not one of UD's 17 UPOS tags ({', '.join(sorted(UPOS_SET))});"
                                      " give tagset='universal', an NLTK map name (tagset='en-ptb') or tag_map={...}",
                                      path=path, line=line)
            return list(tags), []
        out = []
        for t in tags:
            if t not in self.map:
                raise Errors.E104(detail=f"tag {t!r} is not in the {self.name} tag map", path=path, line=line)
            out.append(self.map[t])
        return out, list(tags)


def _string_list(value, what: str, path, line) -> list[str]:
    """``value`` as a list of strings (a JSON list, or a JSON string holding one), else E102."""
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_constant=_json_constant)
        except (json.JSONDecodeError, _NotJson) as e:
            raise Errors.E102(detail=f"{what} is not a JSON list of strings ({e}); expected e.g. [\"The\", \"dog\"]",
                              path=path, line=line) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Errors.E102(detail=f"{what} is a {type(value).__name__}, not a list of strings", path=path, line=line)
    return value


def pos_row(rid: str, tokens: list[str], tags: list[str] | None, xpos: list[str] | None, domain: str, lang: str,
            tagmap: TagMap, path, line: int | None) -> dict:
    """One checked POS row: non-empty tokens without whitespace, tags as many as tokens."""
    if not tokens:
        raise Errors.E102(detail="a sentence without tokens", path=path, line=line)
    for t in tokens:
        if not t or not t.strip():
            raise Errors.E102(detail=f"empty or whitespace-only token {t!r}; expected a word", path=path, line=line)
    upos: list[str] = []
    raw_x: list[str] = []
    if tags:
        if len(tags) != len(tokens):
            raise Errors.E102(detail=f"{len(tokens)} tokens but {len(tags)} tags; expected one tag per token",
                              path=path, line=line)
        upos, raw_x = tagmap(tags, path, line)
    if xpos:
        if len(xpos) != len(tokens):
            raise Errors.E102(detail=f"{len(tokens)} tokens but {len(xpos)} xpos tags", path=path, line=line)
        raw_x = list(xpos)
    return {"id": rid, "tokens": tokens, "upos": upos, "xpos": raw_x, "domain": domain, "lang": lang}


# --------------------------------------------------------------------------- readers
def iter_csv_dicts(path: Path, fmt: str) -> Iterator[tuple[int, dict]]:
    """``(line, {column: value})`` per data row of a CSV (RFC 4180, strict) or TSV (no quoting) file
    with a header row. Raises FormatError (E102): a row with another number of fields than the
    header, duplicate column names, quoting the csv module cannot parse."""
    lines = (line for _, line in iter_text_lines(path))
    if fmt == "csv":
        reader = csv.reader(lines, delimiter=",", quoting=csv.QUOTE_MINIMAL, strict=True)
    else:
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    cols: list[str] | None = None
    while True:
        old = csv.field_size_limit(MAX_FIELD_CHARS)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise Errors.E102(detail=f"{fmt.upper()} that the csv module cannot parse ({e})", path=path,
                              line=reader.line_num) from None
        finally:
            csv.field_size_limit(old)
        if not row or all(not c.strip() for c in row):
            continue
        if cols is None:
            cols = [c.strip() for c in row]
            dups = sorted({c for c in cols if cols.count(c) > 1})
            if dups:
                raise Errors.E102(detail=f"column name(s) {dups} appear twice in the header", path=path,
                                  line=reader.line_num)
            continue
        if len(row) != len(cols):
            raise Errors.E102(detail=f"row has {len(row)} fields; expected {len(cols)} (as the header {cols})",
                              path=path, line=reader.line_num)
        yield reader.line_num, dict(zip(cols, row, strict=True))


def iter_pos_records(records: Iterable[tuple[int | None, Mapping]], path, options: Mapping, domain: str,
                     lang: str, id_prefix: str = "") -> Iterator[dict]:
    """POS rows from column records (JSONL objects, CSV rows, ``datasets`` rows): the tokens column
    is a list of strings (or a JSON list in a string); the tags column, if present, is read through
    :class:`TagMap` (``tagset``/``tag_map`` options). Raises FormatError/LabelError with the line."""
    tok_c, tag_c, x_c = _opt(options, "tokens_column"), _opt(options, "tags_column"), _opt(options, "xpos_column")
    id_c, dom_c, lang_c = _opt(options, "id_column"), _opt(options, "domain_column"), _opt(options, "lang_column")
    tagmap = TagMap(options.get("tagset", "upos"), options.get("tag_map"))
    for n, (line, rec) in enumerate(records, start=1):
        if tok_c not in rec:
            raise Errors.E102(detail=f"no {tok_c!r} column; columns are {sorted(rec)} (name it with tokens_column=)",
                              path=path, line=line)
        tokens = _string_list(rec[tok_c], repr(tok_c), path, line)
        tags = _string_list(rec[tag_c], repr(tag_c), path, line) if rec.get(tag_c) not in (None, "") else []
        xpos = _string_list(rec[x_c], repr(x_c), path, line) if rec.get(x_c) not in (None, "") else []
        rid = rec.get(id_c)
        yield pos_row(f"{id_prefix}{rid if rid not in (None, '') else line or n}", tokens, tags, xpos,
                      str(rec.get(dom_c) or domain), str(rec.get(lang_c) or lang), tagmap, path, line)


def iter_sentiment_records(records: Iterable[tuple[int | None, Mapping]], path, options: Mapping, domain: str,
                           lang: str, id_prefix: str = "", names: Mapping[str, list[str]] | None = None
                           ) -> Iterator[dict]:
    """Sentiment rows from column records (``datasets`` rows): ``text_column`` a string,
    ``label_column`` through ``label_map`` (default 0/1, neg/pos, negative/positive); a class-label
    column is read by its names. ``label_column=None`` (or no such column) reads unlabeled text."""
    from .reviews import _check_label_map

    text_c, lab_c = _opt(options, "text_column"), _opt(options, "label_column")
    id_c, dom_c, lang_c = _opt(options, "id_column"), _opt(options, "domain_column"), _opt(options, "lang_column")
    rat_c = _opt(options, "rating_column")
    lmap = _check_label_map(options.get("label_map"), Path(str(path)))
    names = names or {}
    for n, (line, rec) in enumerate(records, start=1):
        if text_c not in rec:
            raise Errors.E102(detail=f"no {text_c!r} column; columns are {sorted(rec)} (name it with text_column=)",
                              path=path, line=line)
        text = rec[text_c]
        if not isinstance(text, str):
            raise Errors.E102(detail=f"{text_c!r} is a {type(text).__name__}; expected a string", path=path, line=line)
        label = -1
        if lab_c is not None and lab_c in rec and rec[lab_c] is not None:
            raw = rec[lab_c]
            if lab_c in names and isinstance(raw, int) and 0 <= raw < len(names[lab_c]):
                raw = names[lab_c][raw]
            key = str(raw).strip().lower()
            if key not in lmap:
                raise Errors.E104(detail=f"unknown label {raw!r}; expected one of {sorted(lmap)} (or give label_map=)",
                                  path=path, line=line)
            if lmap[key] is None:
                continue
            label = int(lmap[key])  # type: ignore[arg-type]
        rating = rec.get(rat_c)
        rid = rec.get(id_c)
        yield {"id": f"{id_prefix}{rid if rid not in (None, '') else line or n}", "text": text, "label": label,
               "rating": parse_rating(str(rating), path=path, line=line) if rating not in (None, "") else None,
               "domain": str(rec.get(dom_c) or domain), "lang": str(rec.get(lang_c) or lang)}


def iter_tagged(path: Path, options: Mapping, domain: str, lang: str) -> Iterator[dict]:
    """POS rows from token-per-line text: ``token<TAB>tag`` (``sep`` option; one column means
    untagged), a blank line between sentences. Raises FormatError/LabelError with the line."""
    from .paths import strict_lines

    sep = options.get("sep", "\t")
    tagmap = TagMap(options.get("tagset", "upos"), options.get("tag_map"))
    stem = path.name.split(".")[0]
    toks: list[str] = []
    tags: list[str] = []
    start = 0
    n = 0
    ncols = 0

    def flush() -> dict:
        nonlocal n
        n += 1
        return pos_row(f"{stem}/{n}", toks, tags if ncols == 2 else [], None, domain, lang, tagmap, path, start)

    for lineno, line in strict_lines(path, what="token-per-line tagged"):
        if not line.strip():
            if toks:
                yield flush()
                toks, tags = [], []
            continue
        cols = line.split(sep)
        if not toks:
            start, ncols = lineno, ncols or len(cols)
        if len(cols) != ncols or ncols not in (1, 2):
            raise Errors.E102(detail=f"expected {'token<TAB>tag' if ncols == 2 else 'one token'} per line "
                              f"({ncols or 2} column(s)), found {len(cols)} column(s)", path=path, line=lineno)
        if not cols[0].strip():
            raise Errors.E102(detail="empty token; expected 'token<TAB>tag'", path=path, line=lineno)
        toks.append(cols[0])
        if ncols == 2:
            tags.append(cols[1].strip())
    if toks:
        yield flush()


def iter_nltk_text(path: Path, options: Mapping, domain: str, lang: str) -> Iterator[dict]:
    """POS rows from NLTK-style ``word/TAG`` text, one sentence per line (``sep`` option, default
    ``/``; the tag follows the last separator). Raises FormatError/LabelError with the line."""
    from .paths import strict_lines

    sep = options.get("sep", "/")
    tagmap = TagMap(options.get("tagset", "upos"), options.get("tag_map"))
    stem = path.name.split(".")[0]
    for lineno, line in strict_lines(path, what="NLTK word/TAG"):
        words = line.split()
        if not words:
            continue
        toks, tags = [], []
        for w in words:
            loc = w.rfind(sep)
            if loc <= 0 or loc == len(w) - len(sep):
                raise Errors.E102(detail=f"token {w!r} is not 'word{sep}TAG'", path=path, line=lineno)
            toks.append(w[:loc])
            tags.append(w[loc + len(sep):])
        yield pos_row(f"{stem}/{lineno}", toks, tags, None, domain, lang, tagmap, path, lineno)


def tokenize_rows(rows: Iterable[dict], lang: str, batch_size: int = 256) -> Iterator[dict]:
    """POS rows (unlabeled, with ``offsets``) from rows with ``text`` (id, domain, lang kept),
    tokenized with :func:`nlpta.data.tokenize` in ``lang``; texts with no token are skipped."""
    from .tokenize import tokenize

    it = iter(rows)
    while batch := list(itertools.islice(it, batch_size)):
        for r, t in zip(batch, tokenize((r["text"] for r in batch), lang=lang, batch_size=batch_size), strict=True):
            if t["tokens"]:
                yield {"id": r["id"], "tokens": t["tokens"], "upos": [], "xpos": [], "offsets": t["offsets"],
                       "domain": r.get("domain") or "", "lang": r.get("lang") or lang}


def iter_text_records(records: Iterable[tuple[int | None, Mapping]], path, options: Mapping, domain: str,
                      lang: str) -> Iterator[dict]:
    """``{id, text, domain, lang}`` from column records with a text column (for :func:`tokenize_rows`)."""
    text_c, id_c, dom_c = _opt(options, "text_column"), _opt(options, "id_column"), _opt(options, "domain_column")
    for n, (line, rec) in enumerate(records, start=1):
        if text_c not in rec:
            raise Errors.E102(detail=f"no {text_c!r} or {_opt(options, 'tokens_column')!r} column; columns are "
                              f"{sorted(rec)}", path=path, line=line)
        if not isinstance(rec[text_c], str):
            raise Errors.E102(detail=f"{text_c!r} is a {type(rec[text_c]).__name__}; expected a string", path=path,
                              line=line)
        rid = rec.get(id_c)
        yield {"id": str(rid if rid not in (None, "") else line or n), "text": rec[text_c],
               "domain": str(rec.get(dom_c) or domain), "lang": lang}


# ------------------------------------------------------------------------ sniffing
def _first_nonblank(path: Path, n: int = 5) -> list[str]:
    out: list[str] = []
    for _, line in iter_text_lines(path):
        if line.strip():
            out.append(line.rstrip("\r\n"))
            if len(out) >= n:
                break
    return out


def _looks_nltk(lines: list[str], sep: str = "/") -> bool:
    words = [w for line in lines for w in line.split()]
    return bool(words) and all(
        0 < w.rfind(sep) < len(w) - 1 and not any(c.islower() for c in w[w.rfind(sep) + 1:]) for w in words
    )


def sniff_file(path: Path, fmt: str | None, task: str | None, options: Mapping) -> tuple[str, str] | None:
    """``(task, form)`` for a file this module reads, or ``None`` when the sentiment readers take it.

    Forms: ``pos-records`` (JSONL/CSV/TSV with a tokens column), ``pos-text`` (JSONL/CSV/TSV text
    column, or raw lines, to tokenize), ``tagged``, ``nltk``.
    """
    lname = path.name.lower().removesuffix(".gz")
    if fmt in ("tagged", "nltk"):
        return "pos", fmt
    if fmt == "lines" or (fmt is None and lname.endswith(".txt")):
        if task == "sentiment":
            return None
        head = _first_nonblank(path)
        if fmt is None and _looks_nltk(head[:1], options.get("sep", "/")):
            return "pos", "nltk"
        if fmt is None and head and all(len(h.split("\t")) == 2 for h in head):
            return "pos", "tagged"
        return ("pos", "pos-text") if task == "pos" else None
    if fmt in ("jsonl", "csv", "tsv") or fmt is None and lname.endswith((".jsonl", ".json", ".csv", ".tsv")):
        form = fmt or ("jsonl" if lname.endswith((".jsonl", ".json")) else lname.rsplit(".", 1)[-1])
        if form == "jsonl":
            first = next(iter_json_objects(path), None)
            keys = set(first[1]) if first else set()
        else:
            head = _first_nonblank(path, 1)
            delim = "\t" if form == "tsv" else ","
            keys = {c.strip().strip('"') for c in head[0].split(delim)} if head else set()
            if (form == "tsv" and fmt is None and len(keys) == 2 and head and task != "sentiment"
                    and _opt(options, "text_column") not in keys and _opt(options, "tokens_column") not in keys
                    and (task == "pos" or head[0].split("\t")[1].strip() in UPOS_SET)):
                return "pos", "tagged"
        if _opt(options, "tokens_column") in keys and task != "sentiment":
            return "pos", "pos-records"
        if task == "pos":
            return "pos", "pos-text"
        return None
    return None


# ----------------------------------------------------------------- datasets / Hub
def _hf_offline() -> bool:
    return bool(getattr(datasets.config, "HF_HUB_OFFLINE", False)) or any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"))


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return path.is_dir() and ((path / "state.json").is_file() and (path / "dataset_info.json").is_file()
                              or (path / "dataset_dict.json").is_file())


def open_saved(path: Path, split: str | None) -> datasets.Dataset:
    """The rows of a ``save_to_disk`` folder (one split of a ``DatasetDict``: ``split``, or its only
    one). Raises NlptaError (E106) for a missing split, FormatError (E102) for an unreadable folder."""
    try:
        ds = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError, KeyError, json.JSONDecodeError) as e:
        raise Errors.E102(detail=f"not a readable datasets folder ({type(e).__name__}: {e})", path=path) from None
    return _pick_split(ds, split, path)


def _pick_split(ds, split: str | None, where) -> datasets.Dataset:
    if isinstance(ds, datasets.DatasetDict):
        if split is None and len(ds) == 1:
            return next(iter(ds.values()))
        if split not in ds:
            raise Errors.E106(split=split, detail=f"the dataset has splits {', '.join(ds)}; pass split=",
                              path=where if isinstance(where, Path) else None)
        return ds[split]
    if split not in (None, "all", "train") and isinstance(where, Path):
        raise Errors.E106(split=split, detail="a saved Dataset (not a DatasetDict) has no splits", path=where)
    return ds


def open_hub(name: str, split: str | None, options: Mapping) -> datasets.Dataset:
    """A Hub dataset (``owner/name``; ``config=``, ``revision=`` options), ``split`` default
    ``train``. Raises DataNotFoundError (E114) offline or when the Hub cannot give it."""
    if _hf_offline():
        raise Errors.E114(name=name, detail="offline (HF_DATASETS_OFFLINE or HF_HUB_OFFLINE is set); run where "
                          "there is internet, or save it with Dataset.save_to_disk and load that folder")
    try:
        ds = datasets.load_dataset(name, options.get("config"), split=split or "train",
                                   revision=options.get("revision"))
    except NlptaError:
        raise
    except Exception as e:  # noqa: BLE001 -- the Hub's failures are many (network, auth, no such dataset)
        raise Errors.E114(name=name, detail=f"{type(e).__name__}: {str(e)[:300]}") from None
    return _pick_split(ds, split, name)


def dataset_task(ds: datasets.Dataset, task: str | None, options: Mapping) -> str:
    """``pos`` if the rows have the tokens column, ``sentiment`` if they have the text column,
    else ``task``. Raises NlptaError (E111) when neither and no task given."""
    cols = set(ds.column_names)
    if task in ("pos", "sentiment"):
        return task
    if _opt(options, "tokens_column") in cols:
        return "pos"
    if _opt(options, "text_column") in cols:
        return "sentiment"
    raise Errors.E111(detail=f"columns {sorted(cols)} have neither {_opt(options, 'tokens_column')!r} (POS) nor "
                      f"{_opt(options, 'text_column')!r} (sentiment); name them with tokens_column= / text_column=")


def iter_dataset(ds: datasets.Dataset, task: str, where: str, options: Mapping, domain: str,
                 lang: str) -> Iterator[dict]:
    """Rows of the nlpta schema from a ``datasets.Dataset`` (row numbers stand in for lines);
    class-label columns are read by their names (``upos`` ids -> tag names, ``label`` ids -> names)."""
    names: dict[str, list[str]] = {}
    for col, feat in ds.features.items():
        inner = getattr(feat, "feature", None)
        if isinstance(feat, datasets.ClassLabel):
            names[col] = list(feat.names)
        elif isinstance(inner, datasets.ClassLabel):
            names[col] = list(inner.names)
    records = ((i, r) for i, r in enumerate(ds, start=1))
    if task == "pos":
        tok_c = _opt(options, "tokens_column")
        if tok_c not in ds.column_names:
            return tokenize_rows(iter_text_records(records, where, options, domain, lang), lang or "en")
        tag_c = _opt(options, "tags_column")
        if tag_c in names:
            tn = names[tag_c]
            records = ((i, {**r, tag_c: [tn[t] for t in r[tag_c]]}) for i, r in records)
        return iter_pos_records(records, where, options, domain, lang)
    return iter_sentiment_records(records, where, options, domain, lang, names=names)


# ----------------------------------------------------------------------- building
def _to_features(row: dict, task: str, offsets: bool) -> dict:
    if task == "pos":
        out = {"id": str(row["id"]), "tokens": list(row["tokens"]), "upos": list(row.get("upos") or []),
               "xpos": list(row.get("xpos") or []), "domain": str(row.get("domain") or ""),
               "lang": str(row.get("lang") or "")}
        if offsets:
            out["offsets"] = row.get("offsets") or []
        return out
    label = check_label(row.get("label", -1), option=f"label of row {row.get('id')!r}")
    rating = row.get("rating")
    return {"id": str(row["id"]), "text": str(row["text"]), "label": label,
            "rating": float(rating) if rating is not None else float("nan"),
            "domain": str(row.get("domain") or ""), "lang": str(row.get("lang") or "")}


def _generate(spec: str) -> Iterator[dict]:
    """The generator given to ``Dataset.from_generator``: ``spec`` (JSON) names the rows; the
    reader is rebuilt from it (so ``datasets`` can hash it for its cache)."""
    s = json.loads(spec)
    rows = _ROW_SOURCES[s["source_kind"]](s)
    wanted_dom = set(s["domain"]) if s["domain"] is not None else None
    for r in rows:
        if wanted_dom is not None and r.get("domain") not in wanted_dom:
            continue
        if s["lang"] is not None and r.get("lang") != s["lang"]:
            continue
        if not s["labeled"]:
            if s["task"] == "pos":
                r = {**r, "upos": [], "xpos": []}
            else:
                r = {**r, "label": -1}
        yield _to_features(r, s["task"], s["offsets"])


_ROW_SOURCES: dict[str, Callable[[dict], Iterable[dict]]] = {}
"""``source_kind -> (spec -> rows)``, filled by :mod:`nlpta.data.api` (which knows every reader)."""


def build(task: str, spec: dict, offsets: bool, cache_dir: str | None = None) -> datasets.Dataset:
    """A memory-mapped Dataset of the rows ``spec`` names, written through
    ``Dataset.from_generator`` (the rows are never held in one list). ``spec`` must be JSON-able and
    hold everything that decides the rows (the file's size and mtime too, for the on-disk cache).

    Raises:
        the reader's NlptaError (unwrapped from ``datasets``' DatasetGenerationError);
        EmptyDataError (E105): no row (the caller adds which domains there are).
    """
    features = (POS_OFFSETS_FEATURES if offsets else POS_FEATURES) if task == "pos" else SENTIMENT_FEATURES
    full = {**spec, "task": task, "offsets": offsets}
    quiet = not sys.stderr.isatty()
    was = datasets.utils.logging.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    try:
        return datasets.Dataset.from_generator(_generate, features=features, cache_dir=cache_dir,
                                               gen_kwargs={"spec": json.dumps(full, sort_keys=True, default=str)})
    except datasets.exceptions.DatasetGenerationError as e:
        cause = e.__cause__ or e.__context__
        while cause is not None and not isinstance(cause, NlptaError):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            raise cause from None
        raise
    except ValueError as e:
        if "corresponds to no data" in str(e):
            raise Errors.E105(detail="no rows") from None
        raise
    finally:
        if quiet and was:
            datasets.enable_progress_bars()
