"""The `nlpta` command: data list/show, fetch planning, task validation, methods."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlpta.cli import main
from nlpta.data.fetch import plan
from nlpta.errors import NlptaError

ROOT = Path(__file__).resolve().parents[1]


def test_methods_lists_references(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "none" in out and "in-domain" in out


def test_data_list_and_show(capsys, data_root):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("ud:en_ewt", "mdsd:books", "webis:de/books", "fdu:apparel", "sst2", "tweebank", "brown"):
        assert name in out
    assert main(["data", "show", "ud:fr_sequoia", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["splits"]["train"]["rows"] == 2231
    assert set(info["splits"]["train"]["domains"]) == {"europarl", "medical", "news", "wiki"}
    assert main(["data", "show", "mdsd:kitchen"]) == 0
    out = capsys.readouterr().out
    assert "split unlabeled" in out and "removed" in out


def test_data_show_unknown_name_exits_2(capsys):
    assert main(["data", "show", "ud:en_ewtt"]) == 2
    err = capsys.readouterr().err
    assert "unknown corpus" in err and "ud:en_ewt" in err


def test_fetch_plan_and_dry_run(tmp_path, capsys):
    steps = plan("ud:en_ewt", tmp_path)
    assert [d.name for _, d in steps] == ["en_ewt-ud-train.conllu", "en_ewt-ud-dev.conllu", "en_ewt-ud-test.conllu"]
    assert all(u.startswith("https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/") for u, _ in steps)
    assert main(["data", "fetch", "mdsd:books", "--root", str(tmp_path), "--dry-run"]) == 0
    assert "would fetch https://" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())  # a dry run writes nothing
    with pytest.raises(NlptaError, match="no public download"):
        plan("xling21:de", tmp_path)


def test_task_validate_cli(tmp_path, capsys, data_root):
    files = [str(p) for p in sorted((ROOT / "tasks").glob("*.yaml"))]
    assert main(["task", "validate", *files]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntask: pos\nsource: {corpus: ud:en_ewt, splt: train}\ntarget: {corpus: ud:en_ewt}\n")
    assert main(["task", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3" in err and "splt" in err
