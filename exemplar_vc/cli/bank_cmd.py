"""``exemplar-vc bank build|add|remove|search``: manage and query a reference bank."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import InputError
from ..io.reader import VIDEO_SUFFIXES

__all__ = ["register", "query_frames"]


def query_frames(path: str):
    """Gray key frames of a video (shot starts and drift key frames) or one image:
    a list of ``(frame_index, (H, W) uint8 gray)``."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"expected an image or a video to search with, but {path!r} does not exist")
    if p.suffix.lower() in VIDEO_SUFFIXES or p.is_dir():
        from ..io import open_video
        from ..keyframes import plan_video

        plan = plan_video(open_video(path).gray_frames())
        return [(k.index, k.gray) for k in plan.keyframes]
    from ..io.images import load_color_image
    from ..pixels import rgb_to_gray

    return [(0, rgb_to_gray(load_color_image(path, name="query image", warn_gray=False)))]


def _build(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    bank = ReferenceBank.build(args.inputs)
    bank.save(args.output)
    print(f"built bank {args.output} with {len(bank)} images", file=sys.stderr)
    return 0


def _add(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    bank = ReferenceBank.load(args.bank)
    added = bank.add(args.files)
    bank.save(args.bank)
    print(f"added {len(added)} images to {args.bank} ({len(bank)} in all)", file=sys.stderr)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    bank = ReferenceBank.load(args.bank)
    removed = bank.remove([int(x) if x.isdigit() else x for x in args.items])
    bank.save(args.bank)
    print(f"removed {removed} images from {args.bank} ({len(bank)} left)", file=sys.stderr)
    return 0


def _search(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    if args.k < 1:
        raise InputError(f"expected --k >= 1, got {args.k}")
    bank = ReferenceBank.load(args.bank)
    frames = query_frames(args.query)
    results = bank.search([g for _, g in frames], k=args.k, rerank=not args.no_rerank)
    doc = [{"frame": i, "results": [{"path": h.path, "score": round(h.score, 4), "global_score": round(h.global_score, 4), "id": h.entry.id} for h in hits]} for (i, _), hits in zip(frames, results)]
    if args.json:
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for item in doc:
            best = ", ".join(f"{Path(r['path']).name} ({r['score']:.3f})" for r in item["results"])
            print(f"frame {item['frame']}: {best}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bank", help="build, update and search a reference bank of colour images")
    bank_sub = p.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    b = bank_sub.add_parser("build", help="embed colour images into a new bank folder")
    b.add_argument("inputs", nargs="+", metavar="DIR_OR_FILES", help="image files and/or folders (searched recursively)")
    b.add_argument("-o", "--output", required=True, metavar="BANK_DIR", help="folder to write index.faiss and meta.json to")
    b.set_defaults(run=_build)
    a = bank_sub.add_parser("add", help="add images to an existing bank (duplicates are skipped)")
    a.add_argument("bank", metavar="BANK_DIR")
    a.add_argument("files", nargs="+", metavar="FILES")
    a.set_defaults(run=_add)
    r = bank_sub.add_parser("remove", help="remove images from a bank by id or path")
    r.add_argument("bank", metavar="BANK_DIR")
    r.add_argument("items", nargs="+", metavar="ID_OR_PATH")
    r.set_defaults(run=_remove)
    s = bank_sub.add_parser("search", help="best bank images for an image or for each key frame of a video")
    s.add_argument("bank", metavar="BANK_DIR")
    s.add_argument("query", metavar="IMAGE_OR_VIDEO")
    s.add_argument("--k", type=int, default=5, help="results per key frame (default 5)")
    s.add_argument("--json", action="store_true", help="print one JSON document: [{frame, results: [{path, score}]}], best first")
    s.add_argument("--no-rerank", action="store_true", help="rank by global embedding only (no dense re-ranking)")
    s.set_defaults(run=_search)
