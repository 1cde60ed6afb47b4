"""Stage 2 holds only the exemplars of the segments at work (issue 12): memory must not
grow with the number of exemplars, and the frames must equal those of an engine given
every exemplar prepared up front."""

from __future__ import annotations

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


def test_the_pool_of_all_exemplars_lives_from_its_first_to_its_last_use(hand_colorizer, two_shots, monkeypatch):
    rgb, gray = two_shots
    # Both shots begin before their first exemplar: frames 0..2 and SHOT..SHOT+2 match every exemplar.
    frames = [3, 5, 7, 9, 11, 13, 15, 17, 19, 21, SHOT + 3, 27, 29, 31, 33, 35, 37, 39, 41, 43]
    exemplars = {f: rgb[f] for f in frames}
    _check_two_shots(hand_colorizer, gray, exemplars)
    tracker = _Tracker(monkeypatch)
    positions = None
    pool_alive: dict[int, int] = {}
    for out in hand_colorizer.stream(gray, exemplars):
        tracker.note()
        if positions is None:  # the first frame needed the pool: the widest key set
            positions = max(k for k, _ in tracker.keys)
        pool_alive[out.index] = tracker.alive_keys(positions)
    # Built once for both shots (one preparation per exemplar), then each anchor's own.
    assert len(tracker.prepared) == 2 * len(frames)
    assert sum(k == positions for k, _ in tracker.keys) == 1
    assert tracker.most_prepared <= 2
    assert all(pool_alive[i] == 1 for i in range(0, SHOT + 3))
    assert all(pool_alive[i] == 0 for i in range(SHOT + 3, len(gray)))
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
