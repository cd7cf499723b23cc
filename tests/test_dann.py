"""DANN / domain confusion (Ganin & Lempitsky 2015; Ganin et al. 2016): the gradient reversal
layer, the schedules, a known answer on planted-shift synthetic data (the adversarial hidden
layer forgets the domain, the plain one does not), the shallow ``dann`` method on a small slice of
Blitzer books -> kitchen, and ``lora-dann`` on tiny random BERTs built from a config (no download).
"""

from __future__ import annotations

import math
import os
import random

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")
sp = pytest.importorskip("scipy.sparse")

from nlpta.adversarial import (  # noqa: E402
    GradientReversal,
    ShallowDANN,
    annealed_lr,
    dann_lambda,
    grad_reverse,
)
from nlpta.errors import NlptaError, NotFittedError  # noqa: E402
from nlpta.evaluators.domain import domain_accuracy_of_features  # noqa: E402
from nlpta.evaluators.domain import pad_from_accuracy as proxy_a_distance  # noqa: E402
from nlpta.finetune import encode  # noqa: E402
from nlpta.methods import get_method  # noqa: E402
from nlpta.tasks import DataSpec, TaskSpec, TransferTask  # noqa: E402


# ----------------------------------------------------------------------------- reversal layer
def test_gradient_reversal_is_identity_forward_and_negated_backward():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, generator=g, requires_grad=True)
    up = torch.randn(4, 3, generator=g)
    grl = GradientReversal(0.7)
    y = grl(x)
    assert torch.equal(y, x)
    (y * up).sum().backward()
    torch.testing.assert_close(x.grad, -0.7 * up)
    x.grad = None
    grl.lambda_ = 2.5  # settable as training goes on
    (grl(x) * up).sum().backward()
    torch.testing.assert_close(x.grad, -2.5 * up)
    x.grad = None
    (grad_reverse(x, 0.0) * up).sum().backward()
    assert torch.count_nonzero(x.grad) == 0  # lambda 0 cuts the domain gradient off


def test_schedules_follow_the_paper():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1)
    assert dann_lambda(0.25, gamma=10) == pytest.approx(2 / (1 + math.exp(-2.5)) - 1)
    vals = [dann_lambda(p / 10) for p in range(11)]
    assert vals == sorted(vals) and vals[-1] < 1
    assert annealed_lr(0.01, 0.0) == pytest.approx(0.01)
    assert annealed_lr(0.01, 1.0) == pytest.approx(0.01 / 11 ** 0.75)
    assert annealed_lr(0.01, 0.5) == pytest.approx(0.01 / 6 ** 0.75)


def test_domain_accuracy_probe_and_proxy_a_distance():
    rng = np.random.default_rng(0)
    same = domain_accuracy_of_features(rng.normal(size=(300, 5)), rng.normal(size=(300, 5)))
    apart = domain_accuracy_of_features(rng.normal(size=(300, 5)), rng.normal(size=(300, 5)) + 2.0)
    assert 0.4 <= same <= 0.6 and apart >= 0.95
    assert proxy_a_distance(0.5) == 0.0 and proxy_a_distance(1.0) == 2.0
    with pytest.raises(NlptaError, match="columns"):
        domain_accuracy_of_features(np.zeros((10, 2)), np.zeros((10, 3)))


# ----------------------------------------------------------------------------- known answer
def _dense_domains(seed: int, n: int = 600):
    """30 Gaussian features: the label shifts features 0-4 by +-1 (both domains alike), the target
    domain shifts features 5-14 by +2 (a domain-only signal), 15-29 are noise."""
    rng = np.random.default_rng(seed)

    def make(dom: int):
        y = rng.integers(0, 2, n)
        X = rng.normal(size=(n, 30)).astype(np.float32)
        X[:, :5] += (2 * y[:, None] - 1) * 1.0
        X[:, 5:15] += 2.0 * dom
        return X, y

    return make(0), make(1)


def _sparse_domains(seed: int, n: int = 600):
    """Binary bags of 60 words: words 0-9 mark positive, 10-19 negative documents (p 0.3 vs 0.03,
    in both domains); 20-34 occur in source documents only, 35-49 in target documents only (p 0.3
    vs 0.02); 50-59 everywhere (p 0.3)."""
    rng = np.random.default_rng(seed)

    def make(dom: int):
        y = rng.integers(0, 2, n)
        P = np.full((n, 60), 0.02)
        P[:, 0:10] = np.where(y[:, None] == 1, 0.3, 0.03)
        P[:, 10:20] = np.where(y[:, None] == 0, 0.3, 0.03)
        P[:, 20:35] = 0.3 if dom == 0 else 0.02
        P[:, 35:50] = 0.3 if dom == 1 else 0.02
        P[:, 50:60] = 0.3
        return sp.csr_matrix((rng.random((n, 60)) < P).astype(np.float32)), y

    return make(0), make(1)


