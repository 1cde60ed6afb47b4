"""``Stage1Plan`` to and from a folder: ``plan.json`` (shots, key frames, exemplars with
their source and origin, segments, and what the input was) and ``images/`` (every key
frame's gray image and every exemplar as PNG, lossless, named and checked by the SHA-256
of their pixels).

The input is not copied: it is reopened from its path (or passed again) and checked
against a signature taken when the plan was made (its size and the SHA-256 of its first
and last MiB for a file; names, sizes and the first and last frame for a folder; every
byte for an in-memory array), so a job is never resumed on other frames.
"""

from __future__ import annotations

import hashlib
import json
import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..io import FrameSource, open_video
from ..stored import as_array
from ..types import Exemplar, KeyFrame, VideoPlan
from .atomic import write_bytes_atomic
from .digest import data_sha256, pixels_sha256

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import Stage1Plan

__all__ = ["PLAN_FILE", "IMAGES_DIR", "FORMAT", "save_plan", "load_plan", "plan_to_json", "plan_from_json", "source_signature", "check_same_source"]

PLAN_FILE = "plan.json"
IMAGES_DIR = "images"
FORMAT = "exemplar_vc.stage1_plan"
VERSION = 1
_SAMPLE = 1 << 20  # bytes hashed at each end of a video file


def _sample_sha256(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        size = p.stat().st_size
        with open(p, "rb") as f:
            h.update(f.read(_SAMPLE))
            if size > _SAMPLE:
                f.seek(max(_SAMPLE, size - _SAMPLE))
                h.update(f.read(_SAMPLE))
    return h.hexdigest()


def source_signature(source: FrameSource) -> dict:
    """What identifies the input's frames, cheaply (see the module docstring)."""
    if source.kind == "video":
        return {"kind": "video", "bytes": source.path.stat().st_size, "sample_sha256": _sample_sha256([source.path])}
    if source.kind == "folder":
        files = [source.path / n for n in source.names]
        return {
            "kind": "folder",
            "names_sha256": data_sha256(list(source.names)),
            "bytes": sum(p.stat().st_size for p in files),
            "sample_sha256": _sample_sha256([files[0], files[-1]]),
        }
    data = source._data
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    return {"kind": "array", "sha256": pixels_sha256(np.asarray(data))}


def check_same_source(source: FrameSource, signature: dict, where: str) -> None:
    """``InputError`` unless ``source`` has ``signature`` (taken when the plan was made)."""
    now = source_signature(source)
    if now != signature:
        what = f"{source.path}" if source.path is not None else "the frames given"
        raise InputError(f"expected the input the job in {where!r} was made from, but {what} differs from it ({signature.get('kind')} signature changed); use a new job folder for another input")


def _png_bytes(image: np.ndarray) -> bytes:
    import cv2

    arr = image if image.ndim == 2 else np.ascontiguousarray(image[..., ::-1])
    ok, data = cv2.imencode(".png", arr)
    if not ok:  # pragma: no cover - cv2 encodes any uint8 array
        raise OSError("PNG encoding failed")
    return data.tobytes()


def _read_png(path: Path, sha256: str, what: str) -> np.ndarray:
    import cv2

    try:
        raw = np.fromfile(path, np.uint8)
    except OSError as e:
        raise InputError(f"expected the {what} at {str(path)!r}, could not read it: {e.strerror or e}") from e
    image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw.size else None
    if image is None:
        raise InputError(f"expected a PNG for the {what} at {str(path)!r}, could not decode it")
    if image.ndim == 3:
        image = np.ascontiguousarray(image[..., ::-1])
    if pixels_sha256(image) != sha256:
        raise InputError(f"expected the {what} at {str(path)!r} to have SHA-256 {sha256[:16]}..., it differs (the file was changed or damaged)")
    return image


def _store_image(directory: Path, name: str, image: np.ndarray) -> tuple[str, str]:
    """Write ``image`` as ``images/NAME`` unless an identical one is there; (relative path, sha256)."""
    sha = pixels_sha256(image)
    rel = f"{IMAGES_DIR}/{name}"
    path = directory / rel
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, _png_bytes(image))
    return rel, sha


def plan_to_json(stage1: "Stage1Plan", directory: str | os.PathLike) -> dict:
    """Plain data for ``stage1``; its images are written under ``directory/images/``."""
    d = Path(directory)
    src, plan = stage1.source, stage1.plan
    keyframes = []
    for k in plan.keyframes:
        rel, sha = _store_image(d, f"keyframe_{k.index:09d}.png", as_array(k.gray))
        keyframes.append({"index": int(k.index), "shot": int(k.shot), "gray": rel, "sha256": sha})
    exemplars = []
    for ex in stage1.exemplars:
        image = as_array(ex.image)
        sha = pixels_sha256(image)
        rel, _ = _store_image(d, f"exemplar_{ex.frame:09d}_{sha[:12]}.png", image)
        exemplars.append({"frame": int(ex.frame), "source": ex.source, "origin": str(ex.origin), "score": None if ex.score is None else float(ex.score), "image": rel, "sha256": sha})
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": {
            "kind": src.kind,
            "path": None if src.path is None else os.fspath(Path(src.path).resolve()),
            "size": list(src.size),
            "fps": str(Fraction(src.fps)),
            "has_audio": bool(src.has_audio),
            "names": None if src.names is None else list(src.names),
            "signature": source_signature(src),
        },
        "plan": {
            "num_frames": int(plan.num_frames),
            "shot_starts": [int(s) for s in plan.shot_starts],
            "reasons": {str(k): v for k, v in sorted(plan.reasons.items())},
            "keyframes": keyframes,
        },
        "exemplars": exemplars,
        "keyframe_records": [dict(vars(r)) for r in getattr(stage1, "keyframes", [])],
        "segments": [s.to_dict() for s in stage1.segments],
    }


