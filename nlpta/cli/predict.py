"""``nlpta predict``: raw text (or rows) in, predictions out, streamed in batches.

    nlpta predict MODEL_DIR --input FILE|- --out FILE|- [--format jsonl|conllu|csv] [--lang xx]
        [--batch-size N] [--seed S] [--input-format auto|lines|jsonl]

``MODEL_DIR`` is a saved model (``runs/x/model-seed1``: a folder with ``method.json``), a run
folder (its single ``model-seed<S>/``, or the one ``--seed`` names), a folder written by
``AdapterModel.save_pretrained`` / pushed to the Hub (``nlpta_model.json``), or a Hub id
``NAMESPACE/NAME`` (downloaded with ``huggingface_hub`` where the Hub is reachable).

The input is one text per line (blank lines skipped), or JSON Lines whose objects hold ``text``
(a string) or, for POS, ``tokens`` (a list of strings; ``text`` and ``offsets`` optional), as
``nlpta.data.load`` reads them; ``auto`` picks JSON Lines for ``.jsonl``/``.json`` names and for
input whose first line is a JSON object. ``-`` is stdin / stdout, so the command sits in a pipe.
Every output record carries the input ``line`` (and the row's ``id``):

* POS -- ``jsonl``: ``{"line", "text", "tokens", "offsets", "tags", "tokenizer"}`` per input;
  ``conllu``: one sentence per input with ``# text =`` and ``TokenRange=start:end`` (and
  ``SpaceAfter=No``) in MISC; ``csv``: one row per token (``line, id, index, token, start, end,
  tag``).
* sentiment -- ``jsonl``: ``{"line", "text", "label", "probability"}``; ``csv``: ``line, id,
  label, probability, text``.

Rows are read, predicted and written ``--batch-size`` at a time (never all in memory); a tqdm bar
on stderr counts the texts (off when stderr is not a terminal). A file given to ``--out`` is
written beside its place and renamed when the command succeeds.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from ..errors import Errors

FORMATS = ("jsonl", "conllu", "csv")
INPUT_FORMATS = ("auto", "lines", "jsonl")
STDIN_NAME = "<stdin>"


# ------------------------------------------------------------------ the model
def _adapter_method(folder: Path):
    """A registered transformer method around the AdapterModel folder ``folder`` (``lora``,
    ``full-ft``, or ``lora-dann`` when its ``nlpta_model.json`` has a ``dann`` entry)."""
    from ..methods import get_method

    f = folder / "nlpta_model.json"
    try:
        meta = json.loads(f.read_text(encoding="utf-8"))
        kind, method = str(meta["kind"]), str(meta["method"])
    except (ValueError, KeyError, TypeError) as e:
        raise Errors.E307(path=f, detail=f"unreadable nlpta_model.json ({e}); expected keys kind, method") from None
    name = "lora-dann" if meta.get("dann") else "full-ft" if method in ("full-ft", "merged") else "lora"
    m = get_method(name, kind)
    m._load(folder)  # the method's own loader: AdapterModel.from_pretrained (+ train_info.json if there)
    return m


def _saved_seeds(folder: Path) -> dict[int, Path]:
    out: dict[int, Path] = {}
    for p in folder.glob("model-seed*"):
        s = p.name.removeprefix("model-seed")
        if p.is_dir() and s.isdigit() and ((p / "method.json").is_file() or (p / "nlpta_model.json").is_file()):
            out[int(s)] = p
    return dict(sorted(out.items()))


def _hub_folder(given: str) -> Path:
    """The local snapshot of the Hub repository ``given``.

    Raises:
        NlptaError: E917 when it cannot be downloaded (offline, no such repository, no access).
    """
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(given))
    except Exception as e:  # noqa: BLE001 -- offline, missing repo, auth: one located message
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise Errors.E917(given=given, detail=f"{type(e).__name__}: {msg}"[:300]) from None


def load_predictor(given: str | Path, seed: int | None = None):
    """The fitted method ``nlpta predict`` uses (see the module docstring for what ``given`` may be).

    Returns:
        a :class:`~nlpta.methods.Method`.

    Raises:
        NlptaError: E915 (no model there, or a run folder with several seeds and no ``--seed``, or
            a ``--seed`` it does not hold), E917 (a Hub id that cannot be fetched), E307 (a damaged
            ``method.json`` / ``nlpta_model.json``).
    """
    from ..methods import MODEL_FILE, load_model

    s = str(given)
    p = Path(given).expanduser()
    if not p.exists():
        if s.count("/") == 1 and not s.startswith((".", "/", "~")) and all(s.split("/")):
            p = _hub_folder(s)
        else:
            raise Errors.E915(given=s, detail="no such folder (and not a Hub id NAMESPACE/NAME)")
    if not p.is_dir():
        raise Errors.E915(given=s, detail="a file, not a folder; give a model folder (runs/x/model-seed1) or a "
                                          "run folder")
    if not (p / MODEL_FILE).is_file() and not (p / "nlpta_model.json").is_file():
        seeds = _saved_seeds(p)
        if not seeds:
            raise Errors.E915(given=s, detail=f"neither {MODEL_FILE} (a saved model), nlpta_model.json (an "
                                              "AdapterModel folder) nor model-seed<S>/ folders (a run saved with "
                                              "--save-model)")
        if seed is None and len(seeds) > 1:
            raise Errors.E915(given=s, detail=f"the run folder holds the models of seeds "
                                              f"{', '.join(map(str, seeds))}; choose one with --seed S")
        if seed is not None and seed not in seeds:
            raise Errors.E915(given=s, detail=f"no model-seed{seed}/ here; the run folder holds seeds "
                                              f"{', '.join(map(str, seeds))}")
        p = seeds[seed] if seed is not None else next(iter(seeds.values()))
    elif seed is not None and p.name != f"model-seed{seed}" and (p / MODEL_FILE).is_file():
        raise Errors.E913(options="--seed and a model folder", hint=f"{s} is one seed's model; --seed picks a "
                                                                    "model-seed<S>/ inside a run folder")
    return load_model(p) if (p / MODEL_FILE).is_file() else _adapter_method(p)


# ------------------------------------------------------------------ reading
def _decoded_lines(stream: Iterable[bytes], name: str) -> Iterator[tuple[int, str]]:
    """``(line number, line without its ending)`` of a binary stream, strictly UTF-8.

    Raises:
        FormatError: E102 at the first line that is not UTF-8.
    """
    for i, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Errors.E102(path=name, line=i, detail=f"not UTF-8 text (byte 0x{raw[e.start]:02x} at byte "
                                                         f"{e.start + 1} of the line); give UTF-8 input") from None
        if i == 1 and line.startswith("\ufeff"):
            line = line[1:]
        yield i, line.rstrip("\n").rstrip("\r")


class _DuplicateKeys(Exception):
    """Raised inside ``json.loads``; turned into a located FormatError by :func:`_json_row`."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKeys(f"duplicate key(s) {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def _json_row(line: str, lineno: int, name: str, pos: bool) -> dict:
    """One JSON Lines row, checked, with its location in errors.

    Raises:
        FormatError: E102 (not a JSON object, no ``text`` / ``tokens``, a value of the wrong type).
    """
    try:
        obj = json.loads(line, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError, _DuplicateKeys) as e:
        raise Errors.E102(path=name, line=lineno, detail=f"not a JSON object ({e}); expected one JSON object per "
                                                         "line (JSON Lines)") from None
    if not isinstance(obj, dict):
        raise Errors.E102(path=name, line=lineno, detail=f"a JSON {type(obj).__name__}, not an object; expected one "
                                                         "JSON object per line")
    text, tokens = obj.get("text"), obj.get("tokens")
    if text is not None and not isinstance(text, str):
        raise Errors.E102(path=name, line=lineno, detail=f"'text' is a JSON {type(text).__name__}; expected a string")
    if pos and tokens is not None and not (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens)):
        raise Errors.E102(path=name, line=lineno, detail="'tokens' must be a list of strings")
    if text is None and not (pos and tokens is not None):
        need = "'text' (a string) or 'tokens' (a list of strings)" if pos else "'text' (a string)"
        raise Errors.E102(path=name, line=lineno, detail=f"no {need}; keys are {sorted(obj)}")
    row = {k: obj[k] for k in ("id", "text", "domain", "lang") if obj.get(k) is not None}
    if pos and tokens is not None:
        row["tokens"] = tokens
        offs = obj.get("offsets")
        if text is not None and isinstance(offs, list) and len(offs) == len(tokens) and all(
                isinstance(o, list) and len(o) == 2 and all(isinstance(x, int) for x in o) for o in offs):
            row["offsets"] = offs
    return row


