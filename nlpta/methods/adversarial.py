"""Registered adversarial methods: ``lora-dann`` (transformer, POS and sentiment) and the shallow
``dann`` (sentiment).

* ``lora-dann`` -- ``lora`` trained domain-adversarially (DANN, Ganin et al. 2016): a domain
  classifier behind a gradient reversal layer beside the task head, on the [CLS] (or mean-pooled)
  representation for sentiment and on every word's representation for POS, fed labeled source
  batches and as many unlabeled target rows (``max_unlabeled``, a seeded sample of the task's
  ``unlabeled`` rows); the reversal coefficient rises as ``lambda_max * (2 / (1 + exp(-gamma p)) - 1)``.
* ``dann`` -- the shallow DANN of Ganin et al. 2016's Amazon experiment over the 5,000 most
  frequent uni+bigrams (tf-idf or binary), 50 sigmoid hidden units
  (:class:`nlpta.adversarial.ShallowDANN`); ``adversarial: false`` is the plain network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import datasets

from ..data import sample_rows
from ..tasks import TransferTask
from .finetune import _DANN, _defaults, _need_unlabeled, _Transformer
from .registry import UNLABELED_EXAMPLE, Method, check_rows, need_unlabeled, register


@register("lora-dann")
class LoraDann(_Transformer):
    """``lora`` + a domain classifier behind gradient reversal (DANN, Ganin et al. 2016), trained
    on labeled source batches plus equally many unlabeled target rows per step."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(_DANN)

    def _model_class(self):
        from ..finetune.dann import DANNAdapterModel

        return DANNAdapterModel

    def _model(self):
        p = self.params
        return self._model_class()(**self._model_kwargs(), lambda_max=p["lambda_max"], gamma=p["gamma"],
                                   pooling=p["pooling"], domain_hidden=p["domain_hidden"])

    def fit(self, task: TransferTask) -> LoraDann:
        _need_unlabeled(self.name, task, self.task)
        train_ds = self._train_rows(task)
        unl = sample_rows(task.unlabeled, self.params["max_unlabeled"], self.seed)
        self.model_ = self._model()
        self.model_.fit(train_ds, unl)
        self.info_ = {"train": self.model_.train_info_, "trainable": self.model_.share_, "dapt": None}
        return self


_SHALLOW_DANN: dict[str, Any] = {
    "hidden": 50, "max_features": 5000, "ngram_range": [1, 2], "features": "tfidf", "lr": 0.5, "epochs": 20,
    "batch_size": 64, "lambda_max": 1.0, "gamma": 10.0, "adversarial": True, "momentum": 0.0,
    "weight_decay": 1e-3, "lr_anneal": True, "domain_hidden": 0, "domain_lr_mult": 1.0,
    "domain_weight_decay": 0.1, "max_unlabeled": 2000,
}


@register("dann")
class Dann(Method):
    """Shallow DANN over bag-of-n-grams (Ganin et al. 2016, JMLR, the Amazon reviews experiment):
    :class:`nlpta.adversarial.ShallowDANN` fitted on the labeled source and a ``max_unlabeled``
    sample of the target unlabeled rows. ``adversarial: false`` gives the plain 50-unit network."""

    tasks: ClassVar[tuple[str, ...]] = ("sentiment",)
    defaults: ClassVar[dict[str, dict[str, Any]]] = {"sentiment": dict(_SHALLOW_DANN)}

    def _estimator(self):
        from ..adversarial.shallow import ShallowDANN

        p = {k: v for k, v in self.params.items() if k != "max_unlabeled"}
        return ShallowDANN(**p, random_state=self.seed)

    def fit(self, task: TransferTask) -> Dann:
        """Fit on the labeled source and a sample of the task's target unlabeled rows (never the
        target test rows). No cross-validation: one labeled row of each class is enough to train.

        Raises:
            ParameterError: no target unlabeled rows (E306 / E328), a single class (E326), no words
                in the source texts (E327).
        """
        check_rows(task.source, self.name, self.task)
        unlabeled = need_unlabeled(task, self.name, self.task,
                                   example=f"{UNLABELED_EXAMPLE['sentiment']} (they are the domain classifier's "
                                           "target side)")
        unl = sample_rows(unlabeled, self.params["max_unlabeled"], self.seed)
        src = list(task.source["text"])
        # the target rows travel inside X (SKADA style): label -1, sample_domain -1
        X = src + list(unl["text"])
        y = list(task.source["label"]) + [-1] * len(unl)
        self.model_ = self._estimator().fit(X, y, sample_domain=[1] * len(src) + [-1] * len(unl))
        return self

    def predict(self, ds: datasets.Dataset) -> list:
        return [int(x) for x in self.model_.predict(list(ds["text"]))]

    def _save(self, directory: Path) -> None:
        self.model_.save(directory)

    def _load(self, directory: Path) -> None:
        from ..adversarial.shallow import ShallowDANN

        self.model_ = ShallowDANN.load(directory)
