"""spaCy components that run a saved nlpta model inside a spaCy pipeline.

* ``nlpta_tagger`` sets ``token.pos_`` from an nlpta POS model (any folder :func:`nlpta.load_model`
  reads: the classical ``none`` tagger, the adapted taggers, LoRA adapters). The Doc's own tokens
  -- spaCy's tokenization -- are the model's input, one POS row ``{"tokens": [...]}`` per Doc;
  whitespace tokens are not shown to the model and get ``SPACE``, as spaCy's own pipelines do.
  ``token.tag_`` (XPOS) is left as it is: no registered nlpta method predicts XPOS.
* ``nlpta_textcat`` sets ``doc.cats`` from an nlpta sentiment model: ``{"negative": p0,
  "positive": p1}`` (the transformer models' own label names). The values are the model's class
  probabilities where the method has them (the logistic-regression methods -- ``none``,
  ``in-domain``, ``reweight-clf``, ``kmm``, ``kliep``, ``ms-weighted`` --, the shallow ``dann`` and
  the transformer methods ``lora``, ``lora-dapt``, ``full-ft``, ``lora-dann``, ``udalm``, ``lora-self-train``), else 1.0 for the
  predicted label and 0.0 for the other.

Both batch internally (``batch_size`` Docs per model call in :meth:`pipe`; ``__call__`` for one
Doc)::

    nlp = spacy.blank("en")
    nlp.add_pipe("nlpta_tagger", config={"model": "runs/ewt/model-seed1"})
    nlp.add_pipe("nlpta_textcat", config={"model": "runs/books/model-seed1"})
    nlp.to_disk("my_pipeline")          # the nlpta models are copied into the pipeline folder
    spacy.load("my_pipeline")           # in any process: no model folder, no `import nlpta` needed

In a trained pipeline such as ``en_core_web_sm``, replace the tagger and put ``nlpta_tagger``
after the ``attribute_ruler`` (which would otherwise rewrite some POS values) and before the
``lemmatizer`` (which reads them)::

    nlp.remove_pipe("tagger")
    nlp.add_pipe("nlpta_tagger", after="attribute_ruler", config={"model": DIR})

The factories are registered through the ``spacy_factories`` entry point (``pyproject.toml``), so
``spacy.load`` finds them without importing this module by hand. The model is read lazily: on the
first Doc, or in ``from_disk`` (``spacy.load``), so the folder named in the config need not exist
when a saved pipeline is loaded elsewhere. A LoRA model keeps only its adapter and head: its base
encoder (an installed model name, or a folder) must be resolvable where the pipeline is loaded.

This module is imported by spaCy whenever a pipeline is created (entry points are loaded then), so
it imports nothing heavy at module level.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from .errors import Errors

MODEL_SUBDIR = "model"
SENTIMENT_NAMES = ("negative", "positive")  # label 0, label 1
# methods whose predict() is the argmax of model_.predict_proba (classes_ in model_.classes_)
_PROBA_LIKE = ("none", "dann")
# methods whose predict() is the argmax of model_.logits (labels in model_.labels)
_LOGITS_LIKE = ("lora",)


def _check_batch_size(component: str, batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise Errors.E421(component=component, option="batch_size", expected="an integer >= 1", got=repr(batch_size))
    return batch_size


def _softmax(x):
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class _NlptaComponent:
    """Shared by both components: the lazily loaded nlpta model, batching, and serialization
    (the model folder is copied into ``<pipeline>/<name>/model``)."""

    kind: ClassVar[str] = ""
    other: ClassVar[str] = ""  # the component for the other task kind (for messages)

    def __init__(self, nlp: Language, name: str, model: str | None = None, batch_size: int = 64) -> None:
        if model is not None and not isinstance(model, str | os.PathLike):
            raise Errors.E421(component=name, option="model", expected="the path of an nlpta model folder (a string)",
                              got=repr(model))
        self.name = name
        self.lang = nlp.lang
        self.batch_size = _check_batch_size(name, batch_size)
        self.model_dir: Path | None = Path(model) if model else None
        self._method = None

    # ------------------------------------------------------------------ the model
    @property
    def method(self):
        """The fitted nlpta method (:class:`nlpta.methods.Method`), read on first use.

        Raises:
            ParameterError: E421, the component has no ``model`` folder.
            ModelFolderError: E307, the folder is not a saved nlpta model; E420, it holds a model
                of the other task (a sentiment model given to ``nlpta_tagger`` or the reverse).
        """
        if self._method is None:
            if self.model_dir is None:
                raise Errors.E421(component=self.name, option="model",
                                  expected="an nlpta model folder: add_pipe(..., config={'model': DIR}) with a "
                                           "folder written by `nlpta run --save-model` or Method.save",
                                  got="None")
            self._method = self._read(self.model_dir)
        return self._method

    def _read(self, folder: Path):
        from .methods import load_model

        m = load_model(folder)
        if m.task != self.kind:
            raise Errors.E420(component=self.name, kind=self.kind, path=folder,
                              found=f"a {m.task} model (method {m.name!r})",
                              hint=f"use the component {self.other!r} for it")
        return m

    # ------------------------------------------------------------------ running
    def __call__(self, doc: Doc) -> Doc:
        """Annotate one Doc (in place) and return it."""
        self._annotate([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """Annotate Docs ``batch_size`` at a time (the component's ``batch_size`` by default): one
        model call per batch. Yields the Docs in order."""
        size = self.batch_size if batch_size is None else _check_batch_size(self.name, batch_size)
        for batch in minibatch(stream, size=size):
            self._annotate(batch)
            yield from batch

    def initialize(self, get_examples=None, *, nlp: Language | None = None) -> None:
        """Read the model now (``nlp.initialize()``), so that a bad folder fails early."""
        _ = self.method

    def _annotate(self, docs: list[Doc]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ serialization
    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the nlpta model into ``path/model``: a copy of the folder it was read from (or
        is to be read from); where that folder is gone, the loaded model is saved afresh.

        Raises:
            ParameterError: E421, the component has no model.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        target = path / MODEL_SUBDIR
        src = self.model_dir
        from .methods import MODEL_FILE

        have_src = src is not None and (src / MODEL_FILE).is_file()
        if have_src and target.exists() and os.path.samefile(src, target):
            return
        if not have_src and self._method is None:
            _ = self.method  # raises E421 (no model) or E307 (the folder is gone)
        tmp = path / f".{MODEL_SUBDIR}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            if have_src:
                shutil.copytree(src, tmp)
            else:
                self._method.save(tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> _NlptaComponent:
        """Read the model that :meth:`to_disk` wrote into ``path/model``. Returns the component.

        Raises:
            ModelFolderError: E422, no saved model there; E307 / E420 as for :attr:`method`.
        """
        from .methods import MODEL_FILE

        folder = Path(path) / MODEL_SUBDIR
        if not (folder / MODEL_FILE).is_file():
            raise Errors.E422(component=self.name, path=path, detail=f"no {MODEL_SUBDIR}/{MODEL_FILE}")
        self._method = self._read(folder)
        self.model_dir = folder
        return self


class NlptaTagger(_NlptaComponent):
    """``nlpta_tagger``: ``token.pos_`` from an nlpta POS model (see the module docstring)."""

    kind = "pos"
    other = "nlpta_textcat"

    def _annotate(self, docs: list[Doc]) -> None:
        from .data.schema import pos_dataset

        keep = [[i for i, t in enumerate(doc) if not t.is_space] for doc in docs]
        rows = [{"id": str(k), "tokens": [doc[i].text for i in idx], "domain": "", "lang": self.lang}
                for k, (doc, idx) in enumerate(zip(docs, keep, strict=True)) if idx]
        preds = iter(self.method.predict(pos_dataset(rows)) if rows else [])
        for doc, idx in zip(docs, keep, strict=True):
            for t in doc:
                if t.is_space:
                    t.pos_ = "SPACE"
            if not idx:
                continue
            for i, tag in zip(idx, next(preds), strict=True):
                doc[i].pos_ = tag


class NlptaTextcat(_NlptaComponent):
    """``nlpta_textcat``: ``doc.cats`` from an nlpta sentiment model (see the module docstring)."""

    kind = "sentiment"
    other = "nlpta_tagger"

    def scores(self, texts: list[str]) -> tuple[list[str], list[list[float]]]:
        """The label names and, per text, one score per label: the model's class probabilities
        where its method has them, else 1.0 for the predicted label and 0.0 for the others.

        Returns:
            ``(labels, rows)`` with ``rows[i][j]`` the score of ``labels[j]`` for ``texts[i]``.
        """
        import numpy as np

        from .data.schema import sentiment_dataset
        from .methods import METHODS

        m = self.method
        ds = sentiment_dataset({"id": str(k), "text": t, "lang": self.lang} for k, t in enumerate(texts))
        predict = type(m).predict
        model = getattr(m, "model_", None)
        if any(predict is METHODS[n].predict for n in _LOGITS_LIKE if n in METHODS) and hasattr(model, "logits"):
            labels = [str(x) for x in model.labels]
            probs = _softmax(np.stack(model.logits(ds))) if len(ds) else np.zeros((0, len(labels)))
            return labels, probs.tolist()
        if any(predict is METHODS[n].predict for n in _PROBA_LIKE if n in METHODS) and hasattr(model, "predict_proba"):
            labels = [self._name(c) for c in model.classes_]
            return labels, np.asarray(model.predict_proba(list(ds["text"])), dtype=np.float64).tolist()
        labels = list(SENTIMENT_NAMES)
        return labels, [[1.0 if j == int(y) else 0.0 for j in range(len(labels))] for y in m.predict(ds)]

    @staticmethod
    def _name(c) -> str:
        try:
            return SENTIMENT_NAMES[int(c)]
        except (ValueError, IndexError):
            return str(c)

    def _annotate(self, docs: list[Doc]) -> None:
        labels, rows = self.scores([doc.text for doc in docs])
        for doc, row in zip(docs, rows, strict=True):
            doc.cats = {lab: float(p) for lab, p in zip(labels, row, strict=True)}


@Language.factory("nlpta_tagger", default_config={"model": None, "batch_size": 64}, assigns=["token.pos"])
def make_tagger(nlp: Language, name: str, model: str | None, batch_size: int) -> NlptaTagger:
    """The ``nlpta_tagger`` component (``config={"model": DIR, "batch_size": 64}``): ``token.pos_``
    from the nlpta POS model saved in ``DIR``. Returns the component; the model is read on first use."""
    return NlptaTagger(nlp, name, model=model, batch_size=batch_size)


@Language.factory("nlpta_textcat", default_config={"model": None, "batch_size": 64}, assigns=["doc.cats"])
def make_textcat(nlp: Language, name: str, model: str | None, batch_size: int) -> NlptaTextcat:
    """The ``nlpta_textcat`` component (``config={"model": DIR, "batch_size": 64}``): ``doc.cats``
    from the nlpta sentiment model saved in ``DIR``. Returns the component; the model is read on
    first use."""
    return NlptaTextcat(nlp, name, model=model, batch_size=batch_size)
