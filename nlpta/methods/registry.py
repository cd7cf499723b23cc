"""The method registry: one name -> one class. The runner, the CLI and :func:`load_model` find
methods here.

A method is fitted on a :class:`~nlpta.tasks.TransferTask` (it may use the labeled source, the
target unlabeled rows and a small target labeled set) and predicts labels for any dataset of the
task's schema. A new method is one class in one ``nlpta/methods/`` module with one
:func:`register` line.

A fitted method is a thing a user keeps: :meth:`Method.save` writes ``method.json`` (name, task,
seed, parameters, nlpta version) beside the model's own files (JSON, ``.npz``, safetensors; never
pickle), and :func:`load_model` reads any such folder back into the fitted method.

Every method predicts on raw text too: ``predict`` takes a :class:`datasets.Dataset`, a list of
row dicts, or a list of strings (POS strings are tokenized by :func:`nlpta.data.tokenize`, spaCy's
tokenizer for the model's language); :meth:`Method.annotate` returns the predictions with the
text, the tokens and their character offsets (POS) or the label's probability (sentiment).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np

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


# ---------------------------------------------------------------------- raw text in, predictions out
DEFAULT_LANG = "en"
_OFFSETS = datasets.Sequence(datasets.Sequence(datasets.Value("int64")))
# the fitted attributes through which a method's ``predict`` reaches its final estimator (a
# scikit-learn classifier, BowSentimentClassifier, ShallowDANN, an AdapterModel): the probability
# of the predicted label is read from the same estimator, on the same input, as the label
_FINAL_ESTIMATORS = ("clf_", "model_")
_EXPECTED_INPUT = ("a datasets.Dataset, a list of row dicts, or a list of strings (one text per item, e.g. "
                   "model.predict([\"I loved it.\"]))")


def _describe(x: Any) -> str:
    if isinstance(x, str):
        return f"a single string ({x[:40]!r}{'...' if len(x) > 40 else ''})"
    return f"a {type(x).__name__}"


def _align_offsets(text: str, tokens: Sequence[str]) -> list[list[int]] | None:
    """Character offsets of ``tokens`` found left to right in ``text`` (``None`` when one is not there)."""
    out: list[list[int]] = []
    pos = 0
    for t in tokens:
        i = text.find(t, pos) if t else -1
        if i < 0:
            return None
        out.append([i, i + len(t)])
        pos = i + len(t)
    return out


@contextmanager
def _record_calls(est: Any, calls: list) -> Any:
    """While active, every call of ``est.predict`` also records ``est.predict_proba`` of the same
    input (``("proba", labels, P, classes)``); an estimator without ``predict_proba`` but with
    ``logits`` (an :class:`~nlpta.finetune.model.AdapterModel`) records its logits instead. The hook
    is an instance attribute, removed on exit; the class is never touched."""
    if callable(getattr(est, "predict_proba", None)) and callable(getattr(est, "predict", None)) \
            and hasattr(est, "classes_"):
        name, orig = "predict", est.predict

        def hook(X, *args, **kwargs):
            y = orig(X, *args, **kwargs)
            calls.append(("proba", np.asarray(y), np.asarray(est.predict_proba(X)), list(est.classes_)))
            return y
    elif callable(getattr(est, "logits", None)):
        name, orig = "logits", est.logits

        def hook(X, *args, **kwargs):
            out = orig(X, *args, **kwargs)
            calls.append(("logits", None, out, None))
            return out
    else:
        yield
        return
    try:
        setattr(est, name, hook)
    except (AttributeError, TypeError):  # slots or a read-only attribute: no probabilities, same labels
        yield
        return
    try:
        yield
    finally:
        vars(est).pop(name, None)


def _probabilities(calls: list, preds: list) -> list[float | None] | None:
    """The probability of each predicted label from the recorded calls, or ``None`` when the calls
    do not account for exactly these predictions (the method's ``predict`` took another path)."""
    if not calls or len({c[0] for c in calls}) != 1:
        return None
    if calls[0][0] == "proba":
        labels = np.concatenate([c[1] for c in calls])
        P = np.concatenate([c[2] for c in calls])
        classes = calls[0][3]
        if any(c[3] != classes for c in calls) or len(labels) != len(preds) or P.shape[0] != len(preds):
            return None
        col = {c: i for i, c in enumerate(classes)}
        out: list[float | None] = []
        for y, pred, row in zip(labels.tolist(), preds, P, strict=True):
            if y != pred or y not in col:
                return None
            out.append(float(row[col[y]]))
        return out
    rows = [np.asarray(x, dtype=np.float64) for c in calls for x in c[2]]
    if len(rows) != len(preds) or any(r.ndim != 1 for r in rows):
        return None
    out = []
    for r, pred in zip(rows, preds, strict=True):
        e = np.exp(r - r.max())
        pr = e / e.sum()
        if int(np.argmax(pr)) != int(pred):
            return None
        out.append(float(pr[int(pred)]))
    return out


def _accepts_raw_text(fn: Callable) -> Callable:
    """Wrap a subclass's ``predict(ds)`` so that it also takes a list of strings or row dicts
    (turned into rows of the task's schema by :meth:`Method.rows`); a Dataset passes unchanged."""
    if getattr(fn, "_nlpta_raw_text", False):
        return fn

    @functools.wraps(fn)
    def predict(self: Method, ds: Any, *args, **kwargs) -> list:
        if not isinstance(ds, datasets.Dataset):
            ds = self.rows(ds)
            if len(ds) == 0:
                return []
        return fn(self, ds, *args, **kwargs)

    predict._nlpta_raw_text = True  # type: ignore[attr-defined]
    return predict


def _run_folder_lang(model_dir: Path) -> str | None:
    """The target language of the run whose ``model-seed<S>/`` this is (from ``../task.yaml``: the
    target entry's ``lang``, else its registered corpus's language), or ``None``."""
    f = model_dir.parent / "task.yaml"
    if not model_dir.name.startswith("model-seed") or not f.is_file():
        return None
    try:
        from ..data import REGISTRY
        from ..tasks.yaml import safe_load

        target = safe_load(f.read_text(encoding="utf-8")).get("target")
        target = target[0] if isinstance(target, list) else target
        if target.get("lang"):
            return str(target["lang"])
        corpus = REGISTRY.get(str(target.get("corpus")))
        return corpus.lang if corpus is not None and corpus.lang else None
    except Exception:  # noqa: BLE001 -- a hint only: an unreadable task.yaml leaves the default
        return None


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

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "predict" in cls.__dict__:  # every method predicts on raw text, through its own predict
            cls.predict = _accepts_raw_text(cls.__dict__["predict"])

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
        """Sentiment: one int label per row. POS: one tag list per row.

        ``ds`` is a :class:`datasets.Dataset` of the task's schema, or -- for every subclass --
        a list of row dicts or of raw strings (see :meth:`rows`: POS strings are tokenized in
        :meth:`language`)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ raw text
    def language(self) -> str:
        """The language raw text is tokenized in (and that rows built from raw text carry): the
        target language a cross-lingual model was adapted to (``lang_`` of ``cl-scl`` and
        ``dict-translate``, the second of ``align``'s ``langs_``), else the target language of the
        run folder the model was saved in (``../task.yaml``, read by :func:`load_model`), else
        ``"en"``."""
        lang = getattr(self, "lang_", None)
        if isinstance(lang, str) and lang:
            return lang
        langs = getattr(self, "langs_", None)
        if isinstance(langs, (list, tuple)) and langs and isinstance(langs[-1], str):
            return langs[-1]
        return getattr(self, "saved_lang_", None) or DEFAULT_LANG

    def rows(self, texts_or_rows: Any, lang: str | None = None) -> datasets.Dataset:
        """The rows of the task's schema for :meth:`predict`: a Dataset is returned as it is; a
        list of strings becomes one row per string (POS: tokenized by
        :func:`nlpta.data.tokenize` in ``lang``, default :meth:`language`, with ``offsets``);
        row dicts keep their ``tokens`` (POS) or ``text``.

        Raises:
            ParameterError: E330 (not a list: a single string, a number...), E331 (an item that
                is not a string or row dict, a row without ``text`` / ``tokens``), E113 (spaCy has
                no tokenizer for ``lang``).
        """
        if isinstance(texts_or_rows, datasets.Dataset):
            return texts_or_rows
        return self._rows(texts_or_rows, lang)[0]

    def _rows(self, items: Any, lang: str | None) -> tuple[datasets.Dataset, list[dict]]:
        """``(rows, what annotate reports per row)`` for strings, row dicts or a Dataset."""
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            raise Errors.E330(got=_describe(items), expected=_EXPECTED_INPUT)
        lang = lang or self.language()
        pos = self.task == "pos"
        info: list[dict] = []
        todo: list[int] = []  # POS items whose text nlpta tokenizes
        for i, it in enumerate(items):
            if isinstance(it, str):
                info.append({"text": it})
                todo.append(i)
                continue
            if not isinstance(it, Mapping):
                raise Errors.E331(what=f"item {i}", detail=f"it is {_describe(it)}; expected a string (a text) or "
                                                           "a row dict")
            m: dict[str, Any] = {} if it.get("id") is None else {"id": str(it["id"])}
            text, tokens = it.get("text"), it.get("tokens")
            if text is not None and not isinstance(text, str):
                raise Errors.E331(what=f"row {i}", detail=f"its 'text' is {_describe(text)}; expected a string")
            if pos and tokens is not None:
                if isinstance(tokens, str) or not isinstance(tokens, Sequence) or \
                        not all(isinstance(t, str) for t in tokens):
                    raise Errors.E331(what=f"row {i}", detail="its 'tokens' must be a list of strings")
                tokens = list(tokens)
                offsets = it.get("offsets")
                if text is None:
                    text = " ".join(tokens)
                    offsets = _align_offsets(text, tokens)
                elif offsets is None or len(offsets) != len(tokens):
                    offsets = _align_offsets(text, tokens)
                else:
                    offsets = [[int(a), int(b)] for a, b in offsets]
                m.update(text=text, tokens=tokens, offsets=offsets, tokenizer=None)
            elif text is None:
                need = "'tokens' (a list of strings) or 'text' (a string)" if pos else "'text' (a string)"
                raise Errors.E331(what=f"row {i}", detail=f"it has no {need}; its keys are {sorted(map(str, it))}")
            else:
                m["text"] = text
                if pos:
                    todo.append(i)
            for k in ("domain", "lang"):
                if isinstance(it.get(k), str) and it[k]:
                    m["_" + k] = it[k]
            info.append(m)
        if pos and todo:
            from ..data.tokenize import tokenize, tokenizer_info

            name = tokenizer_info(lang)["tokenizer"]
            for i, tok in zip(todo, tokenize([info[i]["text"] for i in todo], lang=lang), strict=True):
                info[i].update(tokens=tok["tokens"], offsets=tok["offsets"], tokenizer=name)
        cols: dict[str, list] = {"id": [m.get("id", str(i)) for i, m in enumerate(info)],
                                 "domain": [m.pop("_domain", "") for m in info],
                                 "lang": [m.pop("_lang", lang) for m in info]}
        if pos:
            from ..data.schema import POS_FEATURES

            cols.update(tokens=[m["tokens"] for m in info], upos=[[] for _ in info], xpos=[[] for _ in info],
                        offsets=[m["offsets"] or [] for m in info])
            features = datasets.Features({**POS_FEATURES, "offsets": _OFFSETS})
        else:
            from ..data.schema import SENTIMENT_FEATURES

            cols.update(text=[m["text"] for m in info], label=[-1] * len(info), rating=[math.nan] * len(info))
            features = SENTIMENT_FEATURES
        return datasets.Dataset.from_dict({k: cols[k] for k in features}, features=features), info

    def annotate(self, texts_or_rows: Any, lang: str | None = None) -> list[dict]:
        """Predict on raw texts (or rows, or a Dataset) and return one dict per item.

        POS: ``{"text", "tokens", "offsets", "tags", "tokenizer"}`` -- ``text[start:end]`` is each
        token (offsets are ``None`` for given tokens not found in order in the row's text; a row
        with tokens and no text gets them joined by spaces), ``tokenizer`` the spaCy tokenizer used
        (:func:`nlpta.data.tokenizer_info`; ``None`` for rows that came with tokens). Sentiment:
        ``{"text", "label", "probability"}`` -- the probability of the predicted label from the
        estimator that predicted it (``predict_proba``, or the softmax of a transformer's logits),
        ``None`` for a method whose prediction is not one estimator's (``ms-ensemble``). A row's
        ``id`` is kept. ``lang`` (default :meth:`language`) picks the tokenizer.

        Raises:
            ParameterError: E330 / E331 (see :meth:`rows`), E113 (no tokenizer for ``lang``).
        """
        if isinstance(texts_or_rows, datasets.Dataset):
            texts_or_rows = iter(texts_or_rows)
        ds, info = self._rows(texts_or_rows, lang)
        if not info:
            return []
        if self.task == "pos":
            tags = self.predict(ds)
            keys = ("id", "text", "tokens", "offsets")
            return [{**{k: m[k] for k in keys if k in m}, "tags": list(t), "tokenizer": m.get("tokenizer")}
                    for m, t in zip(info, tags, strict=True)]
        labels, probs = self._predict_with_probability(ds)
        return [{**m, "label": int(y), "probability": pr} for m, y, pr in
                zip(info, labels, probs or [None] * len(labels), strict=True)]

    def _predict_with_probability(self, ds: datasets.Dataset) -> tuple[list, list[float | None] | None]:
        """``predict(ds)`` and the probability of each predicted label (``None`` where the method
        has none): the method's own ``predict`` runs unchanged while the final estimator it calls
        (``clf_`` or ``model_``) records ``predict_proba`` (or logits) of the same input; the
        probabilities are kept only when those calls account for exactly the returned labels.
        A subclass whose prediction does not go through one such estimator may override this."""
        calls: list = []
        with ExitStack() as stack:
            for attr in _FINAL_ESTIMATORS:
                est = vars(self).get(attr)
                if est is not None:
                    stack.enter_context(_record_calls(est, calls))
            preds = self.predict(ds)
        return preds, _probabilities(calls, [int(y) for y in preds])

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
    self.saved_lang_ = meta.get("lang") if isinstance(meta.get("lang"), str) else _run_folder_lang(d)
    return self