def read_items(stream: Iterable[bytes], name: str, pos: bool, input_format: str = "auto") -> Iterator[tuple[int, Any]]:
    """``(line number, text or row dict)`` for each non-blank input line, lazily.

    ``input_format``: ``lines`` (each line is a text), ``jsonl`` (each line a JSON object), or
    ``auto`` (``jsonl`` for ``.jsonl``/``.json`` names and when the first non-blank line is a JSON
    object with ``text`` or ``tokens``; else ``lines``).

    Raises:
        FormatError: E102 (not UTF-8; a JSON Lines row that is malformed), with the line.
    """
    lines = (x for x in _decoded_lines(stream, name) if x[1].strip())
    fmt = input_format
    if fmt == "auto":
        low = name.lower().removesuffix(".gz")
        if low.endswith((".jsonl", ".json")):
            fmt = "jsonl"
        else:
            first = next(lines, None)
            if first is None:
                return
            fmt = "lines"
            if first[1].lstrip().startswith("{"):
                try:
                    obj = json.loads(first[1])
                    fmt = "jsonl" if isinstance(obj, dict) and ("text" in obj or "tokens" in obj) else "lines"
                except ValueError:
                    pass
            lines = itertools.chain([first], lines)
    for lineno, line in lines:
        yield lineno, (_json_row(line, lineno, name, pos) if fmt == "jsonl" else line)


