"""A bank's ``meta.json``: its schema, its checksum, and where its entries may point.

``ReferenceBank.load`` calls ``validate_meta`` before it uses any field (types, ranges,
known backbone and blocks, ids, hashes), so an edited file fails with one line naming the
field, what was expected and what came, never deep inside the encoder or FAISS. ``save``
seals the document with ``seal_meta``: entry paths inside the bank folder are stored
relative to it (the folder can be moved), and ``meta_sha256`` is the SHA-256 of the
canonical JSON of every other field; ``check_seal`` refuses a document that was changed
after it was sealed. (A checksum kept in the same file detects edits and corruption, not a
deliberate forger who recomputes it: for a bank of unknown origin load with
``allow_outside=False``, so that only files inside its own folder are ever read.)

Entries are checked again on use (``check_entry_file``): the path must name a regular
file (never a FIFO, device or folder, which could hang or mislead the run), and the bank
then checks the SHA-256 of the decoded pixels against the entry's.

Paths: a relative path is resolved against the bank folder and must stay inside it; an
absolute path (an image the user gave to ``build``/``add`` from elsewhere) is accepted
unless ``allow_outside=False``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.limits import file_kind

__all__ = ["validate_meta", "seal_meta", "check_seal", "meta_digest", "resolve_entry_path", "check_entry_file", "BACKBONE_BLOCKS"]

# Blocks of each EfficientNet-Lite backbone (efficientnet-lite-pytorch 0.1.0 ``_blocks``).
BACKBONE_BLOCKS = {"efficientnet-lite0": 16, "efficientnet-lite1": 21, "efficientnet-lite2": 21}
_STRIDES = (1, 2, 4, 8, 16, 32)
_INDEX_KINDS = ("flat-ip", "hnsw-ip", "ivfpq-ip")
_HUBNESS = ("csls", "none")
_CONFIG_KEYS = {"descriptor", "rerank_size", "hubness", "hubness_min", "whiten_min", "whiten_dim", "whiten_alpha", "index_kind"}
_DESCRIPTOR_KEYS = {"backbone", "sizes", "levels", "class_weight"}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_VECTOR_HASH = re.compile(r"^vector:[0-9]{1,18}$")
_MIN_SIZE, _MAX_SIZE = 16, 4096  # embedding / re-rank sizes: the encoder's smallest input .. a sane largest
_MAX_DIM = 1 << 16
_MAX_PATH = 4096
_MAX_SIDE = 1 << 20


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _fail(field: str, expected: str, got: Any) -> InputError:
    text = repr(got)
    if len(text) > 80:
        text = text[:77] + "..."
    return InputError(f"expected meta.json field {field!r} as {expected}, got {text}")


def _int_in(meta: dict, key: str, lo: int, hi: int, field: str | None = None) -> int:
    v = meta.get(key)
    if not _is_int(v) or not lo <= v <= hi:
        raise _fail(field or key, f"an integer in [{lo}, {hi}]", v)
    return v


def meta_digest(meta: dict) -> str:
    """SHA-256 of the canonical JSON of ``meta`` without its ``meta_sha256`` field."""
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def validate_meta(meta: Any) -> None:
    """Raise ``InputError`` unless ``meta`` (a parsed meta.json) has every field with the
    right type and range. Does not check the seal (``check_seal``) or the files."""
    if not isinstance(meta, dict):
        raise InputError(f"expected meta.json to hold a JSON object, got {type(meta).__name__}")
    for key in ("format", "encoder", "descriptor", "index_sha256", "vectors_sha256"):
        if not isinstance(meta.get(key), str) or not meta[key] or len(meta[key]) > 1000:
            raise _fail(key, "a non-empty string", meta.get(key))
    for key in ("index_sha256", "vectors_sha256"):
        if not _HEX64.match(meta[key]):
            raise _fail(key, "64 lowercase hex digits", meta[key])
    if "meta_sha256" in meta and not (isinstance(meta["meta_sha256"], str) and _HEX64.match(meta["meta_sha256"])):
        raise _fail("meta_sha256", "64 lowercase hex digits", meta["meta_sha256"])
    cfg = meta.get("encoder_config")
    if not isinstance(cfg, dict):
        raise _fail("encoder_config", "an object {backbone, blocks, stride}", cfg)
    backbone = cfg.get("backbone")
    if backbone not in BACKBONE_BLOCKS:
        raise _fail("encoder_config.backbone", f"one of {sorted(BACKBONE_BLOCKS)}", backbone)
    blocks = cfg.get("blocks")
    n = BACKBONE_BLOCKS[backbone]
    if (
        not isinstance(blocks, list)
        or not 1 <= len(blocks) <= n
        or not all(_is_int(b) and 0 <= b < n for b in blocks)
        or any(a >= b for a, b in zip(blocks, blocks[1:]))
    ):
        raise _fail("encoder_config.blocks", f"increasing block numbers in [0, {n - 1}] for {backbone}", blocks)
    if cfg.get("stride") not in _STRIDES or not _is_int(cfg.get("stride")):
        raise _fail("encoder_config.stride", f"one of {list(_STRIDES)}", cfg.get("stride"))
    dim = _int_in(meta, "dim", 1, _MAX_DIM)
    _int_in(meta, "search_dim", 1, dim)
    alpha = meta.get("whitening_alpha")
    if alpha is not None and not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and 0 <= alpha <= 1):
        raise _fail("whitening_alpha", "null or a number in [0, 1]", alpha)
    _validate_config(meta.get("config"), backbone)
    if meta.get("index_kind") not in _INDEX_KINDS:
        raise _fail("index_kind", f"one of {list(_INDEX_KINDS)}", meta.get("index_kind"))
    entries = meta.get("entries")
    if not isinstance(entries, list) or not entries:
        raise _fail("entries", "a non-empty list", entries if not isinstance(entries, list) else "[]")
    seen: set[int] = set()
    for i, e in enumerate(entries):
        where = f"entries[{i}]"
        if not isinstance(e, dict) or set(e) != {"id", "path", "size", "sha256"}:
            raise _fail(where, "an object with exactly id, path, size and sha256", e)
        if not _is_int(e["id"]) or e["id"] < 0 or e["id"] in seen:
            raise _fail(f"{where}.id", "a unique integer >= 0", e["id"])
        seen.add(e["id"])
        p = e["path"]
        if not isinstance(p, str) or not p or "\x00" in p or len(p) > _MAX_PATH:
            raise _fail(f"{where}.path", f"a file path of 1 to {_MAX_PATH} characters", p)
        size = e["size"]
        if not isinstance(size, list) or len(size) != 2 or not all(_is_int(s) and 0 <= s <= _MAX_SIDE for s in size):
            raise _fail(f"{where}.size", "[width, height] in pixels", size)
        h = e["sha256"]
        if not isinstance(h, str) or not (_HEX64.match(h) or _VECTOR_HASH.match(h)):
            raise _fail(f"{where}.sha256", "64 lowercase hex digits", h)
    _int_in(meta, "next_id", max(seen) + 1, 1 << 62)


def _validate_config(c: Any, backbone: str) -> None:
    """The ``config`` object (``BankConfig`` as saved)."""
    if not isinstance(c, dict) or set(c) != _CONFIG_KEYS:
        raise _fail("config", f"an object with exactly {sorted(_CONFIG_KEYS)}", c)
    d = c["descriptor"]
    if not isinstance(d, dict) or set(d) != _DESCRIPTOR_KEYS:
        raise _fail("config.descriptor", f"an object with exactly {sorted(_DESCRIPTOR_KEYS)}", d)
    if d["backbone"] != backbone:
        raise _fail("config.descriptor.backbone", f"the encoder's backbone {backbone!r}", d["backbone"])
    sizes = d["sizes"]
    if not isinstance(sizes, list) or not 1 <= len(sizes) <= 4 or not all(_is_int(x) and _MIN_SIZE <= x <= _MAX_SIZE for x in sizes):
        raise _fail("config.descriptor.sizes", f"1 to 4 sizes in [{_MIN_SIZE}, {_MAX_SIZE}]", sizes)
    _int_in(d, "levels", 1, 6, "config.descriptor.levels")
    w = d["class_weight"]
    if not (isinstance(w, (int, float)) and not isinstance(w, bool) and 0 <= w <= 10):
        raise _fail("config.descriptor.class_weight", "a number in [0, 10]", w)
    _int_in(c, "rerank_size", _MIN_SIZE, _MAX_SIZE, "config.rerank_size")
    if c["hubness"] not in _HUBNESS:
        raise _fail("config.hubness", f"one of {list(_HUBNESS)}", c["hubness"])
    _int_in(c, "hubness_min", 0, 1 << 40, "config.hubness_min")
    _int_in(c, "whiten_min", 2, 1 << 40, "config.whiten_min")
    _int_in(c, "whiten_dim", 1, _MAX_DIM, "config.whiten_dim")
    a = c["whiten_alpha"]
    if not (isinstance(a, (int, float)) and not isinstance(a, bool) and 0 <= a <= 1):
        raise _fail("config.whiten_alpha", "a number in [0, 1]", a)
    if c["index_kind"] is not None and c["index_kind"] not in _INDEX_KINDS:
        raise _fail("config.index_kind", f"null or one of {list(_INDEX_KINDS)}", c["index_kind"])


def seal_meta(meta: dict, directory: str | os.PathLike) -> dict:
    """``meta`` ready to write into ``directory``: paths inside the folder made relative to
    it, and ``meta_sha256`` set."""
    root = Path(directory).resolve()
    entries = []
    for e in meta.get("entries", []):
        e = dict(e)
        p = Path(e["path"])
        if p.is_absolute():
            try:
                e["path"] = p.resolve().relative_to(root).as_posix()
            except ValueError:  # outside the bank: kept absolute
                pass
        entries.append(e)
    out = {k: v for k, v in meta.items() if k != "meta_sha256"}
    out["entries"] = entries
    out["meta_sha256"] = meta_digest(out)
    return out


def check_seal(meta: dict, directory: str | os.PathLike) -> None:
    """``InputError`` unless ``meta_sha256`` matches the rest of the document."""
    where = str(Path(directory))
    if "meta_sha256" not in meta:
        raise InputError(f"expected meta.json in {where!r} to carry its checksum (meta_sha256), found none (saved by an older version, or edited); rebuild the bank")
    if meta_digest(meta) != meta["meta_sha256"]:
        raise InputError(f"expected meta.json in {where!r} unchanged since the bank was saved, but its checksum (meta_sha256) differs (edited or corrupted); rebuild the bank")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def resolve_entry_path(directory: str | os.PathLike, path: str, allow_outside: bool = True) -> str:
    """The absolute path of an entry: a relative ``path`` is resolved against the bank
    folder and must stay inside it (symbolic links followed); an absolute one is refused
    when ``allow_outside`` is False and it lies outside the folder."""
    p = Path(path)
    try:
        root = Path(directory).resolve()
        full = (p if p.is_absolute() else root / p).resolve()
    except (OSError, RuntimeError) as e:  # e.g. a loop of symbolic links
        raise InputError(f"expected a bank entry path that resolves, got {path!r} ({e})") from e
    if not p.is_absolute() and not _inside(full, root):
        raise InputError(f"expected bank entry paths inside the bank folder {str(root)!r}, got {path!r}")
    if not allow_outside and not _inside(full, root):
        raise InputError(f"expected bank entries inside the bank folder {str(root)!r} (allow_outside=False), got {path!r}")
    return str(full)


def check_entry_file(path: str) -> None:
    """``InputError`` unless ``path`` names a regular file (following links): never open a
    FIFO (it would block for ever), a device or a folder as an image."""
    try:
        st = os.stat(path)
    except FileNotFoundError as e:
        raise InputError(f"expected bank image {path!r} to exist, but it is missing; rebuild or update the bank") from e
    except OSError as e:
        raise InputError(f"expected a readable bank image at {path!r}: {e.strerror or e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"expected bank image {path!r} to be a regular file, but it is {file_kind(st.st_mode)}")
