"""nlpta.bench.choice: the choices made from stored validator scores (each validator alone, and
the adapt rule), their regret against the oracle, the pairs below none, and the rank correlation
of a validator with the target accuracy -- on planted units, no fit."""

from __future__ import annotations

import pytest

from nlpta.adaptation import DECISION_VALIDATORS
from nlpta.bench.choice import (
    RULE,
    candidate_accuracy,
    choose_by,
    correlations,
    spearman,
    summarize,
)


def _cand(acc, scores, collapsed=False, gain=None):
    return {"accuracy": acc, "scores": scores, "collapsed": collapsed, "flags": [], "n": 400, "gain": gain}


def _unit(none_acc, good_acc, bad_acc, good_scores=0.80, bad_flagged=True):
    """none, a good candidate (higher on every decision validator, a clear IWCV gain) and a collapsed
    one with the best scores of all (entropy rewards a collapse)."""
    base = {v: 0.70 for v in DECISION_VALIDATORS} | {"entropy": -0.5}
    return {"candidates": {
        "none": _cand(none_acc, base),
        "good": _cand(good_acc, {v: good_scores for v in DECISION_VALIDATORS} | {"entropy": -0.4},
                      gain={"estimate": 0.05, "se": 0.01, "low": 0.03, "high": 0.07, "folds": 3}),
        "bad": _cand(bad_acc, {v: 0.95 for v in DECISION_VALIDATORS} | {"entropy": -0.01}, collapsed=bad_flagged,
                     gain={"estimate": 0.2, "se": 0.01, "low": 0.18, "high": 0.22, "folds": 3}),
    }, "seconds": 1.0}


def test_choices_exclude_the_flagged_candidate_and_the_rule_keeps_a_clear_winner():
    u = _unit(0.78, 0.82, 0.50)
    assert choose_by(u, "iwcv") == "good"  # "bad" scores higher but the guard flags it
    assert choose_by(u, RULE) == "good"
    unflagged = _unit(0.78, 0.82, 0.50, bad_flagged=False)
    assert choose_by(unflagged, "entropy") == "bad" and choose_by(unflagged, RULE) == "bad"
    # without a margin (the good candidate's scores tie none's) the rule falls back to none
    assert choose_by(_unit(0.78, 0.82, 0.50, good_scores=0.70), RULE) == "none"


def test_the_rule_reads_the_units_label_mix_and_the_unguarded_rule_does_not():
    from nlpta.adaptation import LABEL_MIX_GUARD
    from nlpta.bench.choice import RULE_UNGUARDED, label_mix

    u = _unit(0.78, 0.82, 0.50)
    assert label_mix(u) is None and choose_by(u, RULE) == "good"
    u["diagnosis"] = {"label_shift": {"tv_distance": LABEL_MIX_GUARD + 0.05}}
    assert label_mix(u) == pytest.approx(LABEL_MIX_GUARD + 0.05)
    assert choose_by(u, RULE) == "none" and choose_by(u, RULE_UNGUARDED) == "good"
    u["diagnosis"] = {"label_shift": None}  # POS: no estimate, no guard
    assert label_mix(u) is None and choose_by(u, RULE) == "good"


def test_summarize_regret_captured_share_and_pairs_below_none():
    units = {
        "a->b": {1: _unit(0.78, 0.82, 0.50), 2: _unit(0.80, 0.83, 0.50), 3: _unit(0.79, 0.83, 0.50)},
        # here the validators' favourite is worse than none on every seed: the choice is below none
        "c->d": {1: _unit(0.85, 0.80, 0.50), 2: _unit(0.86, 0.80, 0.50), 3: _unit(0.84, 0.81, 0.50)},
    }
    s = summarize(units, RULE)
    assert s["picked"] == {"good": 6}
    p = s["pairs"]["c->d"]
    assert p["below"] and not s["pairs"]["a->b"]["below"] and s["n_below"] == 1
    assert p["mean_diff"] == pytest.approx((-0.05 - 0.06 - 0.03) / 3)
    assert s["worst"] == pytest.approx(p["mean_diff"])
    # oracle per seed: the best candidate, so none on c->d; regret = oracle - chosen averaged over pairs
    assert s["pairs"]["c->d"]["oracle"] == {1: 0.85, 2: 0.86, 3: 0.84}
    chosen = [0.82, 0.83, 0.83, 0.80, 0.80, 0.81]
    oracle = [0.82, 0.83, 0.83, 0.85, 0.86, 0.84]
    nones = [0.78, 0.80, 0.79, 0.85, 0.86, 0.84]
    assert s["regret"] == pytest.approx(sum(oracle) / 6 - sum(chosen) / 6)
    assert s["captured"] == pytest.approx((sum(chosen) - sum(nones)) / (sum(oracle) - sum(nones)))
    assert summarize(units, "source_cv")["picked"] == {"good": 6}