# ------------------------------------------------------------------ writing
def _clean(s: str) -> str:
    return s.replace("\t", " ").replace("\r", " ").replace("\n", " ")


class _Writer:
    """Writes annotated records in one format to a text stream."""

    def __init__(self, out: IO[str], fmt: str, pos: bool) -> None:
        self.out, self.fmt, self.pos = out, fmt, pos
        self.csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(["line", "id", "index", "token", "start", "end", "tag"] if pos
                              else ["line", "id", "label", "probability", "text"])

    def write(self, line: int, rec: dict) -> None:
        rid = rec.get("id")
        if self.fmt == "jsonl":
            head = {"line": line, **({"id": rid} if rid is not None else {})}
            self.out.write(json.dumps({**head, **{k: v for k, v in rec.items() if k != "id"}}, ensure_ascii=False)
                           + "\n")
        elif self.fmt == "csv":
            if self.pos:
                offs = rec["offsets"] or [[None, None]] * len(rec["tokens"])
                for k, (tok, (a, b), tag) in enumerate(zip(rec["tokens"], offs, rec["tags"], strict=True), start=1):
                    self.csv.writerow([line, rid or "", k, tok, "" if a is None else a, "" if b is None else b, tag])
            else:
                p = rec["probability"]
                self.csv.writerow([line, rid or "", rec["label"], "" if p is None else f"{p:.6f}", rec["text"]])
        else:
            self._conllu(line, rec)

    def _conllu(self, line: int, rec: dict) -> None:
        w = self.out.write
        w(f"# sent_id = {_clean(str(rec.get('id') or line))}\n")
        w(f"# text = {_clean(rec['text'])}\n")
        if rec.get("tokenizer"):
            w(f"# tokenizer = {rec['tokenizer']}\n")
        offs = rec["offsets"]
        toks = rec["tokens"]
        for k, (tok, tag) in enumerate(zip(toks, rec["tags"], strict=True)):
            misc = []
            if offs is not None:
                a, b = offs[k]
                if k + 1 < len(toks) and offs[k + 1][0] == b:
                    misc.append("SpaceAfter=No")
                misc.append(f"TokenRange={a}:{b}")
            w(f"{k + 1}\t{_clean(tok)}\t_\t{tag}\t_\t_\t_\t_\t_\t{'|'.join(misc) or '_'}\n")
        w("\n")


