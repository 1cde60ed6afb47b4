"""A reference bank: colour photos indexed by FAISS on embeddings of their luminance.

Embeddings come from the luminance only (``global_embedding`` of the BT.601 gray), so a
gray video frame finds the colour photo of the same scene. The index is exact inner
product (``IndexFlatIP``) up to ``HNSW_THRESHOLD`` entries and HNSW past it (Malkov &
Yashunin 2018). Measured on 2 CPU cores (benchmarks/README.md, stage1_retrieval.py): a
flat search of 100k 880-D vectors takes ~0.1 s, still below the ~1 s a query spends on
its own embedding and dense re-ranking, while HNSW at M 32, efConstruction 80 and
efSearch 64 found the exact top-1 of only 56 % of synthetic queries at 100k; so flat
stays exact up to 200k. Past that the index is HNSW at efSearch ``HNSW_EF_SEARCH`` = 128,
twice the measured setting, to win back recall at some query time; its recall at 128
has not been measured. A flat index moves to the GPUs when faiss reports any. Top-k
candidates are re-ranked by dense correspondence quality.

A bank can also hold images in memory (``add_images``): ``UserReferences`` searches the
user's own images that way. Such a bank cannot be saved.

On disk a bank is a folder: ``index.faiss`` and ``meta.json`` (format, encoder
signature, dimension, the index file's SHA-256, and per entry: id, path, size and the
SHA-256 of the decoded pixels). Loading checks all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import InputError
from ..io.images import expand_image_paths, is_grayscale, load_color_image
from ..modeling.encoder import EncoderConfig, LuminanceEncoder
from ..pixels import rgb_to_gray
from .bank_meta import check_entry_file, check_seal, resolve_entry_path, seal_meta, validate_meta
from .embedding import EMBED_SIZE, encoder_signature, global_embedding
from .rerank import DENSE_SIZE, dense_features, match_score

__all__ = ["ReferenceBank", "BankEntry", "SearchHit", "expand_image_paths", "HNSW_THRESHOLD"]

FORMAT = "exemplar_vc.bank/1"
# Flat (exact) search up to this many entries; see the module doc for the measurements.
HNSW_THRESHOLD = 200_000
# HNSW graph degree and build beam: FAISS's usual M and a build beam the benchmark used.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# Search beam: twice the measured 64 (56 % exact top-1 at 100k); not measured itself.
HNSW_EF_SEARCH = 128
# Dense features kept per bank image for re-ranking, at most: ~0.25 MB each at the default
# re-rank size (176 channels x 16 x 22 cells), so the cache stays under ~0.3 GB.
DENSE_CACHE_ENTRIES = 1024


@dataclass(frozen=True)
class BankEntry:
    """One bank image. id: stable integer. path: absolute file path. size: (width, height).
    sha256: hash of the decoded (H, W, 3) uint8 RGB pixels."""

    id: int
    path: str
    size: tuple[int, int]
    sha256: str


@dataclass(frozen=True)
class SearchHit:
    """A search result. score: the ranking score (dense match when re-ranked, else the
    global cosine), global_score: cosine of global embeddings, dense_score: bidirectional
    dense match (None when not re-ranked)."""

    entry: BankEntry
    score: float
    global_score: float
    dense_score: float | None = None

    @property
    def path(self) -> str:
        return self.entry.path


def _pixel_hash(rgb: np.ndarray) -> str:
    h = hashlib.sha256(f"{rgb.shape}".encode())
    h.update(np.ascontiguousarray(rgb).tobytes())
    return h.hexdigest()


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _faiss():
    try:
        import faiss
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise ImportError("the reference bank needs `pip install faiss-cpu` (or faiss-gpu)") from e
    return faiss


class ReferenceBank:
    """Colour images searchable by gray frames.

    Build with ``ReferenceBank.build(paths_or_dir)``, or ``load(dir)``; then ``add``,
    ``remove``, ``search`` and ``save``. ``encoder`` defaults to the pretrained
    ``LuminanceEncoder``; a loaded bank refuses an encoder other than the one that built it.
    """

    def __init__(self, encoder: LuminanceEncoder | None = None, embed_size: int = EMBED_SIZE, rerank_size: int = DENSE_SIZE):
        self.encoder = encoder if encoder is not None else LuminanceEncoder()
        self.signature = encoder_signature(self.encoder)
        self.embed_size = embed_size
        self.rerank_size = rerank_size
        self.entries: list[BankEntry] = []
        self.vectors = np.zeros((0, 0), np.float32)
        self._index = None
        self._next_id = 0
        self._dense_cache: dict[int, object] = {}
        self._in_memory: dict[int, np.ndarray] = {}  # id -> (H, W, 3) uint8 RGB (add_images)

    # -- building ------------------------------------------------------------------
    @classmethod
    def build(cls, paths_or_dir, encoder: LuminanceEncoder | None = None, **kwargs) -> "ReferenceBank":
        """A bank of the colour images at ``paths_or_dir`` (files and/or folders)."""
        bank = cls(encoder, **kwargs)
        paths = expand_image_paths(paths_or_dir)
        if not paths:
            raise InputError(f"expected colour images to build a bank from, found none in {paths_or_dir!r}")
        bank.add(paths)
        if not bank.entries:
            raise InputError("expected at least one colour image in the bank, but every image was gray or a duplicate")
        return bank

    def add(self, paths: Iterable[str | os.PathLike]) -> list[BankEntry]:
        """Embed and add images; identical images (same decoded pixels) and gray images are
        skipped with a warning. Returns the entries added."""
        return self._embed_and_append(self._new_files(paths))

    def _new_files(self, paths: Iterable[str | os.PathLike]) -> Iterator[tuple[np.ndarray, str, str]]:
        """(rgb, absolute path, pixel hash) of each new colour image, read one at a time."""
        known = {e.sha256 for e in self.entries}
        for path in expand_image_paths(paths):
            rgb = load_color_image(path, name="bank image", warn_gray=False)
            if is_grayscale(rgb):
                warnings.warn(f"bank image {str(path)!r} is grayscale (no colour to give); skipped", UserWarning, stacklevel=4)
                continue
            digest = _pixel_hash(rgb)
            if digest in known:
                warnings.warn(f"bank image {str(path)!r} duplicates an image already in the bank; skipped", UserWarning, stacklevel=4)
                continue
            known.add(digest)
            yield rgb, str(Path(path).resolve()), digest

    def add_images(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[BankEntry]:
        """Add (H, W, 3) uint8 RGB images held in memory, named ``names`` (each entry's
        ``path``). They stay in memory, so the bank can no longer be saved. Unlike
        ``add``, gray and repeated images are kept: the caller chose them."""
        if len(images) != len(names):
            raise InputError(f"expected one name per image, got {len(images)} images and {len(names)} names")
        first = self._next_id
        added = self._embed_and_append((rgb, str(name), _pixel_hash(rgb)) for rgb, name in zip(images, names))
        self._in_memory.update({first + i: rgb for i, rgb in enumerate(images)})
        return added

    def _embed_and_append(self, items: Iterable[tuple[np.ndarray, str, str]]) -> list[BankEntry]:
        added, vecs = [], []
        for rgb, path, digest in items:
            vecs.append(global_embedding(self.encoder, rgb_to_gray(rgb), self.embed_size).numpy())
            added.append(BankEntry(self._next_id, path, (rgb.shape[1], rgb.shape[0]), digest))
            self._next_id += 1
        if added:
            self._append(np.stack(vecs), added)
        return added

    def _append(self, vectors: np.ndarray, entries: list[BankEntry]) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.vectors = vectors if not self.entries else np.concatenate([self.vectors, vectors])
        self.entries += entries
        self._index = None

    def add_vectors(self, vectors: np.ndarray, paths: Sequence[str]) -> None:
        """Add precomputed (N, D) unit embeddings (for benchmarks at scale; no re-ranking
        is possible for entries whose files do not exist)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(paths) or (self.vectors.size and vectors.shape[1] != self.vectors.shape[1]):
            raise InputError(f"expected (N, D) embeddings matching {len(paths)} paths and the bank's dimension, got {vectors.shape}")
        entries = [BankEntry(self._next_id + i, str(p), (0, 0), f"vector:{self._next_id + i}") for i, p in enumerate(paths)]
        self._next_id += len(paths)
        self._append(vectors, entries)

    def remove(self, ids_or_paths: Iterable[int | str | os.PathLike]) -> int:
        """Remove entries by id or path; returns how many were removed."""
        items = [ids_or_paths] if isinstance(ids_or_paths, (int, str, os.PathLike)) else list(ids_or_paths)
        ids = {x for x in items if isinstance(x, int)}
        paths = {str(Path(x).resolve()) for x in items if not isinstance(x, int)}
        keep = [i for i, e in enumerate(self.entries) if e.id not in ids and e.path not in paths]
        removed = len(self.entries) - len(keep)
        for e in self.entries:
            if e.id in ids or e.path in paths:
                self._in_memory.pop(e.id, None)
                self._dense_cache.pop(e.id, None)
        self.entries = [self.entries[i] for i in keep]
        self.vectors = self.vectors[keep]
        self._index = None
        return removed

    def __len__(self) -> int:
        return len(self.entries)

    # -- index ---------------------------------------------------------------------
    @property
    def index_kind(self) -> str:
        return "flat-ip" if len(self) < HNSW_THRESHOLD else "hnsw-ip"

    def _build_index(self):
        faiss = _faiss()
        d = self.vectors.shape[1]
        if self.index_kind == "flat-ip":
            index = faiss.IndexFlatIP(d)
        else:
            index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        index.add(self.vectors)
        return index

    def _search_index(self):
        if self._index is None:
            index = self._build_index()
            faiss = _faiss()
            if self.index_kind == "flat-ip" and getattr(faiss, "get_num_gpus", lambda: 0)() > 0:
                index = faiss.index_cpu_to_all_gpus(index)
            self._index = index
        return self._index

    # -- search --------------------------------------------------------------------
    def _check_nonempty(self) -> None:
        if not self.entries:
            raise InputError("expected a bank with at least one image, got an empty bank; add images first")

    def search_vectors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS top-k: (Q, D) unit queries -> scores (Q, k') and row positions (Q, k')."""
        self._check_nonempty()
        k = min(k, len(self))
        scores, rows = self._search_index().search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, rows

    def search(self, gray_frames: np.ndarray | Sequence[np.ndarray], k: int = 5, rerank: bool = True) -> list[list[SearchHit]]:
        """Best bank images for each (H, W) uint8 gray frame, best first.

        FAISS gives the top ``k`` by global embedding; with ``rerank`` they are re-scored
        by bidirectional dense correspondence (``match_score``) and re-sorted.
        """
        self._check_nonempty()
        if k < 1:
            raise InputError(f"expected k >= 1, got {k}")
        frames = [gray_frames] if isinstance(gray_frames, np.ndarray) and gray_frames.ndim == 2 else list(gray_frames)
        for f in frames:
            if not isinstance(f, np.ndarray) or f.ndim != 2 or f.dtype != np.uint8:
                raise InputError(f"expected (H, W) uint8 gray frames to search with, got {getattr(f, 'shape', type(f).__name__)}")
        queries = np.stack([global_embedding(self.encoder, f, self.embed_size).numpy() for f in frames])
        scores, rows = self.search_vectors(queries, k)
        out = []
        for f, srow, rrow in zip(frames, scores, rows):
            hits = [SearchHit(self.entries[r], float(s), float(s)) for s, r in zip(srow, rrow) if r >= 0]
            if rerank:
                hits = self._rerank(f, hits)
            out.append(hits)
        return out

    def _rerank(self, gray: np.ndarray, hits: list[SearchHit]) -> list[SearchHit]:
        query = dense_features(self.encoder, gray, self.rerank_size)
        scored = []
        for hit in hits:
            feats = self._dense_cache.get(hit.entry.id)
            if feats is None:
                try:
                    rgb = self.image(hit.entry)
                except InputError as e:
                    warnings.warn(f"cannot re-rank {hit.path!r} ({e}); kept with its global score", UserWarning, stacklevel=3)
                    scored.append(hit)
                    continue
                feats = dense_features(self.encoder, rgb_to_gray(rgb), self.rerank_size)
                if len(self._dense_cache) >= DENSE_CACHE_ENTRIES:  # bounded: drop the oldest
                    self._dense_cache.pop(next(iter(self._dense_cache)))
                self._dense_cache[hit.entry.id] = feats
            dense = match_score(query, feats)
            scored.append(SearchHit(hit.entry, dense, hit.global_score, dense))
        return sorted(scored, key=lambda h: -h.score)

    def image(self, entry: BankEntry, verify: bool = True) -> np.ndarray:
        """The entry's (H, W, 3) uint8 RGB image, read from its path, or held in memory
        (``add_images``); ``verify``: check its hash."""
        rgb = self._in_memory.get(entry.id)
        if rgb is None:
            check_entry_file(entry.path)  # a regular file: never a FIFO that would block
            rgb = load_color_image(entry.path, name="bank image", warn_gray=False)
        if verify and _pixel_hash(rgb) != entry.sha256:
            raise InputError(f"expected bank image {entry.path!r} unchanged since it was added, but its pixels differ")
        return rgb

    def check_files(self) -> list[str]:
        """Problems with the image files (missing, changed): one line each, empty when fine."""
        problems = []
        for e in self.entries:
            try:
                self.image(e, verify=True)
            except InputError as err:
                problems.append(str(err))
        return problems

    # -- persistence ---------------------------------------------------------------
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``index.faiss`` and ``meta.json`` into ``directory`` (created if needed).
        Each file is written to a temporary name and moved into place; meta.json last."""
        self._check_nonempty()
        if self._in_memory:
            raise InputError(f"expected a bank of image files to save, but {len(self._in_memory)} entries are images held in memory (add_images)")
        faiss = _faiss()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        index = self._build_index()
        tmp_index = _temp_in(d, "index.faiss")
        faiss.write_index(index, str(tmp_index))
        meta = {
            "format": FORMAT,
            "encoder": self.signature,
            "encoder_config": asdict(self.encoder.config),
            "dim": int(self.vectors.shape[1]),
            "embed_size": self.embed_size,
            "rerank_size": self.rerank_size,
            "index_kind": self.index_kind,
            "index_sha256": _file_hash(tmp_index),
            "next_id": self._next_id,
            "entries": [asdict(e) for e in self.entries],
        }
        tmp_meta = _temp_in(d, "meta.json")
        tmp_meta.write_text(json.dumps(seal_meta(meta, d), indent=1))  # relative paths inside d, checksum
        os.replace(tmp_index, d / "index.faiss")
        os.replace(tmp_meta, d / "meta.json")
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike, encoder: LuminanceEncoder | None = None, allow_outside: bool = True) -> "ReferenceBank":
        """Read a bank saved by ``save``; raises InputError when it is missing, corrupted, or
        was built with another encoder than ``encoder`` (default: the one it names).
        ``allow_outside=False``: refuse entries outside the bank folder (for a bank of
        unknown origin); see ``bank_meta.py`` for the checks on meta.json and on entries."""
        d = Path(directory)
        meta_path, index_path = d / "meta.json", d / "index.faiss"
        if not meta_path.is_file() or not index_path.is_file():
            raise InputError(f"expected a bank folder with meta.json and index.faiss, got {str(d)!r}")
        try:
            meta = json.loads(meta_path.read_text())
            validate_meta(meta)  # schema, types and ranges (bank_meta.py); paths resolved against d
            entries = [BankEntry(e["id"], resolve_entry_path(d, e["path"], allow_outside), tuple(e["size"]), e["sha256"]) for e in meta["entries"]]
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise InputError(f"expected a readable bank meta.json in {str(d)!r}, it is corrupted ({e})") from e
        if meta.get("format") != FORMAT:
            raise InputError(f"expected bank format {FORMAT!r}, got {meta.get('format')!r} in {str(d)!r}")
        if _file_hash(index_path) != meta.get("index_sha256"):
            raise InputError(f"expected index.faiss in {str(d)!r} to match meta.json, but its SHA-256 differs (corrupted or replaced); rebuild the bank")
        if encoder is None:
            cfg = meta.get("encoder_config", {})
            encoder = LuminanceEncoder(EncoderConfig(cfg.get("backbone", "efficientnet-lite0"), tuple(cfg.get("blocks", (2, 4, 10))), cfg.get("stride", 8)))
        bank = cls(encoder, embed_size=meta.get("embed_size", 224), rerank_size=meta.get("rerank_size", 128))
        if bank.signature != meta.get("encoder"):
            raise InputError(f"expected a bank built with this encoder ({bank.signature}), but {str(d)!r} was built with {meta.get('encoder')}; rebuild the bank")
        try:
            index = _faiss().read_index(str(index_path))
            vectors = index.reconstruct_n(0, index.ntotal)
        except RuntimeError as e:
            raise InputError(f"expected a FAISS index in {str(index_path)!r}, could not read it ({str(e).splitlines()[0]})") from e
        if index.ntotal != len(entries) or index.d != meta.get("dim"):
            raise InputError(f"expected {len(entries)} vectors of dimension {meta.get('dim')} in {str(index_path)!r}, got {index.ntotal} of {index.d}")
        bank.entries, bank.vectors, bank._next_id = entries, np.ascontiguousarray(vectors, np.float32), int(meta.get("next_id", len(entries)))
        check_seal(meta, d)  # meta.json unchanged since save (bank_meta.py)
        return bank


def _temp_in(directory: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    return Path(tmp)
