"""Shallow DANN over bag-of-n-grams (Ganin et al. 2016, JMLR, section 5.1.2, the Amazon reviews
experiment): the 5,000 most frequent uni+bigrams, one hidden layer of 50 sigmoid units, a label
head and a logistic domain head behind the gradient reversal layer. A scikit-learn estimator
(source and target rows together in ``X``, SKADA-style ``sample_domain``); saves to safetensors +
JSON.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d, validate_data
from torch import nn

from .._domains import source_mask
from ..errors import Errors
from ..io import atomic_write_json
from ..models.classical import (
    EstimatorInputError,
    NoTargetRowsWarning,
    _check_fitted,
    _text_list,
    int_seed,
)
from .grl import GradientReversal, _torch_threads, annealed_lr, dann_lambda


def _is_text(X) -> bool:
    """Texts (a list/tuple, 1-d array or Series of str) rather than a feature matrix."""
    if isinstance(X, str):
        return True
    if isinstance(X, list | tuple):
        return len(X) > 0 and isinstance(X[0], str)
    if sp.issparse(X) or isinstance(X, torch.Tensor):
        return False
    if getattr(X, "ndim", None) == 1 and getattr(getattr(X, "dtype", None), "kind", "") in "UO":
        first = next(iter(X), None)
        return isinstance(first, str)
    return False


def _source_mask(n: int, y: np.ndarray, sample_domain) -> np.ndarray:
    """SKADA's convention (:func:`nlpta._domains.source_mask`): ``sample_domain`` > 0 source, < 0
    target; without it, y == -1 marks target rows."""
    return source_mask(n, y, sample_domain, cls=EstimatorInputError)


# ------------------------------------------------------------------------- shallow DANN
class _ShallowNet(nn.Module):
    def __init__(self, n_in: int, hidden: int, n_classes: int, domain_hidden: int) -> None:
        super().__init__()
        self.feature = nn.Linear(n_in, hidden)
        self.label = nn.Linear(hidden, n_classes)
        self.grl = GradientReversal(0.0)
        if domain_hidden:
            self.domain = nn.Sequential(nn.Linear(hidden, domain_hidden), nn.ReLU(), nn.Linear(domain_hidden, 1))
        else:
            self.domain = nn.Linear(hidden, 1)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.feature(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.hidden(x)
        return h, self.label(h), self.domain(self.grl(h)).squeeze(-1)


FEATURES = ("binary", "tfidf")
_DENSIFY_MAX = 20_000_000  # float32 entries (80 MB) below which a sparse training matrix is densified


class ShallowDANN(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Shallow domain-adversarial network over bag-of-n-grams (Ganin et al. 2016, JMLR, section
    5.1.2, the Amazon reviews experiment; ``adversarial=False`` is their plain "NN").

    ``fit(X, y, sample_domain=None)``: ``X`` holds the labeled source rows and the unlabeled
    target rows together -- raw texts or a feature matrix (dense or scipy sparse); target rows are
    those with a negative ``sample_domain`` or, without it, label -1 (SKADA's convention). Without
    target rows the network trains without its adversarial term (a
    :class:`~nlpta.models.classical.NoTargetRowsWarning` says so). With metadata routing on,
    ``fit`` requests ``sample_domain`` by default.

    Input from texts: the ``max_features`` most frequent n-grams (``ngram_range``) of all rows
    (source + target), as ``binary`` presence or ``tfidf`` (sublinear tf, l2-normalised rows
    scaled by the square root of the mean number of active n-grams per row, so that both inputs
    have the same mean norm and one learning rate suits both; the scale is kept in
    ``input_scale_``). One hidden layer of ``hidden`` sigmoid units; a softmax label head; a domain
    head (logistic as in the paper, or an MLP with ``domain_hidden`` ReLU units) behind a gradient
    reversal layer. Each minibatch holds ``batch_size / 2`` source and ``batch_size / 2`` target
    rows (the target rows cycle through seeded permutations). The loss is task cross-entropy
    (source half) + domain cross-entropy (all rows); the reversal coefficient follows
    ``lambda_max * dann_lambda(p, gamma)`` and the learning rate :func:`annealed_lr` (``lr_anneal``).

    Optimisation: plain SGD. Simultaneous gradient descent (domain head) / ascent (features)
    cycles on this game -- the features flip which side of the domain head each domain lies on
    instead of forgetting the domain, and a fresh classifier still separates them. Two settings
    damp that cycle: no momentum (``momentum=0``) and weight decay on the domain head
    (``domain_weight_decay``, 0.1), with the head's rate ``domain_lr_mult`` times ``lr``.

    Args:
        hidden: hidden units (50 in the paper).
        max_features: vocabulary size (5,000 in the paper; texts only).
        ngram_range: n-gram orders (texts only).
        features: ``tfidf`` or ``binary`` (texts only).
        lr: initial learning rate.
        epochs: passes over the source rows.
        batch_size: rows per minibatch (half source, half target).
        lambda_max: the reversal coefficient's final value (0 = no adaptation).
        gamma: the schedule's steepness.
        adversarial: ``False`` gives the plain network (lambda = 0: the domain head is still
            trained, but its gradient does not reach the features, so ``history_`` shows how
            separable the plain features are).
        momentum, weight_decay: SGD momentum and weight decay of the feature layer and label head.
        lr_anneal: follow :func:`annealed_lr` (else a constant rate).
        domain_hidden: 0 = a logistic domain regressor as in the paper, else an MLP's width.
        domain_lr_mult: the domain head's learning rate relative to ``lr``.
        domain_weight_decay: the domain head's weight decay (damps the min-max cycle).
        n_threads: torch threads during fit/predict (restored afterwards).
        random_state: seeds the initialisation and the batches (an int is used as the seed).

    Attributes (after fit):
        vectorizer_ (``None`` when fitted on a matrix), input_scale_, classes_, n_features_in_,
        net_, history_ (one dict per epoch: task_loss, domain_loss, domain_acc -- the domain
        head's training-batch accuracy; ``None`` without target rows --, lambda, lr), n_source_,
        n_target_, steps_, seed_ (the integer seed used).
    """

    __metadata_request__fit = {"sample_domain": True}  # noqa: RUF012  (scikit-learn's class-level request)

    def __init__(self, hidden: int = 50, max_features: int = 5000, ngram_range: Sequence[int] = (1, 2),
                 features: str = "tfidf", lr: float = 0.5, epochs: int = 20, batch_size: int = 64,
                 lambda_max: float = 1.0, gamma: float = 10.0, adversarial: bool = True,
                 momentum: float = 0.0, weight_decay: float = 1e-3, lr_anneal: bool = True,
                 domain_hidden: int = 0, domain_lr_mult: float = 1.0, domain_weight_decay: float = 0.1,
                 n_threads: int = 1, random_state=0) -> None:
        self.hidden = hidden
        self.max_features = max_features
        self.ngram_range = ngram_range
        self.features = features
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.lambda_max = lambda_max
        self.gamma = gamma
        self.adversarial = adversarial
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.lr_anneal = lr_anneal
        self.domain_hidden = domain_hidden
        self.domain_lr_mult = domain_lr_mult
        self.domain_weight_decay = domain_weight_decay
        self.n_threads = n_threads
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []  # the hidden features are float32 whatever the input
        return tags

    def _validate_params(self) -> None:
        if self.features not in FEATURES:
            raise Errors.E322(what="features", expected=f"one of {', '.join(FEATURES)}", got=repr(self.features),
                              cls=EstimatorInputError)
        for k in ("hidden", "max_features", "epochs", "n_threads"):
            v = getattr(self, k)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise Errors.E322(what=k, expected="a positive integer", got=repr(v), cls=EstimatorInputError)
        if not isinstance(self.domain_hidden, numbers.Integral) or self.domain_hidden < 0:
            raise Errors.E322(what="domain_hidden", expected="an integer >= 0", got=repr(self.domain_hidden),
                              cls=EstimatorInputError)
        if not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 2:
            raise Errors.E322(what="batch_size", expected="an integer >= 2 (half source, half target)",
                              got=repr(self.batch_size), cls=EstimatorInputError)
        ngr = (list(self.ngram_range) if isinstance(self.ngram_range, Sequence | np.ndarray)
               and not isinstance(self.ngram_range, str) else [])
        if len(ngr) != 2 or not 1 <= ngr[0] <= ngr[1]:
            raise Errors.E322(what="ngram_range", expected="[min, max] with 1 <= min <= max",
                              got=repr(self.ngram_range), cls=EstimatorInputError)
        if not self.lr > 0:
            raise Errors.E322(what="lr", expected="a number > 0", got=repr(self.lr), cls=EstimatorInputError)
        for k in ("lambda_max", "gamma"):
            if not getattr(self, k) >= 0:
                raise Errors.E322(what=k, expected="a number >= 0", got=repr(getattr(self, k)), cls=EstimatorInputError)

    def _vectorizer(self):
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        ngr = tuple(int(n) for n in self.ngram_range)
        if self.features == "binary":
            return CountVectorizer(ngram_range=ngr, max_features=self.max_features, binary=True,
                                   lowercase=True, dtype=np.float32)
        return TfidfVectorizer(ngram_range=ngr, max_features=self.max_features, sublinear_tf=True,
                               norm="l2", lowercase=True, dtype=np.float32)

    # -------------------------------------------------------------- fitting
    def fit(self, X, y, sample_domain=None) -> ShallowDANN:
        """Fit on source and target rows together (texts: the vectorizer on all rows first).

        Args:
            X: texts or a matrix (dense or sparse), source and target rows.
            y: labels of the source rows; -1 for target rows (their labels are never used).
            sample_domain: per row, positive for a source row and negative for a target row
                (default: y == -1 marks the target rows).

        Returns:
            self.
        """
        self._validate_params()
        if y is None:
            raise Errors.E324(what="ShallowDANN", cls=EstimatorInputError)
        text = _is_text(X)
        if text:
            texts = _text_list(X)
            y = column_or_1d(np.asarray(y), warn=True)
            check_consistent_length(texts, y)
            if y.dtype.kind in "fc":
                assert_all_finite(y, input_name="y")
        else:
            X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float32)
        src = _source_mask(len(y), y, sample_domain)
        ys = y[src]
        if len(ys) == 0:
            raise Errors.E305(detail="no source rows (every row is marked as a target row)", cls=EstimatorInputError)
        if ys.dtype.kind in "iuf" and np.any(ys == -1):
            raise Errors.E304(cls=EstimatorInputError,
                              detail="source rows must have labels (-1 marks unlabeled target rows); "
                                     f"{int(np.sum(ys == -1))} source rows have -1")
        check_classification_targets(ys)
        classes = np.unique(ys)
        if len(classes) < 2:
            raise Errors.E323(what="the source labels", found=classes.tolist(), cls=EstimatorInputError)
        if text:
            vec = self._vectorizer()
            M = vec.fit_transform(texts).tocsr()
            scale = 1.0
            if self.features == "tfidf":  # rows get the mean norm of the binary vectors: one lr suits both
                scale = float(np.sqrt(max(1.0, np.mean(np.diff(M.indptr)))))
                M = (M * np.float32(scale)).tocsr()
            self.vectorizer_, self.input_scale_ = vec, scale
            self.n_features_in_ = int(M.shape[1])
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            M = X
            self.vectorizer_, self.input_scale_ = None, 1.0
        Xs, Xt = M[src], M[~src]
        if Xt.shape[0] == 0:
            warnings.warn("ShallowDANN: no target rows (mark them with y = -1 or a negative sample_domain): trained "
                          "without the adversarial term", NoTargetRowsWarning, stacklevel=2)
        seed = int_seed(self.random_state)
        self.seed_ = seed
        self.classes_ = classes
        yi = np.searchsorted(classes, ys)
        self.n_source_, self.n_target_ = int(Xs.shape[0]), int(Xt.shape[0])
        with _torch_threads(self.n_threads):
            self._train(Xs, yi, Xt, seed)
        return self

    def _train(self, Xs, yi: np.ndarray, Xt, seed: int) -> None:
        rng = np.random.default_rng(seed)
        with torch.random.fork_rng(devices=[]):  # seeds the initialisation without touching the caller's RNG
            torch.manual_seed(seed)
            net = _ShallowNet(self.n_features_in_, self.hidden, len(self.classes_), self.domain_hidden)
        main = [p for n, p in net.named_parameters() if not n.startswith("domain.")]
        opt = torch.optim.SGD([{"params": main, "mult": 1.0, "momentum": self.momentum,
                                "weight_decay": self.weight_decay},
                               {"params": list(net.domain.parameters()), "mult": float(self.domain_lr_mult),
                                "momentum": 0.0, "weight_decay": float(self.domain_weight_decay)}], lr=self.lr)
        ns, nt = Xs.shape[0], Xt.shape[0]
        # small sparse inputs are densified once (the same values; row slicing a CSR matrix every
        # step costs more than the step itself)
        Xs, Xt = (M.toarray() if sp.issparse(M) and M.shape[0] * M.shape[1] <= _DENSIFY_MAX else M for M in (Xs, Xt))
        half_s = self.batch_size // 2
        half_t = (self.batch_size - half_s) if nt else 0
        steps_per_epoch = max(1, math.ceil(ns / half_s))
        total = self.epochs * steps_per_epoch
        t_perm, t_pos = (rng.permutation(nt), 0) if nt else (np.zeros(0, dtype=int), 0)
        ce = nn.CrossEntropyLoss()
        bce = nn.BCEWithLogitsLoss()
        history, step, lr = [], 0, self.lr
        ys_t = torch.as_tensor(yi, dtype=torch.long)
        for epoch in range(self.epochs):
            perm = rng.permutation(ns)
            sums = np.zeros(3)
            for k in range(steps_per_epoch):
                si = perm[k * half_s:(k + 1) * half_s]
                if len(si) == 0:
                    continue
                ti = []
                while len(ti) < half_t:  # the target rows cycle through fresh permutations
                    take = t_perm[t_pos:t_pos + half_t - len(ti)]
                    ti.extend(take.tolist())
                    t_pos += len(take)
                    if t_pos >= nt:
                        t_perm, t_pos = rng.permutation(nt), 0
                p = step / total
                lam = self.lambda_max * dann_lambda(p, self.gamma) if self.adversarial and nt else 0.0
                lr = annealed_lr(self.lr, p) if self.lr_anneal else self.lr
                for g in opt.param_groups:
                    g["lr"] = lr * g["mult"]
                net.grl.lambda_ = lam
                parts = [_dense(Xs, si)] + ([_dense(Xt, np.asarray(ti))] if ti else [])
                x = torch.as_tensor(np.vstack(parts))
                h, logits, dlogit = net(x)  # lambda = 0 (adversarial=False): the domain head learns, the features ignore it
                task_loss = ce(logits[: len(si)], ys_t[si])
                loss = task_loss
                dacc = dom = 0.0
                if ti:
                    d = torch.cat([torch.zeros(len(si)), torch.ones(len(ti))])
                    dom_loss = bce(dlogit, d)
                    loss = task_loss + dom_loss
                    dom = float(dom_loss.detach())
                    with torch.no_grad():
                        dacc = float(((dlogit > 0).float() == d).float().mean())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sums += (float(task_loss.detach()), dom, dacc)
                step += 1
            sums /= steps_per_epoch
            history.append({"epoch": epoch + 1, "task_loss": float(sums[0]),
                            "domain_loss": float(sums[1]) if nt else None,
                            "domain_acc": float(sums[2]) if nt else None,
                            "lambda": float(net.grl.lambda_), "lr": float(lr)})
        net.eval()
        self.net_ = net
        self.history_ = history
        self.steps_ = step

    # -------------------------------------------------------------- prediction
    def _matrix(self, X):
        _check_fitted(self, "net_")
        if _is_text(X):
            if self.vectorizer_ is None:
                raise Errors.E304(cls=EstimatorInputError,
                                  detail="this ShallowDANN was fitted on a matrix; pass a matrix, not texts")
            M = self.vectorizer_.transform(_text_list(X))
            return (M * np.float32(self.input_scale_)).tocsr() if self.input_scale_ != 1.0 else M.tocsr()
        return validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)

    def _forward(self, X, what: str, batch: int = 1024) -> np.ndarray:
        X = self._matrix(X)
        out = []
        with _torch_threads(self.n_threads), torch.no_grad():
            for s in range(0, X.shape[0], batch):
                x = torch.as_tensor(_dense(X, np.arange(s, min(s + batch, X.shape[0]))))
                h = self.net_.hidden(x)
                if what == "hidden":
                    out.append(h.numpy())
                elif what == "proba":
                    out.append(torch.softmax(self.net_.label(h).double(), -1).numpy())
                else:
                    out.append(torch.sigmoid(self.net_.domain(h).squeeze(-1).double()).numpy())
        if not out:
            width = {"hidden": self.hidden, "proba": len(self.classes_)}.get(what)
            return np.zeros((0, width) if width else (0,), np.float32)
        return np.concatenate(out)

    def transform(self, X) -> np.ndarray:
        """The hidden-layer features (rows x ``hidden``, float32) of texts or a matrix."""
        return self._forward(X, "hidden")

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (rows x classes, in the order of ``classes_``) of texts or a matrix."""
        return self._forward(X, "proba")

    def predict(self, X) -> np.ndarray:
        """The predicted label of each row (texts or a matrix)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def domain_proba(self, X) -> np.ndarray:
        """The domain head's probability that each row is a target row."""
        return self._forward(X, "domain")

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on the labeled rows (label -1, an unlabeled target row, is skipped)."""
        from sklearn.metrics import accuracy_score

        y = column_or_1d(np.asarray(y))
        keep = y != -1 if y.dtype.kind in "iuf" else np.ones(len(y), dtype=bool)
        pred = self.predict(X)
        if len(pred) != len(y):
            raise Errors.E320(what="y", got=len(y), expected=f"{len(pred)} rows of X", per="row",
                              cls=EstimatorInputError)
        w = None if sample_weight is None else np.asarray(sample_weight)[keep]
        return float(accuracy_score(y[keep], pred[keep], sample_weight=w))

    # -------------------------------------------------------------- save / load
    def save(self, directory: str | Path) -> Path:
        """Write ``dann.json`` (settings, vocabulary, history) and ``dann.safetensors`` (weights,
        idf); no pickle. Returns the folder."""
        from safetensors.torch import save_file

        _check_fitted(self, "net_")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tensors = {f"net.{k}": v.detach().contiguous() for k, v in self.net_.state_dict().items()}
        vocab = None
        if self.vectorizer_ is not None:
            voc = self.vectorizer_.vocabulary_
            vocab = sorted(voc, key=voc.get)
            if self.features == "tfidf":
                tensors["idf"] = torch.as_tensor(np.asarray(self.vectorizer_.idf_, dtype=np.float64))
        save_file(tensors, str(d / "dann.safetensors"))
        params = {k: (list(v) if isinstance(v, tuple | np.ndarray) else v)
                  for k, v in self.get_params(deep=False).items()}
        if not isinstance(params["random_state"], int | None):
            params["random_state"] = self.seed_
        atomic_write_json(d / "dann.json", {
            "kind": "ShallowDANN", "params": params, "seed": self.seed_,
            "classes": self.classes_.tolist(), "n_features_in": self.n_features_in_, "n_source": self.n_source_,
            "n_target": self.n_target_, "steps": self.steps_, "history": self.history_,
            "input_scale": self.input_scale_, "vocabulary": vocab,
        })
        return d

    @classmethod
    def load(cls, directory: str | Path) -> ShallowDANN:
        """Rebuild a model written by :meth:`save`."""
        from safetensors.torch import load_file

        d = Path(directory)
        if not (d / "dann.json").exists():
            raise Errors.E307(path=d, detail="no dann.json: not a folder written by ShallowDANN.save")
        meta = json.loads((d / "dann.json").read_text(encoding="utf-8"))
        if meta.get("kind") != "ShallowDANN":
            raise Errors.E312(path=d / "dann.json", found=f"a {meta.get('kind')!r} (dann.json's kind)",
                              expected="a ShallowDANN")
        params = dict(meta["params"])
        if "seed" in params:  # folders written before the estimator took random_state
            params["random_state"] = params.pop("seed")
        self = cls(**params)
        tensors = load_file(str(d / "dann.safetensors"))
        self.seed_, self.n_features_in_ = meta["seed"], meta["n_features_in"]
        self.n_source_, self.n_target_, self.steps_ = meta["n_source"], meta["n_target"], meta["steps"]
        self.classes_ = np.asarray(meta["classes"])
        self.history_ = meta["history"]
        self.net_ = _ShallowNet(self.n_features_in_, self.hidden, len(self.classes_), self.domain_hidden)
        self.net_.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        self.net_.eval()
        self.vectorizer_, self.input_scale_ = None, float(meta.get("input_scale", 1.0))
        if meta["vocabulary"] is not None:
            vec = self._vectorizer()
            vec.vocabulary_ = {w: i for i, w in enumerate(meta["vocabulary"])}
            if self.features == "tfidf":
                vec.idf_ = tensors["idf"].numpy()
            self.vectorizer_ = vec
        return self


def _dense(X, idx: np.ndarray) -> np.ndarray:
    rows = X[idx]
    rows = rows.toarray() if sp.issparse(rows) else np.asarray(rows)
    return rows.astype(np.float32, copy=False)
