"""Errors raised for user mistakes.

Every error a user can cause (a malformed file, an unknown corpus name, a bad task file) is a
subclass of :class:`NlptaError`. Each carries the file and line where known, and says what was
expected, so the message alone is enough to fix the input.
"""

from __future__ import annotations

from pathlib import Path


class NlptaError(Exception):
    """Base class of every error nlpta raises for bad input.

    Args:
        message: what went wrong and what was expected.
        path: the file concerned, if any.
        line: the 1-based line number in ``path``, if known.
        code: a short stable code (``E1xx`` data, ``E2xx`` tasks, ``E3xx`` methods), for searching.
    """

    code = "E000"

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        if code is not None:
            self.code = code
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return f"[{self.code}] {where}{self.message}"


class DataNotFoundError(NlptaError):
    """A corpus or file is not where nlpta looked (the message says where it looked)."""

    code = "E101"


class FormatError(NlptaError):
    """A corpus file does not follow its format (file, line and what was expected)."""

    code = "E102"


class UnknownCorpusError(NlptaError):
    """A corpus name is not registered and is not a path."""

    code = "E103"


class LabelError(NlptaError):
    """A label is not one of the labels the format or task allows."""

    code = "E104"


class EmptyDataError(NlptaError):
    """A selection (split, domain, language) has no rows."""

    code = "E105"


class TaskSpecError(NlptaError):
    """A task file (YAML) is invalid."""

    code = "E201"


class UnknownMethodError(NlptaError):
    """A method name is not in the registry."""

    code = "E301"


class NotFittedError(NlptaError):
    """A model was used before ``fit``."""

    code = "E302"