def test_spearman_and_correlations():
    u = _unit(0.78, 0.82, 0.50, bad_flagged=False)
    # iwcv: bad 0.95 > good 0.80 > none 0.70 against accuracies 0.50 < 0.82 > 0.78
    assert spearman(u, "iwcv") == pytest.approx(-0.5)
    assert spearman(u, "nope") is None  # no candidate scored
    good = {"candidates": {k: _cand(a, {"x": a}) for k, a in (("none", 0.7), ("a", 0.8), ("b", 0.9))}}
    assert spearman(good, "x") == pytest.approx(1.0)
    c = correlations({"p": {1: good, 2: good}, "q": {1: u}}, "x")
    assert c["n"] == 2 and c["mean"] == pytest.approx(1.0) and c["positive"] == 1.0
    assert correlations({"q": {1: u}}, "x") == {"n": 0}
    acc = candidate_accuracy({"p": {1: good, 2: good}}, "a")
    assert acc == {"p": {1: 0.8, 2: 0.8}}


@pytest.mark.data
def test_measure_diagnosis_gives_the_rule_its_label_mix(data_root):
    """FDU-MTL apparel -> baby with the ``unlabel`` file (mostly positive): the stored diagnosis
    carries the BBSE estimate far from the source's balanced mix, and the rule's guard reads it."""
    from nlpta.adaptation import LABEL_MIX_GUARD
    from nlpta.bench.choice import label_mix, measure_diagnosis
    from nlpta.bench.specs import fdu

    d = measure_diagnosis(fdu("apparel", "baby").to_dict(), seed=1, max_rows=800)
    assert 0 <= d["domain_separability"]["pad"] <= 2 and d["seconds"] > 0
    assert d["label_shift"]["target"]["1"] > 0.8 > d["label_shift"]["source"]["1"]
    u = {**_unit(0.78, 0.82, 0.50), "diagnosis": d}
    assert label_mix(u) >= LABEL_MIX_GUARD and choose_by(u, RULE) == "none"


def test_hindsight_ceiling_and_fixed_choices():
    from nlpta.bench.choice import hindsight

    units = {
        "a->b": {1: _unit(0.78, 0.82, 0.50), 2: _unit(0.80, 0.83, 0.50)},  # good: +4, +3
        "c->d": {1: _unit(0.85, 0.80, 0.50), 2: _unit(0.86, 0.88, 0.50)},  # good: -5, +2 -> -1.5: none is best
    }
    h = hindsight(units)
    assert h["fixed"]["good"] == pytest.approx((0.035 - 0.015) / 2)
    assert h["fixed_worst"]["good"] == pytest.approx(-0.015)
    assert h["best_fixed"] == "good"
    # per pair: good on a->b (+3.5), none on c->d (0); the per-seed oracle would also count +2 on c->d seed 2
    assert h["per_pair"] == pytest.approx(0.035 / 2)
    assert summarize(units, RULE)["oracle_gain"] == pytest.approx((0.04 + 0.03 + 0.0 + 0.02) / 4)


def test_estimate_errors_of_planted_scores():
    from nlpta.bench.choice import estimate_errors

    def unit(none_acc, good_acc, none_sc, good_sc):
        return {"candidates": {"none": _cand(none_acc, {"atc": none_sc, "doc": None}),
                               "good": _cand(good_acc, {"atc": good_sc, "doc": None})}}

    units = {"a->b": {1: unit(0.70, 0.80, 0.75, 0.90), 2: unit(0.70, 0.76, 0.70, 0.76)}}
    e = estimate_errors(units, "atc")
    assert e["n"] == 4
    assert e["mae"] == pytest.approx((0.05 + 0.10 + 0.0 + 0.0) / 4)
    assert e["bias"] == pytest.approx(0.15 / 4)
    # predicted gains 0.15 and 0.06 against measured 0.10 and 0.06
    assert e["gain_mae"] == pytest.approx(0.025)
    assert e["by_candidate"] == pytest.approx({"none": 0.025, "good": 0.05})
    assert estimate_errors(units, "doc") == {"n": 0}


