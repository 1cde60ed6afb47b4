"""Stage 2 holds only the exemplars of the segments at work (issue 12): memory must not
grow with the number of exemplars, and the frames must equal those of an engine given
every exemplar prepared up front."""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np
import pytest
import torch

import exemplar_vc
import exemplar_vc.pipeline as pipeline
import exemplar_vc.propagation.engine as engine_module
from conftest import moving_clip, to_gray
from exemplar_vc.propagation import PropagationEngine, prepare_exemplar

SHOT = 22  # frames per shot; two shots, cut at frame SHOT


@pytest.fixture(scope="module")
def hand_colorizer() -> exemplar_vc.VideoColorizer:
    return exemplar_vc.VideoColorizer.from_pretrained("hand", device="cpu", working_size=48)


@pytest.fixture(scope="module")
def two_shots() -> tuple[np.ndarray, np.ndarray]:
    """(rgb, gray) of two unrelated moving scenes, the second darker, so stage 1 finds a
    cut between them (as tests/exemplars/test_auto_mode.py makes one)."""
    second = (np.ascontiguousarray(moving_clip(SHOT, (40, 64), step=4, seed=7)[..., ::-1]) * 0.45).astype(np.uint8)
    rgb = np.concatenate([moving_clip(SHOT, (40, 64), seed=1), second])
    return rgb, to_gray(rgb)


class _Tracker:
    """Weak references to every prepared exemplar and every set of exemplar keys, so a
    test sees how many are alive at any moment without keeping them alive."""

    def __init__(self, monkeypatch):
        self.prepared: list[weakref.ref] = []
        self.keys: list[tuple[int, weakref.ref]] = []
        self.most_prepared = 0
        real_prepare, real_keys = pipeline.prepare_exemplar, engine_module.exemplar_keys

        def prepare(*args, **kwargs):
            out = real_prepare(*args, **kwargs)
            self.prepared.append(weakref.ref(out))
            self.note()  # the peak can fall between two frames (the pool is built there)
            return out

        def keys(exemplars):
            out = real_keys(exemplars)
            self.keys.append((out.feats.shape[-1], weakref.ref(out)))
            return out

        monkeypatch.setattr(pipeline, "prepare_exemplar", prepare)
        monkeypatch.setattr(engine_module, "exemplar_keys", keys)

    # No gc.collect(): reference counting frees what is dropped at once (and it is slow
    # here); anything kept by a cycle would count as alive and fail the test, not pass it.
    def alive_prepared(self) -> int:
        return sum(r() is not None for r in self.prepared)

    def alive_keys(self, positions: int) -> int:
        """Key sets alive with ``positions`` key positions (all exemplars: the pool)."""
        return sum(k == positions and r() is not None for k, r in self.keys)

    def note(self) -> None:
        self.most_prepared = max(self.most_prepared, self.alive_prepared())


def _check_two_shots(colorizer, gray, exemplars):
    assert colorizer.plan(gray, exemplars).plan.shot_starts == [0, SHOT], "the test needs its cut"


def test_twenty_exemplars_are_never_held_more_than_two_at_a_time(hand_colorizer, two_shots, monkeypatch):
    rgb, gray = two_shots
    # Every shot starts at an exemplar: every segment needs its left and right anchor only.
    frames = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, SHOT, 24, 26, 28, 30, 32, 34, 36, 38, 40]
    exemplars = {f: rgb[f] for f in frames}
    _check_two_shots(hand_colorizer, gray, exemplars)
    tracker = _Tracker(monkeypatch)
    for out in hand_colorizer.stream(gray, exemplars):
        tracker.note()
    assert out.index == len(gray) - 1
    assert len(tracker.prepared) == len(frames)  # each prepared once, no pool: none needed
    assert tracker.most_prepared <= 2
    assert tracker.alive_prepared() == 0


def _with_pool_size(colorizer, size: int) -> exemplar_vc.VideoColorizer:
    cfg = colorizer.config
    cfg = dataclasses.replace(cfg, propagation=dataclasses.replace(cfg.propagation, pool_size=size))
    return exemplar_vc.VideoColorizer(cfg, colorizer.encoder, colorizer.device, colorizer.fusion)


