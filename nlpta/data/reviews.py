"""Readers for sentiment corpora: Blitzer multi-domain reviews (raw pseudo-XML and
``processed_acl`` counts), Webis-CLS-10 XML, FDU-MTL ``.task`` files, one-review-per-line pools,
and plain CSV / TSV / JSONL tables.

Every reader yields sentiment rows (``id, text, label, rating, domain, lang``); label 0 negative,
1 positive, -1 unlabeled. Rows that a rule drops (a 3-star rating, a neutral class, an exact
duplicate) are counted and the count is logged, never dropped silently.
"""

from __future__ import annotations

import csv
import html
import json
import logging
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ..errors import Errors
from .paths import find_file, iter_text_lines, open_text, read_lines

log = logging.getLogger(__name__)

BINARY_LABELS = {
    "0": 0, "1": 1, "negative": 0, "positive": 1, "neg": 0, "pos": 1,
    "-1": 0, "+1": 1, "false": 0, "true": 1,
}  # fmt: skip


def rating_to_label(rating: float) -> int | None:
    """Star rating to binary label: > 3 positive, < 3 negative, 3 (or NaN) none (dropped)."""
    if rating is None or math.isnan(rating):
        return None
    if rating > 3:
        return 1
    if rating < 3:
        return 0
    return None


def _label_from_name(path: Path) -> int | None:
    name = path.name.lower()
    if name.startswith(("positive", "review_positive", "pos.")):
        return 1
    if name.startswith(("negative", "review_negative", "neg.")):
        return 0
    return None


# --------------------------------------------------------------------------- Blitzer raw
_BLITZER_FIELDS = (
    "unique_id", "asin", "product_name", "product_type", "helpful", "rating", "title", "date",
    "reviewer", "reviewer_location", "review_text",
)  # fmt: skip


def iter_blitzer_raw(
    path: str | Path,
    domain: str = "",
    lang: str = "en",
    label: int | None = None,
    with_title: bool = True,
) -> Iterator[dict]:
    """Yield rows from a Blitzer et al. (2007) ``*.review`` pseudo-XML file.

    The label comes from ``label`` if given, else from the file name (``positive``/``negative``),
    else from the rating (> 3 positive, < 3 negative; 3-star reviews are dropped and counted).
    ``text`` is ``title + ". " + review_text`` when ``with_title`` (the form of the HATN pool),
    else the review text alone.

    Raises:
        FormatError: a record that is not closed, a field outside a record, a record without
            ``review_text`` or ``rating``, a rating that is not a number.
    """
    path = find_file(path)
    if label is None:
        label = _label_from_name(path)
    rec: dict[str, str] | None = None
    rec_line = 0
    field: str | None = None
    field_line = 0
    buf: list[str] = []
    n = 0
    dropped = 0
    for lineno, raw in read_lines(path):
        line = raw.strip()
        if field is not None:
            if line == f"</{field}>":
                assert rec is not None
                rec[field] = "\n".join(buf).strip()
                field, buf = None, []
            elif line in ("<review>", "</review>"):
                raise Errors.E102(
                    detail=f"field <{field}> opened at line {field_line} is not closed; expected </{field}>",
                    path=path, line=lineno,
                )
            else:
                buf.append(raw)
            continue
        if not line or line.startswith("<?xml") or line in ("<reviews>", "</reviews>"):
            continue
        if line == "<review>":
            if rec is not None:
                raise Errors.E102(
                    detail=f"new <review> while the record opened at line {rec_line} is not closed; "
                    "expected </review>",
                    path=path, line=lineno,
                )
            rec, rec_line = {}, lineno
            continue
        if line == "</review>":
            if rec is None:
                raise Errors.E102(detail="</review> without an open <review>", path=path, line=lineno)
            for need in ("review_text", "rating"):
                if need not in rec:
                    raise Errors.E102(
                        detail=f"record opened at line {rec_line} has no <{need}>; expected a "
                        f"<{need}> field in every review",
                        path=path, line=lineno,
                    )
            try:
                rating = float(rec["rating"])
            except ValueError:
                raise Errors.E102(
                    detail=f"rating {rec['rating']!r} is not a number (record at line {rec_line})",
                    path=path, line=lineno,
                ) from None
            lab = label if label is not None else rating_to_label(rating)
            if lab is None:
                dropped += 1
            else:
                body = html.unescape(rec["review_text"])
                title = html.unescape(rec.get("title", ""))
                text = f"{title}. {body}" if with_title and title else body
                n += 1
                yield {
                    "id": f"{domain or path.parent.name}/{path.name.split('.')[0]}/{n}",
                    "text": text,
                    "label": lab,
                    "rating": rating,
                    "domain": domain,
                    "lang": lang,
                }
            rec = None
            continue
        if line.startswith("<") and line.endswith(">") and not line.startswith("</"):
            name = line[1:-1]
            if rec is None:
                raise Errors.E102(detail=f"<{name}> outside a <review> record", path=path, line=lineno)
            if name not in _BLITZER_FIELDS:
                log.debug("%s:%d: unknown field <%s> kept as is", path, lineno, name)
            field, buf, field_line = name, [], lineno
            continue
        raise Errors.E102(
            detail=f"unexpected line {line[:40]!r}; expected a <field> tag inside <review>",
            path=path, line=lineno,
        )
    if field is not None or rec is not None:
        raise Errors.E102(
            detail=f"file ends inside the record opened at line {rec_line}; expected </review>",
            path=path, line=rec_line,
        )
    if dropped:
        log.info("%s: dropped %d reviews with a 3-star rating (no binary label)", path, dropped)


