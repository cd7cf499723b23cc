"""Registered instance-based methods: ``reweight-clf``, ``kmm``, ``kliep`` (importance weighting) and
the multi-source methods ``ms-weighted`` and ``ms-ensemble``.

The task model is the ``none`` baseline's (sentiment: tf-idf uni+bigram logistic regression, C by
5-fold CV on the source; POS: the feature tagger), trained with one weight per source row (POS:
per sentence, spread over its tokens). The weights compare the source rows with the target's
unlabeled rows (the task's ``unlabeled:`` entry), a seeded sample of at most ``max_target`` rows.
A task without target unlabeled rows is refused (E306; E328 for an entry with no rows): the
target test rows are never read for adaptation, not even their text.

:meth:`_Reweighted.fit_report` gives the weights' Kish effective sample size (ESS, absolute and as
a share of the source rows), their min / max / mean, and a warning when the ESS share is below
``ESS_WARN_SHARE`` (10%): the weighted model then learns from a handful of rows.

* ``reweight-clf`` -- w = p(target|x)/p(source|x) * n_s/n_t from a cross-validated logistic
  regression over tf-idf (or ``features: lsa|minilm``);
* ``kmm`` -- kernel mean matching (Huang et al. 2006) over dense features (``lsa``: tf-idf reduced
  to 100 dimensions by truncated SVD, unit length; or ``minilm`` sentence embeddings);
* ``kliep`` -- KLIEP (Sugiyama et al. 2008), same features, width by likelihood cross-validation.

Multi-source (a task whose ``source:`` is a list of entries, or one entry whose rows span several
domains, e.g. four EWT genres): ``none`` on such a task is the pooled baseline; ``ms-weighted``
pools with each source domain's rows weighted by its similarity to the target; ``ms-ensemble``
trains one model per source domain and averages their probabilities weighted by similarity
(``weighting: uniform`` for a plain average). Similarity = 1 - PAD/2 (= twice the error of the
proxy A-distance's domain classifier, :func:`nlpta.evaluators.proxy_a_distance`), raised to
``sharpness``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
import scipy.sparse as sp

from .._sampling import sample_rows
from ..errors import Errors
from ..evaluators import proxy_a_distance
from ..evaluators.domain import SEPARABLE_ACCURACY
from ..io import atomic_write_json
from ..models.classical import BowSentimentClassifier, FeatureTagger, _fit_vectorizer
from ..reweighting.weights import (
    KLIEP,
    KMM,
    DomainClassifierWeights,
    effective_sample_size,
    weight_summary,
)
from ..tasks import TransferTask
from .baselines import _ClassicalModel
from .registry import need_unlabeled, register

_BASE = _ClassicalModel.defaults
_TARGET = {"max_target": 2000, "clip": 10.0, "power": 1.0, "svd_dim": 100}
# below this share of the source rows, the weights' effective sample size earns a warning in fit_report()
ESS_WARN_SHARE = 0.10


def _defaults(**extra) -> dict[str, dict[str, Any]]:
    return {k: {**v, **_TARGET, **extra} for k, v in _BASE.items()}


def _texts(ds: datasets.Dataset) -> list[str]:
    return [" ".join(t) for t in ds["tokens"]] if "tokens" in ds.column_names else list(ds["text"])


def target_rows(task: TransferTask, max_rows: int | None, seed: int, method: str = "reweighting",
                min_rows: int = 1) -> tuple[datasets.Dataset, str]:
    """The target rows the weights are estimated against (a seeded sample of at most ``max_rows``
    of the task's unlabeled rows), and where they came from (``"unlabeled"``).

    Raises:
        ParameterError: E306 / E328 -- the task has no target unlabeled rows (the target test rows
            are never used instead).
    """
    unl = need_unlabeled(task, method, task.kind, min_rows=min_rows)
    return sample_rows(unl, max_rows, seed), "unlabeled"


def featurize(source: list[str], target: list[str], kind: str, seed: int, svd_dim: int = 100):
    """Source and target rows in one feature space: ``tfidf`` (sparse uni+bigrams), ``lsa`` (tf-idf
    -> truncated SVD, unit rows) or ``minilm`` (mean-pooled all-MiniLM-L6-v2 sentence embeddings)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    if kind in ("tfidf", "lsa"):
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float64)
        X = _fit_vectorizer(vec, source + target, "the source and target rows")
        if X.shape[1] == 0:
            raise Errors.E305(detail="no feature occurs twice in the source and target rows: nothing to weight by")
        if kind == "lsa":
            from sklearn.decomposition import TruncatedSVD

            k = max(1, min(svd_dim, X.shape[1] - 1, X.shape[0] - 1))
            X = normalize(TruncatedSVD(k, random_state=seed).fit_transform(X))
    elif kind == "minilm":
        from ..evaluators.distance import minilm_embedder

        X = normalize(np.asarray(minilm_embedder()(source + target), dtype=np.float64))
    else:
        raise Errors.E322(what="features", expected="tfidf, lsa or minilm", got=repr(kind))
    return X[: len(source)], X[len(source):]


