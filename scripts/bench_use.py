"""Using the adapted model: raw-text throughput (tokenization included) against spaCy's
en_core_web_sm, the spaCy component's overhead, and an nlpta tagger inside en_core_web_sm on the
raw text of GENTLE and Tweebank.

    python scripts/bench_use.py                       # these sections, then BENCHMARKS.md
    python scripts/bench_use.py --only use-throughput --out /tmp/page.md

Throughput is measured in one process, every system on the same text, each timed over the whole
text after one warm-up batch; the table gives ratios against spaCy, because these machines are
shared and noisy (absolute rates move with the load, ratios much less).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlpta.bench import Section, main, provenance_line  # noqa: E402

SCRIPT = "scripts/bench_use.py"
PREFIX = "use-"
N_SENTENCES = 2000  # raw GENTLE test sentences for the throughput table


def _timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def throughput(seed: int, n_sentences: int = N_SENTENCES) -> dict:
    """Words per second on raw text, tokenization included, for the classical tagger, a LoRA
    tagger (all-MiniLM-L6, 2 training steps: speed does not depend on training), spaCy's
    en_core_web_sm (full pipeline) and its tokenizer alone; the spaCy component against calling
    the tagger directly; sentiment predictions per second."""
    import spacy
    import torch
    from eval_spacy_tagger import EN_PIPELINES, raw_texts

    import nlpta
    from nlpta.data import load
    from nlpta.tasks import DataSpec, TaskSpec, TransferTask

    texts = [t for t in raw_texts("ud:en_gentle", "test") if t][:n_sentences]
    pos_spec = TaskSpec(name="ewt", task="pos", source=DataSpec("ud:en_ewt", split="train", limit=2000),
                        target=DataSpec("ud:en_ewt", split="dev", limit=10))
    task = TransferTask(pos_spec, seed=seed)
    none = nlpta.get_method("none", "pos", seed=seed).fit(task)
    lora = nlpta.get_method("lora", "pos", seed=seed, model="minilm-l6", max_steps=2, max_examples=64,
                            batch_size=16, max_length=128).fit(task)
    sm_name = next(n for n in EN_PIPELINES if spacy.util.is_package(n))
    sm = spacy.load(sm_name)
    blank = spacy.blank("en")
    out: dict = {"sentences": len(texts), "torch_threads": torch.get_num_threads(), "spacy_pipeline": sm_name}
    # words = spaCy's non-space tokens of the text (one count for every system)
    words = sum(1 for d in blank.pipe(texts) for t in d if not t.is_space)
    out["words"] = words
    cores = os.cpu_count() or 1

    def lora_all_cores():  # the transformer gets every core (the goal is set for 2 cores), the rest one thread
        before = torch.get_num_threads()
        torch.set_num_threads(cores)
        try:
            return lora.annotate(texts)
        finally:
            torch.set_num_threads(before)

    runs = {
        "nlpta none (annotate)": lambda: none.annotate(texts),
        f"nlpta lora minilm-l6 (annotate, {cores} torch threads)": lora_all_cores,
        f"spaCy {sm_name} (full pipeline)": lambda: list(sm.pipe(texts, batch_size=256)),
        "spaCy tokenizer alone": lambda: list(blank.tokenizer.pipe(texts, batch_size=256)),
    }
    for name, fn in runs.items():
        fn_warm = texts[:50]
        if "annotate" in name:
            (none if "none" in name else lora).annotate(fn_warm)
        secs, _ = _timed(fn)
        out[name] = {"seconds": secs, "words_per_second": words / secs}
    # the component against the tagger called directly on the same (spaCy-tokenized) tokens
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"nlpta-bench-use-none-{os.getpid()}"
    none.save(folder)
    comp = spacy.blank("en")
    comp.add_pipe("nlpta_tagger", config={"model": str(folder), "batch_size": 256})
    list(comp.pipe(texts[:50]))
    t_comp, _ = _timed(lambda: list(comp.pipe(texts, batch_size=256)))

    def direct():
        docs = list(blank.pipe(texts, batch_size=256))
        return none.predict([{"tokens": [t.text for t in d if not t.is_space]} for d in docs])

    t_direct, _ = _timed(direct)
    out["component"] = {"component_seconds": t_comp, "direct_seconds": t_direct,
                        "overhead": t_comp / t_direct - 1}
    # sentiment: raw reviews in, labels out
    senti = TaskSpec(name="b2k", task="sentiment", source=DataSpec("mdsd:books", split="train"),
                     target=DataSpec("mdsd:kitchen", split="test"))
    st = TransferTask(senti, seed=seed)
    reviews = list(load("mdsd:kitchen", split="train", split_seed=seed)["text"])
    s_none = nlpta.get_method("none", "sentiment", seed=seed, Cs=[1.0]).fit(st)
    s_lora = nlpta.get_method("lora", "sentiment", seed=seed, model="minilm-l6", max_steps=2, max_examples=64,
                              batch_size=16, max_length=256).fit(st)
    for name, m in (("nlpta none", s_none), ("nlpta lora minilm-l6 (max_length 256)", s_lora)):
        m.predict(reviews[:20])
        secs, _ = _timed(m.predict, reviews)
        out[f"sentiment: {name}"] = {"reviews": len(reviews), "seconds": secs, "reviews_per_second": len(reviews) / secs}
    return out


def spacy_eval(seed: int) -> dict:
    """en_core_web_sm with its tagger replaced by nlpta's ``none`` (all of EWT train), on the raw
    text of GENTLE and Tweebank test, scored through alignment (scripts/eval_spacy_tagger.py)."""
    from eval_spacy_tagger import CORPORA, en_pipeline, evaluate, fit_tagger

    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"nlpta-bench-use-ewt-none-seed{seed}-{os.getpid()}"
    folder, tagger = fit_tagger("none", folder, None, seed)
    pipes = {"en_core_web_sm": en_pipeline(None), "nlpta none in en_core_web_sm": en_pipeline(folder)}
    return {c: evaluate(c, pipes, {"nlpta none": tagger}) for c in CORPORA}


def _peak_rss_mib(code: str) -> float:
    """Peak resident memory (MiB) of a fresh Python process running ``code``: ``VmHWM`` of
    ``/proc/self/status`` at exit (``ru_maxrss`` survives ``exec`` on Linux and would count this
    process's own size)."""
    import subprocess

    probe = ("\nimport sys\nhwm = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM'))"
             "\nsys.__stdout__.write(f'\\nPEAK_RSS_KB {hwm}\\n')")
    res = subprocess.run([sys.executable, "-c", code + probe], check=True, capture_output=True, text=True,
                         env={**os.environ, "HF_DATASETS_OFFLINE": "1"})
    kb = next(int(x.split()[1]) for x in reversed(res.stdout.splitlines()) if x.startswith("PEAK_RSS_KB"))
    return kb / 1024


def memory(seed: int) -> dict:
    """Peak memory of ``nlpta predict`` (POS ``none``) on 10,000 and 50,000 raw lines, and of
    ``nlpta.data.load`` on 100,000 and 1,000,000 raw lines: streaming means the peak barely grows
    with the input."""
    import tempfile

    import nlpta
    from nlpta.tasks import DataSpec, TaskSpec, TransferTask

    tmp = Path(tempfile.mkdtemp(prefix="nlpta-bench-mem-"))
    spec = TaskSpec(name="ewt", task="pos", source=DataSpec("ud:en_ewt", split="train", limit=2000),
                    target=DataSpec("ud:en_ewt", split="dev", limit=10))
    nlpta.get_method("none", "pos", seed=seed).fit(TransferTask(spec, seed=seed)).save(tmp / "model")
    sents = ["The battery died after two days , and support never called back .",
             "Great little place with friendly staff and fair prices !"]
    out: dict = {"predict": {}, "load": {},
                 "imports": _peak_rss_mib("import nlpta.data, nlpta.methods, nlpta.cli.predict, spacy, sklearn")}
    for n in (10_000, 50_000):
        f = tmp / f"in-{n}.txt"
        f.write_text("".join(f"{sents[i % 2]} ({i})\n" for i in range(n)), encoding="utf-8")
        code = (f"from nlpta.cli import main; main(['predict', {str(tmp / 'model')!r}, '--input', {str(f)!r}, "
                f"'--out', {str(tmp / f'out-{n}.jsonl')!r}])")
        out["predict"][str(n)] = _peak_rss_mib(code)
    for n in (100_000, 1_000_000):
        f = tmp / f"pool-{n}.txt"
        f.write_text("".join(f"review {i}: {sents[i % 2]}\n" for i in range(n)), encoding="utf-8")
        code = (f"from nlpta import data; ds = data.load({str(f)!r}, format='lines', "
                f"cache_dir={str(tmp / f'cache-{n}')!r}); assert len(ds) == {n}")
        out["load"][str(n)] = _peak_rss_mib(code)
    return out


def compute_memory(bench, seeds: list[int]) -> dict:
    return bench.measure(memory, seed=seeds[0])


def render_memory(r: dict) -> str:
    res = r["results"]
    p, ld = res["predict"], res["load"]
    lines = [
        "### Memory: streaming prediction and loading",
        "",
        "Peak resident memory of a fresh process (MiB): `nlpta predict` with the POS `none` tagger on raw lines "
        "(read, tokenized, tagged and written in batches), and `nlpta.data.load` of a raw-lines pool (written to a "
        "memory-mapped Arrow file, never a Python list of all rows).",
        "",
        "| command | input lines | peak RSS MiB |",
        "|---|---:|---:|",
        f"| (the imports alone) | 0 | {res['imports']:,.0f} |",
    ]
    lines += [f"| nlpta predict | {int(n):,} | {v:,.0f} |" for n, v in p.items()]
    lines += [f"| nlpta.data.load | {int(n):,} | {v:,.0f} |" for n, v in ld.items()]
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


def compute_throughput(bench, seeds: list[int]) -> dict:
    return bench.measure(throughput, seed=seeds[0], n_sentences=N_SENTENCES)


def compute_eval(bench, seeds: list[int]) -> dict:
    return bench.measure(spacy_eval, seed=seeds[0])


def render_throughput(r: dict) -> str:
    res = r["results"]
    spacy_key = next(k for k in res if k.startswith("spaCy en_core"))
    base = res[spacy_key]["words_per_second"]
    lines = [
        "## Using the adapted model: raw-text throughput",
        "",
        f"{res['sentences']:,} raw sentences of GENTLE test ({res['words']:,} words, counted as spaCy's non-space "
        "tokens), tokenized and tagged by each system in one process; `annotate` = spaCy tokenization + rows + "
        "tags with character offsets. The nlpta `none` tagger was trained on 2,000 EWT sentences, the LoRA tagger "
        "(all-MiniLM-L6-v2) for 2 steps (speed does not depend on training); the transformer runs on every core, "
        f"the others on one thread (torch threads otherwise: {res['torch_threads']}).",
        "",
        "| system | words / s | × spaCy sm |",
        "|---|---:|---:|",
    ]
    for k, v in res.items():
        if isinstance(v, dict) and "words_per_second" in v:
            lines.append(f"| {k} | {v['words_per_second']:,.0f} | {v['words_per_second'] / base:.2f} |")
    c = res["component"]
    lines += ["", f"The `nlpta_tagger` spaCy component against tokenizing with `spacy.blank('en')` and calling the "
              f"tagger directly on the same tokens: {c['component_seconds']:.1f} s vs {c['direct_seconds']:.1f} s, "
              f"overhead {100 * c['overhead']:+.1f}%.", "",
              "| sentiment model | reviews / s |", "|---|---:|"]
    for k, v in res.items():
        if k.startswith("sentiment: "):
            lines.append(f"| {k[len('sentiment: '):]} | {v['reviews_per_second']:,.1f} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


def render_eval(r: dict) -> str:
    res = r["results"]
    lines = [
        "### An nlpta tagger inside en_core_web_sm, on raw GENTLE and Tweebank text",
        "",
        "en_core_web_sm with its tagger replaced by `nlpta_tagger` (the `none` tagger trained on all of EWT train), "
        "run on the raw `# text` lines; a gold token counts as correct when it aligns one-to-one with a spaCy token "
        "that carries its UPOS (`spacy.training.Alignment`), so tokenization mistakes count as errors. UPOS "
        "accuracy, % of gold tokens:",
        "",
        "| corpus | sentences | gold tokens | aligned 1:1 | en_core_web_sm | nlpta none in en_core_web_sm | nlpta none on gold tokens |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c, v in res.items():
        if not isinstance(v, dict):  # (the runner adds "device")
            continue
        lines.append(f"| {c} | {v['sentences']:,} | {v['gold_tokens']:,} | {100 * v['one_to_one']:.1f} | "
                     f"{100 * v['en_core_web_sm']:.1f} | {100 * v['nlpta none in en_core_web_sm']:.1f} | "
                     f"{100 * v['nlpta none (gold tokens)']:.1f} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


SECTIONS = [
    Section("use-throughput", "## Using the adapted model: raw-text throughput", compute_throughput,
            render_throughput, seeds=[1], script=SCRIPT),
    Section("use-spacy-eval", "### An nlpta tagger inside en_core_web_sm, on raw GENTLE and Tweebank text",
            compute_eval, render_eval, seeds=[1], script=SCRIPT),
]
SECTIONS.append(Section("use-memory", "### Memory: streaming prediction and loading", compute_memory, render_memory,
                        seeds=[1], script=SCRIPT))
PAGE = SECTIONS

if __name__ == "__main__":
    from bench import page

    sys.exit(main(SECTIONS, page, prefix=PREFIX, description=__doc__.splitlines()[0]))