# Both shots begin before their first exemplar: frames 0..2 and SHOT..SHOT+2 match the pool.
POOL_CASE = [3, 5, 7, 9, 11, 13, 15, 17, 19, 21, SHOT + 3, 27, 29, 31, 33, 35, 37, 39, 41, 43]


def test_a_pool_of_all_exemplars_lives_from_its_first_to_its_last_use(hand_colorizer, two_shots, monkeypatch):
    rgb, gray = two_shots
    c = _with_pool_size(hand_colorizer, len(POOL_CASE))  # room for all: one pool serves both shots
    exemplars = {f: rgb[f] for f in POOL_CASE}
    _check_two_shots(c, gray, exemplars)
    tracker = _Tracker(monkeypatch)
    positions = None
    pool_alive: dict[int, int] = {}
    for out in c.stream(gray, exemplars):
        tracker.note()
        if positions is None:  # the first frame needed the pool: the widest key set
            positions = max(k for k, _ in tracker.keys)
        pool_alive[out.index] = tracker.alive_keys(positions)
    # Built once for both shots (one preparation per exemplar), then each anchor's own.
    assert len(tracker.prepared) == 2 * len(POOL_CASE)
    assert sum(k == positions for k, _ in tracker.keys) == 1
    assert tracker.most_prepared <= 2
    assert all(pool_alive[i] == 1 for i in range(0, SHOT + 3))
    assert all(pool_alive[i] == 0 for i in range(SHOT + 3, len(gray)))
    assert tracker.alive_prepared() == 0


def test_the_pool_holds_only_the_exemplars_nearest_to_its_segment(hand_colorizer, two_shots, monkeypatch):
    rgb, gray = two_shots
    c = _with_pool_size(hand_colorizer, 4)
    exemplars = {f: rgb[f] for f in POOL_CASE}
    stage1 = c.plan(gray, exemplars)
    engine = c._engine(stage1.plan, stage1.exemplars)
    first, second = [s for s in engine.segments if s.left_anchor is None]
    assert (first.start, first.end, second.start, second.end) == (0, 3, SHOT, SHOT + 3)
    assert engine.pool_for(first) == (3, 5, 7, 9)  # all after the segment: its own shot's
    # Ties in distance go to the earlier frame: 21 (4 before) wins over 29 (4 after).
    assert engine.pool_for(second) == (19, 21, SHOT + 3, 27)
    tracker = _Tracker(monkeypatch)
    widths: list[int] = []
    for out in c.stream(gray, exemplars):
        tracker.note()
        widths.append(max((k for k, r in tracker.keys if r() is not None), default=0))
    one = tracker.keys[-1][0]  # the last key set built is one anchor's
    assert max(widths) == 4 * one  # never more than pool_size exemplars' keys at once
    assert sum(k == 4 * one for k, _ in tracker.keys) == 2  # one pool per shot
    assert len(tracker.prepared) == len(POOL_CASE) + 2 * 4
    assert tracker.alive_prepared() == 0


def _eager_engine(colorizer, stage1):
    """The engine as built before issue 12: every exemplar prepared up front, held in a dict."""
    grays = {k.index: k.gray for k in stage1.plan.keyframes}
    cfg = colorizer.config
    with torch.no_grad():
        anchors = {
            e.frame: prepare_exemplar(
                e, colorizer.encoder, cfg.working_size, colorizer.device, frame_gray=grays.get(e.frame),
                aligned_tolerance=cfg.propagation.aligned_tolerance, working_chroma=colorizer.fusion.exact_exemplars,
            )
            for e in stage1.exemplars
        }
    return PropagationEngine(colorizer.encoder, cfg, anchors, stage1.plan.shot_starts, stage1.plan.num_frames, colorizer.device, colorizer.fusion)


