"""Errors raised for user mistakes: one table of codes and message templates (spaCy's ``Errors``
style) and the exception classes.

Every error a user can cause (a malformed file, an unknown corpus name, a bad task file, a bad
parameter) is raised from the table: ``raise Errors.E102(path=p, line=n, detail="expected ...")``
builds the exception class of that code with its formatted message. Each carries the file and
line where known, and says what was expected, so the message alone is enough to fix the input::

    [E102] corpus.conllu:12: malformed: expected 10 tab-separated columns, got 9

``python -m nlpta.errors`` prints the table (the README's list of codes is checked against it).
"""

from __future__ import annotations

import string
from pathlib import Path


class NlptaError(Exception):
    """Base class of every error nlpta raises for bad input.

    Args:
        message: what went wrong and what was expected.
        path: the file concerned, if any.
        line: the 1-based line number in ``path``, if known.
        code: the code from :class:`Errors` (``E1xx`` data, ``E2xx`` tasks, ``E3xx`` methods,
            ``E4xx`` models and vectors, ``E5xx`` fine-tuning and the Hub, ``E6xx`` evaluators,
            ``E9xx`` benchmarks and the command line).
    """

    code = "E000"

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        if code is not None:
            self.code = code
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return f"[{self.code}] {where}{self.message}"

    def __reduce__(self):  # picklable across processes (accelerate, multiprocessing)
        return (type(self), (self.message, self.path, self.line, self.code))


class DataNotFoundError(NlptaError):
    """A corpus or file is not where nlpta looked (the message says where it looked)."""

    code = "E101"


class FormatError(NlptaError):
    """A corpus file does not follow its format (file, line and what was expected)."""

    code = "E102"


class UnknownCorpusError(NlptaError):
    """A corpus name is not registered and is not a path."""

    code = "E103"


class LabelError(NlptaError):
    """A label is not one of the labels the format or task allows."""

    code = "E104"


class EmptyDataError(NlptaError):
    """A selection (split, domain, language) has no rows."""

    code = "E105"


class TaskSpecError(NlptaError):
    """A task file (YAML) is invalid."""

    code = "E201"


class UnknownMethodError(NlptaError):
    """A method name is not in the registry."""

    code = "E301"


class NotFittedError(NlptaError):
    """A model was used before ``fit``."""

    code = "E302"


class ParameterError(NlptaError, ValueError):
    """A parameter or an input array is not what a method or estimator accepts. Also a
    ``ValueError``, which scikit-learn's conventions (and ``check_estimator``) expect."""

    code = "E304"


class ModelFolderError(NlptaError):
    """A folder is not a saved model nlpta can read, or a checkpoint belongs to another run."""

    code = "E307"


class ModelNotAvailableError(NlptaError):
    """Pretrained weights are not installed (and cannot be downloaded here)."""

    code = "E401"


class HubError(NlptaError):
    """A push to (or a download from) the Hugging Face Hub failed."""

    code = "E501"


class EvaluatorError(NlptaError, ValueError):
    """An evaluator was called with options or data it cannot use."""

    code = "E601"


class BenchError(NlptaError):
    """A benchmark run failed (the table is not written)."""

    code = "E900"


class ErrorSpec:
    """One row of the table: a code, its exception class and its message template. Calling it
    builds the exception: ``Errors.E304(detail="...")``; ``path=`` and ``line=`` locate it."""

    def __init__(self, cls: type[NlptaError], template: str) -> None:
        self.cls = cls
        self.template = template
        self.code = ""

    def __set_name__(self, owner, name: str) -> None:
        self.code = name

    @property
    def fields(self) -> list[str]:
        return [f for _, f, _, _ in string.Formatter().parse(self.template) if f]

    def format(self, **fields) -> str:
        return self.template.format(**fields)

    def __call__(self, *, path: str | Path | None = None, line: int | None = None,
                 cls: type[NlptaError] | None = None, **fields) -> NlptaError:
        missing = [f for f in self.fields if f not in fields]
        if missing:  # a bug at the raise site, not the user's: say which field is missing
            raise TypeError(f"{self.code} needs field(s) {', '.join(missing)}")
        kind = cls or self.cls
        if not issubclass(kind, self.cls):
            raise TypeError(f"{self.code} is a {self.cls.__name__}; {kind.__name__} is not one")
        return kind(self.template.format(**fields), path=path, line=line, code=self.code)

    def __repr__(self) -> str:
        return f"{self.code} ({self.cls.__name__}): {self.template}"


