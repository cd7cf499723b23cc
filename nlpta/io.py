"""Atomic file writes and run-folder transactions: a crash never leaves a half-written file, and
a run folder never mixes the files of two runs.

* :func:`atomic_write_text` (and ``_json``, ``_jsonl``) write through a temporary file in the same
  folder and rename it; the file gets the mode a plain ``open()`` would give it (``0666 & ~umask``,
  or the mode of the file it replaces), not the ``0600`` of :func:`tempfile.mkstemp`.
* :class:`RunFolder` writes a whole run folder as one unit: the run writes into a temporary
  sibling ``<out>.tmp-<pid>-<hex>`` and :meth:`RunFolder.commit` swaps it into place with one
  atomic rename (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, between which the
  folder is briefly absent -- never mixed). A lock file ``<out>.lock`` (``fcntl.flock``) is held
  from :meth:`~RunFolder.open` to :meth:`~RunFolder.close`: a second run on the same folder
  **refuses at once** (``E922``) instead of waiting. It only replaces an empty folder or a
  complete nlpta run folder (one holding the marker file ``.nlpta-run``, which carries the run
  id); anything else is refused (``E921``). Temporary siblings left by a killed run
  (``<out>.tmp-*``, ``<out>.old-*``) are removed by the next run on that folder, under the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MARKER = ".nlpta-run"
SLOW_WRITES_ENV = "NLPTA_TEST_SLOW_WRITES"


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (thread-safe)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _new_file_mode(path: Path) -> int:
    """The mode of the file ``path`` replaces, or ``0666 & ~umask`` for a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def test_pause() -> None:
    """Sleep ``$NLPTA_TEST_SLOW_WRITES`` seconds (a float; unset = no pause): a hook for the
    kill tests, so that a kill can land between the writes of a run folder."""
    v = os.environ.get(SLOW_WRITES_ENV)
    if v:
        with contextlib.suppress(ValueError):
            time.sleep(float(v))


test_pause.__test__ = False  # not a pytest test


@contextlib.contextmanager
def atomic_output(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (``.<name>.<random><suffix>``); when the block
    ends without an exception the file written there replaces ``path`` (mode as for a new file);
    on an exception it is removed. For writers that take a file name (e.g. ``savefig``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename.
    Returns ``path``; on any exception the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), _new_file_mode(path))
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """:func:`atomic_write_text` of ``obj`` as indented JSON (numpy numbers and paths allowed)."""
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_default) + "\n")


def atomic_write_jsonl(path: str | Path, rows) -> Path:
    """:func:`atomic_write_text` of ``rows`` as JSON lines."""
    return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, default=_default) + "\n" for r in rows))


def _default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


# ----------------------------------------------------------------------------- run folders
def is_run_folder(path: str | Path) -> bool:
    """Whether ``path`` is a complete nlpta run folder (it holds the ``.nlpta-run`` marker)."""
    return (Path(path) / MARKER).is_file()


RUN_FILES = {"metrics.json", "predictions.jsonl", "task.yaml", "report.md", "diagnose"}


