"""Where corpora live, and opening plain or gzip-compressed files alike."""

from __future__ import annotations

import gzip
import io
import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import Errors

log = logging.getLogger(__name__)

ENV_VAR = "NLPTA_DATA"


def _default_roots() -> list[Path]:
    here = Path(__file__).resolve()
    # <checkout>/nlpta/data/paths.py -> <checkout>/../shared/data
    checkout = here.parents[2]
    roots = [checkout.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    out: list[Path] = []
    for r in roots:
        if r not in out:
            out.append(r)
    return out


def data_root(must_exist: bool = False) -> Path:
    """Return the data root: ``$NLPTA_DATA`` if set, else ``../shared/data`` beside the checkout.

    Args:
        must_exist: raise :class:`DataNotFoundError` (naming where it looked) if the folder is missing.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
        if must_exist and not root.is_dir():
            raise Errors.E101(
                detail=f"the data root {ENV_VAR}={env} is not a folder; point {ENV_VAR} at the folder holding the corpora"
            )
        return root
    candidates = _default_roots()
    for c in candidates:
        if c.is_dir():
            return c
    if must_exist:
        raise Errors.E101(
            detail="no data root; looked in "
            + ", ".join(str(c) for c in candidates)
            + f". Set {ENV_VAR} to the folder holding the corpora (see README), "
            "or run `nlpta data fetch NAME` where there is internet"
        )
    return candidates[0]


def find_file(path: str | Path) -> Path:
    """Return ``path`` if it exists, else ``path + '.gz'``, else ``path`` without ``.gz``.

    Raises:
        DataNotFoundError: neither exists; the message names both.
    """
    p = Path(path)
    if p.exists():
        return p
    gz = p.with_name(p.name + ".gz")
    if gz.exists():
        return gz
    if p.suffix == ".gz" and p.with_suffix("").exists():
        return p.with_suffix("")
    raise Errors.E101(detail=f"the file (also tried {gz.name})", path=p)


class _CheckedGzip(io.RawIOBase):
    """A gzip stream whose damage (truncation, bad CRC, corrupt deflate data) raises an
    :class:`~nlpta.errors.FormatError` naming the file instead of ``EOFError``/``zlib.error``."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._gz = gzip.open(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            return self._gz.readinto(b)
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as e:
            raise Errors.E102(detail=f"damaged gzip file ({type(e).__name__}: {e}); download or compress it "
                                     "again", path=self._path) from None

    def close(self) -> None:
        if not self.closed:
            self._gz.close()
        super().close()


def open_binary(path: str | Path) -> io.BufferedReader:
    """Open a plain or ``.gz`` file for reading bytes (gzip is detected by magic bytes).

    A damaged ``.gz`` file (truncated, corrupt, bad checksum) raises ``FormatError`` [E102]
    naming the file when the damage is read, never ``EOFError`` or ``zlib.error``; so does a file
    named ``.gz`` that is not gzip data.
    """
    p = find_file(path)
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.BufferedReader(_CheckedGzip(p), buffer_size=1 << 16)
    if p.name.lower().endswith(".gz"):
        raise Errors.E102(detail=f"named .gz but not gzip data (starts with {magic!r}, gzip starts with "
                                 "b'\\x1f\\x8b')", path=p)
    return open(p, "rb")


def open_text(path: str | Path, encoding: str = "utf-8-sig", newline: str | None = None) -> io.TextIOBase:
    """Open a plain or ``.gz`` file for reading text, strictly decoded (a byte-order mark is
    dropped). For line-oriented formats prefer :func:`iter_text_lines`, which survives a few
    undecodable bytes."""
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors="strict", newline=newline)


def iter_text_lines(path: str | Path, fallback: str = "cp1252") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` with the line ending kept, splitting on ``\n`` only.

    Each line is decoded as UTF-8 (a leading byte-order mark is dropped); a line that is not
    valid UTF-8 is decoded as ``fallback`` (Windows-1252, what such corpus files usually are,
    undefined bytes replaced), and the number of such lines is logged with the first one, so no
    text is lost silently.
    """
    bad = 0
    first_bad = 0
    with open_binary(path) as fh:
        for i, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line = raw.decode(fallback, errors="replace")
                bad += 1
                first_bad = first_bad or i
            if i == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield i, line
    if bad:
        log.warning("%s: %d lines are not valid UTF-8 (first: line %d); decoded them as %s",
                    path, bad, first_bad, fallback)


def read_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, without the trailing newline), splitting on
    ``\n`` only; decoding as in :func:`iter_text_lines`."""
    for i, line in iter_text_lines(path):
        yield i, line.rstrip("\n").rstrip("\r")


def strict_lines(path: str | Path, encoding: str = "utf-8", what: str = "the file") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, line ending removed, split on ``\n`` only) of a
    plain or gzip-compressed file, each line decoded strictly as ``encoding`` (a leading byte-order
    mark dropped), for formats defined as that encoding (unlike :func:`read_lines`, no fallback).

    Raises:
        FormatError: [E102] a line that is not valid ``encoding`` (naming the file, line and
            column), a file named ``.gz`` that is not gzip data, a damaged gzip stream.
        DataNotFoundError: [E101] the file is missing.
    """
    p = find_file(path)
    with open_binary(p) as fh:
        for i, raw in enumerate(fh, start=1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as e:
                raise Errors.E102(detail=f"byte {raw[e.start]:#04x} at column {e.start + 1} is not valid {encoding} "
                                         f"({what} is {encoding} text)", path=p, line=i) from None
            if i == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield i, line.rstrip("\n").rstrip("\r")