@pytest.mark.data
def test_measure_estimates_on_a_real_slice_renders(data_root, monkeypatch):
    """Blitzer books -> kitchen, 300 rows a side: every estimate of every candidate is a number in
    [0, 1] (DEV's risk may leave it; it is bounded here by the slice), accuracies on the labeled
    target rows, and the section renders one row per estimate."""
    import importlib
    import json
    import sys
    from pathlib import Path

    from nlpta.bench.choice import ESTIMATORS, measure_estimates
    from nlpta.bench.specs import blitzer

    cands = {"none": ["none", {"Cs": [10.0]}], "self-train": ["self-train", {"Cs": [10.0]}]}
    u = measure_estimates(blitzer("books", "kitchen", unlabeled=True, limit=300).to_dict(), cands, seed=1,
                          folds=3, max_rows=300)
    assert set(u["candidates"]) == set(cands)
    for c in u["candidates"].values():
        assert set(c["scores"]) == set(ESTIMATORS)
        assert all(0.3 < c["scores"][v] <= 1.0 for v in ("source_cv", "iwcv", "atc", "doc"))
        assert 0.5 < c["accuracy"] <= 1.0 and c["n"] == 300 and isinstance(c["collapsed"], bool)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    bc = importlib.import_module("bench_choice")
    stored = json.loads(json.dumps({"results": {"units": {"blitzer": {"books->kitchen": {"1": u}}}},
                                    "seeds": [1], "provenance": {"device": "cpu", "versions": {}, "commit": "abc",
                                                                 "command": "x", "compute_seconds": 1.0, "runs": 1,
                                                                 "cached": 0}}))
    md = bc.render_estimates(stored)
    assert sum(line.startswith("| Blitzer (12 pairs) | `") for line in md.splitlines()) == len(ESTIMATORS) + 2
    assert "FDU-MTL" not in md.split("\n\n")[2]  # a benchmark without units gets no rows


def _gain_unit(none_acc, sfa_acc, sfa_doc=0.90, sfa_iwcv=0.79, tv=None):
    """none and sfa scored by the gain rule's validators (DoC ranks, IWCV vetoes), with a diagnosis."""
    c = {"none": _cand(none_acc, {"doc": 0.80, "iwcv": 0.80, "atc": 0.80, "source_cv": 0.8, "dev": 0.8}),
         "sfa": _cand(sfa_acc, {"doc": sfa_doc, "iwcv": sfa_iwcv, "atc": 0.9, "source_cv": 0.78, "dev": 0.79})}
    return {"candidates": c, "seconds": 2.0, "diagnosis": {"label_shift": {"tv_distance": tv} if tv is not None else None}}


def test_choose_by_the_gain_rule_and_a_fixed_candidate():
    from nlpta.adaptation import GAIN_TOLERANCE, LABEL_MIX_GUARD
    from nlpta.bench.choice import FIXED, RULE_GAIN, RULE_GAIN_UNGUARDED

    u = _gain_unit(0.78, 0.82)
    assert choose_by(u, RULE_GAIN) == "sfa" and choose_by(u, f"{FIXED}none") == "none"
    assert choose_by(_gain_unit(0.78, 0.82, tv=LABEL_MIX_GUARD), RULE_GAIN) == "none"  # the label-mix guard
    assert choose_by(_gain_unit(0.78, 0.82, tv=LABEL_MIX_GUARD), RULE_GAIN_UNGUARDED) == "sfa"
    assert choose_by(_gain_unit(0.78, 0.82, sfa_iwcv=0.80 - GAIN_TOLERANCE - 0.01), RULE_GAIN) == "none"  # vetoed
    assert choose_by(_gain_unit(0.78, 0.82, sfa_doc=0.80), RULE_GAIN) == "none"  # DoC not above none's
    assert choose_by(u, f"{FIXED}sfa") == "sfa"