class _Reweighted(_ClassicalModel):
    """Importance-weighted ``none``: subclasses say how the weights are estimated."""

    def _estimator(self):
        raise NotImplementedError

    def fit(self, task: TransferTask) -> _Reweighted:
        p = self.params
        self._check(task.source)
        tgt, where = target_rows(task, p["max_target"], self.seed, self.name)
        Xs, Xt = featurize(_texts(task.source), _texts(tgt), p["features"], self.seed, p["svd_dim"])
        # source and target rows in one X, told apart by sample_domain (SKADA style)
        X = sp.vstack([Xs, Xt]).tocsr() if sp.issparse(Xs) else np.vstack([Xs, Xt])
        domain = np.r_[np.ones(Xs.shape[0], dtype=int), -np.ones(Xt.shape[0], dtype=int)]
        est = self._estimator().fit(X, sample_domain=domain)
        self.weights_ = est.weights_
        self.weight_info_ = {**weight_summary(est.weights_), "target_rows": len(tgt), "target_from": where,
                             "features": p["features"]}
        for attr in ("sigma_", "domain_accuracy_", "converged_"):
            if hasattr(est, attr):
                self.weight_info_[attr.rstrip("_")] = getattr(est, attr)
        self._fit_on(task.source, sample_weight=self.weights_)
        return self

    def fit_report(self) -> dict:
        """The importance weights at a glance: ``source_rows``, ``ess`` (Kish's effective sample size
        (sum w)^2 / sum w^2), ``ess_share`` (ess / source rows), ``weight_min`` / ``weight_max`` /
        ``weight_mean``, ``target_rows`` and ``target_from``, ``domain_accuracy`` where the estimator
        measured one, and ``warnings``: the ESS share is below ``ESS_WARN_SHARE`` (10%), or a domain
        classifier separates the domains (out-of-fold accuracy >= 0.99)."""
        w = np.asarray(self.weights_, dtype=np.float64)
        n = len(w)
        ess = effective_sample_size(w)
        share = ess / n if n else 0.0
        info = self.weight_info_
        out: dict = {"source_rows": n, "ess": ess, "ess_share": share,
                     "weight_min": float(w.min()) if n else None, "weight_max": float(w.max()) if n else None,
                     "weight_mean": float(w.mean()) if n else None,
                     "target_rows": info.get("target_rows"), "target_from": info.get("target_from")}
        warnings = []
        if share < ESS_WARN_SHARE:
            warnings.append(f"the importance weights leave {share:.0%} of the source rows in play (effective sample "
                            f"size {ess:.1f} of {n}; warned below {ESS_WARN_SHARE:.0%}): the model learns from a few "
                            "rows, expect high variance")
        acc = info.get("domain_accuracy")
        if acc is not None:
            out["domain_accuracy"] = float(acc)
            if acc >= SEPARABLE_ACCURACY:
                warnings.append(f"a domain classifier tells the source rows from the target rows with out-of-fold "
                                f"accuracy {acc:.2f}: the domains barely overlap, which importance weights cannot "
                                "make up for")
        out["warnings"] = warnings
        return out

    def _save(self, directory: Path) -> None:
        """The model's files and ``weights.json`` (the summary and one weight per source row)."""
        super()._save(directory)
        atomic_write_json(directory / "weights.json", {**self.weight_info_,
                                                       "weights": [float(w) for w in self.weights_]})

    def _load(self, directory: Path) -> None:
        import json

        super()._load(directory)
        info = json.loads((directory / "weights.json").read_text(encoding="utf-8"))
        self.weights_ = np.asarray(info.pop("weights"), dtype=np.float64)
        self.weight_info_ = info