def _field(data: Any, key: str, kind: type | tuple, where: str) -> Any:
    if not isinstance(data, dict) or key not in data or not isinstance(data[key], kind) or isinstance(data[key], bool) and kind is int:
        raise InputError(f"expected {where} to hold {key!r} ({getattr(kind, '__name__', kind)}), got {type(data.get(key) if isinstance(data, dict) else data).__name__}")
    return data[key]


def plan_from_json(data: dict, directory: str | os.PathLike, video: Any = None) -> "Stage1Plan":
    """``Stage1Plan`` from ``plan_to_json`` output; the input is ``video`` when given, else
    reopened from the stored path, and checked against the stored signature."""
    from ..pipeline import Stage1Plan
    from ..propagation.segments import Segment

    d = Path(directory)
    where = os.fspath(d / PLAN_FILE)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"expected a stage-1 plan ({FORMAT}) in {where!r}, got something else")
    if data.get("version") != VERSION:
        raise InputError(f"expected plan format version {VERSION} in {where!r}, got {data.get('version')!r}; use a new job folder")
    s = _field(data, "source", dict, where)
    if video is None:
        if s.get("path") is None:
            raise InputError(f"expected the frames again: the plan in {where!r} was made from an in-memory array, pass it as `video`")
        video = s["path"]
    source = open_video(video)
    check_same_source(source, _field(s, "signature", dict, "the plan's source"), os.fspath(d))
    if list(source.size) != list(s.get("size", [])):
        raise InputError(f"expected frames of {s.get('size')} (H, W) as when the plan was made, got {list(source.size)}")
    if s.get("fps") is not None:
        source.fps = Fraction(s["fps"])
    p = _field(data, "plan", dict, where)
    keyframes = [
        KeyFrame(int(k["index"]), _read_png(d / k["gray"], k["sha256"], f"gray key frame {k['index']}"), int(k.get("shot", 0)))
        for k in _field(p, "keyframes", list, "the plan")
    ]
    plan = VideoPlan(
        num_frames=int(_field(p, "num_frames", int, "the plan")),
        shot_starts=[int(v) for v in _field(p, "shot_starts", list, "the plan")],
        keyframes=keyframes,
        reasons={int(k): v for k, v in p.get("reasons", {}).items()},
    )
    exemplars = [
        Exemplar(int(e["frame"]), _read_png(d / e["image"], e["sha256"], f"exemplar for frame {e['frame']}"), e["source"], e["origin"], e.get("score"))
        for e in _field(data, "exemplars", list, where)
    ]
    stage1 = Stage1Plan(source=source, plan=plan, exemplars=exemplars)
    if data.get("keyframe_records") and hasattr(stage1, "keyframes"):
        from ..pipeline import KeyFrameRecord

        stage1.keyframes = [KeyFrameRecord(**r) for r in data["keyframe_records"]]
    stored = [Segment(**s) for s in data.get("segments", [])]
    if stored and stored != stage1.segments:
        raise InputError(f"expected the segments in {where!r} to follow from its shots and exemplars, they do not (the file was edited?)")
    return stage1


def save_plan(stage1: "Stage1Plan", directory: str | os.PathLike) -> Path:
    """Write ``plan.json`` and ``images/`` into ``directory`` (created if needed); returns
    the path of ``plan.json``. Every file is written atomically."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    data = plan_to_json(stage1, d)
    path = write_bytes_atomic(d / PLAN_FILE, (json.dumps(data, indent=1) + "\n").encode())
    used = {k["gray"] for k in data["plan"]["keyframes"]} | {e["image"] for e in data["exemplars"]}
    for p in (d / IMAGES_DIR).glob("*.png"):  # images of exemplars since replaced
        if f"{IMAGES_DIR}/{p.name}" not in used:
            p.unlink(missing_ok=True)
    return path


def load_plan(directory: str | os.PathLike, video: Any = None) -> "Stage1Plan":
    """The ``Stage1Plan`` saved in ``directory`` by ``save_plan`` (see ``plan_from_json``)."""
    path = Path(directory) / PLAN_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise InputError(f"expected a saved plan at {str(path)!r}, found none") from e
    except (OSError, ValueError) as e:
        raise InputError(f"expected a readable plan at {str(path)!r}: {e}") from e
    return plan_from_json(data, directory, video)
