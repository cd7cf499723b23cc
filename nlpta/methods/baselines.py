"""The two references every other method is compared with.

* ``none`` -- train on the source, apply to the target (no adaptation);
* ``in-domain`` -- the same model trained on target labeled data (the ceiling).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import datasets

from ..models.classical import BowSentimentClassifier, FeatureTagger
from ..tasks import TransferTask
from .registry import CV_NEEDS, Method, check_rows, register


class _ClassicalModel(Method):
    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {"ngram_range": [1, 2], "Cs": [0.1, 1.0, 10.0, 100.0], "cv": 5, "min_df": 1, "binary": False},
        "pos": {"C": 5.0, "max_iter": 300},
    }

    def _check(self, ds: datasets.Dataset, what: str = "the source") -> None:
        """Check that ``ds`` can train the model (:func:`check_rows`): sentiment needs both classes,
        and 2 rows of each when C is chosen by cross-validation (the folds shrink to the rows of
        the smallest class: 2 rows per class give 2-fold CV); POS needs a token and two tags."""
        cv_search = self.task == "sentiment" and len(list(self.params["Cs"])) > 1
        check_rows(ds, self.name, self.task, what=what, per_class=2 if cv_search else 1,
                   why=CV_NEEDS if cv_search else "")

    def _fit_on(self, ds: datasets.Dataset, sample_weight=None, what: str = "the source") -> None:
        """Fit the model on labeled rows; ``sample_weight``: one weight per row (POS: per sentence,
        spread over its tokens by the tagger).

        Raises:
            ParameterError: the rows cannot train the model (E326 too few rows or classes, E327
                no words; see :meth:`_check`).
        """
        self._check(ds, what)
        p = self.params
        if self.task == "sentiment":
            self.model_ = BowSentimentClassifier(ngram_range=p["ngram_range"], Cs=p["Cs"], cv=p["cv"],
                                                 min_df=p["min_df"], binary=p["binary"], random_state=self.seed)
            self.model_.fit(ds["text"], ds["label"], sample_weight=sample_weight)
        else:
            self.model_ = FeatureTagger(C=p["C"], max_iter=p["max_iter"], random_state=self.seed)
            self.model_.fit(ds["tokens"], ds["upos"], sample_weight=sample_weight)

    def predict(self, ds: datasets.Dataset) -> list:
        if self.task == "sentiment":
            return [int(x) for x in self.model_.predict(ds["text"])]
        return self.model_.predict(ds["tokens"])

    def _save(self, directory: Path) -> None:
        """The model's own files: ``classifier.json`` + ``classifier.npz`` (sentiment) or
        ``tagger.json`` + ``tagger.npz`` (POS)."""
        self.model_.save(directory)

    def _load(self, directory: Path) -> None:
        cls = BowSentimentClassifier if self.task == "sentiment" else FeatureTagger
        self.model_ = cls.load(directory)


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
        self._fit_on(task.target_train(), what="the target labeled set")
        return self
