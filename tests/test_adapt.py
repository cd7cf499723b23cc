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
        assert set(cand["scores"]) == set(S)
        assert all(cand["scores"][v] is not None and 0.0 <= cand["scores"][v] <= 1.0
                   for v in ("source_cv", "iwcv", "reverse"))
        assert set(cand["ranks"]) <= set(S) and all(1.0 <= r <= 2.0 for r in cand["ranks"].values())
        g = cand["predicted_gain_over_none"]
        assert g["low"] <= g["estimate"] <= g["high"] and g["folds"] == 3
        assert isinstance(cand["flags"], list) and cand["params"]["Cs"] == [1.0]
    assert c["candidates"]["none"]["predicted_gain_over_none"]["estimate"] == 0.0
    assert "domain_separability" in c["diagnosis"]
    # the oracle comes after the choice: accuracies of both candidates on the 100 labeled test rows
    acc = c["oracle"]["accuracy"]
    assert set(acc) == {"none", "reweight-clf"} and all(0.4 < a <= 1.0 for a in acc.values())
    assert c["regret"] == pytest.approx(max(acc.values()) - acc[c["chosen"]])
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"Chosen: `{c['chosen']}`" in report and "reweight-clf" in report
    metrics = json.loads((out / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["method"] == c["chosen_method"] and metrics["seeds"] == [1]
    model = load_model(out / c["run"]["model"])
    pred = model.predict(["this blender is excellent, works great and I love it",
                          "broke after two days, a waste of money, terrible"])
    assert len(pred) == 2 and set(pred) <= {0, 1}