def _pack(Xs, ys, Xt):
    """Source and target rows in one X (SKADA style): target rows labeled -1."""
    X = sp.vstack([Xs, Xt]).tocsr() if sp.issparse(Xs) else np.vstack([Xs, Xt])
    return X, np.r_[np.asarray(ys), -np.ones(Xt.shape[0], dtype=int)]


# Settings for these small problems (~19 steps per epoch): a constant rate, the domain head 2.5x
# faster and damped by its weight decay (the defaults are tuned for the 1,600-review Blitzer
# sources; with their annealed rate the sparse problem keeps its domain: 0.72-0.91 on seeds 0-9).
SYNTH = {"lr": 0.2, "lr_anneal": False, "domain_lr_mult": 2.5, "epochs": 40}
KNOWN_SEEDS = (0, 1, 2, 3, 4)


@pytest.fixture(scope="module", params=["dense", "sparse"])
def known_answer(request):
    """Per seed of KNOWN_SEEDS: (domain accuracy of a fresh probe on the hidden features, target
    accuracy, model) for the plain network and for DANN."""
    kind = request.param
    runs = []
    for seed in KNOWN_SEEDS:
        (Xs, ys), (Xt, yt) = (_dense_domains if kind == "dense" else _sparse_domains)(seed)
        X, y = _pack(Xs, ys, Xt)
        out = {}
        for adv in (False, True):
            m = ShallowDANN(adversarial=adv, random_state=seed, **SYNTH).fit(X, y)
            out[adv] = (domain_accuracy_of_features(m.transform(Xs), m.transform(Xt), seed=seed),
                        float(np.mean(m.predict(Xt) == yt)), m)
        runs.append(out)
    return kind, runs


def test_known_answer_dann_hides_the_domain_and_keeps_the_task(known_answer):
    """Measured on seeds 0-9 (probe accuracy, chance 0.5): plain >= 0.95 on both problems; DANN
    0.53-0.60 (dense) and 0.37-0.53 (sparse) except sparse seed 4, 0.68 (it converges more slowly:
    0.63 after 60 epochs). So every seed must show a large drop (plain - DANN >= 0.25; the smallest
    measured is 0.28, sparse seed 4), and "close to chance" is asserted on the mean over seeds 0-4
    with its 95% t-interval: dense 0.571 +- 0.023, sparse 0.466 +- 0.152 (upper ends 0.59 and
    0.62; the bound is 0.65)."""
    kind, runs = known_answer
    dann_dom = []
    for seed, out in zip(KNOWN_SEEDS, runs, strict=True):
        (dom_plain, acc_plain, plain), (dom_dann, acc_dann, dann) = out[False], out[True]
        assert dom_plain >= 0.9, (seed, dom_plain)  # the plain hidden layer still carries the domain
        assert dom_plain - dom_dann >= 0.25, (seed, dom_plain, dom_dann)  # the adversarial one much less
        assert acc_dann >= 0.9 and acc_dann >= acc_plain - 0.03, (seed, acc_dann, acc_plain)
        dann_dom.append(dom_dann)
        h = dann.history_
        assert len(h) == SYNTH["epochs"] and {"task_loss", "domain_loss", "domain_acc", "lambda", "lr"} <= set(h[0])
        assert h[-1]["lambda"] == pytest.approx(dann_lambda(1 - 1 / dann.steps_), abs=1e-3)
        assert all(r["lambda"] == 0.0 for r in plain.history_)
        assert h[-1]["task_loss"] < h[0]["task_loss"]
    from scipy import stats

    d = np.asarray(dann_dom)
    upper = d.mean() + stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert upper <= 0.65, (kind, d.round(3).tolist(), upper)