class Errors:
    """Every error code nlpta raises, defined once, with its class and message template."""

    # ---- data (E1xx)
    E101 = ErrorSpec(DataNotFoundError, "not found: {detail}")
    E102 = ErrorSpec(FormatError, "malformed: {detail}")
    E103 = ErrorSpec(UnknownCorpusError, "unknown corpus {name!r}: {detail}")
    E104 = ErrorSpec(LabelError, "label out of range: {detail}")
    E105 = ErrorSpec(EmptyDataError, "no rows: {detail}")
    E106 = ErrorSpec(NlptaError, "no split {split!r}: {detail}")
    E107 = ErrorSpec(NlptaError, "cannot tell how to read this path: {detail}")
    E108 = ErrorSpec(NlptaError, "no public download known for {name!r}: {detail}")
    E109 = ErrorSpec(NlptaError, "download failed: {detail}")
    E110 = ErrorSpec(NlptaError, "unknown MUSE dictionary split {split!r}; expected one of {expected}")
    E111 = ErrorSpec(NlptaError, "rows of the wrong schema or task: {detail}")
    # (new E1xx codes: add here)
    # (E112-E119: sentiment readers -- reviews, lines, JSONL/CSV/TSV)
    E112 = ErrorSpec(ParameterError, "invalid reader option {option}: {detail}")
    E113 = ErrorSpec(ParameterError, "no spaCy tokenizer for language {lang!r}: {detail}")
    E114 = ErrorSpec(DataNotFoundError, "cannot read Hub dataset {name!r}: {detail}")
    # (E120-E129: POS readers -- CoNLL-U, NLTK, tagged text)
    # ---- task files (E2xx)
    E201 = ErrorSpec(TaskSpecError, "invalid task: {detail}")
    # (new E2xx codes: add here)
    # (E207-E209: task-file YAML parsing)
    E207 = ErrorSpec(TaskSpecError, "the YAML is too large to expand: {detail}")
    E208 = ErrorSpec(TaskSpecError, "a task file must be UTF-8 text: {detail}")
    E209 = ErrorSpec(TaskSpecError, "duplicate key {key!r} in {section} (first on line {first}); keep one")
    E202 = ErrorSpec(TaskSpecError, "unknown key(s) {unknown} in {section}; expected {expected}")
    E203 = ErrorSpec(TaskSpecError, "missing required key {key!r} in {section}")
    E204 = ErrorSpec(TaskSpecError, "{key} {got} is not valid; expected {expected}")
    E205 = ErrorSpec(TaskSpecError, "task {task!r}: {what} {corpus} is a {got} corpus, but the task is {kind}")
    E206 = ErrorSpec(TaskSpecError, "task {task!r}: the target {target} has no train split for in-domain "
                                    "training; add a `target_labeled:` entry")
    # ---- methods and estimators (E3xx)
    E301 = ErrorSpec(UnknownMethodError, "unknown method {name!r}; registered: {registered}")
    E302 = ErrorSpec(NotFittedError, "{what} is not fitted; call fit() first")
    E303 = ErrorSpec(ParameterError, "{what} does not support {kind!r}; {detail}")
    E304 = ErrorSpec(ParameterError, "invalid parameter or input: {detail}")
    E305 = ErrorSpec(ParameterError, "the data leave nothing to fit: {detail}")
    E306 = ErrorSpec(ParameterError, "method {method!r} needs target unlabeled rows: add an `unlabeled:` entry "
                                     "to the task, e.g. {example}")
    E307 = ErrorSpec(ModelFolderError, "not a model folder nlpta can read: {detail}")
    E308 = ErrorSpec(ParameterError, "method {method!r}: {detail}")
    E311 = ErrorSpec(ModelFolderError, "checkpoint from another run: {detail}")
    # (new method-adapter / finetune codes E312-E319: add here)
    # (E313-E316: checkpoints and their fingerprints)
    E313 = ErrorSpec(ParameterError, "checkpoint_every={every} needs a checkpoint folder: {detail}")
    E312 = ErrorSpec(ModelFolderError, "the saved model is {found}, not {expected}")
    # (new estimator codes E320-E339, pivots / reweighting / models / adversarial: add here)
    # (E326-E329: degenerate data sizes, leaks, separable domains)
    E326 = ErrorSpec(ParameterError, "too few rows: {what} has {got}; {needs}")
    E327 = ErrorSpec(ParameterError, "no words to learn from: {what} {detail}")
    E328 = ErrorSpec(ParameterError, "method {method!r} needs target unlabeled rows, but the task's `unlabeled:` "
                                     "entry has {got}; point it at rows of the target domain, e.g. {example} "
                                     "(the target test rows are never used for adaptation)")
    # (E330-E333: predicting on raw text and rows -- Method.predict / Method.annotate)
    E330 = ErrorSpec(ParameterError, "cannot predict on {got}: expected {expected}")
    E331 = ErrorSpec(ParameterError, "{what} cannot be predicted: {detail}")
    E320 = ErrorSpec(ParameterError, "{what} has {got} values for {expected}; expected one per {per}")
    E321 = ErrorSpec(ParameterError, "{what} have different numbers of columns ({got}); vectorize them with one "
                                     "vocabulary")
    E322 = ErrorSpec(ParameterError, "{what} must be {expected}; got {got}")
    E323 = ErrorSpec(ParameterError, "{what} contain only one class ({found}); need at least two")
    E324 = ErrorSpec(ParameterError, "{what} requires y to be passed, but the target y is None")
    E325 = ErrorSpec(ParameterError, "pivot criterion {criterion!r} needs the source labels: pass y with the "
                                     "labels of the source rows (-1 marks unlabeled rows)")
    # ---- models, vectors, alignment (E4xx)
    E401 = ErrorSpec(ModelNotAvailableError, "model {name!r} is not available: {detail}")
    E402 = ErrorSpec(FormatError, "unreadable model or vector file: {detail}")
    E403 = ErrorSpec(ParameterError, "invalid alignment setting: {detail}")
    E404 = ErrorSpec(NlptaError, "alignment failed: {detail}")
    E405 = ErrorSpec(ParameterError, "invalid embedding-training setting: {detail}")
    E406 = ErrorSpec(ParameterError, "retrieval must be 'nn' or 'csls', not {retrieval!r}")
    E407 = ErrorSpec(ParameterError, "{what} has no option(s) {unknown}; it takes {allowed}")
    # (new E4xx codes: add here)
    # (E410-E419: vector and dictionary files)
    E410 = ErrorSpec(FormatError, "vector value out of range: {detail}; every value must be finite with "
                                  "|x| <= {bound:g}")
    E411 = ErrorSpec(FormatError, "the header promises {declared} vectors of dimension {dim}, but {detail} "
                                  "(truncated or damaged file?)")
    E408 = ErrorSpec(DataNotFoundError, "vectors need the package {package!r}, which is not installed; "
                                        "install it with {install}")
    E409 = ErrorSpec(ParameterError, "{action}: unknown vector format {fmt!r}; expected one of {expected}")
    # (E420-E425: the spaCy components nlpta_tagger / nlpta_textcat)
    E420 = ErrorSpec(ModelFolderError, "spaCy component {component!r} needs an nlpta {kind} model, but the "
                                       "folder holds {found}; {hint}")
    E421 = ErrorSpec(ParameterError, "spaCy component {component!r}: {option} must be {expected}, not {got}")
    E422 = ErrorSpec(ModelFolderError, "spaCy component {component!r}: the pipeline folder holds no nlpta model "
                                       "({detail}); save the pipeline with nlp.to_disk while the component has "
                                       "its model")
    # ---- fine-tuning and the Hub (E5xx)
    E501 = ErrorSpec(HubError, "Hub: {detail}")
    # (new E5xx codes: add here)
    # ---- evaluators (E6xx)
    E601 = ErrorSpec(EvaluatorError, "{what}: {option} must be {expected}, not {got!r}")
    E602 = ErrorSpec(EvaluatorError, "context-bias scorer: {detail}")
    E603 = ErrorSpec(EvaluatorError, "{what} needs {needs}: {detail}")
    # (new E6xx codes: add here)
    E604 = ErrorSpec(EvaluatorError, "{what}: {n_gold} gold {unit} but {n_pred} predictions")
    E605 = ErrorSpec(LabelError, "{what} needs gold labels on the {role}, but {found}; {hint}")
    E606 = ErrorSpec(EvaluatorError, "validator {validator!r} needs the target's unlabeled rows (the task's "
                                     "`unlabeled:` entry) but {got}; e.g. {example} (target labels are never read)")
    E607 = ErrorSpec(EvaluatorError, "validator {validator!r} cannot score method {method!r}: {detail}")
    # ---- benchmarks (E9xx)
    E900 = ErrorSpec(BenchError, "benchmark run failed: {detail}")
    # ---- command line (E91x)
    E910 = ErrorSpec(NlptaError, "--param {given!r}: expected KEY=VALUE (the value is read as YAML, "
                                 "e.g. --param C=0.5)")
    # (E912-E914: command-line values such as --seeds)
    E912 = ErrorSpec(NlptaError, "{option} {given!r}: expected {expected}")
    E913 = ErrorSpec(NlptaError, "{options} cannot be given together; {hint}")
    E914 = ErrorSpec(NlptaError, "--param {given!r}: the value is not valid YAML ({detail})")
    # (E915-E919: nlpta predict -- the model to load, the input to read)
    E915 = ErrorSpec(NlptaError, "nlpta predict: no model to load at {given!r}: {detail}")
    E916 = ErrorSpec(NlptaError, "nlpta predict: cannot read the input: {detail}")
    E917 = ErrorSpec(NlptaError, "nlpta predict: {given!r} is not a folder here and cannot be fetched from the Hub "
                                 "({detail}); give a local model folder, or run where the Hub is reachable")
    # (E920-E929: run folders, --out, locks)
    E920 = ErrorSpec(NlptaError, "the run folder (--out) is {what}; give a folder path")
    E921 = ErrorSpec(NlptaError, "the run folder (--out) holds files but is not an nlpta run folder (no .nlpta-run "
                                 "marker; {detail}); empty it, or choose another --out")
    E922 = ErrorSpec(NlptaError, "another run is writing this run folder (lock {lock} held{by}); wait for it to end "
                                 "or choose another --out")
    E923 = ErrorSpec(NlptaError, "task name {name!r} cannot name a run folder under runs/: {detail}")
    E924 = ErrorSpec(NlptaError, "cannot write the run folder: {detail}")
    E911 = ErrorSpec(NlptaError, "nlpta {command} needs {needs}: {detail}")


def table() -> dict[str, ErrorSpec]:
    """``{code: ErrorSpec}`` in code order."""
    return {k: v for k, v in sorted(vars(Errors).items()) if isinstance(v, ErrorSpec)}


def markdown_table() -> str:
    """The codes as a Markdown table (the README's list)."""
    rows = ["| code | error class | message |", "|---|---|---|"]
    for code, spec in table().items():
        rows.append(f"| {code} | `{spec.cls.__name__}` | {spec.template.replace('|', '/')} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
