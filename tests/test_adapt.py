"""``nlpta adapt``: the choice rule on planted scores, and end to end on a small real pair
(Blitzer books -> kitchen) through the CLI: choice.json's schema, the saved model loads and predicts."""

from __future__ import annotations

import json

import pytest

from nlpta import load_model
from nlpta.adaptation import DECISION_VALIDATORS, choose
from nlpta.cli import main

S = DECISION_VALIDATORS


def _scores(**rows):
    return {k: dict(zip(S, v, strict=True)) for k, v in rows.items()}


def test_flagged_candidate_is_excluded_even_with_the_best_scores():
    scores = _scores(none=[0.70, 0.70, 0.70, 0.60, 0.20], good=[0.75, 0.76, 0.74, 0.65, 0.25],
                     collapsed=[0.99, 0.99, 0.99, 0.99, 0.99])
    gains = {"good": {"estimate": 0.06, "se": 0.01}, "collapsed": {"estimate": 0.3, "se": 0.01}}
    d = choose(scores, flagged=["collapsed"], gains=gains)
    assert d["chosen"] == "good" and not d["fallback"]
    assert d["mean_rank"]["good"] == 1.0 and d["ranks"]["collapsed"] == {}
    # the same table without the flag chooses the collapse: the exclusion is what stops it
    assert choose(scores, flagged=[], gains=gains)["chosen"] == "collapsed"


def test_falls_back_to_none_without_a_margin():
    scores = _scores(none=[0.70, 0.70, 0.70, 0.60, 0.20], a=[0.71, 0.71, 0.69, 0.59, 0.21])
    d = choose(scores, gains={"a": {"estimate": 0.01, "se": 0.02}})  # best mean rank, gain within one SE
    assert d["best"] == "a" and d["chosen"] == "none" and d["fallback"]
    d = choose(scores, gains={"a": {"estimate": 0.03, "se": 0.01}})  # 3 wins and a gain beyond one SE
    assert d["chosen"] == "a" and not d["fallback"]
    few = _scores(none=[0.70, 0.70, 0.70, 0.60, 0.20], a=[0.71, 0.71, 0.69, 0.59, 0.19])  # 2 wins of 5
    assert choose(few, gains={"a": {"estimate": 0.05, "se": 0.01}})["chosen"] == "none"


def test_label_mix_guard_falls_back_to_none_at_its_threshold():
    """A clear winner is kept under the label-mix guard's threshold and dropped at it; ``None`` (no
    estimate, or POS) and a disabled guard leave the rule as it was."""
    from nlpta.adaptation import LABEL_MIX_GUARD

    scores = _scores(none=[0.70, 0.70, 0.70, 0.60, 0.20], a=[0.75, 0.76, 0.74, 0.65, 0.25])
    gains = {"a": {"estimate": 0.05, "se": 0.01}}
    assert choose(scores, gains=gains)["chosen"] == "a"
    assert choose(scores, gains=gains, label_mix=LABEL_MIX_GUARD - 0.01)["chosen"] == "a"
    d = choose(scores, gains=gains, label_mix=LABEL_MIX_GUARD)
    assert d["chosen"] == "none" and d["best"] == "a" and d["fallback"]
    assert "label mix" in d["reason"] and f"{LABEL_MIX_GUARD:.2f}" in d["reason"]
    assert choose(scores, gains=gains, label_mix=0.5, label_mix_guard=None)["chosen"] == "a"
    assert choose(scores, gains=gains, label_mix=None)["chosen"] == "a"
    # when none itself wins, the guard changes nothing (no fallback reported)
    worse = _scores(none=[0.75, 0.76, 0.74, 0.65, 0.25], a=[0.70, 0.70, 0.70, 0.60, 0.20])
    d = choose(worse, gains=gains, label_mix=0.5)
    assert d["chosen"] == "none" and not d["fallback"]


def _gain_scores(**rows):
    return {k: {"doc": d, "iwcv": i} for k, (d, i) in rows.items()}


