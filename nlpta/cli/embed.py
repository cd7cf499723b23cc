"""``nlpta embed train`` and ``nlpta align``.

    nlpta embed train --corpus NAME [--split S] [--domain D] [--lang L] --algo word2vec|fasttext --out FILE
    nlpta embed train --lang de --algo word2vec --out de.vec        # all monolingual text of a language
    nlpta align --src FILE --tgt FILE [--dict FILE] [--test-dict FILE] --method M [--normalize unit,center,unit] --out DIR
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import Errors


def cmd_embed_train(a: argparse.Namespace) -> int:
    from ..embeddings.io import save_vectors
    from ..embeddings.train import corpus_stats, dataset_sentences, language_corpus, train_vectors

    if a.corpus:
        from .. import data

        ds = data.load(a.corpus, split=a.split, domain=a.domain, lang=a.lang, labeled=False)
        sents = dataset_sentences(ds)
        stats = corpus_stats(sents, {a.corpus: sum(map(len, sents))})
    elif a.lang:
        sents, stats = language_corpus(a.lang)
    else:
        raise Errors.E911(command="embed train", needs="--corpus NAME or --lang L",
                          detail="--corpus reads one corpus (optionally --split/--domain/--lang), --lang L "
                          "all text of a language")
    print(f"corpus: {stats.sentences} sentences, {stats.tokens} tokens, {stats.types} types")
    t0 = time.perf_counter()
    kv = train_vectors(sents, algo=a.algo, sg=0 if a.cbow else 1, vector_size=a.dim, window=a.window,
                       min_count=a.min_count, epochs=a.epochs, seed=a.seed, workers=a.workers)
    fmt = a.format or ("word2vec-binary" if a.out.endswith(".bin") else "word2vec")
    save_vectors(kv, a.out, fmt)
    print(f"{len(kv)} vectors of {kv.vector_size} dimensions in {time.perf_counter() - t0:.1f}s -> {a.out} ({fmt})")
    return 0


def cmd_align(a: argparse.Namespace) -> int:
    from ..embeddings.align import EmbeddingAligner
    from ..embeddings.bli import evaluate_bli, load_dictionary
    from ..embeddings.io import load_vectors, save_vectors
    from ..io import atomic_write_json

    if a.method in ("procrustes", "refine") and not a.dict:
        raise Errors.E911(command="align", needs="--dict FILE",
                          detail=f"--method {a.method} fits on a seed dictionary (or use --method identical|unsupervised)")
    src = load_vectors(a.src, limit=a.max_vocab)
    tgt = load_vectors(a.tgt, limit=a.max_vocab)
    norm = tuple(s for s in a.normalize.split(",") if s) if a.normalize else ("none",)
    t0 = time.perf_counter()
    al = EmbeddingAligner(method=a.method, map=a.map, normalize=norm, n_refine=a.n_refine, seed=a.seed)
    al.fit(src, tgt, load_dictionary(a.dict) if a.dict else None)
    fit_s = time.perf_counter() - t0
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    S, T = al.transform_source(src), al.transform_target(tgt)
    save_vectors(S, out / "src.mapped.vec")
    save_vectors(T, out / "tgt.mapped.vec")
    info = {"method": a.method, "map": al.map_, "normalize": list(norm), "dictionary_pairs": len(al.dictionary_),
            "fit_seconds": round(fit_s, 3), "src_vocab": len(src), "tgt_vocab": len(tgt)}
    atomic_write_json(out / "alignment.json", {**info, "history": al.history_})
    print(f"aligned with {a.method} ({al.map_} map) in {fit_s:.1f}s; mapped vectors in {out}")
    if a.test_dict:
        r = evaluate_bli(S, T, load_dictionary(a.test_dict), retrieval=a.retrieval)
        r.update(method=a.method, normalize=list(norm), seconds=round(r["seconds"] + fit_s, 3))
        atomic_write_json(out / "bli.json", r)
        print(f"BLI ({a.retrieval}): P@1 {r['p_at_1']:.2f}  P@5 {r['p_at_5']:.2f}  P@10 {r['p_at_10']:.2f}  "
              f"coverage {r['coverage']:.1f}% of {r['n_test']} test words")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("embed", help="train word vectors")
    esub = p.add_subparsers(dest="embed_cmd", required=True)
    t = esub.add_parser("train", help="train word2vec or fastText vectors on a corpus or a language")
    t.add_argument("--corpus", help="a corpus name or path (nlpta data list)")
    t.add_argument("--split")
    t.add_argument("--domain")
    t.add_argument("--lang", help="with --corpus: keep this language; alone: all monolingual text of it")
    t.add_argument("--algo", choices=("word2vec", "fasttext"), default="word2vec")
    t.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    t.add_argument("--dim", type=int, default=100)
    t.add_argument("--window", type=int, default=5)
    t.add_argument("--min-count", type=int, default=3)
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--workers", type=int, default=1, help="1 (default) for reproducible vectors")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--format", choices=("word2vec", "word2vec-binary", "glove", "npz"))
    t.add_argument("--out", required=True, help="output file (.bin: binary word2vec)")
    t.set_defaults(fn=cmd_embed_train)

    a = sub.add_parser("align", help="align two embedding spaces and evaluate lexicon induction")
    a.add_argument("--src", required=True, help="source vectors: a file, spacy:<pipeline> or glove-6b-50d")
    a.add_argument("--tgt", required=True)
    a.add_argument("--dict", help="seed dictionary ('src tgt' per line)")
    a.add_argument("--test-dict", help="test dictionary; writes bli.json")
    a.add_argument("--method", choices=("procrustes", "refine", "unsupervised", "identical"), default="procrustes")
    a.add_argument("--map", choices=("auto", "orthogonal", "linear", "cca"), default="auto")
    a.add_argument("--normalize", default="unit,center,unit", help="comma list of unit, center, unitdim ('' for none)")
    a.add_argument("--n-refine", type=int, default=5)
    a.add_argument("--retrieval", choices=("csls", "nn"), default="csls")
    a.add_argument("--max-vocab", type=int, default=200000)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--out", required=True)
    a.set_defaults(fn=cmd_align)