@register("reweight-clf")
class ReweightClassifier(_Reweighted):
    """Source rows weighted by a domain classifier's odds p(target|x)/p(source|x) (out of fold)."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(features="tfidf", C_domain=1.0, cv_domain=5)

    def _estimator(self):
        p = self.params
        return DomainClassifierWeights(C=p["C_domain"], cv=p["cv_domain"], clip=p["clip"], power=p["power"],
                                       random_state=self.seed)


@register("kmm")
class KernelMeanMatching(_Reweighted):
    """Kernel mean matching (Huang et al. 2006) on dense features; width by the median heuristic."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(features="lsa", B=10.0, sigma=None, eps=None)

    def _estimator(self):
        p = self.params
        return KMM(sigma=p["sigma"], B=p["B"], eps=p["eps"], clip=p["clip"], power=p["power"], random_state=self.seed)


@register("kliep")
class Kliep(_Reweighted):
    """KLIEP (Sugiyama et al. 2008) on dense features; width by likelihood cross-validation."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(features="lsa", sigma=None, n_centers=100)

    def _estimator(self):
        p = self.params
        return KLIEP(sigma=p["sigma"], n_centers=p["n_centers"], clip=p["clip"], power=p["power"], random_state=self.seed)


# ------------------------------------------------------------------------------ multi-source
_MS = {"max_target": 1000, "sharpness": 1.0, "weighting": "similarity"}


def source_similarity(task: TransferTask, max_rows: int, seed: int,
                      method: str = "multi-source") -> dict[str, dict[str, float]]:
    """Per source domain: its rows, proxy A-distance to the target rows, and similarity 1 - PAD/2.

    Raises:
        NlptaError: the source rows come from a single domain (E305), a source domain has fewer
            than 2 rows (E326), the task has no target unlabeled rows (E306 / E328; the target test
            rows are never used instead).
    """
    doms = task.source["domain"]
    names = sorted(set(doms))
    if len(names) < 2:
        raise Errors.E305(detail=f"a multi-source method needs source rows from two or more domains; the source "
                                 f"holds only {names[0] if names else 'no rows'!r} (give `source:` a list of entries, "
                                 "or a corpus entry with several domains)")
    arr = np.asarray(doms)
    sizes = {d: int((arr == d).sum()) for d in names}
    if min(sizes.values()) < 2:
        raise Errors.E326(what="the multi-source source", got=", ".join(f"{c} row(s) of {d!r}" for d, c in sizes.items()),
                          needs="the similarity of a domain to the target comes from a cross-validated domain "
                                "classifier, which needs at least 2 rows of every source domain")
    tgt, _ = target_rows(task, max_rows, seed, method, min_rows=2)
    out = {}
    for d in names:
        part = task.source.select(np.flatnonzero(arr == d).tolist())
        pad = proxy_a_distance(part, tgt, max_rows=max_rows, seed=seed)["pad"]
        out[d] = {"rows": len(part), "pad": float(pad), "similarity": float(max(1.0 - pad / 2.0, 1e-3))}
    return out


def _domain_weights(sim: dict, sharpness: float, weighting: str) -> dict[str, float]:
    if weighting == "uniform":
        raw = {d: 1.0 for d in sim}
    elif weighting == "similarity":
        raw = {d: v["similarity"] ** sharpness for d, v in sim.items()}
    else:
        raise Errors.E322(what="weighting", expected="similarity or uniform", got=repr(weighting))
    z = sum(raw.values())
    return {d: w / z for d, w in raw.items()}


class _MultiSource(_ClassicalModel):
    """Shared by the multi-source methods: each source domain's similarity to the target and its
    weight (``similarity_``, ``domain_weights_``), saved as ``sources.json``."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {k: {**v, **_MS} for k, v in _BASE.items()}

    def fit_report(self) -> dict:
        """Each source domain's ``similarity`` to the target (1 - PAD/2) and its ``domain_weights``."""
        return {"similarity": {d: float(v["similarity"]) for d, v in self.similarity_.items()},
                "domain_weights": {d: float(w) for d, w in self.domain_weights_.items()}}

    def _weigh_sources(self, task: TransferTask) -> None:
        p = self.params
        self._check(task.source)
        self.similarity_ = source_similarity(task, p["max_target"], self.seed, self.name)
        self.domain_weights_ = _domain_weights(self.similarity_, p["sharpness"], p["weighting"])

    def _save_sources(self, directory: Path, **extra) -> None:
        atomic_write_json(directory / "sources.json", {"similarity": self.similarity_,
                                                       "domain_weights": self.domain_weights_, **extra})

    def _load_sources(self, directory: Path) -> dict:
        import json

        meta = json.loads((directory / "sources.json").read_text(encoding="utf-8"))
        self.similarity_ = meta["similarity"]
        self.domain_weights_ = {d: float(w) for d, w in meta["domain_weights"].items()}
        return meta