def blitzer_split_options(opts: dict) -> dict:
    """The reader options of :func:`iter_blitzer_domain` from a ``load(**options)`` dict."""
    return {"with_title": opts.get("with_title", True), "split_seed": int(opts.get("split_seed", 0)),
            "n_test_per_class": opts.get("n_test_per_class", 200)}


def iter_blitzer_domain(
    folder: str | Path,
    domain: str = "",
    split: str | None = None,
    with_title: bool = True,
    split_seed: int = 0,
    n_test_per_class: int = 200,
) -> Iterator[dict]:
    """Yield the labeled reviews of a Blitzer domain folder (``negative.review`` and
    ``positive.review``, plain or ``.gz``): all of them (``split`` None or ``all``), or the
    ``train`` / ``test`` part of a seeded per-class split (the 1,600 / 400 protocol by default;
    see :func:`nlpta.data.splits.stratified_split`).

    Raises:
        NlptaError: a split other than train, test or all.
    """
    from .splits import stratified_split

    folder = Path(folder)
    if split not in (None, "all", "train", "test"):
        raise Errors.E106(split=split, detail="a Blitzer domain has splits train, test, all", path=folder)
    rows = [r for name, lab in (("negative", 0), ("positive", 1))
            for r in iter_blitzer_raw(folder / f"{name}.review", domain=domain or folder.name, label=lab,
                                      with_title=with_title)]
    if split in (None, "all"):
        yield from rows
        return
    train, test = stratified_split(rows, n_test_per_class=n_test_per_class, seed=split_seed)
    yield from (train if split == "train" else test)


# ----------------------------------------------------------------- Blitzer processed_acl
def iter_blitzer_processed(path: str | Path, domain: str = "", lang: str = "en") -> Iterator[dict]:
    """Yield rows from a Blitzer ``processed_acl`` file (``ngram:count ... #label#:positive``).

    ``text`` holds the unigrams repeated by their counts (bag order, not the original order);
    the full n-gram bag is in ``ngrams`` (``"a_b:2 c:1"``-style string, as in the file).
    """
    path = find_file(path)
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        items = line.split()
        label: int | None = None
        unigrams: list[str] = []
        grams: list[str] = []
        for it in items:
            feat, sep, cnt = it.rpartition(":")
            if not sep or not feat:
                raise Errors.E102(detail=f"item {it!r} is not 'ngram:count'", path=path, line=lineno)
            if feat == "#label#":
                if cnt not in ("positive", "negative"):
                    raise Errors.E104(
                        detail=f"label {cnt!r}; expected positive or negative",
                        path=path, line=lineno,
                    )
                label = 1 if cnt == "positive" else 0
                continue
            try:
                c = int(cnt)
            except ValueError:
                raise Errors.E102(detail=f"count {cnt!r} of {feat!r} is not an integer", path=path, line=lineno) from None
            grams.append(it)
            if "_" not in feat:
                unigrams.extend([feat] * c)
        if label is None:
            raise Errors.E102(detail="no '#label#:positive|negative' item on the line", path=path, line=lineno)
        yield {
            "id": f"{domain or path.parent.name}/{path.name.split('.')[0]}/{lineno}",
            "text": " ".join(unigrams),
            "ngrams": " ".join(grams),
            "label": label,
            "domain": domain,
            "lang": lang,
        }


