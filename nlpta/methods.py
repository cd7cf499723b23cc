"""The method registry: one name -> one class. The runner and the CLI find methods here.

A method is fitted on a :class:`~nlpta.tasks.TransferTask` (it may use the labeled source, the
target unlabeled rows and a small target labeled set) and predicts labels for any dataset of the
task's schema. A new method is one module plus one :func:`register` line.

References provided here, the two every later method is compared with:

* ``none`` -- train on the source, apply to the target (no adaptation);
* ``in-domain`` -- the same model trained on target labeled data (the ceiling).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np

from .errors import NlptaError, UnknownMethodError
from .models.classical import BowSentimentClassifier, FeatureTagger
from .tasks import TransferTask

METHODS: dict[str, type[Method]] = {}


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
        raise UnknownMethodError(f"unknown method {name!r}; registered: {', '.join(sorted(METHODS))}")
    cls = METHODS[name]
    if task not in cls.tasks:
        raise NlptaError(f"method {name!r} does not support {task} tasks (it supports {', '.join(cls.tasks)})",
                         code="E303")
    return cls(task=task, seed=seed, **params)


class Method:
    """Base class. Subclasses set ``tasks`` and ``defaults`` (per task) and implement ``fit``."""

    name: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ("pos", "sentiment")
    defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, task: str, seed: int = 0, **params) -> None:
        allowed = self.defaults.get(task, {})
        unknown = set(params) - set(allowed)
        if unknown:
            raise NlptaError(
                f"method {self.name!r} ({task}) has no parameter(s) {', '.join(sorted(unknown))}; "
                f"it takes {', '.join(sorted(allowed)) or 'none'}",
                code="E304",
            )
        self.task = task
        self.seed = seed
        self.params = {**allowed, **params}

    def fit(self, task: TransferTask) -> Method:
        raise NotImplementedError

    def predict(self, ds: datasets.Dataset) -> list:
        """Sentiment: one int label per row. POS: one tag list per row."""
        raise NotImplementedError

    def save(self, directory: str | Path) -> None:
        """Write the fitted model's files (no pickle) into ``directory``."""


class _ClassicalModel(Method):
    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {"ngram_range": [1, 2], "Cs": [0.1, 1.0, 10.0, 100.0], "cv": 5, "min_df": 1, "binary": False},
        "pos": {"C": 5.0, "max_iter": 300},
    }

    def _fit_on(self, ds: datasets.Dataset, sample_weight=None) -> None:
        """Fit the model on labeled rows; ``sample_weight``: one weight per row (POS: per sentence,
        spread over its tokens)."""
        p = self.params
        if self.task == "sentiment":
            self.model_ = BowSentimentClassifier(ngram_range=tuple(p["ngram_range"]), Cs=tuple(p["Cs"]), cv=p["cv"],
                                                 min_df=p["min_df"], binary=p["binary"], seed=self.seed)
            self.model_.fit(ds["text"], ds["label"], sample_weight=sample_weight)
        else:
            self.model_ = FeatureTagger(C=p["C"], max_iter=p["max_iter"], seed=self.seed)
            tokens = ds["tokens"]
            if sample_weight is not None:
                sample_weight = np.repeat(np.asarray(sample_weight, dtype=np.float64), [len(t) for t in tokens])
            self.model_.fit(tokens, ds["upos"], sample_weight=sample_weight)

    def predict(self, ds: datasets.Dataset) -> list:
        if self.task == "sentiment":
            return [int(x) for x in self.model_.predict(ds["text"])]
        return self.model_.predict(ds["tokens"])

    def save(self, directory: str | Path) -> None:
        self.model_.save(directory)


@register("none")
class NoAdaptation(_ClassicalModel):
    """Train on the labeled source only and apply to the target (the no-adaptation baseline).
    Sentiment: tf-idf uni+bigram logistic regression, C by 5-fold CV on the source; POS: the
    feature tagger of :class:`nlpta.models.FeatureTagger`."""

    def fit(self, task: TransferTask) -> NoAdaptation:
        self._fit_on(task.source)
        return self


@register("in-domain")
class InDomain(_ClassicalModel):
    """The same model as ``none`` trained on target labeled data (``target_labeled``, else the
    target corpus's train split): the in-domain ceiling."""

    def fit(self, task: TransferTask) -> InDomain:
        self._fit_on(task.target_train())
        return self


# Method packages register themselves with @register when imported. Each listed module holds its
# package's Method subclasses and imports heavy dependencies (torch, gensim) lazily, inside fit.
METHOD_MODULES = ("nlpta.pivots.methods", "nlpta.embeddings.methods", "nlpta.finetune.methods",
                  "nlpta.reweighting.methods")


def _import_method_modules() -> None:
    import importlib

    for name in METHOD_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:  # that package is not part of this build; anything else is a bug
            if e.name is None or not name.startswith(e.name):
                raise


_import_method_modules()
