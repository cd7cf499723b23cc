"""Shallow DANN over bag-of-n-grams (Ganin et al. 2016, JMLR, section 5.1.2, the Amazon reviews
experiment): the 5,000 most frequent uni+bigrams, one hidden layer of 50 sigmoid units, a label
head and a logistic domain head behind the gradient reversal layer. scikit-learn style; saves to
safetensors + JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..errors import NlptaError, NotFittedError
from ..io import atomic_write_json
from .grl import GradientReversal, _torch_threads, annealed_lr, dann_lambda


def _as_2d(X, what: str):
    if sp.issparse(X):
        return X.tocsr()
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.ndim != 2:
        raise NlptaError(f"{what} must be a 2-d matrix (rows x features); got shape {X.shape}", code="E304")
    return X


def _is_matrix(X) -> bool:
    return sp.issparse(X) or (isinstance(X, np.ndarray) and X.ndim == 2) or isinstance(X, torch.Tensor)


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


class ShallowDANN:
    """Shallow domain-adversarial network over bag-of-n-grams (Ganin et al. 2016, JMLR, section
    5.1.2, the Amazon reviews experiment; ``adversarial=False`` is their plain "NN").

    Input: the ``max_features`` most frequent n-grams (``ngram_range``) of the source + target
    unlabeled texts, as ``binary`` presence or ``tfidf`` (sublinear tf, l2-normalised rows scaled by
    the square root of the mean number of active n-grams per row, so that both inputs have the same
    mean norm and one learning rate suits both; the scale is kept in ``input_scale_``). One hidden
    layer of ``hidden`` sigmoid units; a softmax label head; a domain head (logistic as in the
    paper, or an MLP with ``domain_hidden`` ReLU units) behind a gradient reversal layer. Each
    minibatch holds ``batch_size / 2`` source and ``batch_size / 2`` target rows (the target rows
    cycle through seeded permutations). The loss is task cross-entropy (source half) + domain
    cross-entropy (all rows); the reversal coefficient follows ``lambda_max * dann_lambda(p,
    gamma)`` and the learning rate :func:`annealed_lr` (``lr_anneal``).

    Optimisation: plain SGD. Simultaneous gradient descent (domain head) / ascent (features)
    cycles on this game -- the features flip which side of the domain head each domain lies on
    instead of forgetting the domain, and a fresh classifier still separates them. Two settings
    damp that cycle (measured, see the tests): no momentum (``momentum=0``) and weight decay on the
    domain head (``domain_weight_decay``, 0.1), with the head's rate ``domain_lr_mult`` times
    ``lr``. With them the hidden features of a fitted model are close to domain-invariant (a fresh
    cross-validated logistic regression is near 0.5 on books -> kitchen) while the plain network's
    are not (about 0.8).

    Args:
        hidden: hidden units (50 in the paper).
        max_features: vocabulary size (5,000 in the paper).
        ngram_range: n-gram orders.
        features: ``tfidf`` or ``binary``.
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
        seed: seeds the initialisation and the batches.

    Attributes (after fit):
        vectorizer_ (``None`` when fitted by :meth:`fit_arrays`), input_scale_, classes_,
        n_features_in_, net_, history_ (one dict per epoch: task_loss, domain_loss, domain_acc --
        the domain head's training-batch accuracy --, lambda, lr), n_source_, n_target_, steps_.
    """

    def __init__(self, hidden: int = 50, max_features: int = 5000, ngram_range: Sequence[int] = (1, 2),
                 features: str = "tfidf", lr: float = 0.5, epochs: int = 20, batch_size: int = 64,
                 lambda_max: float = 1.0, gamma: float = 10.0, adversarial: bool = True,
                 momentum: float = 0.0, weight_decay: float = 1e-3, lr_anneal: bool = True,
                 domain_hidden: int = 0, domain_lr_mult: float = 1.0, domain_weight_decay: float = 0.1,
                 n_threads: int = 1, seed: int = 0) -> None:
        self.hidden = hidden
        self.max_features = max_features
        self.ngram_range = tuple(ngram_range)
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
        self.seed = seed

    _PARAMS = ("hidden", "max_features", "ngram_range", "features", "lr", "epochs", "batch_size", "lambda_max",
               "gamma", "adversarial", "momentum", "weight_decay", "lr_anneal", "domain_hidden", "domain_lr_mult",
               "domain_weight_decay", "n_threads", "seed")

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (scikit-learn style)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k in self._PARAMS for v in [getattr(self, k)]}

    def _validate(self) -> None:
        if self.features not in FEATURES:
            raise NlptaError(f"features {self.features!r}; expected one of {', '.join(FEATURES)}", code="E304")
        for k in ("hidden", "max_features", "epochs"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise NlptaError(f"{k} must be a positive integer; got {v!r}", code="E304")
        if not isinstance(self.batch_size, int) or self.batch_size < 2:
            raise NlptaError(f"batch_size must be an integer >= 2 (half source, half target); got {self.batch_size!r}",
                             code="E304")
        if len(self.ngram_range) != 2 or not 1 <= self.ngram_range[0] <= self.ngram_range[1]:
            raise NlptaError(f"ngram_range must be [min, max] with 1 <= min <= max; got {list(self.ngram_range)}",
                             code="E304")
        if self.lr <= 0 or self.lambda_max < 0 or self.gamma < 0:
            raise NlptaError("lr must be > 0 and lambda_max, gamma >= 0", code="E304")

    def _vectorizer(self):
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        if self.features == "binary":
            return CountVectorizer(ngram_range=self.ngram_range, max_features=self.max_features, binary=True,
                                   lowercase=True, dtype=np.float32)
        return TfidfVectorizer(ngram_range=self.ngram_range, max_features=self.max_features, sublinear_tf=True,
                               norm="l2", lowercase=True, dtype=np.float32)

    # -------------------------------------------------------------- fitting
    def fit(self, source_texts: Sequence[str], source_labels: Sequence[int], target_texts: Sequence[str],
            seed: int | None = None) -> ShallowDANN:
        """Fit the vectorizer on source + target texts, then the network (:meth:`fit_arrays`).

        Args:
            source_texts, source_labels: the labeled source rows.
            target_texts: unlabeled target rows (their labels are never used).
            seed: overrides the constructor's ``seed``.

        Returns:
            self.
        """
        self._validate()
        source_texts, target_texts = list(source_texts), list(target_texts)
        if not source_texts or not target_texts:
            raise NlptaError(f"ShallowDANN needs source and target texts; got {len(source_texts)} source and "
                             f"{len(target_texts)} target", code="E305")
        vec = self._vectorizer()
        X = vec.fit_transform(source_texts + target_texts).tocsr()
        Xs, Xt = X[: len(source_texts)], X[len(source_texts):]
        scale = 1.0
        if self.features == "tfidf":  # rows get the mean norm of the binary vectors: one lr suits both
            scale = float(np.sqrt(max(1.0, np.mean(np.diff(X.indptr)))))
        self.fit_arrays(Xs * scale, source_labels, Xt * scale, seed=seed)
        self.vectorizer_, self.input_scale_ = vec, scale
        return self

    def fit_arrays(self, Xs, ys: Sequence[int], Xt, seed: int | None = None) -> ShallowDANN:
        """Fit the network on precomputed matrices (dense or scipy sparse): ``Xs`` labeled source
        rows with labels ``ys``, ``Xt`` unlabeled target rows. Returns self."""
        self._validate()
        Xs, Xt = _as_2d(Xs, "Xs"), _as_2d(Xt, "Xt")
        y = np.asarray(ys)
        if Xs.shape[0] != len(y):
            raise NlptaError(f"{Xs.shape[0]} source rows but {len(y)} labels", code="E304")
        if Xs.shape[1] != Xt.shape[1]:
            raise NlptaError(f"source rows have {Xs.shape[1]} features, target rows {Xt.shape[1]}", code="E304")
        if Xs.shape[0] == 0 or Xt.shape[0] == 0:
            raise NlptaError("no source or no target rows", code="E305")
        classes = np.unique(y)
        if len(classes) < 2:
            raise NlptaError(f"the source labels have a single class ({classes.tolist()}); need at least two",
                             code="E304")
        if np.any(y < 0):
            raise NlptaError("source labels must be >= 0 (-1 marks unlabeled rows, which are not source rows)",
                             code="E304")
        seed = self.seed if seed is None else int(seed)
        self.seed_ = seed
        self.classes_ = classes
        yi = np.searchsorted(classes, y)
        self.n_features_in_, self.n_source_, self.n_target_ = int(Xs.shape[1]), int(Xs.shape[0]), int(Xt.shape[0])
        self.vectorizer_, self.input_scale_ = None, 1.0
        with _torch_threads(self.n_threads):
            self._train(Xs, yi, Xt, seed)
        return self

    def _train(self, Xs, yi: np.ndarray, Xt, seed: int) -> None:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = _ShallowNet(self.n_features_in_, self.hidden, len(self.classes_), self.domain_hidden)
        main = [p for n, p in net.named_parameters() if not n.startswith("domain.")]
        opt = torch.optim.SGD([{"params": main, "mult": 1.0, "momentum": self.momentum,
                                "weight_decay": self.weight_decay},
                               {"params": list(net.domain.parameters()), "mult": float(self.domain_lr_mult),
                                "momentum": 0.0, "weight_decay": float(self.domain_weight_decay)}], lr=self.lr)
        ns, nt = Xs.shape[0], Xt.shape[0]
        half_s = self.batch_size // 2
        half_t = self.batch_size - half_s
        steps_per_epoch = max(1, math.ceil(ns / half_s))
        total = self.epochs * steps_per_epoch
        t_perm, t_pos = rng.permutation(nt), 0
        ce = nn.CrossEntropyLoss()
        bce = nn.BCEWithLogitsLoss()
        history, step = [], 0
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
                lam = self.lambda_max * dann_lambda(p, self.gamma) if self.adversarial else 0.0
                lr = annealed_lr(self.lr, p) if self.lr_anneal else self.lr
                for g in opt.param_groups:
                    g["lr"] = lr * g["mult"]
                net.grl.lambda_ = lam
                x = torch.as_tensor(np.vstack([_dense(Xs, si), _dense(Xt, np.asarray(ti))]))
                d = torch.cat([torch.zeros(len(si)), torch.ones(len(ti))])
                h, logits, dlogit = net(x)  # lambda = 0 (adversarial=False): the domain head learns, the features ignore it
                task_loss = ce(logits[: len(si)], ys_t[si])
                dom_loss = bce(dlogit, d)
                opt.zero_grad(set_to_none=True)
                (task_loss + dom_loss).backward()
                opt.step()
                with torch.no_grad():
                    dacc = float(((dlogit > 0).float() == d).float().mean())
                sums += (float(task_loss.detach()), float(dom_loss.detach()), dacc)
                step += 1
            sums /= steps_per_epoch
            history.append({"epoch": epoch + 1, "task_loss": float(sums[0]), "domain_loss": float(sums[1]),
                            "domain_acc": float(sums[2]), "lambda": float(net.grl.lambda_), "lr": float(lr)})
        net.eval()
        self.net_ = net
        self.history_ = history
        self.steps_ = step

    # -------------------------------------------------------------- prediction
    def _check(self) -> None:
        if not hasattr(self, "net_"):
            raise NotFittedError("ShallowDANN is not fitted; call fit() or load() first")

    def _matrix(self, X):
        self._check()
        if _is_matrix(X):
            X = _as_2d(X, "X")
        else:
            if isinstance(X, str):
                raise NlptaError("expected a list of texts or a matrix, got a single string", code="E304")
            if self.vectorizer_ is None:
                raise NlptaError("this ShallowDANN was fitted on matrices (fit_arrays); pass a matrix, not texts",
                                 code="E304")
            X = self.vectorizer_.transform(list(X)) * self.input_scale_
        if X.shape[1] != self.n_features_in_:
            raise NlptaError(f"X has {X.shape[1]} features; the model was fitted on {self.n_features_in_}", code="E304")
        return X

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
                    out.append(torch.softmax(self.net_.label(h), -1).numpy())
                else:
                    out.append(torch.sigmoid(self.net_.domain(h).squeeze(-1)).numpy())
        if not out:
            width = {"hidden": self.hidden, "proba": len(self.classes_)}.get(what)
            return np.zeros((0, width) if width else (0,), np.float32)
        return np.concatenate(out)

    def transform(self, X) -> np.ndarray:
        """The hidden-layer features (rows x ``hidden``) of texts or a matrix."""
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

    # -------------------------------------------------------------- save / load
    def save(self, directory: str | Path) -> Path:
        """Write ``dann.json`` (settings, vocabulary, history) and ``dann.safetensors`` (weights,
        idf); no pickle. Returns the folder."""
        from safetensors.torch import save_file

        self._check()
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
        atomic_write_json(d / "dann.json", {
            "kind": "ShallowDANN", "params": self.get_params(), "seed": self.seed_,
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
            raise NlptaError("not a ShallowDANN folder (no dann.json)", path=d, code="E312")
        meta = json.loads((d / "dann.json").read_text(encoding="utf-8"))
        if meta.get("kind") != "ShallowDANN":
            raise NlptaError(f"dann.json describes a {meta.get('kind')!r}, not a ShallowDANN", path=d / "dann.json",
                             code="E312")
        self = cls(**meta["params"])
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