# --------------------------------------------------------------------------- Webis-CLS-10
def iter_webis(path: str | Path, domain: str = "", lang: str = "", with_summary: bool = True) -> Iterator[dict]:
    """Yield rows from a Webis-CLS-10 XML file (Prettenhofer & Stein 2010).

    Rating > 3 positive, < 3 negative, 3 dropped and counted. ``text`` is ``summary + ". " + text``
    when ``with_summary`` and a summary exists.

    Raises:
        FormatError: XML that does not parse (with its line), an item without rating or text.
    """
    path = find_file(path)
    dropped = 0
    n = 0
    with open_text(path) as fh:
        try:
            for _event, el in ET.iterparse(fh, events=("end",)):
                if el.tag != "item":
                    continue
                n += 1
                rating_s = (el.findtext("rating") or "").strip()
                text = el.findtext("text")
                if not rating_s or text is None:
                    raise Errors.E102(
                        detail=f"item {n} has no <rating> or no <text>; expected both",
                        path=path,
                    )
                try:
                    rating = float(rating_s)
                except ValueError:
                    raise Errors.E102(detail=f"item {n}: rating {rating_s!r} is not a number", path=path) from None
                lab = rating_to_label(rating)
                summary = (el.findtext("summary") or "").strip()
                el.clear()
                if lab is None:
                    dropped += 1
                    continue
                text = text.strip()
                if with_summary and summary:
                    text = f"{summary}. {text}"
                yield {
                    "id": f"{lang}/{domain}/{path.name.split('.')[0]}/{n}",
                    "text": text,
                    "label": lab,
                    "rating": rating,
                    "domain": domain,
                    "lang": lang,
                }
        except UnicodeDecodeError as e:
            raise Errors.E102(detail=f"not valid UTF-8 ({e.reason} at byte {e.start} of a block)", path=path) from None
        except ET.ParseError as e:
            line = e.position[0] if getattr(e, "position", None) else None
            raise Errors.E102(detail=f"not well-formed XML ({e}); expected Webis-CLS-10 <items><item>…", path=path, line=line) from None
    if dropped:
        log.info("%s: dropped %d reviews with a 3-star rating (no binary label)", path, dropped)


# ---------------------------------------------------------------------------- FDU-MTL
def iter_fdu_task(path: str | Path, domain: str = "", lang: str = "en", labeled: bool | None = None) -> Iterator[dict]:
    """Yield rows from an FDU-MTL ``<domain>.task.{train,test,unlabel}`` file (Liu et al. 2017).

    Labeled files hold ``label<TAB>text`` (0/1); ``unlabel`` files hold text only. Lines are split
    on ``\\n`` only (the texts contain other line-break characters).
    """
    path = find_file(path)
    if labeled is None:
        labeled = ".unlabel" not in path.name
    split = path.name.split(".task.")[-1].split(".")[0] if ".task." in path.name else path.stem
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        if labeled:
            lab_s, sep, text = line.partition("\t")
            if not sep:
                raise Errors.E102(detail="expected 'label<TAB>text'", path=path, line=lineno)
            if lab_s.strip() not in ("0", "1"):
                raise Errors.E104(detail=f"label {lab_s!r}; expected 0 or 1", path=path, line=lineno)
            lab = int(lab_s)
        else:
            text, lab = line, -1
        yield {
            "id": f"fdu/{domain}/{split}/{lineno}",
            "text": text.strip(),
            "label": lab,
            "domain": domain,
            "lang": lang,
        }


# ------------------------------------------------------------------ one review per line
def iter_lines(
    path: str | Path,
    label: int = -1,
    domain: str = "",
    lang: str = "",
    id_prefix: str = "",
    dedupe: bool = True,
    rating: float | None = None,
) -> Iterator[dict]:
    """Yield one row per non-empty line (the HATN pool, OpeNER sentences); exact duplicate lines
    are dropped when ``dedupe`` and the count is logged."""
    path = find_file(path)
    seen: set[str] = set()
    dup = 0
    for lineno, line in read_lines(path):
        text = html.unescape(line.strip())
        if not text:
            continue
        if dedupe:
            if text in seen:
                dup += 1
                continue
            seen.add(text)
        yield {
            "id": f"{id_prefix}{lineno}",
            "text": text,
            "label": label,
            "rating": rating,
            "domain": domain,
            "lang": lang,
        }
    if dup:
        log.info("%s: dropped %d exact duplicate lines", path, dup)