def test_shallow_dann_is_deterministic_and_round_trips(tmp_path):
    (Xs, ys), (Xt, _) = _sparse_domains(3, n=200)
    X, y = _pack(Xs, ys, Xt)
    kw = {"epochs": 5, "hidden": 8}
    a = ShallowDANN(random_state=5, **kw).fit(X, y)
    b = ShallowDANN(random_state=5, **kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))
    assert a.history_ == b.history_ and a.n_source_ == 200 and a.n_target_ == 200
    c = ShallowDANN(random_state=6, **kw).fit(X, y)
    assert not np.array_equal(a.transform(Xt), c.transform(Xt))
    # sample_domain says the same as the -1 labels
    d = ShallowDANN(random_state=5, **kw).fit(X, np.r_[ys, np.zeros(200, int)], sample_domain=np.r_[[1] * 200, [-2] * 200])
    np.testing.assert_array_equal(d.predict_proba(Xt), a.predict_proba(Xt))
    state = torch.random.get_rng_state()
    ShallowDANN(random_state=7, **kw).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's torch RNG is left alone
    a.save(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {"dann.json", "dann.safetensors"}
    back = ShallowDANN.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict_proba(Xt), a.predict_proba(Xt))
    assert back.history_ == a.history_ and back.get_params() == {**a.get_params(), "ngram_range": [1, 2]}
    with pytest.raises(NlptaError, match="fitted on a matrix"):
        back.predict(["some text"])


def test_shallow_dann_text_input_and_bad_input():
    rng = random.Random(0)
    pos, neg = ["great", "love", "excellent"], ["awful", "broken", "waste"]
    src = [" ".join(rng.choices(pos if i % 2 else neg, k=2) + ["book", "read"]) for i in range(60)]
    tgt = [" ".join(rng.choices(pos + neg, k=2) + ["pan", "knife"]) for i in range(60)]
    labels = [i % 2 for i in range(60)]
    X, y = src + tgt, labels + [-1] * 60
    for features in ("tfidf", "binary"):
        m = ShallowDANN(features=features, epochs=30, hidden=8, random_state=0).fit(X, y)
        assert m.vectorizer_ is not None and m.n_features_in_ == len(m.vectorizer_.vocabulary_)
        assert m.input_scale_ >= 1.0 if features == "tfidf" else m.input_scale_ == 1.0
        assert m.predict(["great love book", "awful waste pan"]).tolist() == [1, 0]
        assert m.predict_proba(["great"]).shape == (1, 2) and m.domain_proba(["pan"]).shape == (1,)
        assert m.score(X, y) == m.score(src, labels)  # the -1 rows are not scored
        assert m.score(src, labels) >= 0.9
    with pytest.raises(NotFittedError):
        ShallowDANN().predict(["x"])
    with pytest.raises(NlptaError, match="features"):
        ShallowDANN(features="word2vec").fit(X, y)
    with pytest.raises(NlptaError, match="one class"):
        ShallowDANN().fit(X, [1] * 60 + [-1] * 60)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ShallowDANN().fit(X, [1, 0])
    with pytest.raises(NlptaError, match="sample_domain must be integers"):
        ShallowDANN().fit(src, labels, tgt)  # the old fit(source, labels, target) call says what changed
    with pytest.warns(UserWarning, match="no target rows"):
        m = ShallowDANN(epochs=2, hidden=4).fit(src, labels)
    assert m.n_target_ == 0 and m.history_[0]["domain_loss"] is None


# ----------------------------------------------------------------------------- dann on real data
@pytest.fixture(scope="module")
def b2k_small(data_root):
    """Blitzer books -> kitchen, split seed 1: 400 source reviews, 500 target unlabeled reviews."""
    spec = TaskSpec(name="b2k-small", task="sentiment", source=DataSpec("mdsd:books", split="train", limit=400),
                    target=DataSpec("mdsd:kitchen", split="test"),
                    unlabeled=DataSpec("mdsd:kitchen", split="unlabeled", labeled=False, limit=500))
    return TransferTask(spec, seed=1)


@pytest.mark.data
def test_dann_method_on_books_to_kitchen(b2k_small, tmp_path):
    import nlpta
    from nlpta.methods.adversarial import Dann

    tt = b2k_small
    model = get_method("dann", "sentiment", seed=1).fit(tt)
    pred = model.predict(tt.target)
    assert len(pred) == len(tt.target) and set(pred) <= {0, 1}
    acc = float(np.mean(np.asarray(pred) == np.asarray(tt.target["label"])))
    assert acc >= 0.68, acc  # measured 0.748 (plain network 0.723; 400 training reviews); chance 0.5
    est = model.model_
    assert est.n_source_ == 400 and est.n_target_ == 500 and est.n_features_in_ == 5000
    folder = model.save(tmp_path / "m")
    assert {p.name for p in folder.iterdir()} == {"method.json", "dann.json", "dann.safetensors"}
    back = nlpta.load_model(folder)
    assert isinstance(back, Dann) and back.params == model.params and back.seed == 1
    assert back.predict(tt.target) == pred
    plain = get_method("dann", "sentiment", seed=1, adversarial=False, max_unlabeled=100).fit(tt)
    assert plain.model_.n_target_ == 100 and all(h["lambda"] == 0.0 for h in plain.model_.history_)


