"""``nlpta data fetch NAME``: download a corpus from its public source into the data root.

Only for machines with internet; nothing in nlpta's tests, demo or benchmarks calls it. Files
land where the registry looks for them, written through a temporary file and renamed, so an
interrupted download leaves nothing half-written.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from ..errors import Errors
from .paths import data_root
from .registry import UD_TREEBANKS, get_corpus

UD_RAW = "https://raw.githubusercontent.com/UniversalDependencies/{folder}/master/{code}-ud-{split}.conllu"
TWEEBANK_RAW = "https://raw.githubusercontent.com/Oneplus/Tweebank/master/en-ud-tweet-{split}.conllu"
BLITZER = {
    "raw": "https://www.cs.jhu.edu/~mdredze/datasets/sentiment/unprocessed.tar.gz",
    "processed_acl": "https://www.cs.jhu.edu/~mdredze/datasets/sentiment/processed_acl.tar.gz",
}
WEBIS = "https://zenodo.org/record/3251672/files/cls-acl10-unprocessed.tar.gz"
NLTK_NAMES = {"brown": "brown", "ptb-sample": "treebank"}


def plan(name: str, root: Path) -> list[tuple[str, Path]]:
    """The ``(url, destination)`` pairs that fetching ``name`` downloads."""
    c = get_corpus(name)
    if c.name.startswith("ud:"):
        code = c.name[3:]
        folder = UD_TREEBANKS.get(code, (c.path.split("/")[-1],))[0]
        return [(UD_RAW.format(folder=folder, code=code, split=s), root / c.path / f"{code}-ud-{s}.conllu")
                for s in c.splits]
    if c.name == "tweebank":
        return [(TWEEBANK_RAW.format(split=s), root / c.path / f"en-ud-tweet-{s}.conllu") for s in c.splits]
    if c.name.startswith(("mdsd:", "mdsd-acl:")):
        kind = "raw" if c.name.startswith("mdsd:") else "processed_acl"
        return [(BLITZER[kind], root / "sentiment" / "blitzer_mdsd" / kind)]
    if c.name.startswith("webis:"):
        return [(WEBIS, root / "sentiment" / "webis_cls10")]
    if c.name in NLTK_NAMES:
        return [(f"nltk:{NLTK_NAMES[c.name]}", root / "pos" / "nltk_data")]
    raise Errors.E108(name=c.name, detail=f"place its files under {root / c.path} (see the data README for the layout)")


def _download(url: str, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (fixed https sources)
            return r.read()
    except OSError as e:
        raise Errors.E109(detail=f"{url}: {e}") from None


def _atomic_bytes(dest: Path, payload: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, prefix=f".{dest.name}.") as fh:
        fh.write(payload)
        tmp = Path(fh.name)
    tmp.replace(dest)


def _extract_blitzer(payload: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        for m in tar.getmembers():
            parts = Path(m.name).parts
            if not m.isfile() or len(parts) < 3 or parts[-1] not in ("positive.review", "negative.review"):
                continue
            f = tar.extractfile(m)
            if f is not None:
                _atomic_bytes(dest / parts[-2] / parts[-1], f.read())


def _extract_webis(payload: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        for m in tar.getmembers():
            parts = Path(m.name).parts
            if m.isfile() and parts[-1] in ("train.review", "test.review") and len(parts) >= 3:
                f = tar.extractfile(m)
                if f is not None:
                    _atomic_bytes(dest / parts[-3] / parts[-2] / parts[-1], f.read())


def fetch(name: str, root: str | Path | None = None, dry_run: bool = False) -> Iterator[str]:
    """Download ``name`` into ``root`` (default: the data root); yields one line per step."""
    root = Path(root) if root else data_root()
    steps = plan(name, root)
    for url, dest in steps:
        if dry_run:
            yield f"would fetch {url} -> {dest}"
            continue
        if url.startswith("nltk:"):
            import nltk

            ok = nltk.download(url[5:], download_dir=str(dest), quiet=True)
            if not ok:
                raise Errors.E109(detail=f"nltk.download({url[5:]!r}) into {dest} reported failure")
        elif url.endswith(".tar.gz"):
            payload = _download(url)
            (_extract_webis if "webis" in str(dest) else _extract_blitzer)(payload, dest)
        else:
            _atomic_bytes(dest, _download(url))
        yield f"fetched {url} -> {dest}"


__all__ = ["fetch", "plan"]