# --------------------------------------------------------------------- CSV / TSV / JSONL
def iter_table(
    path: str | Path,
    text_column: str | int = "text",
    label_column: str | int | None = "label",
    label_map: Mapping[str, int | None] | None = None,
    fmt: str | None = None,
    header: bool | None = None,
    domain: str = "",
    lang: str = "",
    domain_column: str | None = None,
    id_column: str | None = None,
    id_prefix: str = "",
) -> Iterator[dict]:
    """Yield rows from a CSV, TSV or JSONL file.

    Args:
        text_column / label_column: column names (or 0-based indices for files without header).
            ``label_column=None`` reads unlabeled text.
        label_map: raw label string -> 0/1, or ``None`` to drop that class (counted and logged).
            Default: 0/1, negative/positive, pos/neg.
        fmt: ``csv``, ``tsv`` or ``jsonl``; default from the file extension.
        header: whether a CSV/TSV has a header row; default: yes if ``text_column`` is a name.

    Raises:
        FormatError: a missing column, a row with too few fields, a line that is not JSON.
        LabelError: a label value not in ``label_map`` (the message lists the allowed ones).
    """
    path = find_file(path)
    name = path.name.lower().removesuffix(".gz")
    if fmt is None:
        fmt = "jsonl" if name.endswith((".jsonl", ".json")) else "tsv" if name.endswith(".tsv") else "csv"
    lmap = {str(k).lower(): v for k, v in (label_map or BINARY_LABELS).items()}
    dropped: dict[str, int] = {}

    def convert(raw, lineno: int) -> int | None | str:
        if label_column is None:
            return -1
        key = str(raw).strip().lower()
        if key not in lmap:
            raise Errors.E104(
                detail=f"unknown label {raw!r}; expected one of {sorted(lmap)}",
                path=path, line=lineno,
            )
        v = lmap[key]
        if v is None:
            dropped[key] = dropped.get(key, 0) + 1
            return "drop"
        return int(v)

    def make(i: int, text, lab, dom, rid) -> dict:
        return {
            "id": f"{id_prefix}{rid if rid is not None else i}",
            "text": "" if text is None else str(text),
            "label": lab,
            "domain": dom if dom is not None else domain,
            "lang": lang,
        }

    if fmt == "jsonl":
        for lineno, line in read_lines(path):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise Errors.E102(detail=f"not a JSON object ({e.msg})", path=path, line=lineno) from None
            if not isinstance(obj, dict):
                raise Errors.E102(detail="expected a JSON object per line", path=path, line=lineno)
            for col in (text_column, label_column):
                if col is not None and col not in obj:
                    raise Errors.E102(detail=f"no key {col!r}; keys are {sorted(obj)}", path=path, line=lineno)
            lab = convert(obj.get(label_column), lineno) if label_column is not None else -1
            if lab == "drop":
                continue
            yield make(lineno, obj[text_column], lab, obj.get(domain_column) if domain_column else None,
                       obj.get(id_column) if id_column else None)
    else:
        delim = "\t" if fmt == "tsv" else ","
        if header is None:
            header = isinstance(text_column, str)
        if not header and not all(isinstance(c, int) or c is None or str(c).isdigit()
                                  for c in (text_column, label_column, domain_column, id_column)):
            raise Errors.E102(detail="without a header row, columns must be 0-based indices", path=path)
        lines = (line for _, line in iter_text_lines(path))
        reader = csv.reader(lines, delimiter=delim, quoting=csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE)
        cols: list[str] | None = None
        idx: dict[str, int] = {}  # header name -> column index (filled once)
        try:
            for row in reader:
                lineno = reader.line_num
                if cols is None and header:
                    cols = [c.strip() for c in row]
                    idx = {c: i for i, c in enumerate(cols)}
                    for col in (text_column, label_column, domain_column, id_column):
                        if col is not None and col not in idx:
                            raise Errors.E102(
                                detail=f"no column {col!r} in the header; columns are {cols}",
                                path=path, line=lineno,
                            )
                    continue
                if not row or all(not c.strip() for c in row):
                    continue

                def get(col, row=row, lineno=lineno, idx=idx):
                    if col is None:
                        return None
                    i = idx[col] if header else int(col)
                    if i >= len(row):
                        raise Errors.E102(
                            detail=f"row has {len(row)} fields; expected at least {i + 1}",
                            path=path, line=lineno,
                        )
                    return row[i]

                lab = convert(get(label_column), lineno) if label_column is not None else -1
                if lab == "drop":
                    continue
                yield make(lineno, get(text_column), lab, get(domain_column), get(id_column))
        except csv.Error as e:
            raise Errors.E102(detail=f"{fmt.upper()} the csv module cannot parse ({e})", path=path, line=reader.line_num) from None
    for k, v in dropped.items():
        log.info("%s: dropped %d rows labeled %r (mapped to no class)", path, v, k)


Reader = Callable[..., Iterator[dict]]