@pytest.mark.data
def test_dann_needs_unlabeled_rows_and_a_sentiment_task(data_root):
    spec = TaskSpec(name="no-unl", task="sentiment", source=DataSpec("mdsd:books", split="train", limit=20),
                    target=DataSpec("mdsd:kitchen", split="test", limit=20))
    tt = TransferTask(spec, seed=1)
    for name in ("dann", "lora-dann"):
        with pytest.raises(NlptaError, match="unlabeled:") as e:
            get_method(name, "sentiment", seed=1).fit(tt)
        assert e.value.code == "E306"
    with pytest.raises(NlptaError, match="does not support 'pos'"):
        get_method("dann", "pos")
    with pytest.raises(NlptaError, match="no parameter"):
        get_method("dann", "sentiment", hiddn=10)


# ----------------------------------------------------------------------------- lora-dann
peft = pytest.importorskip("peft")

from finetune_helpers import pos_rows, sentiment_rows, tiny_bert, write_conllu  # noqa: E402

from nlpta.finetune.dann import DANNAdapterModel, _MixedCollator  # noqa: E402
from nlpta.finetune.model import AdapterModel  # noqa: E402
from nlpta.finetune.trainer import TrainConfig, TrainingInterrupted  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("tiny-dann") / "bert")


def _rows(kind: str):
    if kind == "pos":
        return pos_rows(48, 1), pos_rows(32, 3, "tgt")
    return sentiment_rows(48, 1), sentiment_rows(32, 3, "tgt", labeled=False)


def _dann_model(tiny, kind, **train):
    cfg = {"lr": 1e-2, "max_steps": 5, "batch_size": 8, "seed": 2, "warmup_ratio": 0.0, "log_every": 1, **train}
    return DANNAdapterModel(kind, model=str(tiny), lora_config=peft.LoraConfig(r=4, lora_alpha=8,
                                                                               target_modules=["query", "value"]),
                            max_length=32, lambda_max=1.0, domain_hidden=16, train=TrainConfig(**cfg))


@pytest.mark.parametrize("kind", ["pos", "sentiment"])
def test_lora_dann_trains_reverses_the_domain_gradient_and_saves(tiny, tmp_path, kind):
    src, unl = _rows(kind)
    m = _dann_model(tiny, kind)
    m.fit(src, unl)
    info = m.train_info_
    assert info["steps"] == 5 and len(info["dann"]) == 5 and info["unlabeled"] == 32
    lams = [r["lambda"] for r in info["dann"]]
    assert lams[0] == 0.0 and lams == sorted(lams) and lams[-1] == pytest.approx(dann_lambda(4 / 5))
    assert all(np.isfinite([r["task_loss"], r["domain_loss"]]).all() for r in info["dann"])
    pred = m.predict(unl)
    if kind == "pos":
        assert [len(p) for p in pred] == [len(t) for t in unl["tokens"]]
    else:
        assert len(pred) == len(unl) and set(pred) <= {0, 1}

    # the domain loss reaches the encoder reversed and scaled by lambda; the head learns unreversed
    mod = m.dann_module_
    mod.eval()
    tgt = m._encode(unl, with_labels=False)
    coll = _MixedCollator(kind, tgt, m.tokenizer_.pad_token_id, 4, seed=0, rank=0, world=1)
    batch = coll(m._encode(src.select(range(4)), with_labels=True), step=0)
    batch = encode.to_device(batch, next(mod.parameters()).device)  # fit may have trained on a GPU
    assert batch["domain"].tolist() == [0] * 4 + [1] * 4
    if kind == "pos":  # the domain head sees each word's first subword, source and target alike
        torch.testing.assert_close(batch["dmask"][:4], batch["labels"][:4] != -100)
        picked = [unl["tokens"][i] for i in coll.target_indices(0)]
        assert batch["dmask"][4:].sum(1).tolist() == [len(t) for t in picked]

    def grads(lam: float) -> tuple[torch.Tensor, torch.Tensor]:
        mod.zero_grad(set_to_none=True)
        mod.domain_head.grl.lambda_ = lam
        mod(**batch).loss.backward()
        lora = torch.cat([p.grad.flatten() for n, p in mod.model.named_parameters() if "lora_A" in n])
        head = torch.cat([p.grad.flatten() for p in mod.domain_head.parameters()])
        return lora, head

    (l0, h0), (l5, h5), (lm1, hm1) = grads(0.0), grads(0.5), grads(-1.0)
    domain_part = lm1 - l0  # lambda -1 = the plain (unreversed) gradient of the domain loss
    assert domain_part.abs().max() > 0
    torch.testing.assert_close(l5 - l0, -0.5 * domain_part, atol=1e-6, rtol=1e-4)
    assert h0.abs().max() > 0
    torch.testing.assert_close(h5, h0)
    torch.testing.assert_close(hm1, h0)

    m.save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / "domain_head.safetensors").exists()
    assert (tmp_path / "m" / "adapter_model.safetensors").exists()
    back = AdapterModel.from_pretrained(tmp_path / "m")  # the domain head is not needed for prediction
    assert back.predict(unl) == pred
    again = DANNAdapterModel.from_pretrained(tmp_path / "m")  # ... but comes back with its settings
    assert again.predict(unl) == pred and again.domain_hidden == 16 and again.lambda_max == 1.0
    for k, v in m.domain_head_.state_dict().items():
        assert torch.equal(again.domain_head_.state_dict()[k], v.cpu()), k