def test_gain_rule_takes_the_highest_doc_that_iwcv_does_not_veto():
    """The ``gain`` rule: DoC ranks; a candidate more than GAIN_TOLERANCE below none on IWCV is out
    (``vetoed``), however high its DoC; the winner is kept only with a DoC above none's."""
    from nlpta.adaptation import GAIN_TOLERANCE

    scores = _gain_scores(none=(0.80, 0.80), sfa=(0.86, 0.795), harmful=(0.95, 0.80 - GAIN_TOLERANCE - 0.001),
                          weak=(0.82, 0.81))
    d = choose(scores, rule="gain")
    assert d["chosen"] == "sfa" and not d["fallback"] and d["vetoed"] == ["harmful"]
    assert d["ranks"]["sfa"] == {"doc": 1.0} and d["ranks"]["harmful"] == {}
    assert d["wins_over_none"]["sfa"] == ["doc"] and "vetoed by iwcv" in d["reason"]
    # exactly at the tolerance is not a veto (strictly more than 2 points below)
    at = _gain_scores(none=(0.80, 0.80), a=(0.90, 0.80 - GAIN_TOLERANCE + 1e-12))
    assert choose(at, rule="gain")["chosen"] == "a"
    # none's DoC is the best: none, no fallback; the winner's DoC not above none's: fallback to none
    assert choose(_gain_scores(none=(0.90, 0.8), a=(0.85, 0.9)), rule="gain")["chosen"] == "none"
    tie = choose(_gain_scores(none=(0.85, 0.80), a=(0.85, 0.90)), rule="gain")
    assert tie["best"] == "a" and tie["chosen"] == "none" and tie["fallback"]  # ties: the higher iwcv ranks first


def test_gain_rule_guards_flags_and_missing_scores():
    from nlpta.adaptation import LABEL_MIX_GUARD
    from nlpta.errors import NlptaError

    scores = _gain_scores(none=(0.80, 0.80), a=(0.88, 0.80), collapsed=(0.99, 0.85))
    assert choose(scores, flagged=["collapsed"], rule="gain")["chosen"] == "a"
    assert choose(scores, rule="gain")["chosen"] == "collapsed"  # the flag is what stops it
    d = choose(scores, flagged=["collapsed"], rule="gain", label_mix=LABEL_MIX_GUARD)
    assert d["chosen"] == "none" and d["best"] == "a" and d["fallback"] and "label mix" in d["reason"]
    assert choose(scores, flagged=["collapsed"], rule="gain", label_mix=LABEL_MIX_GUARD,
                  label_mix_guard=None)["chosen"] == "a"
    # a method without probabilities has no DoC and cannot win; with none flagged, no margin is asked
    no_doc = {"none": {"doc": 0.80, "iwcv": 0.80}, "dann": {"doc": None, "iwcv": 0.95}}
    assert choose(no_doc, rule="gain")["chosen"] == "none"
    assert choose(_gain_scores(none=(0.90, 0.80), a=(0.70, 0.80)), flagged=["none"], rule="gain")["chosen"] == "a"
    with pytest.raises(NlptaError, match="E322"):
        choose(scores, rule="bold")


