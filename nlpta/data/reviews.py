"""Readers for sentiment corpora: Blitzer multi-domain reviews (raw pseudo-XML and
``processed_acl`` counts), Webis-CLS-10 XML, FDU-MTL ``.task`` files, one-review-per-line pools,
and plain CSV / TSV / JSONL tables.

Every reader yields sentiment rows (``id, text, label, rating, domain, lang``); label 0 negative,
1 positive, -1 unlabeled. Rows that a rule drops (a 3-star rating, a neutral class, an exact
duplicate) are counted and the count is logged, never dropped silently.

Nothing is loaded silently wrong (issue 18): a value the format does not allow raises an
:class:`~nlpta.errors.NlptaError` naming the file and line. Ratings are numbers from 1 to 5;
``processed_acl`` counts are integers from 1 to :data:`MAX_NGRAM_COUNT`; labels are 0, 1 or -1.
Decoding: formats that are UTF-8 by definition are decoded strictly -- JSONL (RFC 8259), Blitzer
raw files (they declare UTF-8), ``processed_acl`` -- and Webis XML per its own declaration; the
plain-text formats (FDU-MTL, line pools, CSV, TSV) read a line that is not UTF-8 as Windows-1252
and log it (some FDU-MTL lines are). A file named ``*.gz`` must be gzip data; damaged gzip raises
an error naming the file (:func:`nlpta.data.paths.open_binary`).
"""

from __future__ import annotations

import csv
import html
import json
import logging
import math
import numbers
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from xml.parsers import expat

from ..errors import Errors
from .paths import find_file, iter_text_lines, open_binary, read_lines, strict_lines

log = logging.getLogger(__name__)

BINARY_LABELS = {
    "0": 0, "1": 1, "negative": 0, "positive": 1, "neg": 0, "pos": 1,
    "-1": 0, "+1": 1, "false": 0, "true": 1,
}  # fmt: skip


MAX_NGRAM_COUNT = 10_000
"""The largest count a ``processed_acl`` item may have (the real files' largest is 61): a review
with more repeats of one n-gram is a damaged file, and a huge count would exhaust memory."""
MAX_LINE_TOKENS = 1_000_000
"""The most unigram tokens one ``processed_acl`` line may expand to (the real files': 2,218)."""
MAX_FIELD_CHARS = 1 << 24
"""The longest CSV/TSV field read (16 Mi characters; the ``csv`` module's default is 131,072)."""
RATING_RANGE = (1.0, 5.0)
"""Star ratings of Blitzer and Webis-CLS-10 reviews (Amazon's 1 to 5 stars)."""
LABELS = (0, 1, -1)
"""The sentiment labels: 0 negative, 1 positive, -1 unlabeled."""

