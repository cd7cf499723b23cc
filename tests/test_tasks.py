"""Task files: every shipped file validates; bad files fail with file, line and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpta.errors import TaskSpecError
from nlpta.tasks import load_task, parse_task

ROOT = Path(__file__).resolve().parents[1]
TASK_FILES = sorted((ROOT / "tasks").glob("*.yaml"))


def test_there_are_task_files():
    names = {p.name for p in TASK_FILES}
    assert "senti-books-to-kitchen.yaml" in names
    assert "pos-ewt-email-to-reviews.yaml" in names


@pytest.mark.parametrize("path", TASK_FILES, ids=[p.name for p in TASK_FILES])
def test_shipped_task_file_validates(path, data_root):
    spec = load_task(path)
    assert spec.name == path.stem
    assert spec.task in ("pos", "sentiment")
    assert spec.seeds and all(isinstance(s, int) for s in spec.seeds)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.yaml"
    p.write_text(text)
    return p


GOOD = """\
name: t
task: sentiment
source: {corpus: mdsd:books, split: train}
target: {corpus: mdsd:kitchen, split: test}
"""


def test_unknown_top_key_names_its_line(tmp_path):
    p = _write(tmp_path, GOOD + "metod: none\n")
    with pytest.raises(TaskSpecError) as e:
        load_task(p)
    assert e.value.line == 5
    assert "metod" in str(e.value) and str(p) in str(e.value)


def test_unknown_method(tmp_path):
    p = _write(tmp_path, GOOD + "method: magic\n")
    from nlpta.methods import METHODS
    from nlpta.pipeline import run_task

    assert load_task(p).method == "magic"  # the tasks layer does not know the registry
    with pytest.raises(TaskSpecError) as e:
        load_task(p, known_methods=METHODS)
    assert e.value.line == 5 and "none" in e.value.message
    with pytest.raises(TaskSpecError) as e:  # the pipeline checks the name before loading any data
        run_task(p, write=False)
    assert e.value.line == 5


def test_bad_split_names_the_splits(tmp_path):
    p = _write(tmp_path, GOOD.replace("split: test", "split: tset"))
    with pytest.raises(TaskSpecError) as e:
        load_task(p)
    assert e.value.line == 4 and "train, test" in e.value.message


def test_unknown_corpus_suggests(tmp_path):
    p = _write(tmp_path, GOOD.replace("mdsd:kitchen", "mdsd:kitchn"))
    with pytest.raises(TaskSpecError) as e:
        load_task(p)
    assert "mdsd:kitchen" in e.value.message


def test_task_kind_mismatch(tmp_path):
    p = _write(tmp_path, GOOD.replace("mdsd:books", "ud:en_ewt"))
    with pytest.raises(TaskSpecError) as e:
        load_task(p)
    assert "pos corpus" in e.value.message and e.value.line == 3


def test_bad_seeds_and_yaml(tmp_path):
    with pytest.raises(TaskSpecError) as e:
        load_task(_write(tmp_path, GOOD + "seeds: [1, x]\n"))
    assert e.value.line == 5
    with pytest.raises(TaskSpecError) as e:
        load_task(_write(tmp_path, GOOD + "seeds: [1,\n"))
    assert "YAML" in e.value.message


def test_missing_required_and_not_a_mapping(tmp_path):
    with pytest.raises(TaskSpecError, match="missing required key 'target'"):
        load_task(_write(tmp_path, "name: t\ntask: pos\nsource: {corpus: ud:en_ewt}\n"))
    with pytest.raises(TaskSpecError, match="expected a mapping"):
        load_task(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(TaskSpecError, match="task 'ner'"):
        parse_task({"name": "t", "task": "ner", "source": "x", "target": "y"})


def test_relative_corpus_path_resolved_against_task_file(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.tsv").write_text("text\tlabel\ngood\t1\nbad\t0\n")
    p = _write(tmp_path, "name: t\ntask: sentiment\nsource: {corpus: d/a.tsv}\ntarget: {corpus: d/a.tsv}\n")
    spec = load_task(p)
    assert Path(spec.source.corpus) == tmp_path / "d" / "a.tsv"
