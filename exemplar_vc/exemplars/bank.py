"""A reference bank: colour photos searchable by gray frames.

Search is two-stage. The global stage ranks every image by its *content descriptor*
(``descriptor.py``: deep features of the frozen backbone, R-MAC pooled, plus its class
probabilities), computed from the luminance only, so a gray frame finds the colour photo
of the same scene. Past ``BankConfig.whiten_min`` images the descriptors are projected by a
PCA fitted on the bank (``whitening.py``); hubness is reduced by CSLS (``hubness.py``),
folded into the FAISS index, whose kind is chosen by size (``index.py``: exact, HNSW or
IVF-PQ; on the GPU when FAISS sees one). The top ``k`` are then re-ranked by dense
correspondence (``rerank.match_score``), the score the rest of stage 1 uses.

A bank can also hold images in memory (``add_images``): ``UserReferences`` searches the
user's own images that way. Such a bank cannot be saved.

On disk a bank is a folder: ``meta.json`` (format, encoder and descriptor signatures,
settings, the SHA-256 of the other two files, and per entry: id, path, size and the
SHA-256 of the decoded pixels; paths inside the folder are stored relative to it, so the
folder can be moved with its images), ``vectors.npz`` (the descriptors, float16, the CSLS
penalties and the fitted PCA) and ``index.faiss``. Loading checks all of them; a bank of
an older format is refused with the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import InputError
from ..io.images import expand_image_paths, is_grayscale, load_color_image
from ..modeling.encoder import EncoderConfig, LuminanceEncoder
from ..pixels import rgb_to_gray
from .bank_meta import check_entry_file, check_seal, resolve_entry_path, seal_meta, validate_meta
from .descriptor import ContentDescriptor, DescriptorConfig
from .embedding import encoder_signature
from .hubness import augment_bank, augment_queries, csls_penalties
from .index import _faiss, build_index, index_kind_for, ivfpq_dim, search_index, to_gpu
from .rerank import DENSE_SIZE, dense_features, match_score
from .whitening import Whitening, fit_whitening

__all__ = ["ReferenceBank", "BankEntry", "BankConfig", "SearchHit", "expand_image_paths", "FORMAT"]

FORMAT = "exemplar_vc.bank/2"
# Formats this version refuses, with the reason given to the user.
OLD_FORMATS = {"exemplar_vc.bank/1": "format 1 searched a texture embedding that this version no longer computes"}
# Dense features kept per bank image for re-ranking, at most: ~0.25 MB each at the default
# re-rank size (176 channels x 16 x 22 cells), so the cache stays under ~0.3 GB.
DENSE_CACHE_ENTRIES = 1024
# Rows projected to the search space at a time.
PROJECT_CHUNK = 65536


@dataclass(frozen=True)
class BankConfig:
    """How a bank describes and searches its images.

    descriptor: the content descriptor's settings (its backbone is the encoder's).
    rerank_size: short side (pixels) of the dense re-ranking features.
    hubness: "csls" (hubness reduction, ``hubness.py``) or "none".
    hubness_min: fewer images than this get no hubness reduction (the k = 10 nearest
        neighbours of an image in a handful say nothing about hubs).
    whiten_min: from this many images on, a PCA fitted on the bank projects descriptors to
        ``whiten_dim`` dimensions, scaled by eigenvalue^-``whiten_alpha`` (0: plain PCA).
        2560 = 10 images per kept dimension. On the 1.5k-image benchmark bank a plain
        PCA to 256 measured the same as none, full whitening (alpha 0.5) worse
        (benchmarks/README.md, Stage 1); at a million images the projection is what keeps
        the index in memory.
    index_kind: force "flat-ip", "hnsw-ip" or "ivfpq-ip"; None chooses by size (``index.py``).
    """

    descriptor: DescriptorConfig = field(default_factory=DescriptorConfig)
    rerank_size: int = DENSE_SIZE
    hubness: str = "csls"
    hubness_min: int = 50
    whiten_min: int = 2560
    whiten_dim: int = 256
    whiten_alpha: float = 0.0
    index_kind: str | None = None


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
    """A search result. score: the ranking score: the dense match when re-ranked, else the
    global one (descriptor cosine minus half the image's CSLS penalty). global_score:
    cosine of the content descriptors (after the bank's PCA, if any). dense_score:
    bidirectional dense match (None when not re-ranked)."""

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


def _bar(items, total: int, desc: str, progress: bool | None):
    """tqdm over ``items``; ``progress`` None shows it only when stderr is a terminal."""
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="image", disable=None if progress is None else not progress, file=sys.stderr, dynamic_ncols=True)


class ReferenceBank:
    """Colour images searchable by gray frames.

    Build with ``ReferenceBank.build(paths_or_dir)``, or ``load(dir)``; then ``add``,
    ``remove``, ``search`` and ``save``. ``encoder`` (for the dense re-ranking) defaults to
    the pretrained ``LuminanceEncoder``; the content descriptor is built on the same
    backbone. A loaded bank refuses an encoder or descriptor other than those that built it.
    """

    def __init__(self, encoder: LuminanceEncoder | None = None, config: BankConfig = BankConfig(), descriptor: ContentDescriptor | None = None):
        self.encoder = encoder if encoder is not None else LuminanceEncoder()
        self.signature = encoder_signature(self.encoder)
        if config.hubness not in ("csls", "none"):
            raise InputError(f"expected hubness 'csls' or 'none', got {config.hubness!r}")
        if descriptor is None:
            descriptor = ContentDescriptor(DescriptorConfig(**{**asdict(config.descriptor), "backbone": self.encoder.config.backbone}))
        self.descriptor = descriptor.to(next(self.encoder.parameters()).device)
        self.config = config
        self.entries: list[BankEntry] = []
        self.vectors = np.zeros((0, self.descriptor.dim), np.float16)  # (N, D) descriptors
        self.whitening: Whitening | None = None
        self.penalties: np.ndarray | None = None
        self._space: np.ndarray | None = None  # (N, d + 1) search vectors, CSLS column last
        self._index = None  # CPU index (saved)
        self._searcher = None  # the same on the GPUs when FAISS sees any, else the CPU index
        self._rows: dict[int, int] | None = None  # entry id -> row
        self._next_id = 0
        self._dense_cache: dict[int, object] = {}
        self._in_memory: dict[int, np.ndarray] = {}  # id -> (H, W, 3) uint8 RGB (add_images)

    @property
    def rerank_size(self) -> int:
        return self.config.rerank_size

    # -- building ------------------------------------------------------------------
    @classmethod
    def build(cls, paths_or_dir, encoder: LuminanceEncoder | None = None, config: BankConfig = BankConfig(), progress: bool | None = None) -> "ReferenceBank":
        """A bank of the colour images at ``paths_or_dir`` (files and/or folders).
        ``progress``: a progress bar on stderr (None: only when stderr is a terminal)."""
        bank = cls(encoder, config)
        paths = expand_image_paths(paths_or_dir)
        if not paths:
            raise InputError(f"expected colour images to build a bank from, found none in {paths_or_dir!r}")
        bank.add(paths, progress=progress)
        if not bank.entries:
            raise InputError("expected at least one colour image in the bank, but every image was gray or a duplicate")
        return bank

    def add(self, paths: Iterable[str | os.PathLike], progress: bool | None = None) -> list[BankEntry]:
        """Embed and add images; identical images (same decoded pixels) and gray images are
        skipped with a warning. Returns the entries added."""
        paths = expand_image_paths(paths)
        return self._embed_and_append(_bar(self._new_files(paths), len(paths), "describing images", progress))

    def _new_files(self, paths: Sequence[Path]) -> Iterator[tuple[np.ndarray, str, str]]:
        """(rgb, absolute path, pixel hash) of each new colour image, read one at a time."""
        known = {e.sha256 for e in self.entries}
        for path in paths:
            rgb = load_color_image(path, name="bank image", warn_gray=False)
            if is_grayscale(rgb):
                warnings.warn(f"bank image {str(path)!r} is grayscale (no colour to give); skipped", UserWarning, stacklevel=5)
                continue
            digest = _pixel_hash(rgb)
            if digest in known:
                warnings.warn(f"bank image {str(path)!r} duplicates an image already in the bank; skipped", UserWarning, stacklevel=5)
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

    def describe(self, gray: np.ndarray) -> np.ndarray:
        """(H, W) uint8 gray -> (D,) float32 content descriptor (``descriptor.py``)."""
        return self.descriptor.describe(gray)

    def _embed_and_append(self, items: Iterable[tuple[np.ndarray, str, str]]) -> list[BankEntry]:
        added, vecs = [], []
        for rgb, path, digest in items:
            vecs.append(self.describe(rgb_to_gray(rgb)))
            added.append(BankEntry(self._next_id, path, (rgb.shape[1], rgb.shape[0]), digest))
            self._next_id += 1
        if added:
            self._append(np.stack(vecs), added)
        return added

    def _append(self, vectors: np.ndarray, entries: list[BankEntry]) -> None:
        vectors = np.asarray(vectors, dtype=np.float16)
        self.vectors = np.concatenate([self.vectors, vectors]) if len(self.vectors) else vectors
        self.entries += entries
        self._invalidate()

    def _invalidate(self) -> None:
        self._index = self._searcher = self._space = self._rows = None
        self.whitening = self.penalties = None

    def add_vectors(self, vectors: np.ndarray, paths: Sequence[str]) -> None:
        """Add precomputed (N, D) descriptors (for benchmarks at scale; no re-ranking is
        possible for entries whose files do not exist)."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or len(vectors) != len(paths) or vectors.shape[1] != self.descriptor.dim:
            raise InputError(f"expected ({len(paths)}, {self.descriptor.dim}) descriptors matching the paths, got {vectors.shape}")
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
        self._invalidate()
        return removed

    def __len__(self) -> int:
        return len(self.entries)

    # -- index ---------------------------------------------------------------------
    @property
    def index_kind(self) -> str:
        return self.config.index_kind or index_kind_for(len(self))

    def _project(self, descriptors: np.ndarray) -> np.ndarray:
        """(N, D) descriptors -> (N, d) float32 unit vectors of the search space, in chunks
        (a million float16 descriptors never exist as float32 at once)."""
        out = np.empty((len(descriptors), self.whitening.dim if self.whitening is not None else descriptors.shape[1]), np.float32)
        for start in range(0, len(descriptors), PROJECT_CHUNK):
            x = np.asarray(descriptors[start : start + PROJECT_CHUNK], dtype=np.float32)
            if self.whitening is not None:
                out[start : start + PROJECT_CHUNK] = self.whitening(x)
            else:
                out[start : start + PROJECT_CHUNK] = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return out

    def _fit(self) -> None:
        """Fit the PCA (when the bank is big enough) and the CSLS penalties."""
        c = self.config
        if self.whitening is None and len(self) >= c.whiten_min:
            self.whitening = fit_whitening(self.vectors, c.whiten_dim, c.whiten_alpha)
        if self.penalties is None:
            use = c.hubness == "csls" and len(self) >= c.hubness_min
            self.penalties = csls_penalties(self._project(self.vectors)) if use else np.zeros(len(self), np.float32)

    def _search_index(self):
        if self._searcher is None:
            if self._index is None:
                self._fit()
                self._space = augment_bank(self._project(self.vectors), self.penalties)
                self._index = build_index(self._space, self.index_kind)
            self._searcher = to_gpu(self._index)
        return self._searcher

    # -- search --------------------------------------------------------------------
    def _check_nonempty(self) -> None:
        if not self.entries:
            raise InputError("expected a bank with at least one image, got an empty bank; add images first")

    def search_vectors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Global top-k for (Q, D) query descriptors: ranking scores (Q, k') (descriptor
        cosine minus half the image's CSLS penalty) and row positions (Q, k')."""
        self._check_nonempty()
        k = min(k, len(self))
        index = self._search_index()
        return search_index(index, self._space, augment_queries(self._project(queries)), k)

    def search(self, gray_frames: np.ndarray | Sequence[np.ndarray], k: int = 5, rerank: bool = True, progress: bool | None = None) -> list[list[SearchHit]]:
        """Best bank images for each (H, W) uint8 gray frame, best first.

        The content descriptors give the top ``k`` (CSLS order); with ``rerank`` they are
        re-scored by bidirectional dense correspondence (``match_score``) and re-sorted.
        ``progress``: a progress bar over the frames (None: only on a terminal).
        """
        self._check_nonempty()
        if k < 1:
            raise InputError(f"expected k >= 1, got {k}")
        frames = [gray_frames] if isinstance(gray_frames, np.ndarray) and gray_frames.ndim == 2 else list(gray_frames)
        for f in frames:
            if not isinstance(f, np.ndarray) or f.ndim != 2 or f.dtype != np.uint8:
                raise InputError(f"expected (H, W) uint8 gray frames to search with, got {getattr(f, 'shape', type(f).__name__)}")
        out = []
        for f in _bar(frames, len(frames), "searching the bank", progress if len(frames) > 1 else False):
            query = self.describe(f)[None]
            scores, rows = self.search_vectors(query, k)
            cos = self._project(query)[0]
            hits = [SearchHit(self.entries[r], float(s), float(self._space[r, :-1] @ cos)) for s, r in zip(scores[0], rows[0]) if r >= 0]
            out.append(self.rerank(f, hits) if rerank else hits)
        return out

    def same_picture(self, a: SearchHit, b: SearchHit, cosine: float) -> bool:
        """Whether two entries' descriptors are at least ``cosine`` similar (near copies)."""
        if self._rows is None:
            self._rows = {e.id: i for i, e in enumerate(self.entries)}
        va, vb = self._project(self.vectors[[self._rows[a.entry.id], self._rows[b.entry.id]]])
        return float(va @ vb) >= cosine

    def rerank(self, gray: np.ndarray, hits: Sequence[SearchHit]) -> list[SearchHit]:
        """``hits`` re-scored by dense correspondence with the (H, W) uint8 ``gray`` frame
        (``match_score``), best first; the dense features of bank images are cached."""
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
        """Write ``index.faiss``, ``vectors.npz`` and ``meta.json`` into ``directory``
        (created if needed). Each file is written to a temporary name and moved into place;
        meta.json last."""
        self._check_nonempty()
        if self._in_memory:
            raise InputError(f"expected a bank of image files to save, but {len(self._in_memory)} entries are images held in memory (add_images)")
        faiss = _faiss()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self._search_index()
        index = self._index  # the CPU index
        tmp_index = _temp_in(d, "index.faiss")
        faiss.write_index(index, str(tmp_index))
        arrays = {"descriptors": self.vectors, "penalties": self.penalties}
        if self.whitening is not None:
            arrays.update(whiten_mean=self.whitening.mean, whiten_projection=self.whitening.projection)
        tmp_vectors = _temp_in(d, "vectors.npz")
        with open(tmp_vectors, "wb") as f:
            np.savez(f, **arrays)
        meta = {
            "format": FORMAT,
            "encoder": self.signature,
            "encoder_config": asdict(self.encoder.config),
            "descriptor": self.descriptor.signature,
            "config": asdict(self.config),
            "dim": int(self.descriptor.dim),
            "search_dim": int(self._space.shape[1] - 1),
            "whitening_alpha": None if self.whitening is None else self.whitening.alpha,
            "index_kind": self.index_kind,
            "index_sha256": _file_hash(tmp_index),
            "vectors_sha256": _file_hash(tmp_vectors),
            "next_id": self._next_id,
            "entries": [asdict(e) for e in self.entries],
        }
        tmp_meta = _temp_in(d, "meta.json")
        tmp_meta.write_text(json.dumps(seal_meta(meta, d), indent=1))  # relative paths inside d, checksum
        os.replace(tmp_index, d / "index.faiss")
        os.replace(tmp_vectors, d / "vectors.npz")
        os.replace(tmp_meta, d / "meta.json")
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike, encoder: LuminanceEncoder | None = None, allow_outside: bool = True) -> "ReferenceBank":
        """Read a bank saved by ``save``; raises InputError when it is missing, corrupted, of
        an older format, or was built with another encoder than ``encoder`` (default: the
        one it names) or another content descriptor. ``allow_outside=False``: refuse
        entries outside the bank folder (for a bank of unknown origin); see ``bank_meta.py``
        for the checks on meta.json and on entries."""
        d = Path(directory)
        meta_path, index_path, vectors_path = d / "meta.json", d / "index.faiss", d / "vectors.npz"
        if not meta_path.is_file() or not index_path.is_file():
            raise InputError(f"expected a bank folder with meta.json and index.faiss, got {str(d)!r}")
        try:
            meta = json.loads(meta_path.read_text())
            if isinstance(meta, dict) and meta.get("format") in OLD_FORMATS:
                raise InputError(
                    f"expected bank format {FORMAT!r}, got {meta['format']!r} in {str(d)!r} ({OLD_FORMATS[meta['format']]}); "
                    f"rebuild it from its images: exemplar-vc bank build IMAGES... -o {str(d)!r}"
                )
            validate_meta(meta)  # schema, types and ranges (bank_meta.py); paths resolved against d
            entries = [BankEntry(e["id"], resolve_entry_path(d, e["path"], allow_outside), tuple(e["size"]), e["sha256"]) for e in meta["entries"]]
        except InputError:
            raise  # already says what was expected (old format, a field, a refused path): not "corrupted"
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise InputError(f"expected a readable bank meta.json in {str(d)!r}, it is corrupted ({e})") from e
        if meta.get("format") != FORMAT:
            raise InputError(f"expected bank format {FORMAT!r}, got {meta.get('format')!r} in {str(d)!r}")
        if not vectors_path.is_file():
            raise InputError(f"expected vectors.npz in the bank folder {str(d)!r}, it is missing; rebuild the bank")
        for path, key in ((index_path, "index_sha256"), (vectors_path, "vectors_sha256")):
            if _file_hash(path) != meta.get(key):
                raise InputError(f"expected {path.name} in {str(d)!r} to match meta.json, but its SHA-256 differs (corrupted or replaced); rebuild the bank")
        c = meta["config"]
        config = BankConfig(**{**c, "descriptor": DescriptorConfig(**{**c["descriptor"], "sizes": tuple(c["descriptor"]["sizes"])})})
        if encoder is None:
            cfg = meta["encoder_config"]
            encoder = LuminanceEncoder(EncoderConfig(cfg["backbone"], tuple(cfg["blocks"]), cfg["stride"]))
        bank = cls(encoder, config)
        if bank.signature != meta["encoder"]:
            raise InputError(f"expected a bank built with this encoder ({bank.signature}), but {str(d)!r} was built with {meta['encoder']}; rebuild the bank")
        if bank.descriptor.signature != meta["descriptor"]:
            raise InputError(f"expected a bank built with this content descriptor ({bank.descriptor.signature}), but {str(d)!r} was built with {meta['descriptor']}; rebuild the bank")
        check_seal(meta, d)  # meta.json unchanged since save (bank_meta.py)
        try:
            with np.load(vectors_path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            index = _faiss().read_index(str(index_path))
        except (OSError, ValueError, RuntimeError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:  # a damaged .npz is a damaged zip
            raise InputError(f"expected readable vectors.npz and index.faiss in {str(d)!r} ({str(e).splitlines()[0] if str(e) else type(e).__name__}); rebuild the bank") from e
        bank._restore(arrays, index, entries, meta, d)
        return bank

    def _restore(self, arrays: dict, index, entries: list[BankEntry], meta: dict, d: Path) -> None:
        n, dim = len(entries), meta["dim"]
        vectors, penalties = arrays.get("descriptors"), arrays.get("penalties")
        if vectors is None or vectors.shape != (n, dim) or penalties is None or penalties.shape != (n,):
            raise InputError(f"expected {n} descriptors of dimension {dim} in {str(d / 'vectors.npz')!r}, got {getattr(vectors, 'shape', None)}")
        if "whiten_projection" in arrays:
            proj, mean = arrays["whiten_projection"], arrays.get("whiten_mean")
            if mean is None or proj.ndim != 2 or proj.shape[0] != dim or mean.shape != (dim,) or meta.get("whitening_alpha") is None:
                raise InputError(f"expected a PCA of {dim}-D descriptors in {str(d / 'vectors.npz')!r}, got one of shape {proj.shape}")
            self.whitening = Whitening(mean.astype(np.float32), proj.astype(np.float32), float(meta["whitening_alpha"]))
        search_dim = self.whitening.dim if self.whitening is not None else dim
        index_dim = ivfpq_dim(search_dim + 1) if meta["index_kind"] == "ivfpq-ip" else search_dim + 1
        if index.ntotal != n or index.d != index_dim or meta.get("search_dim") != search_dim:
            raise InputError(f"expected {n} vectors of dimension {index_dim} in {str(d / 'index.faiss')!r}, got {index.ntotal} of {index.d}")
        self.entries, self.vectors, self.penalties = entries, vectors.astype(np.float16), penalties.astype(np.float32)
        self._next_id = int(meta["next_id"])
        self._space = augment_bank(self._project(self.vectors), self.penalties)
        self._index = index


def _temp_in(directory: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    return Path(tmp)