_RATING = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_COUNT = re.compile(r"[0-9]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def iter_json_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line, object)`` per non-blank line of a JSON Lines file (strict UTF-8, no duplicate keys,
    no NaN). Raises FormatError (E102) naming the line."""
    for lineno, line in strict_lines(path, what="JSON Lines (RFC 8259)"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=_json_object, parse_constant=_json_constant)
        except json.JSONDecodeError as e:
            raise Errors.E102(detail=f"not a JSON object ({e.msg} at column {e.colno})", path=path, line=lineno) from None
        except (_NotJson, RecursionError) as e:
            raise Errors.E102(detail=f"not a JSON object ({e or 'nested too deeply'})", path=path, line=lineno) from None
        if not isinstance(obj, dict):
            raise Errors.E102(detail=f"expected a JSON object per line, got a {type(obj).__name__}", path=path,
                              line=lineno)
        yield lineno, obj


def parse_rating(value: str, path: Path | None = None, line: int | None = None, where: str = "") -> float:
    """A star rating (``"5.0"``) as a float; ``where`` (e.g. ``" (record at line 9)"``) is added to
    the message.

    Raises:
        FormatError: not a plain decimal number, or outside :data:`RATING_RANGE` (``nan``,
            ``inf``, ``99``, ``-4``, ``0`` are all refused).
    """
    s = value.strip()
    lo, hi = RATING_RANGE
    if not _RATING.fullmatch(s):
        raise Errors.E102(detail=f"rating {s!r} is not a number{where}; expected {lo:g} to {hi:g} stars",
                          path=path, line=line)
    r = float(s)
    if not lo <= r <= hi:
        raise Errors.E102(detail=f"rating {s!r} is outside {lo:g}-{hi:g} stars{where}", path=path, line=line)
    return r


def check_label(value, option: str = "label", path: Path | None = None) -> int:
    """A label given as an option (``label=1``, ``"1"``, ``None`` for unlabeled) as 0, 1 or -1.

    Raises:
        LabelError: an integer other than 0, 1, -1; ParameterError: not an integer (``1.5``,
            ``True``, ``"x"``).
    """
    if value is None:
        return -1
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9]+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Errors.E112(option=option, detail=f"{value!r} is not an integer label; expected 0 (negative), "
                          "1 (positive) or -1 (unlabeled)", path=path)
    if value not in LABELS:
        raise Errors.E104(detail=f"{option}={value}; expected 0 (negative), 1 (positive) or -1 (unlabeled)", path=path)
    return int(value)


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
    else the review text alone. The file is UTF-8 (it says so in its XML declaration).

    Raises:
        FormatError: a record that is not closed, a field outside a record or given twice in one,
            a record without ``review_text`` or ``rating``, a rating that is not a number from 1 to
            5, a ``<reviews>`` wrapper that is not closed (a truncated file) or anything after it,
            a line that is not UTF-8.
    """
    path = find_file(path)
    if label is not None:
        label = check_label(label, path=path)
    elif (named := _label_from_name(path)) is not None:
        label = named
    rec: dict[str, str] | None = None
    rec_line = 0
    field: str | None = None
    field_line = 0
    buf: list[str] = []
    n = 0
    dropped = 0
    wrapper = 0  # line of <reviews>, if the file has one
    closed = 0  # line of </reviews>
    lineno = 0
    for lineno, raw in strict_lines(path, what="a Blitzer review file"):
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
        if not line:
            continue
        if closed:
            raise Errors.E102(detail=f"{line[:40]!r} after </reviews> (line {closed}); expected the end of the file",
                              path=path, line=lineno)
        if line.startswith("<?xml"):
            continue
        if line == "<reviews>":
            if wrapper or rec is not None:
                raise Errors.E102(detail="<reviews> inside <reviews> or a record", path=path, line=lineno)
            wrapper = lineno
            continue
        if line == "</reviews>":
            if not wrapper or rec is not None:
                raise Errors.E102(detail="</reviews> without <reviews>, or inside an open <review>",
                                  path=path, line=lineno)
            closed = lineno
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
            rating = parse_rating(rec["rating"], path=path, line=lineno,
                                  where=f" (record at line {rec_line})")
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
            if name in rec or name == field:
                raise Errors.E102(detail=f"a second <{name}> in the record opened at line {rec_line}; expected "
                                  "each field once", path=path, line=lineno)
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
            detail=f"file ends inside the record opened at line {rec_line}; expected </review> (truncated?)",
            path=path, line=rec_line,
        )
    if wrapper and not closed:
        raise Errors.E102(detail=f"file ends before the </reviews> that closes <reviews> (line {wrapper}); "
                          "the file is truncated", path=path, line=lineno)
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

    Raises:
        FormatError: an item that is not ``ngram:count``, a count that is not an integer from 1
            to :data:`MAX_NGRAM_COUNT` (or a line over :data:`MAX_LINE_TOKENS` unigrams), no
            ``#label#`` item or two of them, a line that is not UTF-8.
        LabelError: a ``#label#`` other than ``positive`` / ``negative``.
    """
    path = find_file(path)
    for lineno, line in strict_lines(path, what="a processed_acl file"):
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
                if label is not None:
                    raise Errors.E102(detail="a second '#label#' item; expected exactly one per line",
                                      path=path, line=lineno)
                if cnt not in ("positive", "negative"):
                    raise Errors.E104(
                        detail=f"label {cnt!r}; expected positive or negative",
                        path=path, line=lineno,
                    )
                label = 1 if cnt == "positive" else 0
                continue
            if not _COUNT.fullmatch(cnt) or not 1 <= (c := int(cnt)) <= MAX_NGRAM_COUNT:
                raise Errors.E102(detail=f"count {cnt!r} of {feat!r}; expected an integer from 1 to "
                                  f"{MAX_NGRAM_COUNT:,}", path=path, line=lineno)
            grams.append(it)
            if "_" not in feat:
                if len(unigrams) + c > MAX_LINE_TOKENS:
                    raise Errors.E102(detail=f"the counts add up to more than {MAX_LINE_TOKENS:,} unigrams on one "
                                      "line; expected one review's words", path=path, line=lineno)
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
_WEBIS_CHUNK = 1 << 16


def iter_webis(path: str | Path, domain: str = "", lang: str = "", with_summary: bool = True) -> Iterator[dict]:
    """Yield rows from a Webis-CLS-10 XML file (Prettenhofer & Stein 2010).

    Rating > 3 positive, < 3 negative, 3 dropped and counted. ``text`` is ``summary + ". " + text``
    when ``with_summary`` and a summary exists. The XML is decoded per its declaration (UTF-8 by
    default; ``ISO-8859-1``, ``windows-1252``, UTF-16 with a byte-order mark also work); entity
    declarations are refused (no entity expansion, so no "billion laughs").

    Raises:
        FormatError: XML that is not well-formed (with its line), an ``<item>`` without
            ``<rating>`` or ``<text>``, with a field twice or inside another item, a rating that is
            not a number from 1 to 5, entity declarations or an external DTD.
    """
    path = find_file(path)
    parser = expat.ParserCreate()
    state: dict = {"depth": 0, "item": None, "item_line": 0, "field": None, "buf": [], "n": 0, "root": None}
    done: list[tuple[int, int, dict[str, str]]] = []  # (item number, line, fields)

    def start(name: str, attrs) -> None:
        state["depth"] += 1
        d = state["depth"]
        if d == 1:
            state["root"] = name
            if name != "items":
                raise Errors.E102(detail=f"root element <{name}>; expected <items> (Webis-CLS-10)",
                                  path=path, line=parser.CurrentLineNumber)
            return
        if name == "item":
            if d != 2:
                raise Errors.E102(detail=f"<item> nested inside another element (depth {d}); expected <item> "
                                  "directly under <items>", path=path, line=parser.CurrentLineNumber)
            state["n"] += 1
            state["item"], state["item_line"] = {}, parser.CurrentLineNumber
        elif d == 3 and state["item"] is not None:
            if name in state["item"]:
                raise Errors.E102(detail=f"item {state['n']} has a second <{name}>; expected each field once",
                                  path=path, line=parser.CurrentLineNumber)
            state["field"], state["buf"] = name, []

    def end(name: str) -> None:
        d = state["depth"]
        state["depth"] -= 1
        if d == 3 and state["field"] == name and state["item"] is not None:
            state["item"][name] = "".join(state["buf"])
            state["field"] = None
        elif d == 2 and name == "item":
            done.append((state["n"], state["item_line"], state["item"]))
            state["item"] = None

    def chars(data: str) -> None:
        if state["field"] is not None:
            state["buf"].append(data)

    def refuse_entities(name, *args) -> None:
        raise Errors.E102(detail=f"an entity declaration ({name!r}); Webis-CLS-10 files declare no entities "
                          "(refused: entity expansion can be unbounded)", path=path, line=parser.CurrentLineNumber)

    def doctype(name, sysid, pubid, has_internal_subset) -> None:
        if sysid or pubid:
            raise Errors.E102(detail=f"an external DTD ({sysid or pubid!r}); Webis-CLS-10 files have none",
                              path=path, line=parser.CurrentLineNumber)

    def skipped(name, is_param) -> None:
        raise Errors.E102(detail=f"undefined entity &{name};", path=path, line=parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = refuse_entities
    parser.UnparsedEntityDeclHandler = refuse_entities
    parser.StartDoctypeDeclHandler = doctype
    parser.SkippedEntityHandler = skipped
    parser.buffer_text = True
    dropped = 0
    with open_binary(path) as fh:
        while True:
            chunk = fh.read(_WEBIS_CHUNK)
            try:
                parser.Parse(chunk, not chunk)
            except expat.ExpatError as e:
                raise Errors.E102(detail=f"not well-formed XML ({expat.ErrorString(e.code)}, column {e.offset + 1}); "
                                  "expected Webis-CLS-10 <items><item>…", path=path, line=e.lineno) from None
            for n, line, item in done:
                if "rating" not in item or "text" not in item:
                    raise Errors.E102(detail=f"item {n} has no <rating> or no <text>; expected both (it lacks "
                                      f"<{'rating' if 'rating' not in item else 'text'}>)", path=path, line=line)
                rating = parse_rating(item["rating"], path=path, line=line, where=f" (item {n})")
                lab = rating_to_label(rating)
                if lab is None:
                    dropped += 1
                    continue
                text = item["text"].strip()
                summary = item.get("summary", "").strip()
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
            done.clear()
            if not chunk:
                break
    if dropped:
        log.info("%s: dropped %d reviews with a 3-star rating (no binary label)", path, dropped)


# ---------------------------------------------------------------------------- FDU-MTL
def iter_fdu_task(path: str | Path, domain: str = "", lang: str = "en", labeled: bool | None = None) -> Iterator[dict]:
    """Yield rows from an FDU-MTL ``<domain>.task.{train,test,unlabel}`` file (Liu et al. 2017).

    Labeled files hold ``label<TAB>text`` (0/1); ``unlabel`` files hold text only. Lines are split
    on ``\\n`` only (the texts contain other line-break characters); a line that is not UTF-8 is
    read as Windows-1252 (a few real lines are) and logged.

    Raises:
        FormatError: a labeled line without a tab. LabelError: a label other than 0 or 1.
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
    """Yield one row per non-empty line (the HATN pool, OpeNER sentences), labeled ``label``; exact
    duplicate lines are dropped when ``dedupe`` and the count is logged.

    Raises:
        LabelError / ParameterError: ``label`` is not 0, 1 or -1.
    """
    path = find_file(path)
    label = check_label(label, path=path)
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
def _check_label_map(label_map: Mapping | None, path: Path) -> dict[str, int | None]:
    """``label_map`` with lower-cased string keys; its values must be 0, 1, -1 or ``None``.

    Raises:
        ParameterError: a value that is not one of those (``2``, ``"1"``, ``True``, ``1.5``).
    """
    if label_map is None:
        return dict(BINARY_LABELS)
    if not isinstance(label_map, Mapping):
        raise Errors.E112(option="label_map", detail=f"{label_map!r} is not a mapping of raw label -> 0, 1, -1 or "
                          "None", path=path)
    out: dict[str, int | None] = {}
    for k, v in label_map.items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v not in LABELS):
            raise Errors.E112(option="label_map", detail=f"{k!r} -> {v!r}; values must be 0 (negative), "
                              "1 (positive), -1 (unlabeled) or None (drop the row)", path=path)
        out[str(k).strip().lower()] = None if v is None else int(v)
    return out