def test_lora_dann_resumes_to_the_same_weights(tiny, tmp_path):
    src, unl = _rows("pos")
    full = _dann_model(tiny, "pos", max_steps=6).fit(src, unl)
    ck = tmp_path / "ck"
    with pytest.raises(TrainingInterrupted):
        _dann_model(tiny, "pos", max_steps=6, checkpoint_dir=str(ck), checkpoint_every=2, stop_after=5).fit(src, unl)
    resumed = _dann_model(tiny, "pos", max_steps=6, checkpoint_dir=str(ck), checkpoint_every=2).fit(src, unl)
    assert resumed.train_info_["resumed_from"] == "checkpoint-00000004"
    a = {k: v for k, v in full.dann_module_.named_parameters() if v.requires_grad}
    b = {k: v for k, v in resumed.dann_module_.named_parameters() if v.requires_grad}
    assert a.keys() == b.keys() and any(k.startswith("domain_head.") for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_lora_dann_through_the_runner(tiny, tmp_path):
    from nlpta.pipeline import run_task
    from nlpta.tasks import load_task

    src = write_conllu(tmp_path / "src.conllu", pos_rows(40, 1))
    tgt = write_conllu(tmp_path / "tgt.conllu", pos_rows(16, 2, "tgt"))
    task = tmp_path / "t.yaml"
    task.write_text(f"name: tiny-pos\ntask: pos\nsource: {{corpus: {src}}}\ntarget: {{corpus: {tgt}}}\n"
                    f"unlabeled: {{corpus: {tgt}, labeled: false}}\nseeds: [1]\n")
    params = {"model": str(tiny), "max_steps": 3, "max_length": 32, "batch_size": 8, "max_unlabeled": 10,
              "domain_hidden": 8}
    res = run_task(load_task(task), method="lora-dann", out_dir=tmp_path / "run", params=params, save_model=True)
    import json

    from nlpta import load_model
    from nlpta.data import load
    from nlpta.methods.adversarial import LoraDann

    rows = [json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    words = [(g, p) for r in rows for g, p in zip(r["gold"], r["pred"], strict=True)]
    assert len(rows) == 16 and res.accuracy == pytest.approx(np.mean([g == p for g, p in words]))
    saved = tmp_path / "run" / "model-seed1"
    assert (saved / "domain_head.safetensors").exists() and (saved / "train_info.json").exists()
    assert not [p for p in saved.rglob("*") if p.suffix in (".bin", ".pt", ".pkl", ".pickle")]
    meta = json.loads((saved / "nlpta_model.json").read_text())
    assert meta["dann"]["lambda_max"] == 1.0 and meta["dann"]["domain_hidden"] == 8
    assert json.loads((saved / "train_info.json").read_text())["train"]["unlabeled"] == 10
    back = load_model(saved)  # the registry: method.json -> get_method -> _load
    assert isinstance(back, LoraDann) and back.params["max_unlabeled"] == 10
    assert isinstance(back.model_, DANNAdapterModel) and back.model_.domain_hidden == 8
    assert back.predict(load(str(tgt))) == [r["pred"] for r in rows]
    assert back.info_["train"]["unlabeled"] == 10
