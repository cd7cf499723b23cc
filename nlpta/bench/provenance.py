"""Where a table's numbers came from, written by code: device, library versions, git commit,
seeds and the command. Every rendered table carries one :func:`provenance_line`."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("numpy", "scipy", "scikit-learn", "datasets", "torch", "transformers", "peft", "gensim", "spacy")


def cpu_name() -> str:
    """The CPU model (from ``/proc/cpuinfo`` where there is one) and the cores this process may use."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    return f"{n} × {model}" if model else f"{n} CPU cores"


@lru_cache(maxsize=1)
def device_name() -> str:
    """The machine: its CPU (:func:`cpu_name`) and, when torch sees one, the GPU (``torch.cuda``),
    e.g. ``16 × AMD EPYC 9354 (CPU) + NVIDIA H200 (GPU)``."""
    out = f"{cpu_name()} (CPU)"
    try:
        import torch

        if torch.cuda.is_available():
            n = torch.cuda.device_count()
            out += f" + {f'{n} × ' if n > 1 else ''}{torch.cuda.get_device_name(0)} (GPU)"
    except Exception:  # noqa: BLE001 - no torch or a broken CUDA setup: the CPU is the device
        pass
    return out


def has_gpu() -> bool:
    """Whether torch sees a CUDA device."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    """``{name: version}`` of nlpta, Python and each installed library of ``names``."""
    from nlpta import __version__

    out = {"nlpta": __version__, "python": platform.python_version()}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def git_commit(root: Path = ROOT) -> str:
    """The checked-out commit (12 hex digits), ``+ local changes`` when ``nlpta/`` differs from it;
    ``unknown`` outside a git checkout. Read-only git commands only."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "nlpta"], cwd=root, capture_output=True,
                               text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" + local changes" if dirty else "")


def command_line(argv: Sequence[str] | None = None, root: Path = ROOT) -> str:
    """The command that is running, as a person would type it from the repository root."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return "python"
    first = argv[0]
    try:
        first = str(Path(first).resolve().relative_to(root))
    except ValueError:
        pass
    if first.endswith(".py"):
        return "python " + " ".join(shlex.quote(a) for a in [first, *argv[1:]])
    return " ".join(shlex.quote(a) for a in [first, *argv[1:]])


def collect(command: str | None = None) -> dict[str, Any]:
    """The provenance of a computation starting now: ``{device, versions, commit, command, code}``."""
    from .cache import code_version

    return {"device": device_name(), "versions": library_versions(), "commit": git_commit(),
            "command": command or command_line(), "code": code_version()}


def seeds_text(seeds: Sequence[int] | None) -> str:
    """``1,2,3`` (or ``none`` for a deterministic measurement without a seed)."""
    return ",".join(str(s) for s in seeds) if seeds else "none (deterministic)"


def provenance_line(prov: Mapping[str, Any], seeds: Sequence[int] | None, command: str | None = None) -> str:
    """One Markdown line under a table: seeds, device(s), versions, commit, command and compute time.

    ``prov`` is a section's provenance (:func:`collect` plus ``devices``, ``compute_seconds``,
    ``runs``, ``cached`` and ``wall_seconds`` added by the runner)."""
    devices = prov.get("devices") or [prov.get("device", "unknown device")]
    vers = prov.get("versions", {})
    v = ", ".join(f"{k} {val}" for k, val in vers.items())
    parts = [f"Seeds: {seeds_text(seeds)}", "device: " + "; ".join(devices), v, f"commit {prov.get('commit', 'unknown')}"]
    cmd = command or prov.get("command")
    if cmd:
        parts.append(f"command: `{cmd}`")
    if "compute_seconds" in prov:
        t = f"compute {_minutes(prov['compute_seconds'])}"
        if prov.get("runs"):
            n = prov["runs"]
            t += f" over {n} result{'s' if n != 1 else ''} ({prov.get('cached', 0)} reused from the cache)"
        parts.append(t)
    return "*" + " · ".join(p for p in parts if p) + ".*"


def _minutes(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"
