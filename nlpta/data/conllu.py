"""CoNLL-U reader (Universal Dependencies), with genre/domain extraction.

Written by hand rather than with a parsing library so that every error names the file and line.
Multiword-token lines (``1-2``) and empty nodes (``8.1``) are skipped: rows hold the syntactic
words, the unit UD's UPOS tags are given on (gold tokenization).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import Errors
from .paths import read_lines
from .schema import UPOS_SET

log = logging.getLogger(__name__)

DomainFn = Callable[[str, str, dict], str]
"""``domain_fn(sent_id, newdoc_id, comments) -> domain``."""

_ID_RE = re.compile(r"^[1-9][0-9]*$")
_RANGE_RE = re.compile(r"^[1-9][0-9]*-[1-9][0-9]*$")
_EMPTY_RE = re.compile(r"^[0-9]+\.[1-9][0-9]*$")


def constant_domain(name: str) -> DomainFn:
    """A domain function that gives every sentence the same domain."""
    return lambda sent_id, newdoc, meta: name


def iter_conllu(
    path: str | Path,
    lang: str = "",
    domain_fn: DomainFn | None = None,
    default_domain: str = "",
    id_prefix: str = "",
) -> Iterator[dict]:
    """Yield POS rows (``id, tokens, upos, xpos, domain, lang``) from a CoNLL-U file.

    Raises:
        FormatError: a token line without 10 tab-separated columns, a bad ID, IDs out of order.
        LabelError: a UPOS tag that is not one of UD's 17 (``_`` means unlabeled and is allowed
            only if the whole sentence is unlabeled).
    """
    path = Path(path)
    sent_id = ""
    newdoc = ""
    meta: dict[str, str] = {}
    tokens: list[str] = []
    upos: list[str] = []
    xpos: list[str] = []
    n_sent = 0
    start_line = 0
    expected_id = 1

    def flush() -> dict | None:
        nonlocal tokens, upos, xpos, meta, sent_id, n_sent, expected_id
        if not tokens:  # a block of comments only: its metadata does not carry over
            meta, sent_id = {}, ""
            return None
        n_sent += 1
        labeled = [t != "_" for t in upos]
        if any(labeled) and not all(labeled):
            raise Errors.E104(
                detail="sentence mixes UPOS tags and '_' (unlabeled); expected all or none tagged",
                path=path,
                line=start_line,
            )
        sid = sent_id or meta.get("tweet_id") or f"{path.name}#{n_sent}"
        domain = domain_fn(sid, newdoc, meta) if domain_fn else default_domain
        row = {
            "id": id_prefix + sid,
            "tokens": tokens,
            "upos": upos if all(labeled) else [],
            "xpos": xpos if all(x != "_" for x in xpos) else [],
            "domain": domain or default_domain,
            "lang": lang,
        }
        tokens, upos, xpos, meta, sent_id = [], [], [], {}, ""
        expected_id = 1
        return row

    for lineno, line in read_lines(path):
        if not line.strip():
            row = flush()
            if row is not None:
                yield row
            continue
        if line.startswith("#"):
            if tokens:
                raise Errors.E102(
                    detail="comment line inside a sentence; expected a blank line before it", path=path, line=lineno
                )
            body = line[1:].strip()
            if "=" in body:
                key, _, value = body.partition("=")
                key, value = key.strip(), value.strip()
                meta[key] = value
                if key == "sent_id":
                    sent_id = value
                elif key == "newdoc id":
                    newdoc = value
            elif body.startswith("newdoc"):
                newdoc = ""
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise Errors.E102(
                detail=f"expected 10 tab-separated columns (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL "
                f"DEPS MISC), found {len(cols)}",
                path=path,
                line=lineno,
            )
        tid = cols[0]
        if _RANGE_RE.match(tid) or _EMPTY_RE.match(tid):
            continue
        if not _ID_RE.match(tid):
            raise Errors.E102(detail=f"bad token ID {tid!r}; expected 1, 2, ... or a range 1-2", path=path, line=lineno)
        if int(tid) != expected_id:
            raise Errors.E102(detail=f"token ID {tid} out of order; expected {expected_id}", path=path, line=lineno)
        expected_id += 1
        if not tokens:
            start_line = lineno
        tag = cols[3]
        if tag != "_" and tag not in UPOS_SET:
            raise Errors.E104(
                detail=f"unknown UPOS tag {tag!r}; expected one of UD's 17: {', '.join(sorted(UPOS_SET))}",
                path=path,
                line=lineno,
            )
        tokens.append(cols[1])
        upos.append(tag)
        xpos.append(cols[4])
    row = flush()
    if row is not None:
        yield row
