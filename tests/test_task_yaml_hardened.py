"""Task files: bounded YAML, encodings, duplicate keys, typed values and seeds (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpta.cli import main
from nlpta.cli.run import parse_seeds
from nlpta.errors import NlptaError, TaskSpecError
from nlpta.tasks import load_task
from nlpta.tasks.yaml import safe_load

GOOD = """\
name: t
task: sentiment
source: {corpus: mdsd:books, split: train}
target: {corpus: mdsd:kitchen, split: test}
"""

LAUGHS = "".join(
    [GOOD, "params:\n", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    + [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)]
)


def _write(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "t.yaml"
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return p


def test_billion_laughs_is_refused(tmp_path):
    with pytest.raises(TaskSpecError, match="aliases are expanded") as e:
        load_task(_write(tmp_path, LAUGHS))
    assert e.value.code == "E207" and "t.yaml" in str(e.value)
    with pytest.raises(NlptaError, match="E207"):
        safe_load(LAUGHS)


def test_alias_count_and_depth_are_bounded(tmp_path):
    many = GOOD.replace("task: sentiment", "task: &s sentiment") + "params: {" + ", ".join(
        f"k{i}: *s" for i in range(500)) + "}\n"
    with pytest.raises(TaskSpecError, match="more than 100 aliases") as e:
        load_task(_write(tmp_path, many))
    assert e.value.line == 5
    with pytest.raises(TaskSpecError, match="nested more than") as e:
        load_task(_write(tmp_path, GOOD + "params: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert e.value.code == "E207" and e.value.line == 5
    few = GOOD.replace("source: {", "source: &s {") + "target_labeled: *s\n"
    assert load_task(_write(tmp_path, few)).target_labeled.corpus == "mdsd:books"


def test_not_utf8_is_located(tmp_path):
    p = _write(tmp_path, (GOOD + "description: caf\xe9\n").encode("latin-1"))
    with pytest.raises(TaskSpecError, match="UTF-8") as e:
        load_task(p)
    assert e.value.code == "E208" and e.value.line == 5 and "0xe9" in e.value.message
    assert load_task(_write(tmp_path, "\ufeff" + GOOD)).name == "t"  # a byte-order mark is fine


def test_control_characters_are_located(tmp_path):
    with pytest.raises(TaskSpecError, match="#x0001") as e:
        load_task(_write(tmp_path, GOOD + "description: a\x01b\n"))
    assert e.value.line == 5


@pytest.mark.parametrize("seeds,why", [("[-1]", "outside"), ("[1.5]", "not an integer"), ("[1, 1]", "repeated"),
                                       ("[4294967296]", "outside"), ("[]", "non-empty"), ("'1,2'", "not a")])
def test_bad_seeds_name_key_and_line(tmp_path, seeds, why):
    with pytest.raises(TaskSpecError, match=f"seeds .*{why}") as e:
        load_task(_write(tmp_path, GOOD + "method: none\nseeds: " + seeds + "\n"))
    assert e.value.line == 6 and e.value.code == "E204"
    assert load_task(_write(tmp_path, GOOD + "seeds: [0, 7]\n")).seeds == [0, 7]


def test_duplicate_keys_are_refused(tmp_path):
    with pytest.raises(TaskSpecError, match=r"duplicate key 'task' .*first on line 2") as e:
        load_task(_write(tmp_path, GOOD + "task: pos\n"))
    assert e.value.code == "E209" and e.value.line == 5
    with pytest.raises(TaskSpecError, match="duplicate key 'corpus'") as e:
        load_task(_write(tmp_path, GOOD.replace("mdsd:books, split: train", "mdsd:books, corpus: mdsd:dvd")))
    assert e.value.line == 3
    merged = GOOD.replace("source: {", "source: &s {").replace("target: {corpus", "target: {<<: *s, corpus")
    assert load_task(_write(tmp_path, merged)).target.corpus == "mdsd:kitchen"  # a merge key is no duplicate


@pytest.mark.parametrize("line,key", [("params: []", "params"), ("params: 0", "params"),
                                      ("description: [a, b]", "description"),
                                      ("unlabeled: {corpus: mdsd:kitchen, limit: true}", "unlabeled.limit"),
                                      ("unlabeled: {corpus: mdsd:kitchen, options: []}", "unlabeled.options"),
                                      ("unlabeled: {corpus: mdsd:kitchen, lang: [en]}", "unlabeled.lang"),
                                      ("unlabeled: {corpus: [mdsd:kitchen]}", "unlabeled.corpus")])
def test_wrong_types_name_key_and_line(tmp_path, line, key):
    with pytest.raises(TaskSpecError, match=rf"\b{key} ") as e:
        load_task(_write(tmp_path, GOOD + line + "\n"))
    assert e.value.line == 5


def test_yaml_errors_point_at_the_broken_line(tmp_path):
    for text, line in [(GOOD.replace("task: sentiment", "task; sentiment"), 2),
                       (GOOD.replace("split: test}", "split: test)"), 4),
                       ("name: t\ntask: sentiment\nsource: {corpus: mdsd:bo", 3),
                       (GOOD.replace("task: sentiment", "\ttask: sentiment"), 2)]:
        with pytest.raises(TaskSpecError, match="not valid YAML") as e:
            load_task(_write(tmp_path, text))
        assert e.value.line == line, text


# ------------------------------------------------------------------------------ command line
@pytest.mark.parametrize("given", ["a,b", "", "-1", "1,,2", "1,1", "1.5", "4294967296"])
def test_bad_seeds_option(given):
    with pytest.raises(NlptaError, match="--seeds") as e:
        parse_seeds(given, None)
    assert e.value.code == "E912"


def test_seeds_option_parses():
    assert parse_seeds("1, 2,3", None) == [1, 2, 3]
    assert parse_seeds(None, 4) == [4] and parse_seeds(None, None) is None
    with pytest.raises(NlptaError, match="E913"):
        parse_seeds("1,2", 3)
    with pytest.raises(NlptaError, match="E912"):
        parse_seeds(None, -2)


def test_run_refuses_bad_seeds_before_any_work(tmp_path, monkeypatch, capsys):
    import nlpta.pipeline

    def boom(*a, **k):
        raise AssertionError("run_task must not be called")

    monkeypatch.setattr(nlpta.pipeline, "run_task", boom)
    task = _write(tmp_path, GOOD)
    for argv in (["--seeds", "a,b"], ["--seeds", ""], ["--seeds=-1"], ["--param", "C=[1,"]):
        assert main(["run", str(task), *argv]) == 2
        err = capsys.readouterr().err
        assert "E912" in err or "E914" in err, err