def test_adapt_end_to_end_on_blitzer(tmp_path, require_corpus):
    for name in ("mdsd:books", "mdsd:kitchen"):
        require_corpus(name)
    task = tmp_path / "b2k.yaml"
    task.write_text(
        "name: b2k-small\ntask: sentiment\n"
        "source: {corpus: mdsd:books, split: train, limit: 300}\n"
        "target: {corpus: mdsd:kitchen, split: test, limit: 100}\n"
        "unlabeled: {corpus: mdsd:kitchen, split: unlabeled, labeled: false, limit: 300}\n"
        "method: none\nparams: {Cs: [1.0]}\nseeds: [1]\n", encoding="utf-8")
    out = tmp_path / "adapt"
    rc = main(["adapt", str(task), "--candidates", "none,reweight-clf", "--param", "Cs=[1.0]", "--folds", "3",
               "--seed", "1", "--out", str(out), "--oracle"])
    assert rc == 0
    c = json.loads((out / "choice.json").read_text(encoding="utf-8"))
    assert set(c["candidates"]) == {"none", "reweight-clf"}
    assert c["chosen"] in c["candidates"] and isinstance(c["fallback"], bool) and c["rule"]
    assert c["fallback"] == (c["chosen"] == "none" and c["best_by_rank"] not in (None, "none"))
    for cand in c["candidates"].values():
        assert set(cand["scores"]) == {*S, "doc"}
        assert all(cand["scores"][v] is not None and 0.0 <= cand["scores"][v] <= 1.0
                   for v in ("source_cv", "iwcv", "reverse"))
        assert set(cand["ranks"]) <= set(S) and all(1.0 <= r <= 2.0 for r in cand["ranks"].values())
        g = cand["predicted_gain_over_none"]
        assert g["low"] <= g["estimate"] <= g["high"] and g["folds"] == 3
        assert isinstance(cand["flags"], list) and cand["params"]["Cs"] == [1.0]
        # ATC's estimate of the target accuracy (reported, not in the rule)
        assert 0.0 <= cand["predicted_target_accuracy"] <= 1.0
    assert c["candidates"]["none"]["predicted_gain_over_none"]["estimate"] == 0.0
    assert "predicted target accuracy (ATC)" in (out / "report.md").read_text(encoding="utf-8")
    assert "domain_separability" in c["diagnosis"]
    from nlpta.adaptation import LABEL_MIX_GUARD

    guard = c["label_mix_guard"]
    assert guard["applied"] is True and guard["threshold"] == LABEL_MIX_GUARD
    assert guard["estimate"] == pytest.approx(c["diagnosis"]["label_shift"]["tv_distance"])
    # the oracle comes after the choice: accuracies of both candidates on the 100 labeled test rows
    acc = c["oracle"]["accuracy"]
    assert set(acc) == {"none", "reweight-clf"} and all(0.4 < a <= 1.0 for a in acc.values())
    assert c["regret"] == pytest.approx(max(acc.values()) - acc[c["chosen"]])
    # the validators' fit of the chosen method is the run's fit: the same accuracy on the test rows
    assert c["oracle"]["run_accuracy"] == pytest.approx(acc[c["chosen"]])
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"Chosen: `{c['chosen']}`" in report and "reweight-clf" in report
    metrics = json.loads((out / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["method"] == c["chosen_method"] and metrics["seeds"] == [1]
    model = load_model(out / c["run"]["model"])
    pred = model.predict(["this blender is excellent, works great and I love it",
                          "broke after two days, a waste of money, terrible"])
    assert len(pred) == 2 and set(pred) <= {0, 1}


def test_cli_label_mix_guard_flag_reaches_adapt(monkeypatch, tmp_path):
    """``--no-label-mix-guard`` turns the guard off; it is on by default; ``--rule`` reaches adapt
    (no fit: adapt is replaced)."""
    import nlpta.adaptation as adaptation

    seen = []

    class _Res:
        choice = {"task": "t", "chosen": "none", "fallback": False, "reason": "r"}
        out_dir = tmp_path
        model_dir = tmp_path / "run"

    def fake_adapt(task, **kw):
        seen.append((kw["label_mix_guard"], kw["rule"]))
        return _Res()

    monkeypatch.setattr(adaptation, "adapt", fake_adapt)
    task = tmp_path / "t.yaml"
    task.write_text("name: t\ntask: sentiment\nsource: {corpus: mdsd:books}\ntarget: {corpus: mdsd:kitchen}\n"
                    "unlabeled: {corpus: mdsd:kitchen, split: unlabeled}\nmethod: none\n", encoding="utf-8")
    for extra in ([], ["--no-label-mix-guard"], ["--label-mix-guard"]):
        assert main(["adapt", str(task), "--out", str(tmp_path / "o"), *extra]) == 0
    assert [g for g, _ in seen] == [True, False, True] and {r for _, r in seen} == {"safe"}
    assert main(["adapt", str(task), "--out", str(tmp_path / "o"), "--rule", "gain"]) == 0
    assert seen[-1] == (True, "gain")


def test_nlpta_adapt_is_the_function_and_budgets_pick_candidates():
    import nlpta
    from nlpta import adaptation
    from nlpta.errors import NlptaError

    assert nlpta.adapt is adaptation.adapt
    cpu = adaptation.auto_candidates("sentiment", "cpu")
    gpu = adaptation.auto_candidates("pos", "gpu")
    assert cpu == adaptation.AUTO_CANDIDATES["sentiment"] and "lora" not in cpu
    assert gpu[: len(adaptation.AUTO_CANDIDATES["pos"])] == adaptation.AUTO_CANDIDATES["pos"] and "lora" in gpu
    assert {"lora", "lora-dapt", "lora-self-train"} <= set(adaptation.auto_candidates("sentiment", "gpu"))
    assert adaptation.resolve_budget("auto") in ("cpu", "gpu")
    with pytest.raises(NlptaError, match="E912"):
        adaptation.auto_candidates("sentiment", "tpu")


def _write_rows(path, ds, labeled=True):
    with open(path, "w", encoding="utf-8") as f:
        for r in ds:
            f.write(json.dumps({"text": r["text"], **({"label": int(r["label"])} if labeled else {})}) + "\n")


def _books_to_kitchen_files(tmp_path, require_corpus, n_source: int, n_target: int, n_unlabeled: int):
    """A user's own JSON Lines files: Blitzer books training rows, kitchen test rows and kitchen
    unlabeled text (seeded samples of the given sizes). Returns their three paths."""
    from nlpta import data

    for name in ("mdsd:books", "mdsd:kitchen"):
        require_corpus(name)
    src, tgt, unl = tmp_path / "books.jsonl", tmp_path / "kitchen-test.jsonl", tmp_path / "kitchen-text.jsonl"
    _write_rows(src, data.sample_rows(data.load("mdsd:books", split="train", split_seed=1), n_source, 1))
    _write_rows(tgt, data.sample_rows(data.load("mdsd:kitchen", split="test", split_seed=1), n_target, 1))
    _write_rows(unl, data.sample_rows(data.load("mdsd:kitchen", split="unlabeled"), n_unlabeled, 1), labeled=False)
    return src, tgt, unl


def test_adapt_source_target_unlabeled_form_on_own_files(tmp_path, require_corpus, capsys):
    """`nlpta adapt --source S --target T --unlabeled U` on a user's own JSON Lines files (the
    task kind read from the source), with the errors of a half-given form."""
    src, tgt, unl = _books_to_kitchen_files(tmp_path, require_corpus, 240, 80, 240)
    out = tmp_path / "adapt"
    rc = main(["adapt", "--source", str(src), "--target", str(tgt), "--unlabeled", str(unl), "--candidates",
               "none,self-train", "--folds", "2", "--budget", "cpu", "--out", str(out), "--rule", "gain"])
    assert rc == 0
    c = json.loads((out / "choice.json").read_text(encoding="utf-8"))
    assert c["rule_name"] == "gain" and c["validators"] == ["doc", "iwcv"] and "doc" in c["rule"]
    assert all(0.0 < x["scores"]["doc"] <= 1.0 for x in c["candidates"].values())
    # the rule's own choice, replayed from choice.json's scores
    from nlpta.adaptation import choose_gain

    assert choose_gain({k: x["scores"] for k, x in c["candidates"].items()}, c["excluded"],
                       label_mix=c["label_mix_guard"]["estimate"])["chosen"] == c["chosen"]
    assert "| doc | iwcv |" in (out / "report.md").read_text(encoding="utf-8")
    assert c["kind"] == "sentiment" and c["budget"] == "cpu" and set(c["candidates"]) == {"none", "self-train"}
    assert c["task"] == "books.jsonl->kitchen-test.jsonl" and not c["excluded"]
    # the target file carries labels, so the oracle is measured (after the choice) without --oracle
    assert set(c["oracle"]["accuracy"]) == {"none", "self-train"}
    assert c["regret"] == pytest.approx(max(c["oracle"]["accuracy"].values()) - c["oracle"]["accuracy"][c["chosen"]])
    assert load_model(out / c["run"]["model"]).predict(["works great, I love it"])[0] in (0, 1)
    capsys.readouterr()
    assert main(["adapt", "--source", str(src), "--target", str(tgt), "--out", str(tmp_path / "x")]) == 2
    assert "E912" in (err := capsys.readouterr().err) and "--unlabeled" in err
    assert main(["adapt", str(tmp_path / "task.yaml"), "--source", str(src), "--out", str(tmp_path / "y")]) == 2
    assert "E912" in (err := capsys.readouterr().err) and "not both" in err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_adapt_scores_and_runs_a_transformer_self_training_candidate(tmp_path, require_corpus):
    """The gpu budget's `lora-self-train` goes through the same scoring and choice as the classical
    candidates (here on a tiny random BERT, a few steps): its scores are in choice.json and, when
    chosen or not, the saved model loads and predicts."""
    from finetune_helpers import tiny_bert

    import nlpta
    from nlpta.tasks import parse_task

    src, tgt, unl = _books_to_kitchen_files(tmp_path, require_corpus, 120, 40, 80)
    tiny = tiny_bert(tmp_path / "bert")

    task = parse_task({"name": "books->kitchen", "task": "sentiment", "source": {"corpus": str(src)},
                       "target": {"corpus": str(tgt)}, "unlabeled": {"corpus": str(unl), "labeled": False}})
    st = {"model": str(tiny), "max_steps": 2, "batch_size": 8, "max_length": 32, "rounds": 1, "threshold": 0.5,
          "max_unlabeled": 40}
    res = nlpta.adapt(task, candidates={"lora-self-train": ("lora-self-train", st)}, folds=2, max_rows=80,
                      out_dir=tmp_path / "out", budget="cpu")
    c = json.loads((tmp_path / "out" / "choice.json").read_text(encoding="utf-8"))
    assert set(c["candidates"]) == {"none", "lora-self-train"} and c["chosen"] in c["candidates"]
    scores = c["candidates"]["lora-self-train"]["scores"]
    assert all(isinstance(scores[v], float) for v in ("source_cv", "iwcv", "dev", "reverse", "im")), scores
    assert res.chosen == c["chosen"]
    assert load_model(tmp_path / "out" / c["run"]["model"]).predict(["works great, I love it"])[0] in (0, 1)
