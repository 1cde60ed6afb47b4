"""``exemplar-vc bank build|add|remove|search``: manage and query a reference bank."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from ..errors import InputError
from ..io.reader import VIDEO_SUFFIXES
from ..stored import as_array
from .checks import check_input_path

__all__ = ["register", "query_frames"]


def query_frames(path: str, progress: bool = False):
    """Gray key frames of a video (shot starts and drift key frames) or one image:
    a list of ``(frame_index, (H, W) uint8 gray)``; ``progress``: a bar over a video's frames."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"expected an image or a video to search with, but {path!r} does not exist")
    if p.suffix.lower() in VIDEO_SUFFIXES or p.is_dir():
        from ..io import open_video
        from ..keyframes import plan_video
        from ..pipeline import _progress

        video = open_video(path)
        plan = plan_video(_progress(video.gray_frames(), video.num_frames, progress, "key frames"))
        return [(k.index, as_array(k.gray)) for k in plan.keyframes]
    from ..io.images import load_color_image
    from ..pixels import rgb_to_gray

    return [(0, rgb_to_gray(load_color_image(path, name="query image", warn_gray=False)))]


def _check_bank_output(folder: str) -> Path:
    """The folder a bank is saved into: a new or existing folder (not a file), whose
    nearest existing ancestor can be written."""
    from ..io.writer import check_output_path

    d = Path(folder)
    if d.exists() and not d.is_dir():
        raise InputError(f"expected a folder for the bank, but {folder!r} is a file")
    if d.suffix.lower() in VIDEO_SUFFIXES:
        raise InputError(f"expected a folder name for the bank, got the video name {folder!r}")
    existing = d if d.is_dir() else next((p for p in d.absolute().parents if p.exists()), Path("/"))
    if not existing.is_dir():
        raise InputError(f"expected {str(existing)!r} to be a folder, but it is a file")
    if d.is_dir():
        check_output_path(d / "meta.json.tmp")  # writable (the name is only a probe)
    else:
        check_output_path(existing / "bank.tmp")
    return d


@contextlib.contextmanager
def _stderr_kept_on_success():
    """Hold what C code writes on file descriptor 2; replay it only if the block succeeds."""
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        ok = False
        try:
            yield
            ok = True
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if ok:
                held.seek(0)
                text = held.read()
                if text:
                    sys.stderr.write(text.decode(errors="replace"))


def _save(bank, folder: str) -> None:
    """``bank.save(folder)``; on failure (disk full, read-only, ...) the temporary files and
    the folders this call created are removed and ``OutputError`` is raised."""
    from ..errors import OutputError

    d = Path(folder).absolute()
    missing = [p for p in [d, *d.parents] if not p.exists()]
    before = set(os.listdir(d)) if d.is_dir() else set()
    try:
        with _stderr_kept_on_success():  # FAISS prints its I/O errors on fd 2 before raising
            bank.save(d)
    except (OSError, RuntimeError) as e:
        if d.is_dir():
            for name in set(os.listdir(d)) - before:
                if name.startswith((".index.faiss.", ".meta.json.")) and name.endswith(".tmp"):
                    try:
                        (d / name).unlink()
                    except OSError:
                        pass
        for p in missing:  # deepest first
            try:
                p.rmdir()
            except OSError:
                break
        if not isinstance(e, OSError):  # FAISS: RuntimeError whose text names the system's reason
            import errno

            code = next((c for c in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO) if os.strerror(c) in str(e)), None)
            if code is None:
                raise OutputError(f"could not write the bank into {folder!r}: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}; nothing was kept") from e
            raise OutputError.from_os_error(f"the bank into {folder!r}", OSError(code, os.strerror(code))) from e
        raise OutputError.from_os_error(f"the bank into {folder!r}", e) from e


def _build(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    _check_bank_output(args.output)
    bank = ReferenceBank.build(args.inputs, progress=not args.quiet)
    _save(bank, args.output)
    print(f"built bank {args.output} with {len(bank)} images", file=sys.stderr)
    return 0


def _add(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    bank = ReferenceBank.load(args.bank)
    _check_bank_output(args.bank)
    added = bank.add(args.files, progress=not args.quiet)
    _save(bank, args.bank)
    print(f"added {len(added)} images to {args.bank} ({len(bank)} in all)", file=sys.stderr)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    bank = ReferenceBank.load(args.bank)
    _check_bank_output(args.bank)
    removed = bank.remove([int(x) if x.isascii() and x.isdigit() else x for x in args.items])
    _save(bank, args.bank)
    print(f"removed {removed} images from {args.bank} ({len(bank)} left)", file=sys.stderr)
    return 0


def _search(args: argparse.Namespace) -> int:
    from ..exemplars.bank import ReferenceBank

    if args.k < 1:
        raise InputError(f"expected --k >= 1, got {args.k}")
    bank = ReferenceBank.load(args.bank)
    check_input_path(args.query, "query image or video")
    frames = query_frames(args.query, progress=not args.quiet)
    results = bank.search([g for _, g in frames], k=args.k, rerank=not args.no_rerank, progress=not args.quiet)
    doc = [{"frame": i, "results": [{"path": h.path, "score": round(h.score, 4), "global_score": round(h.global_score, 4), "id": h.entry.id} for h in hits]} for (i, _), hits in zip(frames, results)]
    if args.json:
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for item in doc:
            best = ", ".join(f"{Path(r['path']).name} ({r['score']:.3f})" for r in item["results"])
            print(f"frame {item['frame']}: {best}")
    return 0


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bank", help="build, update and search a reference bank of colour images")
    bank_sub = p.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    b = bank_sub.add_parser("build", help="embed colour images into a new bank folder")
    b.add_argument("inputs", nargs="+", metavar="DIR_OR_FILES", help="image files and/or folders (searched recursively)")
    b.add_argument("-o", "--output", required=True, metavar="BANK_DIR", help="folder to write index.faiss and meta.json to")
    _quiet(b)
    b.set_defaults(run=_build)
    a = bank_sub.add_parser("add", help="add images to an existing bank (duplicates are skipped)")
    a.add_argument("bank", metavar="BANK_DIR")
    a.add_argument("files", nargs="+", metavar="FILES")
    _quiet(a)
    a.set_defaults(run=_add)
    r = bank_sub.add_parser("remove", help="remove images from a bank by id or path")
    r.add_argument("bank", metavar="BANK_DIR")
    r.add_argument("items", nargs="+", metavar="ID_OR_PATH")
    _quiet(r)
    r.set_defaults(run=_remove)
    s = bank_sub.add_parser("search", help="best bank images for an image or for each key frame of a video")
    s.add_argument("bank", metavar="BANK_DIR")
    s.add_argument("query", metavar="IMAGE_OR_VIDEO")
    s.add_argument("--k", type=int, default=5, help="results per key frame (default 5)")
    s.add_argument("--json", action="store_true", help="print one JSON document: [{frame, results: [{path, score}]}], best first")
    s.add_argument("--no-rerank", action="store_true", help="rank by global embedding only (no dense re-ranking)")
    _quiet(s)
    s.set_defaults(run=_search)