class _NotJson(Exception):
    """Raised inside ``json.loads`` hooks; turned into a FormatError with the file and line."""


def _json_object(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise _NotJson(f"duplicate key(s) {dup}")
    return dict(pairs)


def _json_constant(name: str):
    raise _NotJson(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


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
        label_map: raw label string -> 0, 1, -1 (unlabeled), or ``None`` to drop that class
            (counted and logged). Default: 0/1, negative/positive, pos/neg.
        fmt: ``csv``, ``tsv`` or ``jsonl``; default from the file extension.
        header: whether a CSV/TSV has a header row; default: yes if ``text_column`` is a name.

    CSV follows RFC 4180 strictly (a quote inside a quoted field is doubled; text after a closing
    quote is an error); TSV has no quoting. Every row has as many fields as the header (or, without
    one, as the first row); fields up to :data:`MAX_FIELD_CHARS` characters. JSONL is UTF-8, one
    JSON object per line, without duplicate keys or NaN; ``text`` must be a string.

    Raises:
        FormatError: a missing column, a row with the wrong number of fields, a line that is not
            a JSON object, a ``text`` that is not a string or holds a lone surrogate.
        LabelError: a label value not in ``label_map`` (the message lists the allowed ones).
        ParameterError: ``label_map`` values other than 0, 1, -1, None.
    """
    path = find_file(path)
    name = path.name.lower().removesuffix(".gz")
    if fmt is None:
        fmt = "jsonl" if name.endswith((".jsonl", ".json")) else "tsv" if name.endswith(".tsv") else "csv"
    lmap = _check_label_map(label_map, path)
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
        for lineno, obj in iter_json_objects(path):
            for col in (text_column, label_column):
                if col is not None and col not in obj:
                    raise Errors.E102(detail=f"no key {col!r}; keys are {sorted(obj)}", path=path, line=lineno)
            for col in (text_column, domain_column, id_column):
                val = obj.get(col) if col is not None else None
                if col == text_column and not isinstance(val, str):
                    raise Errors.E102(detail=f"{col!r} is a JSON {_json_type(val)}; expected a string",
                                      path=path, line=lineno)
                if isinstance(val, str) and (m := _SURROGATE.search(val)):
                    raise Errors.E102(detail=f"{col!r} holds a lone surrogate \\u{ord(m.group()):04x} (not a "
                                      "character; a broken \\uXXXX escape)", path=path, line=lineno)
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
        if fmt == "csv":
            reader = csv.reader(lines, delimiter=",", quoting=csv.QUOTE_MINIMAL, strict=True)
        else:
            reader = csv.reader(lines, delimiter=delim, quoting=csv.QUOTE_NONE)
        cols: list[str] | None = None
        width = 0  # fields per row (the header's, or the first row's)
        idx: dict[str, int] = {}  # header name -> column index (filled once)
        while True:
            old = csv.field_size_limit(MAX_FIELD_CHARS)
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                raise Errors.E102(detail=f"{fmt.upper()} that the csv module cannot parse ({e}); expected "
                                  + ("RFC 4180 quoting" if fmt == "csv" else "tab-separated fields"),
                                  path=path, line=reader.line_num) from None
            finally:
                csv.field_size_limit(old)
            lineno = reader.line_num
            if cols is None and header:
                cols = [c.strip() for c in row]
                idx = {c: i for i, c in enumerate(cols)}
                width = len(cols)
                for col in (text_column, label_column, domain_column, id_column):
                    if col is not None and col not in idx:
                        raise Errors.E102(
                            detail=f"no column {col!r} in the header; columns are {cols}",
                            path=path, line=lineno,
                        )
                dups = sorted({c for c in cols if cols.count(c) > 1})
                if dups:
                    raise Errors.E102(detail=f"column name(s) {dups} appear twice in the header", path=path,
                                      line=lineno)
                continue
            if not row or all(not c.strip() for c in row):
                continue
            width = width or len(row)
            if len(row) != width:
                raise Errors.E102(
                    detail=f"row has {len(row)} fields; expected {width} (as the "
                    + ("header" if header else "first row") + ")", path=path, line=lineno,
                )

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
    for k, v in dropped.items():
        log.info("%s: dropped %d rows labeled %r (mapped to no class)", path, v, k)


def _json_type(v) -> str:
    return {dict: "object", list: "array", bool: "boolean", type(None): "null", int: "number",
            float: "number", str: "string"}.get(type(v), type(v).__name__)


Reader = Callable[..., Iterator[dict]]
