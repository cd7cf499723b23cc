"""Run folders are written as one unit (nlpta.io.RunFolder): killed runs, concurrent runs and
failing runs never leave a folder that mixes two runs, temporary files are cleaned up, ``--out``
refuses files and foreign folders before the run, and a task name cannot escape ``runs/``."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from nlpta.errors import NlptaError
from nlpta.io import MARKER, RunFolder, atomic_write_text
from nlpta.pipeline import run_task
from nlpta.tasks import DataSpec, TaskSpec

RUN_FILES = sorted([MARKER, "metrics.json", "predictions.jsonl", "report.md", "task.yaml"])
N_TARGET = 12


def _reviews(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = ["text\tlabel"]
    for i in range(n):
        y = i % 2
        words = rng.choices(["the", "it", "this", "was", "a", "very"], k=6) + rng.choices(
            ["great", "love", "perfect"] if y else ["awful", "broken", "refund"], k=2)
        rng.shuffle(words)
        lines.append(" ".join(words) + f"\t{y}")
    path.write_text("\n".join(lines) + "\n")


def _task(tmp_path: Path, name: str = "toy") -> Path:
    _reviews(tmp_path / "src.tsv", 40, 1)
    _reviews(tmp_path / "tgt.tsv", N_TARGET, 2)
    task = tmp_path / "task.yaml"
    task.write_text(f"name: {json.dumps(name)}\ntask: sentiment\nsource: {{corpus: {tmp_path / 'src.tsv'}}}\n"
                    f"target: {{corpus: {tmp_path / 'tgt.tsv'}}}\nparams: {{Cs: [1.0]}}\nseeds: [1]\n")
    return task


def _check_whole(out: Path) -> int:
    """Every file of ``out`` belongs to one run (one run id, one seed); returns the seed."""
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    marker = json.loads((out / MARKER).read_text())
    m = json.loads((out / "metrics.json").read_text())
    assert marker["run_id"] == m["run_id"] and marker["seeds"] == m["seeds"]
    (seed,) = m["seeds"]
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == N_TARGET and {r["seed"] for r in rows} == {seed}
    assert yaml.safe_load((out / "task.yaml").read_text())["seeds"] == [seed]
    assert m["run_id"] in (out / "report.md").read_text()
    return seed


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name + "."))


# ----------------------------------------------------------------------------- kills and concurrent runs
# A "zygote" imports nlpta once (with one-thread BLAS/OpenMP, so that forking it is safe) and forks
# a child per request: the child reruns the task on one --out folder, a new seed each time, with
# pauses between the file writes ($NLPTA_TEST_SLOW_WRITES), until the test SIGKILLs it.
ZYGOTE = r"""
import os, signal, sys, traceback
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
from nlpta.errors import NlptaError
from nlpta.pipeline import run_task
task, warm, errdir = sys.argv[1:4]
run_task(task, seeds=[0], out_dir=warm)  # imports what the children use
print("ready", flush=True)
for line in sys.stdin:
    out, seed0 = line.split()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            for i in range(100000):
                try:
                    run_task(task, seeds=[int(seed0) + i], out_dir=out)
                except NlptaError as e:
                    if e.code != "E922":  # the other run of a concurrent pair holds the lock
                        raise
        except BaseException:
            with open(os.path.join(errdir, f"err-{os.getpid()}"), "w") as fh:
                fh.write(traceback.format_exc())
        finally:
            os._exit(0)
    print(pid, flush=True)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_killed_and_concurrent_runs_never_leave_a_mixed_folder(tmp_path):
    task = _task(tmp_path)
    errdir = tmp_path / "errors"
    errdir.mkdir()
    env = {**os.environ, "NLPTA_TEST_SLOW_WRITES": "0.02", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    zyg = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(task), str(tmp_path / "warm"), str(errdir)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    rng = random.Random(1234)
    outs = [tmp_path / f"out{i}" for i in range(6)]
    pairs = outs[4:]  # two runs at once on each of these
    children: list[int] = []
    kills, changed, stale_seen = 0, 0, 0
    try:
        assert zyg.stdout.readline().strip() == "ready"
        for out in outs:  # a complete previous run in every folder
            run_task(task, seeds=[1], out_dir=out)
        seed0 = 1000
        for _ in range(4):  # 4 rounds x 8 children = 32 kills
            pids = []
            for out in outs + pairs:
                zyg.stdin.write(f"{out} {seed0}\n")
                zyg.stdin.flush()
                pids.append(int(zyg.stdout.readline()))
                seed0 += 1000
            children += pids
            delays = sorted((rng.uniform(0.2, 1.5), pid) for pid in pids)
            t0 = time.monotonic()
            for delay, pid in delays:
                time.sleep(max(0.0, t0 + delay - time.monotonic()))
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
            deadline = time.monotonic() + 20
            while any(_alive(p) for p in pids) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert not any(_alive(p) for p in pids)
            for out in outs:
                changed += _check_whole(out) >= 1000  # a child's run completed and replaced the folder
                stale_seen += any(".tmp-" in s for s in _siblings(out))
    finally:
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        zyg.stdin.close()
        zyg.wait(timeout=30)
    assert not list(errdir.iterdir()), [p.read_text() for p in errdir.iterdir()]
    print(f"kills {kills}, folders replaced by a child {changed}, stale work folders seen {stale_seen}")
    assert kills >= 20
    assert changed >= 6  # the children did complete runs between the kills
    assert stale_seen >= 1  # and some kills landed inside a run (its work folder was left behind)
    for out in outs:  # the next run on a folder removes what killed runs left
        run_task(task, seeds=[7], out_dir=out)
        assert _check_whole(out) == 7
        assert _siblings(out) == []


def test_a_second_run_on_a_locked_folder_refuses_before_fitting(tmp_path, monkeypatch):
    task = _task(tmp_path)
    out = tmp_path / "out"
    first = run_task(task, out_dir=out)
    with RunFolder(out) as held:
        assert held.work.parent == out.parent and held.work.name.startswith("out.tmp-")
        assert (tmp_path / "out.lock").read_text() == str(os.getpid())
        monkeypatch.setattr("nlpta.pipeline.TransferTask", _must_not_run)
        with pytest.raises(NlptaError, match=r"E922.*another run is writing.*out\.lock held by pid"):
            run_task(task, out_dir=out)
        monkeypatch.undo()
    assert json.loads((out / "metrics.json").read_text())["run_id"] == first.metrics["run_id"]
    assert _siblings(out) == []  # the transaction without a commit left nothing behind, lock released
    assert _check_whole(run_task(task, seeds=[2], out_dir=out).out_dir) == 2


def _must_not_run(*a, **k):
    raise AssertionError("the run started although --out was refused")


# ----------------------------------------------------------------------------- one unit, cleanup
def test_a_run_replaces_the_whole_previous_folder(tmp_path):
    task = _task(tmp_path)
    out = tmp_path / "out"
    a = run_task(task, out_dir=out, save_model=True)
    assert (out / "model-seed1" / "method.json").exists()
    b = run_task(task, seeds=[2], out_dir=out)
    assert a.metrics["run_id"] != b.metrics["run_id"]
    assert _check_whole(out) == 2  # the model of the previous run did not linger beside this run's files
    assert _siblings(out) == []


def test_a_failing_run_leaves_the_previous_folder_and_no_temporary_files(tmp_path, monkeypatch):
    task = _task(tmp_path)
    out = tmp_path / "out"
    before = run_task(task, out_dir=out).metrics["run_id"]
    real = atomic_write_text
    calls = []

    def fail_on_report(path, text):
        calls.append(Path(path).name)
        if Path(path).name == "report.md":
            real(path, text[:10])  # half the folder written ...
            raise OSError("disk full")  # ... then the writing fails
        return real(path, text)

    monkeypatch.setattr("nlpta.pipeline.atomic_write_text", fail_on_report)
    with pytest.raises(OSError, match="disk full"):
        run_task(task, seeds=[5], out_dir=out)
    assert calls == ["task.yaml", "report.md"]
    assert _check_whole(out) == 1 and json.loads((out / "metrics.json").read_text())["run_id"] == before
    assert _siblings(out) == []


def test_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        out = run_task(_task(tmp_path), out_dir=tmp_path / "out").out_dir
        for p in out.iterdir():
            assert stat.S_IMODE(p.stat().st_mode) == 0o644, p.name
        assert stat.S_IMODE(out.stat().st_mode) == 0o755
        f = tmp_path / "g.txt"
        atomic_write_text(f, "a")
        os.chmod(f, 0o640)
        atomic_write_text(f, "b")  # a replaced file keeps its mode
        assert stat.S_IMODE(f.stat().st_mode) == 0o640 and f.read_text() == "b"
    finally:
        os.umask(old)


def test_diagnose_png_temporary_files_are_removed(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from nlpta.evaluators.report import _mpl, _save_fig

    plt = _mpl()
    old = os.umask(0o022)
    try:
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        _save_fig(fig, tmp_path / "ok.png")
        assert [p.name for p in tmp_path.iterdir()] == ["ok.png"]
        assert stat.S_IMODE((tmp_path / "ok.png").stat().st_mode) == 0o644
        assert (tmp_path / "ok.png").read_bytes()[:4] == b"\x89PNG"
        fig, ax = plt.subplots()

        def broken(fname, **kw):
            Path(fname).write_bytes(b"\x89PNG half")
            raise RuntimeError("renderer failed")

        monkeypatch.setattr(fig, "savefig", broken)
        with pytest.raises(RuntimeError, match="renderer failed"):
            _save_fig(fig, tmp_path / "bad.png")
        assert [p.name for p in tmp_path.iterdir()] == ["ok.png"]
        assert not plt.fignum_exists(fig.number)
    finally:
        os.umask(old)


# ----------------------------------------------------------------------------- --out and task names
def test_out_pointing_at_a_file_fails_before_the_run(tmp_path, monkeypatch, capsys):
    from nlpta.cli import main

    task = _task(tmp_path)
    f = tmp_path / "results.txt"
    f.write_text("mine")
    monkeypatch.setattr("nlpta.pipeline.TransferTask", _must_not_run)
    with pytest.raises(NlptaError, match=r"E920.*results\.txt.*is an existing file"):
        run_task(task, out_dir=f)
    assert main(["run", str(task), "--out", str(f)]) == 2
    assert "E920" in capsys.readouterr().err
    assert f.read_text() == "mine" and _siblings(f) == []


def test_out_refuses_a_foreign_folder_and_leaves_it_alone(tmp_path, monkeypatch):
    task = _task(tmp_path)
    foreign = tmp_path / "results"
    foreign.mkdir()
    (foreign / "metrics.json").write_text('{"mine": 1}')
    os.chmod(foreign / "metrics.json", 0o664)
    monkeypatch.setattr("nlpta.pipeline.TransferTask", _must_not_run)
    with pytest.raises(NlptaError, match=r"E921.*not an nlpta run folder.*metrics\.json"):
        run_task(task, out_dir=foreign)
    assert (foreign / "metrics.json").read_text() == '{"mine": 1}'
    assert stat.S_IMODE((foreign / "metrics.json").stat().st_mode) == 0o664
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("results")) == ["results"]
    monkeypatch.undo()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _check_whole(run_task(task, out_dir=empty).out_dir) == 1  # an empty folder is fine


def test_a_run_folder_of_an_older_nlpta_without_marker_is_replaced(tmp_path):
    """Folders written before the marker existed hold only run files and a metrics.json with an
    nlpta version: they are replaced; the same files with a foreign metrics.json are refused."""
    task = _task(tmp_path)
    old = tmp_path / "old"
    old.mkdir()
    (old / "metrics.json").write_text(json.dumps({"task": "toy", "versions": {"nlpta": "0.1.0"}}))
    (old / "report.md").write_text("# old\n")
    (old / "model-seed1").mkdir()
    assert _check_whole(run_task(task, out_dir=old).out_dir) == 1
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "metrics.json").write_text(json.dumps({"task": "toy", "versions": {"other": "1"}}))
    with pytest.raises(NlptaError, match="E921"):
        run_task(task, out_dir=foreign)
    (foreign / "metrics.json").write_text(json.dumps({"versions": {"nlpta": "0.1.0"}}))
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(NlptaError, match="E921"):
        run_task(task, out_dir=foreign)


@pytest.mark.parametrize("name", ["../../x", "/abs/x", "a/b", "..", "a\\b", ""])
def test_a_task_name_cannot_escape_runs(tmp_path, monkeypatch, name):
    _task(tmp_path)
    monkeypatch.chdir(tmp_path)
    spec = TaskSpec(name=name, task="sentiment", source=DataSpec(str(tmp_path / "src.tsv")),
                    target=DataSpec(str(tmp_path / "tgt.tsv")), params={"Cs": [1.0]}, seeds=[1])
    monkeypatch.setattr("nlpta.pipeline.TransferTask", _must_not_run)
    with pytest.raises(NlptaError, match="E923.*cannot name a run folder"):
        run_task(spec)
    assert not (tmp_path / "runs").exists() and not Path("/abs").exists()


def test_the_default_run_folder_is_under_runs(tmp_path, monkeypatch):
    task = _task(tmp_path, name="toy.v2")
    monkeypatch.chdir(tmp_path)
    res = run_task(task)
    assert res.out_dir == Path("runs") / "toy.v2-none"
    assert _check_whole(tmp_path / "runs" / "toy.v2-none") == 1
