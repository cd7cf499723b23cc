"""The README's tour runs as written (a new user's first contact with nlpta)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:4]
    assert head == ["```sh", "make demo", "make test", "```"]


def test_readme_python_tour_runs(tmp_path, monkeypatch, data_root):
    blocks = [b for b in _python_blocks() if "my_reviews.csv" not in b]
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tasks").symlink_to(ROOT / "tasks")
    ns: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), ns)  # noqa: S102 (our own README)
    assert len(ns["ewt"]) == 3770
    assert ns["books"][0]["domain"] == "books"
    assert 0.8 < ns["r"].accuracy < 0.95
    assert (tmp_path / "runs" / "pos-ewt-email-to-reviews-none" / "report.md").exists()
    # "Use the adapted model": own JSONL + raw text, adapted, tagging raw text, in spaCy, plain peft
    assert len(ns["mine"]) == 400 and ns["raw"][0]["offsets"]
    assert 0.8 < ns["adapted"].accuracy < 0.95
    assert [t.pos_ for t in ns["doc"]] == ns["tagger"].predict(["Great service, friendly staff!"])[0]
    assert (tmp_path / "email-to-reviews-pipeline" / "nlpta_tagger" / "model" / "method.json").exists()
    assert {w["entity_group"] for w in ns["tag"]("The battery died after two days.")} <= set(ns["labels"].label2id)


def test_readme_own_file_example_works(tmp_path, monkeypatch):
    block = next(b for b in _python_blocks() if "my_reviews.csv" in b)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_reviews.csv").write_text("body,stars\nLovely,5\nMeh,3\nAwful,1\n")
    tb = tmp_path / "path" / "to" / "treebank"
    tb.mkdir(parents=True)
    (tb / "xx_toy-ud-dev.conllu").write_text(
        "# sent_id = web-1\n1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n\n"
        "# sent_id = news-2\n1\tRain\train\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
    )
    ns: dict = {}
    exec(compile("from nlpta import data\n" + block, "README.md", "exec"), ns)  # noqa: S102
    assert ns["mine"]["label"] == [1, 0]
    assert ns["conllu"]["domain"] == ["web", "news"]


@pytest.mark.parametrize("cmd", ["nlpta task validate", "nlpta run", "nlpta methods"])
def test_readme_mentions_commands(cmd):
    assert cmd in (ROOT / "README.md").read_text(encoding="utf-8")
