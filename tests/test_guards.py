"""Guards over target predictions (issue 18 item 9, issue 20 item 2): a collapse is flagged."""

from __future__ import annotations

import json

from nlpta.validation import prediction_guard


def test_planted_collapse_is_flagged():
    g = prediction_guard([0, 1] * 100, [1] * 190 + [0] * 10)
    assert g["collapsed"] and g["max_predicted"] == ["1", 0.95]
    assert g["predicted"] == {"0": 0.05, "1": 0.95} and g["source"] == {"0": 0.5, "1": 0.5}
    assert abs(g["total_variation"] - 0.45) < 1e-12
    assert len(g["warnings"]) == 1 and "95.0%" in g["warnings"][0]
    json.dumps(g)  # goes into metrics.json as it is


def test_balanced_predictions_and_skewed_sources_are_not_collapses():
    assert not prediction_guard([0, 1] * 50, [0, 1, 1] * 40)["collapsed"]
    # the source itself is 95% one label: predicting it is not a collapse
    assert not prediction_guard([1] * 95 + [0] * 5, [1] * 100)["collapsed"]
    # unlabeled (-1) rows are not labels
    assert prediction_guard([0, 1, -1, -1, -1, -1], [0, 1])["source"] == {"0": 0.5, "1": 0.5}


def test_pos_tag_lists_are_flattened():
    g = prediction_guard([["NOUN", "VERB"], ["DET", "NOUN"]], [["NOUN"] * 19 + ["VERB"]])
    assert g["collapsed"] and g["max_predicted"][0] == "NOUN"
    assert not prediction_guard([["NOUN", "VERB"]], [["NOUN", "VERB", "NOUN"]])["collapsed"]


def test_a_collapsed_run_says_so_in_metrics_and_report(tmp_path, data_root):
    """kmm on FDU-MTL apparel -> baby predicts (nearly) every review positive: the run folder's
    metrics.json has the weights' ESS and the predicted distribution, and report.md warns."""
    from nlpta.pipeline import run_task

    task = tmp_path / "fdu.yaml"
    task.write_text("name: fdu-apparel-to-baby\ntask: sentiment\nsource: {corpus: 'fdu:apparel', split: train}\n"
                    "target: {corpus: 'fdu:baby', split: test}\nunlabeled: {corpus: 'fdu:baby', split: unlabeled}\n"
                    "method: kmm\nseeds: [1]\n")
    res = run_task(task, out_dir=tmp_path / "run")
    run = res.metrics["runs"][0]
    assert run["predictions"]["collapsed"], run["predictions"]  # measured: 94% positive
    assert 0 < run["fit_report"]["ess"] <= 1600 and run["fit_report"]["source_rows"] == 1600
    assert any("prediction collapse" in w for w in res.metrics["warnings"])
    sep = res.metrics["domain_separability"]
    assert 0.5 <= sep["accuracy"] <= 1.0 and not sep["separable"]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "## Warnings" in report and "prediction collapse" in report and "ess_share" in report
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["warnings"] == res.metrics["warnings"]


def test_perfectly_separable_domains_and_fit_warnings_are_run_warnings():
    from nlpta.pipeline import _warnings_md, run_warnings

    metrics = {"runs": [{"seed": 1, "fit_report": {"ess": 3.0, "warnings": ["the weights leave 1% in play"]},
                         "predictions": {"warnings": []}},
                        {"seed": 2, "fit_report": {}, "predictions": {"warnings": ["prediction collapse: ..."]}}],
               "domain_separability": {"accuracy": 1.0, "pad": 2.0, "separable": True, "rows_per_domain": 400}}
    ws = run_warnings(metrics)
    assert ws[0] == "seed 1: the weights leave 1% in play" and ws[1] == "seed 2: prediction collapse: ..."
    assert "separates source and target almost perfectly" in ws[2] and "100.0%" in ws[2]
    metrics["domain_separability"]["separable"] = False
    assert len(run_warnings(metrics)) == 2
    md = _warnings_md({"warnings": ws})
    assert md[0] == "## Warnings" and all(w in "\n".join(md) for w in ws)
    assert _warnings_md({"warnings": []}) == []