def test_rules_section_renders_the_gain_rule_against_the_goal(monkeypatch):
    """compute_rules measures every benchmark's pairs and seeds with the diagnosis beside; the table
    has the gain rule, each estimate and each fixed candidate per benchmark, and says which goal each
    benchmark meets: here Blitzer captures everything and FDU-MTL loses 3 points on one pair."""
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    bc = importlib.import_module("bench_choice")
    calls = []

    class FakeBench:
        def measure(self, fn, seed=None, **config):
            calls.append((fn.__name__, config["task"]["name"], seed))
            if fn.__name__ == "measure_diagnosis":
                return {"label_shift": {"tv_distance": 0.05}}
            return _gain_unit(0.78, 0.82)

    monkeypatch.setattr(bc, "RULE_SETS", {"Blitzer (12 pairs)": "blitzer"})
    got = bc.compute_rules(FakeBench(), [1, 2])
    assert len(calls) == 12 * 2 * 2 and {c[0] for c in calls} == {"measure_estimates", "measure_diagnosis"}
    assert set(got["units"]["blitzer"]) == {f"{s}->{t}" for s, t in bc.BLITZER_PAIRS}
    assert got["units"]["blitzer"]["books->kitchen"][1]["diagnosis"] == {"label_shift": {"tv_distance": 0.05}}
    fdu = {"a->b": {"1": _gain_unit(0.80, 0.84), "2": _gain_unit(0.80, 0.83)},
           "c->d": {"1": _gain_unit(0.80, 0.77), "2": _gain_unit(0.81, 0.78)}}
    monkeypatch.setattr(bc, "RULE_SETS", {"Blitzer (12 pairs)": "blitzer", "FDU-MTL (2 pairs)": "fdu"})
    prov = {"device": "cpu", "versions": {}, "commit": "abc", "command": "x", "compute_seconds": 1.0, "runs": 1,
            "cached": 0}
    md = bc.render_rules({"results": {"units": {**got["units"], "fdu": fdu}}, "seeds": [1, 2], "provenance": prov})
    rows = [ln for ln in md.splitlines() if ln.startswith("| Blitzer (12 pairs) | ")]
    assert len(rows) == 2 + len(bc.ESTIMATORS) + 1 + 2  # gain rule (and unguarded), estimates, always sfa, none, oracle
    assert "| Blitzer (12 pairs) | **`gain` rule** | " in md and "| +4.00 | 100% | 0 of 12 | +4.0 | sfa 24 |" in md
    assert "- Blitzer (12 pairs): captured 100% (met); worst pair +4.0 (met)." in md
    # FDU: +3.5 on a -> b, -3.0 on c -> d: +0.25 of the oracle's +1.75
    assert "- FDU-MTL (2 pairs): captured 14% (missed); worst pair -3.0 (missed: c → d (-3.0))." in md
    assert "| FDU-MTL, `unlabel` | c → d | — | 80.5 ± 6.4 | 77.5 ± 6.4 | sfa, sfa | -3.0 ± 0.0 **below** |" in md
    assert "| Blitzer | books → kitchen | 0.05 | 78.0 ± 0.0 | 82.0 ± 0.0 | sfa, sfa | +4.0 ± 0.0 |" in md


def test_rules_pos_section_measures_the_pos_protocol_without_a_label_mix_guard():
    """choice-rules-pos: the POS choice protocol's tasks and candidate parameters (max_iter, one
    self-training round), no diagnosis (the label-mix guard is for classification), and a render
    whose per-pair table sits beside the first candidate after none."""
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    bc = importlib.import_module("bench_choice")
    seen = []

    class FakeBench:
        def measure(self, fn, seed=None, **config):
            seen.append((fn.__name__, config))
            c = {"none": _cand(0.85, {"doc": 0.80, "iwcv": 0.80}),
                 "reweight-clf": _cand(0.86, {"doc": 0.81, "iwcv": 0.80}),
                 "self-train": _cand(0.84, {"doc": 0.79, "iwcv": 0.80})}
            return {"candidates": c, "seconds": 3.0}

    got = bc.compute_rules_pos(FakeBench(), [1])
    assert {n for n, _ in seen} == {"measure_estimates"} and len(seen) == len(bc.POS_PAIRS)
    cands = seen[0][1]["candidates"]
    assert list(cands) == ["none", "reweight-clf", "self-train"]
    assert all(p["max_iter"] == bc.POS_MAX_ITER for _, p in cands.values())
    assert cands["self-train"][1]["rounds"] == bc.POS_ROUNDS and "rounds" not in cands["none"][1]
    assert seen[0][1]["task"]["source"]["limit"] == bc.POS_LIMIT
    assert seen[0][1]["task"]["unlabeled"]["limit"] == bc.POS_UNLABELED
    units = got["units"]["pos"]
    assert set(units) == {f"{s}->{t}" for s, t in bc.POS_PAIRS} and "diagnosis" not in units["email->reviews"][1]
    prov = {"device": "cpu", "versions": {}, "commit": "abc", "command": "x", "compute_seconds": 1.0, "runs": 1,
            "cached": 0}
    md = bc.render_rules_pos({"results": got, "seeds": [1], "provenance": prov})
    assert md.startswith(bc.RULES_POS_TITLE) and "no label-mix guard (POS)" in md
    assert "| EWT POS (3 genre pairs) | **`gain` rule** | 86.0 | +1.00 | 100% | 0 of 3 | +1.0 | reweight-clf 3 |" in md
    assert "without its label-mix guard" not in md  # no unit has a label-mix estimate: no such row
    assert "beside `none` and `reweight-clf`:" in md and "| EWT POS | email → reviews | — | 85.0 | 86.0 | " in md