def predict_stream(model, items: Iterable[tuple[int, Any]], out: IO[str], fmt: str = "jsonl",
                   lang: str | None = None, batch_size: int = 256, progress: bool | None = None) -> int:
    """Annotate ``(line, text or row)`` items ``batch_size`` at a time with ``model.annotate`` and
    write each batch to ``out`` (flushed) before reading the next. Returns the number of items.

    ``progress``: a tqdm bar on stderr (``None``: only when stderr is a terminal)."""
    from tqdm.auto import tqdm

    writer = _Writer(out, fmt, model.task == "pos")
    it = iter(items)
    n = 0
    with tqdm(desc="predict", unit=" texts", file=sys.stderr, disable=None if progress is None else not progress,
              dynamic_ncols=True) as bar:
        while batch := list(itertools.islice(it, batch_size)):
            recs = model.annotate([x for _, x in batch], lang=lang)
            for (line, _), rec in zip(batch, recs, strict=True):
                writer.write(line, rec)
            out.flush()
            n += len(batch)
            bar.update(len(batch))
    return n


# ------------------------------------------------------------------ the command
def _open_input(given: str, stack: ExitStack) -> tuple[Iterable[bytes], str]:
    if given == "-":
        return sys.stdin.buffer, STDIN_NAME
    p = Path(given)
    if not p.is_file():
        raise Errors.E916(detail=f"{given}: no such file" + (" (a folder)" if p.is_dir() else "")
                                 + "; give a file of one text per line or JSON Lines, or - for stdin")
    from ..data.paths import open_binary

    try:
        return stack.enter_context(open_binary(p)), str(p)
    except OSError as e:
        raise Errors.E916(detail=f"{given}: {e.strerror or e}") from None


def _open_output(given: str, stack: ExitStack) -> IO[str]:
    if given == "-":
        if not hasattr(sys.stdout, "buffer"):  # a text-only replacement (an embedding application)
            return sys.stdout
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", line_buffering=False)
        stack.callback(out.detach)  # leave sys.stdout open
        stack.callback(out.flush)
        return out
    p = Path(given)
    if p.exists() and not p.is_file() and not p.is_dir():  # a fifo or a device: write into it as it is
        return stack.enter_context(open(p, "w", encoding="utf-8", newline="\n"))
    if p.is_dir():
        raise Errors.E912(option="--out", given=given, expected="a file path or - (stdout), not a folder")
    from ..io import atomic_output

    tmp = stack.enter_context(atomic_output(p))
    return stack.enter_context(open(tmp, "w", encoding="utf-8", newline="\n"))


def cmd_predict(a: argparse.Namespace) -> int:
    if a.batch_size < 1:
        raise Errors.E912(option="--batch-size", given=str(a.batch_size), expected="an integer >= 1")
    model = load_predictor(a.model_dir, a.seed)
    pos = model.task == "pos"
    fmt = a.format
    if fmt == "conllu" and not pos:
        raise Errors.E912(option="--format", given=fmt, expected="jsonl or csv for a sentiment model (CoNLL-U "
                                                                 "holds tokens and their tags)")
    if pos and a.lang:
        from ..data.tokenize import tokenizer_info

        tokenizer_info(a.lang)  # an unknown language fails before any input is read
    with ExitStack() as stack:
        stream, name = _open_input(a.input, stack)
        out = _open_output(a.out, stack)
        n = predict_stream(model, read_items(stream, name, pos, a.input_format), out, fmt=fmt, lang=a.lang,
                           batch_size=a.batch_size)
    if a.out != "-":
        print(f"predicted {n} text(s) with {model.name} ({model.task}); wrote {a.out}", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("predict", help="predict on raw text lines or JSON Lines rows with a saved model (streams)")
    p.add_argument("model_dir", help="a saved model (runs/x/model-seed1), a run folder, an AdapterModel folder or "
                                     "a Hub id")
    p.add_argument("--input", required=True, help="a file of one text per line or JSON Lines rows; - for stdin")
    p.add_argument("--out", required=True, help="the output file; - for stdout")
    p.add_argument("--format", choices=FORMATS, default="jsonl",
                   help="jsonl (one object per input), conllu (POS), csv (POS: one row per token)")
    p.add_argument("--input-format", choices=INPUT_FORMATS, default="auto",
                   help="lines (one text per line), jsonl (rows with text or tokens), auto (default)")
    p.add_argument("--lang", default=None, help="language of the text, for the tokenizer (default: the model's)")
    p.add_argument("--batch-size", type=int, default=256, help="texts read, predicted and written at a time")
    p.add_argument("--seed", type=int, default=None, help="which model-seed<S>/ of a run folder to use")
    p.set_defaults(fn=cmd_predict)