def is_legacy_run_folder(path: str | Path) -> bool:
    """Whether ``path`` is a run folder written by nlpta before the marker existed: it holds only
    the files a run writes (``metrics.json``, ``predictions.jsonl``, ``task.yaml``, ``report.md``,
    ``diagnose/``, ``model-seed<S>/``), and its ``metrics.json`` records an nlpta version."""
    p = Path(path)
    names = {x.name for x in p.iterdir()}
    if "metrics.json" not in names or any(n not in RUN_FILES and not n.startswith("model-seed") for n in names):
        return False
    try:
        m = json.loads((p / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and isinstance(m.get("versions"), dict) and "nlpta" in m["versions"]


def read_marker(path: str | Path) -> dict:
    """The marker of the run folder ``path`` (``run_id``, task, method, ...); ``{}`` if unreadable."""
    try:
        return json.loads((Path(path) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the folders ``a`` and ``b`` (Linux ``renameat2(RENAME_EXCHANGE)``);
    ``False`` where the system or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class RunFolder:
    """A run folder written as one unit (a transaction).

    ``with RunFolder(out, run_id) as rf:`` validates ``out`` and takes the lock ``<out>.lock``
    (refusing at once if another run holds it), removes temporary siblings left by killed runs,
    and creates the empty work folder ``rf.work`` (``<out>.tmp-<pid>-<hex>``, same parent). Write
    every file of the run there, then call :meth:`commit`: it writes the marker ``.nlpta-run``
    (``{"run_id": ..., **info}``) and swaps the work folder into place, replacing the previous
    run folder. Leaving the block without a commit (an exception) removes the work folder; the
    lock is released either way.

    Args:
        path: the run folder (``--out``). A symlink is followed.
        run_id: the id written into the marker (default: a random hex id).

    Raises:
        NlptaError: ``E920`` ``path`` exists and is not a folder; ``E921`` it holds files but is
        not an nlpta run folder; ``E922`` another run holds the lock; ``E924`` the folder or its
        lock cannot be written.
    """

    def __init__(self, path: str | Path, run_id: str | None = None) -> None:
        path = Path(path)
        if path.is_symlink():
            path = Path(os.path.realpath(path))
        self.path = path
        self.run_id = run_id or secrets.token_hex(8)
        self.lock_path = path.parent / f"{path.name}.lock"
        self.work: Path | None = None
        self.committed = False
        self._lock_fd: int | None = None

    # -- checks
    def _check_target(self) -> None:
        from .errors import Errors

        p = self.path
        if p.exists() and not p.is_dir():
            raise Errors.E920(path=p, what="an existing file" if p.is_file() else "not a folder")
        if p.is_dir() and not is_run_folder(p) and not is_legacy_run_folder(p):
            names = sorted(x.name for x in p.iterdir())
            if names:
                shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
                raise Errors.E921(path=p, detail=f"it holds {shown}")

    def _lock(self) -> None:
        import fcntl

        from .errors import Errors

        for _ in range(20):
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as e:
                raise Errors.E924(path=self.lock_path, detail=f"cannot create the lock file ({e.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = ""
                with contextlib.suppress(OSError, ValueError):
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
                os.close(fd)
                raise Errors.E922(path=self.path, lock=self.lock_path.name,
                                  by=f" by pid {holder}" if holder.isdigit() else "") from None
            try:  # the holder before us may have unlinked the file: lock the file that is there
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                self._lock_fd = fd
                return
            os.close(fd)
        raise Errors.E924(path=self.lock_path, detail="the lock file keeps being replaced")

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.lock_path)  # still holding it: a waiter re-checks the inode
        os.close(self._lock_fd)
        self._lock_fd = None

    def _stale(self) -> list[Path]:
        pat = re.compile(re.escape(self.path.name) + r"\.(tmp|old)-\d+-[0-9a-f]+")
        parent = self.path.parent
        return [p for p in parent.iterdir() if pat.fullmatch(p.name) and p.is_dir() and not p.is_symlink()]

    # -- the transaction
    def open(self) -> RunFolder:
        """Check ``path``, take the lock, clean stale siblings, create :attr:`work`; returns self."""
        from .errors import Errors

        self._check_target()  # before anything else: a file at --out fails before the run
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise Errors.E924(path=self.path.parent, detail=f"cannot create it ({e.strerror})") from None
        self._lock()
        try:
            self._check_target()  # again under the lock
            for p in self._stale():  # left by a killed run: nobody else holds the lock
                shutil.rmtree(p, ignore_errors=True)
            work = self.path.parent / f"{self.path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                work.mkdir()
            except OSError as e:
                raise Errors.E924(path=work, detail=f"cannot create the work folder ({e.strerror})") from None
            self.work = work
        except BaseException:
            self._unlock()
            raise
        return self

    def commit(self, info: dict[str, Any] | None = None) -> Path:
        """Write the marker into :attr:`work` and swap it into place; returns :attr:`path`."""
        from .errors import Errors

        if self.work is None or self.committed:
            raise RuntimeError("RunFolder.commit() needs an open, uncommitted transaction")
        atomic_write_json(self.work / MARKER, {"run_id": self.run_id, **(info or {})})
        test_pause()
        self._check_target()
        try:
            if self.path.is_dir():
                if _exchange(self.work, self.path):
                    old = self.work  # now holds the previous run folder
                else:
                    old = self.path.parent / f"{self.path.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
                    os.rename(self.path, old)
                    test_pause()
                    os.rename(self.work, self.path)
                _fsync_dir(self.path.parent)
                test_pause()
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(self.work, self.path)
                _fsync_dir(self.path.parent)
        except OSError as e:
            raise Errors.E924(path=self.path, detail=f"cannot move the finished run into place ({e.strerror})") from None
        self.committed = True
        return self.path

    def close(self) -> None:
        """Remove the work folder unless committed; release the lock."""
        try:
            if self.work is not None and not self.committed:
                shutil.rmtree(self.work, ignore_errors=True)
        finally:
            self._unlock()

    def __enter__(self) -> RunFolder:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()