@register("ms-weighted")
class MultiSourceWeighted(_MultiSource):
    """Pooled sources, each domain's rows weighted by its similarity to the target (1 - PAD/2)."""

    def fit(self, task: TransferTask) -> MultiSourceWeighted:
        self._weigh_sources(task)
        doms = task.source["domain"]
        w = np.array([self.domain_weights_[d] for d in doms], dtype=np.float64)
        self._fit_on(task.source, sample_weight=w / w.mean())
        return self

    def _save(self, directory: Path) -> None:
        """The pooled model's files and ``sources.json`` (similarities and domain weights)."""
        super()._save(directory)
        self._save_sources(directory)

    def _load(self, directory: Path) -> None:
        super()._load(directory)
        self._load_sources(directory)


def _folder(name: str, i: int) -> str:
    """The sub-folder of one source domain's model: ``source-<name>`` when the name is a plain
    file name, else ``source-<i>``."""
    return f"source-{name}" if re.fullmatch(r"[A-Za-z0-9_.-]+", name) and name not in (".", "..") else f"source-{i}"


@register("ms-ensemble")
class MultiSourceEnsemble(_MultiSource):
    """One model per source domain; probabilities averaged with weights from target similarity."""

    def fit(self, task: TransferTask) -> MultiSourceEnsemble:
        self._weigh_sources(task)
        arr = np.asarray(task.source["domain"])
        self.models_ = {}
        parts = {d: task.source.select(np.flatnonzero(arr == d).tolist()) for d in self.domain_weights_}
        for d, part in parts.items():  # every domain checked before any model is trained
            self._check(part, what=f"the source domain {d!r}")
        for d, part in parts.items():
            self._fit_on(part, what=f"the source domain {d!r}")
            self.models_[d] = self.model_
        return self

    def _proba(self, model, ds: datasets.Dataset) -> tuple[np.ndarray, list]:
        if self.task == "sentiment":
            return model.predict_proba(ds["text"]), [int(c) for c in model.classes_]
        return model.predict_proba(ds["tokens"]), [str(c) for c in model.classes_]

    def predict(self, ds: datasets.Dataset) -> list:
        if len(ds) == 0:
            return []
        parts = {d: self._proba(m, ds) for d, m in self.models_.items()}
        classes = sorted({c for _, cs in parts.values() for c in cs}, key=str)
        col = {c: i for i, c in enumerate(classes)}
        total = None
        for d, (pr, cs) in parts.items():
            full = np.zeros((pr.shape[0], len(classes)))
            full[:, [col[c] for c in cs]] = pr
            total = full * self.domain_weights_[d] if total is None else total + full * self.domain_weights_[d]
        flat = [classes[i] for i in total.argmax(1)]
        if self.task == "sentiment":
            return [int(x) for x in flat]
        out, k = [], 0
        for toks in ds["tokens"]:
            out.append(flat[k: k + len(toks)])
            k += len(toks)
        return out

    def _save(self, directory: Path) -> None:
        """One sub-folder per source domain's model (``source-<domain>/``) and ``sources.json``
        (similarities, domain weights, and which folder holds which domain's model)."""
        folders = {}
        for i, (name, m) in enumerate(self.models_.items()):
            folders[name] = _folder(name, i)
            m.save(directory / folders[name])
        self._save_sources(directory, models=[[name, f] for name, f in folders.items()])

    def _load(self, directory: Path) -> None:
        meta = self._load_sources(directory)
        cls = BowSentimentClassifier if self.task == "sentiment" else FeatureTagger
        self.models_ = {name: cls.load(directory / folder) for name, folder in meta["models"]}
        self.model_ = next(reversed(self.models_.values()))