@pytest.mark.parametrize("which", ["hand", "network"])
def test_frames_equal_those_of_exemplars_prepared_up_front(which, hand_colorizer, colorizer, two_shots):
    c = hand_colorizer if which == "hand" else colorizer
    rgb, gray = two_shots
    # Pool segments in both shots, bidirectional segments, a forward-only tail; some exemplars
    # are their frame's own colour (aligned), one is another frame's.
    exemplars = {3: rgb[3], 9: rgb[9], 15: rgb[30], SHOT + 4: rgb[SHOT + 4], SHOT + 12: rgb[SHOT + 12]}
    stage1 = c.plan(gray, exemplars)
    assert stage1.plan.shot_starts == [0, SHOT]
    eager = list(_eager_engine(c, stage1).run(gray))
    lazy = list(c.stream(gray, exemplars))
    assert [f.index for f in lazy] == list(range(len(gray)))
    for a, b in zip(eager, lazy):
        np.testing.assert_array_equal(a.rgb, b.rgb)
        np.testing.assert_array_equal(a.ab, b.ab)
        np.testing.assert_array_equal(a.confidence, b.confidence)


def test_images_past_the_allowance_wait_on_disk_and_give_the_same_frames(hand_colorizer, two_shots):
    from exemplar_vc.stored import StoredArray

    rgb, gray = two_shots
    exemplars = {f: rgb[f] for f in (3, 9, 15, SHOT + 4, SHOT + 12)}
    cfg = dataclasses.replace(hand_colorizer.config, images_in_memory=1)
    shelved = exemplar_vc.VideoColorizer(cfg, hand_colorizer.encoder, hand_colorizer.device, hand_colorizer.fusion)
    stage1 = shelved.plan(gray, exemplars)
    keys, images = [k.gray for k in stage1.plan.keyframes], [e.image for e in stage1.exemplars]
    assert len(keys) >= 3 and isinstance(keys[0], np.ndarray) and all(isinstance(k, StoredArray) for k in keys[1:])
    assert isinstance(images[0], np.ndarray) and all(isinstance(i, StoredArray) for i in images[1:])
    for k in stage1.plan.keyframes:
        np.testing.assert_array_equal(np.asarray(k.gray), gray[k.index])
    folder = images[1].path.parent
    assert folder.is_dir()
    on_disk = list(shelved.stream(gray, exemplars))
    in_memory = list(hand_colorizer.stream(gray, exemplars))
    for a, b in zip(on_disk, in_memory, strict=True):
        np.testing.assert_array_equal(a.rgb, b.rgb)
        np.testing.assert_array_equal(a.confidence, b.confidence)
    del stage1, keys, images
    assert not folder.exists()  # removed with the last array stored in it


def test_a_stored_array_reads_like_the_array_it_stores(tmp_path):
    import pickle

    from exemplar_vc.stored import ArrayShelf, StoredArray, as_array

    shelf = ArrayShelf(1, folder=tmp_path)
    a, b = np.arange(24, dtype=np.uint8).reshape(2, 4, 3), np.ones((3, 5), np.uint16)
    assert shelf.put(a) is a  # the allowance: kept as it is
    stored = shelf.put(b)
    assert isinstance(stored, StoredArray) and shelf.stored == 1
    assert (stored.shape, stored.dtype, stored.ndim, stored.nbytes) == (b.shape, b.dtype, 2, b.nbytes)
    np.testing.assert_array_equal(np.asarray(stored), b)
    np.testing.assert_array_equal(as_array(stored), b)
    assert as_array(a) is a and as_array(None) is None
    assert stored[1, 2] == 1
    copy = pickle.loads(pickle.dumps(stored))  # another process gets the pixels themselves
    assert isinstance(copy, np.ndarray) and np.array_equal(copy, b)
    assert shelf.put(stored) is stored
    [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("exemplar_vc_stage1_")]
    assert (folder / ".owner").exists()
    del shelf, stored
    assert not folder.exists()
    with pytest.raises(ValueError, match="in_memory"):
        ArrayShelf(-1)
    everything = ArrayShelf(None)
    assert all(everything.put(x) is x for x in (a, b, a))
