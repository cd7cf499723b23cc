"""The method registry: one name -> one class. The runner, the CLI and :func:`load_model` find
methods here.

A method is fitted on a :class:`~nlpta.tasks.TransferTask` (it may use the labeled source, the
target unlabeled rows and a small target labeled set) and predicts labels for any dataset of the
task's schema. A new method is one class in one ``nlpta/methods/`` module with one
:func:`register` line.

A fitted method is a thing a user keeps: :meth:`Method.save` writes ``method.json`` (name, task,
seed, parameters, nlpta version) beside the model's own files (JSON, ``.npz``, safetensors; never
pickle), and :func:`load_model` reads any such folder back into the fitted method.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import datasets

from ..errors import Errors
from ..io import atomic_write_json
from ..tasks import TransferTask

METHODS: dict[str, type[Method]] = {}
MODEL_FILE = "method.json"
# an `unlabeled:` task entry per task kind, for the messages of methods that need target unlabeled rows
UNLABELED_EXAMPLE = {"sentiment": "{corpus: mdsd:kitchen, split: unlabeled}",
                     "pos": "{corpus: ud:en_ewt, split: train, domain: reviews, labeled: false}"}
_WORD = re.compile(r"\w")
CV_NEEDS = ("C is chosen by stratified cross-validation over min(cv, rows of the smallest class) folds, "
            "which needs at least 2 folds")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def check_rows(ds: datasets.Dataset, method: str, kind: str, *, what: str = "the source", per_class: int = 1,
               min_rows: int = 1, why: str = "") -> None:
    """Check that labeled rows can train a model, before any library sees them.

    Sentiment: at least ``min_rows`` rows, a text with a word, both classes, each with at least
    ``per_class`` rows (2 where C is chosen by cross-validation: the folds are then
    ``min(cv, rows of the smallest class)``, so a method works with as few as 2 rows per class).
    POS: at least ``min_rows`` sentences, a token, and at least two different tags.

    Raises:
        ParameterError: E326 (too few rows or classes: the message gives the counts found and
            needed) or E327 (every text / token list is empty).
    """
    who = f"method {method!r} ({kind}): {what}"
    n = len(ds)
    unit = "sentence" if kind == "pos" else "row"
    if n == 0 or n < min_rows:
        raise Errors.E326(what=who, got=_plural(n, unit),
                          needs=f"it needs at least {_plural(max(min_rows, 1), unit)}" + (f" ({why})" if why else ""))
    if kind == "pos":
        sents, tags = list(ds["tokens"]), [t for seq in ds["upos"] for t in seq]
        n_tok = sum(len(s) for s in sents)
        if n_tok == 0:
            raise Errors.E327(what=who, detail=f"has {_plural(n, unit)} and none holds a token; it needs tagged "
                                               "tokens to learn from")
        found = Counter(tags)
        if len(found) < 2:
            raise Errors.E326(what=who, got=f"{_plural(n, unit)} ({_plural(n_tok, 'token')}), all tagged "
                                            f"{sorted(found)[0] if found else 'nothing'!r}",
                              needs="it needs tokens of at least 2 different tags")
        return
    texts = list(ds["text"])
    if not any(_WORD.search(t or "") for t in texts):
        raise Errors.E327(what=who, detail=f"has {_plural(n, unit)} and every text is empty (no letter or digit); "
                                           "it needs text to learn from")
    counts = Counter(int(y) for y in ds["label"] if int(y) != -1)
    shown = ", ".join(f"{c} of class {k}" for k, c in sorted(counts.items())) or "none labeled"
    if len(counts) < 2:
        raise Errors.E326(what=who, got=f"{_plural(n, unit)} ({shown})",
                          needs="it needs labeled rows of both classes (0 and 1)")
    if min(counts.values()) < per_class:
        raise Errors.E326(what=who, got=f"{_plural(n, unit)} ({shown})",
                          needs=f"it needs at least {per_class} rows of each class" + (f" ({why})" if why else ""))


def need_unlabeled(task: TransferTask, method: str, kind: str, *, min_rows: int = 1,
                   example: str | None = None) -> datasets.Dataset:
    """The task's target unlabeled rows, checked: adaptation reads these, never the target test rows.

    Returns:
        ``task.unlabeled``.

    Raises:
        ParameterError: E306 (no ``unlabeled:`` entry) or E328 (the entry has fewer than
            ``min_rows`` rows, or only empty texts / token lists).
    """
    ex = example or UNLABELED_EXAMPLE.get(kind, UNLABELED_EXAMPLE["sentiment"])
    unl = task.unlabeled
    if unl is None:
        raise Errors.E306(method=method, example=ex)
    n = len(unl)
    unit = "sentence" if kind == "pos" else "row"
    if n < max(min_rows, 1):
        raise Errors.E328(method=method, example=ex, got=_plural(n, unit) + (
            f" (it needs at least {min_rows})" if n and min_rows > 1 else ""))
    if kind == "pos":
        if not any(len(t) for t in unl["tokens"]):
            raise Errors.E328(method=method, example=ex, got=f"{_plural(n, unit)}, none with a token")
    elif not any(_WORD.search(t or "") for t in unl["text"]):
        raise Errors.E328(method=method, example=ex, got=f"{_plural(n, unit)}, every text empty")
    return unl


def register(name: str):
    """Class decorator: register a :class:`Method` subclass under ``name``."""

    def deco(cls: type[Method]) -> type[Method]:
        cls.name = name
        METHODS[name] = cls
        return cls

    return deco


def get_method(name: str, task: str, seed: int = 0, **params) -> Method:
    """Instantiate the method ``name`` for ``task`` (``pos``/``sentiment``) with ``params``.

    Raises:
        UnknownMethodError: the name is not registered (the message lists the registered ones).
        NlptaError: the method does not support the task, or a parameter is unknown.
    """
    if name not in METHODS:
        raise Errors.E301(name=name, registered=", ".join(sorted(METHODS)))
    cls = METHODS[name]
    if task not in cls.tasks:
        raise Errors.E303(what=f"method {name!r}", kind=task, detail=f"it supports {', '.join(cls.tasks)} tasks")
    return cls(task=task, seed=seed, **params)


class Method:
    """Base class. Subclasses set ``tasks`` and ``defaults`` (per task) and implement ``fit``,
    ``predict``, ``_save`` and ``_load``."""

    name: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ("pos", "sentiment")
    defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, task: str, seed: int = 0, **params) -> None:
        allowed = self.defaults.get(task, {})
        unknown = set(params) - set(allowed)
        if unknown:
            raise Errors.E304(detail=f"method {self.name!r} ({task}) has no parameter(s) "
                                     f"{', '.join(sorted(unknown))}; it takes {', '.join(sorted(allowed)) or 'none'}")
        self.task = task
        self.seed = seed
        self.params = {**allowed, **params}

    def fit(self, task: TransferTask) -> Method:
        raise NotImplementedError

    def predict(self, ds: datasets.Dataset) -> list:
        """Sentiment: one int label per row. POS: one tag list per row."""
        raise NotImplementedError

    def fit_report(self) -> dict:
        """Facts about the fitted model that a user must see beside its scores (the runner writes
        them into ``metrics.json`` and ``report.md``): a JSON-able dict, ``{}`` when there is
        nothing to say. An optional ``"warnings"`` key holds a list of sentences, each a reason to
        distrust the fit (e.g. importance weights that leave 5% of the source rows in play).
        Works on a method read back by :func:`load_model` too."""
        return {}

    # ------------------------------------------------------------------ keeping a fitted method
    def save(self, directory: str | Path) -> Path:
        """Write the fitted method into ``directory``: ``method.json`` and the model's files (no
        pickle). Returns the folder; :func:`load_model` reads it back."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self._save(d)
        from .. import __version__

        atomic_write_json(d / MODEL_FILE, {"method": self.name, "task": self.task, "seed": self.seed,
                                           "params": self.params, "nlpta": __version__})
        return d

    def _save(self, directory: Path) -> None:
        raise NotImplementedError(f"method {self.name!r} does not implement _save")

    def _load(self, directory: Path) -> None:
        raise NotImplementedError(f"method {self.name!r} does not implement _load")

    @classmethod
    def load(cls, directory: str | Path) -> Method:
        """The fitted method saved in ``directory`` (see :func:`load_model`)."""
        m = load_model(directory)
        if not isinstance(m, cls):
            raise Errors.E312(path=directory, found=f"a {type(m).__name__} (method {m.name!r})",
                              expected=f"a {cls.__name__}")
        return m


def load_model(directory: str | Path) -> Method:
    """Load a fitted method from a folder written by :meth:`Method.save` (``nlpta run
    --save-model`` writes one per seed: ``<run>/model-seed<S>/``). The result predicts on a
    :class:`datasets.Dataset` of its task's schema.

    Raises:
        NlptaError: the folder is missing, holds no ``method.json``, or names an unknown method.
    """
    d = Path(directory)
    meta_path = d / MODEL_FILE
    if not meta_path.is_file():
        raise Errors.E307(path=d, detail=f"no {MODEL_FILE} here: not a folder written by Method.save / "
                                         "`nlpta run --save-model`")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        name, task, seed, params = meta["method"], meta["task"], int(meta["seed"]), dict(meta["params"])
    except (ValueError, KeyError, TypeError) as e:
        raise Errors.E307(path=meta_path, detail=f"unreadable {MODEL_FILE} ({e}); expected keys method, task, "
                                                 "seed, params") from None
    self = get_method(name, task, seed=seed, **params)
    self._load(d)
    return self
