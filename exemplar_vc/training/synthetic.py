"""Synthetic colour clips made from still photos, for training colour propagation.

A still photo is turned into a short clip with the three things a propagation network must
learn to follow on real footage: camera motion (a smooth per-frame homography: pan, zoom,
in-plane rotation, mild perspective), moving occluders (soft-edged pieces of other photos
sliding across the frame) and slow lighting change (exposure, contrast, a drifting shadow or
vignette). Warping, compositing and lighting happen in linear light, where light adds up; the
result is encoded back to sRGB.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError

__all__ = ["synthetic_clip", "synthetic_clips_from_folder", "PHOTO_SUFFIXES"]

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")

# Encoding quantizes linear light to 2**14 steps: the sRGB curve's slope at 0 is 12.92, so
# the darkest levels stay within 0.2 of a level of the exact curve.
_ENC_STEPS = 1 << 14


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    # IEC 61966-2-1 sRGB transfer function.
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)


_DECODE = _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)
_ENC_GRID = np.linspace(0.0, 1.0, _ENC_STEPS)


def _check_photo(x: object, what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[2] != 3 or x.dtype != np.uint8:
        got = f"{type(x).__name__} {getattr(x, 'dtype', '')} {tuple(getattr(x, 'shape', ()))}"
        raise InputError(f"expected {what} as an (H, W, 3) uint8 sRGB array, got {got}")
    if x.shape[0] < 8 or x.shape[1] < 8:
        raise InputError(f"expected {what} of at least 8x8 pixels, got {x.shape[1]}x{x.shape[0]}")
    return x


def _through_keys(keys: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The quadratic through keyframes (3, ...) at t = 0, 1/2, 1, sampled at t (n,): (n, ...).

    One smooth curve, so velocity never jumps; with the middle key near the midpoint of the
    ends it moves monotonically from the first key to the last.
    """
    t = t.reshape((-1,) + (1,) * (keys.ndim - 1))
    l0 = 2 * (t - 0.5) * (t - 1)  # Lagrange basis for the nodes 0, 1/2, 1
    l1 = -4 * t * (t - 1)
    l2 = 2 * t * (t - 0.5)
    return l0 * keys[0] + l1 * keys[1] + l2 * keys[2]


def _smoothstep(t: np.ndarray) -> np.ndarray:
    """Ease in and out on [0, 1]: zero slope at both ends, so a change starts and stops gently."""
    return t * t * (3 - 2 * t)


def _project(mats: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply homographies (n, 3, 3) to points (k, 2): (n, k, 2)."""
    hom = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ mats.transpose(0, 2, 1)
    return hom[..., :2] / hom[..., 2:]


def _camera_path(photo_hw: tuple[int, int], size: tuple[int, int], t: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Per-frame homographies (n, 3, 3) mapping output pixel centres to photo pixel centres.

    The view starts as a 60-80 % crop of the photo; the motion is then shrunk until every
    warped output corner stays inside the photo in every frame, so no frame samples outside
    it (a homography maps the frame's edges to straight lines, so the corners suffice).
    """
    big_h, big_w = photo_hw
    h, w = size
    n = len(t)
    # Speed of the view's corners in output pixels per frame: a fifth of the clips nearly
    # static, the rest up to 8 % of the width, skewed towards slow as in real footage.
    speed = rng.uniform(0.0, 0.004) if rng.random() < 0.2 else 0.08 * rng.random() ** 1.5
    travel = speed * w * max(n - 1, 1)
    w_pan, w_zoom, w_rot = rng.dirichlet((3.0, 1.0, 1.0))
    radius = 0.5 * np.hypot(w, h)  # zoom or rotation by x moves a corner by about radius * x

    ang = rng.uniform(0, 2 * np.pi)
    d = travel * w_pan * np.array([np.cos(ang), np.sin(ang)])
    bend = rng.uniform(-0.3, 0.3) * np.array([-d[1], d[0]])
    pan = np.stack([-d / 2, bend, d / 2])  # output pixels at t = 0, 1/2, 1
    dz = min(w_zoom * travel / radius, 0.5) * rng.choice([-1.0, 1.0])
    zoom = np.array([-dz / 2, rng.uniform(-0.2, 0.2) * dz, dz / 2])  # log scale
    dr = min(w_rot * travel / radius, 0.3) * rng.choice([-1.0, 1.0])
    rot = np.array([-dr / 2, rng.uniform(-0.2, 0.2) * dr, dr / 2])  # radians
    # Keystone: the far edge shrinks by up to 5 % of the near one, as when the camera tilts.
    persp = rng.uniform(-1, 1, (3, 2)) * rng.uniform(0.0, 0.05) / np.array([w / 2, h / 2])
    tilt = float(np.clip(rng.normal(0.0, 0.03), -0.06, 0.06))
    scale = rng.uniform(0.6, 0.8) * min(big_w / w, big_h / h)  # photo pixels per output pixel

    oc = np.array([(w - 1) / 2, (h - 1) / 2])
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], float) - oc
    lam = 1.0
    while True:
        s_t = scale * np.exp(_through_keys(lam * zoom, t))
        th_t = tilt + _through_keys(lam * rot, t)
        mats = np.zeros((n, 3, 3))
        mats[:, 0, 0], mats[:, 0, 1] = s_t * np.cos(th_t), -s_t * np.sin(th_t)
        mats[:, 1, 0], mats[:, 1, 1] = s_t * np.sin(th_t), s_t * np.cos(th_t)
        mats[:, :2, 2] = scale * _through_keys(lam * pan, t)
        # The keystone row acts on centred output coordinates before scale and rotation.
        mats[:, 2, :2] = _through_keys(lam * persp, t)
        mats[:, 2, 2] = 1.0
        pts = _project(mats, corners)
        # Half a pixel of margin: OpenCV warps with 1/32-pixel fixed-point coordinates.
        lo = 0.5 - pts.min(axis=(0, 1))
        hi = np.array([big_w - 1.5, big_h - 1.5]) - pts.max(axis=(0, 1))
        if np.all(lo <= hi):
            break
        if lam > 1e-3:
            lam *= 0.8
        else:  # no motion left and still outside (an odd aspect ratio): crop tighter
            lam, scale = 0.0, scale * 0.9
    shift = np.eye(3)
    shift[:2, 2] = rng.uniform(lo, hi)  # anywhere the whole path fits
    unshift = np.eye(3)
    unshift[:2, 2] = -oc
    return shift @ mats @ unshift


def _sprite(overlay: np.ndarray, size: tuple[int, int], t: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A soft-edged piece of ``overlay`` and its path: premultiplied linear RGBA (ph, pw, 4)
    float32 and per-frame affine maps (n, 2, 3) from patch pixels to output pixels."""
    h, w = size
    n = len(t)
    diam = rng.uniform(0.25, 0.6) * min(h, w)
    aspect = np.exp(rng.uniform(-0.4, 0.4))
    ph = max(8, int(round(diam / np.sqrt(aspect))))
    pw = max(8, int(round(diam * np.sqrt(aspect))))

    # Texture: a random crop of the other photo, shrunk (or stretched) to the patch.
    big_h, big_w = overlay.shape[:2]
    k = min(big_h / ph, big_w / pw) * rng.uniform(0.35, 1.0)
    ch, cw = min(big_h, max(2, int(round(ph * k)))), min(big_w, max(2, int(round(pw * k))))
    y0, x0 = rng.integers(0, big_h - ch + 1), rng.integers(0, big_w - cw + 1)
    interp = cv2.INTER_AREA if k > 1 else cv2.INTER_LINEAR
    tex = _DECODE[cv2.resize(overlay[y0:y0 + ch, x0:x0 + cw], (pw, ph), interpolation=interp)]

    # Mask: an ellipse, or a star-shaped blob whose radius is a few low harmonics of the
    # angle; the edge ramps over a few pixels like a defocused or motion-blurred boundary.
    v, u = np.mgrid[0:ph, 0:pw].astype(np.float32)
    u = (u - (pw - 1) / 2) / (pw / 2)
    v = (v - (ph - 1) / 2) / (ph / 2)
    rho, phi = np.hypot(u, v), np.arctan2(v, u)
    edge = rng.uniform(1.5, 5.0) / (min(ph, pw) / 2)
    radius = np.full_like(rho, 0.92 - edge)
    if rng.random() < 0.6:
        amp = rng.dirichlet(np.ones(3)) * rng.uniform(0.05, 0.15)
        for harmonic, a in zip((2, 3, 4), amp):
            radius += (0.92 - edge) * a * np.cos(harmonic * phi + rng.uniform(0, 2 * np.pi))
    # Zero on the patch's own border (rho >= 1 there), so warping it in leaves no seam.
    alpha = np.clip((radius - rho) / edge, 0.0, 1.0).astype(np.float32)
    rgba = np.dstack([tex * alpha[..., None], alpha])

    # Path in output pixels: through a point well inside the frame at mid-clip, so the object
    # is seen, while fast ones enter or leave across the border.
    mid = rng.uniform(0.15, 0.85, 2) * np.array([w, h])
    ang = rng.uniform(0, 2 * np.pi)
    d = rng.uniform(0.0, 0.06) * w * max(n - 1, 1) * np.array([np.cos(ang), np.sin(ang)])
    side = rng.uniform(-0.3, 0.3) * np.array([-d[1], d[0]])
    pos = _through_keys(np.stack([mid - d / 2 + side, mid, mid + d / 2 + side]), t)
    log_s = rng.uniform(-0.15, 0.15)  # slight approach or recession
    s_t = np.exp(_through_keys(np.array([-log_s, 0.0, log_s]) / 2, t))
    th0, dth = rng.uniform(-0.3, 0.3), rng.uniform(-0.25, 0.25)
    th_t = th0 + _through_keys(np.array([-dth, 0.0, dth]) / 2, t)
    pc = np.array([(pw - 1) / 2, (ph - 1) / 2])
    lin = np.stack([np.stack([s_t * np.cos(th_t), -s_t * np.sin(th_t)], -1),
                    np.stack([s_t * np.sin(th_t), s_t * np.cos(th_t)], -1)], 1)  # (n, 2, 2)
    affines = np.concatenate([lin, (pos - lin @ pc)[..., None]], axis=2)
    return rgba, affines


def _paste(frame: np.ndarray, rgba: np.ndarray, affine: np.ndarray) -> None:
    """Composite a premultiplied patch (ph, pw, 4) onto ``frame`` (h, w, 3) in place, warped by
    ``affine`` (2, 3); only the patch's bounding box is touched, which is most of the speed."""
    h, w = frame.shape[:2]
    ph, pw = rgba.shape[:2]
    box = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], float) @ affine[:, :2].T + affine[:, 2]
    x0, y0 = np.maximum(np.floor(box.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(box.max(axis=0)).astype(int) + 2, (w, h))
    if x1 <= x0 or y1 <= y0:  # entirely outside the frame this time
        return
    local = affine.copy()
    local[:, 2] -= (x0, y0)
    layer = cv2.warpAffine(rgba, local, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = frame[y0:y1, x0:x1]
    region *= 1.0 - layer[..., 3:]  # premultiplied "over"
    region += layer[..., :3]


def _lighting(size: tuple[int, int], t: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-frame exposure gain (n,), contrast exponent (n,) and an optional (n, h, w) shading
    map in (0, 1]: all change slowly, since real footage rarely flickers."""
    h, w = size
    ease = _smoothstep(t)
    g0 = rng.uniform(0.85, 1.15)
    g1 = float(np.clip(g0 + rng.uniform(-0.2, 0.2), 0.8, 1.2))
    gain = g0 + (g1 - g0) * ease
    c0 = rng.uniform(0.92, 1.08)
    c1 = float(np.clip(c0 + rng.uniform(-0.08, 0.08), 0.9, 1.1))
    gamma = c0 + (c1 - c0) * ease

    shade = None
    x = np.arange(w, dtype=np.float32)[None, None, :]
    y = np.arange(h, dtype=np.float32)[None, :, None]
    if rng.random() < 0.3:  # a soft shadow (a cloud, a passer-by) drifting across
        a, b = rng.uniform(-0.2, 1.2, (2, 2)) * np.array([w, h])
        cx, cy = (a[:, None] + (b - a)[:, None] * ease[None]).astype(np.float32)
        sigma = rng.uniform(0.2, 0.5) * w
        blob = (np.exp(-((x - cx[:, None, None]) ** 2) / (2 * sigma**2))
                * np.exp(-((y - cy[:, None, None]) ** 2) / (2 * sigma**2)))
        shade = 1.0 - rng.uniform(0.15, 0.4) * blob
    if rng.random() < 0.2:  # lens vignette whose centre wanders with the framing
        a, b = rng.uniform(0.35, 0.65, (2, 2)) * np.array([w, h])
        cx, cy = (a[:, None] + (b - a)[:, None] * ease[None]).astype(np.float32)
        r2 = ((x - cx[:, None, None]) / (0.7 * w)) ** 2 + ((y - cy[:, None, None]) / (0.7 * h)) ** 2
        vig = 1.0 - rng.uniform(0.1, 0.3) * np.minimum(r2, 1.0)
        shade = vig if shade is None else shade * vig
    return gain, gamma, shade


def synthetic_clip(photo: np.ndarray, n_frames: int, size: tuple[int, int], rng: np.random.Generator,
                   overlays: Sequence[np.ndarray] = (), *, n_objects: int | None = None) -> np.ndarray:
    """A short colour clip with camera motion, moving occluders and lighting change, made from one photo.

    Args:
        photo: (H, W, 3) uint8 sRGB, at least 8x8; the background seen by the moving camera.
        n_frames: number of frames T >= 1.
        size: output (h, w) in pixels.
        rng: the only source of randomness: the same generator state gives the same clip.
        overlays: (H', W', 3) uint8 sRGB photos from which moving objects are cut; none, no objects.
        n_objects: how many moving objects; ``None`` draws 0, 1 or 2 (0 without overlays).

    Returns:
        (T, h, w, 3) uint8 sRGB frames. The view never leaves the photo, so there are no
        empty borders. Motion per clip ranges from nearly static to ~8 % of the width per
        frame.

    >>> rng = np.random.default_rng(0)
    >>> photo = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    >>> synthetic_clip(photo, 4, (64, 96), rng).shape
    (4, 64, 96, 3)
    """
    photo = _check_photo(photo, "photo")
    overlays = [_check_photo(o, f"overlays[{i}]") for i, o in enumerate(overlays)]
    if int(n_frames) != n_frames or n_frames < 1:
        raise InputError(f"expected n_frames >= 1, got {n_frames!r}")
    if len(size) != 2 or min(size) < 1:
        raise InputError(f"expected size as (h, w) of positive ints, got {size!r}")
    if n_objects is not None and n_objects > 0 and not overlays:
        raise InputError(f"expected overlays to cut {n_objects} objects from, got none")
    h, w = int(size[0]), int(size[1])
    n = int(n_frames)
    t = np.linspace(0.0, 1.0, n)

    # Shrink a large photo first: a warp that skips pixels aliases; the view then samples at
    # most ~1.5 photo pixels per output pixel even when zoomed out.
    reduce = 1.5 / min(photo.shape[1] / w, photo.shape[0] / h)
    if reduce < 1:
        new_wh = (max(8, round(photo.shape[1] * reduce)), max(8, round(photo.shape[0] * reduce)))
        photo = cv2.resize(photo, new_wh, interpolation=cv2.INTER_AREA)
    background = _DECODE[photo]

    cams = _camera_path(photo.shape[:2], (h, w), t, rng)
    if n_objects is None:
        n_objects = int(rng.integers(0, 3)) if overlays else 0
    sprites = [_sprite(overlays[rng.integers(len(overlays))], (h, w), t, rng) for _ in range(n_objects)]
    gain, gamma, shade = _lighting((h, w), t, rng)

    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        # A black border, not a replicated one: the path keeps the view inside the photo, and
        # were it ever to leave, the clip should show it rather than smear the edge.
        frame = cv2.warpPerspective(background, cams[i], (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        for rgba, affines in sprites:
            _paste(frame, rgba, affines[i])
        light = float(gain[i]) if shade is None else float(gain[i]) * shade[i][..., None]
        frame = frame * light
        # Contrast (a power curve on linear light) and the sRGB encoding in one table.
        table = np.round(255 * _linear_to_srgb(_ENC_GRID ** gamma[i])).astype(np.uint8)
        idx = np.clip(frame * (_ENC_STEPS - 1) + 0.5, 0, _ENC_STEPS - 1).astype(np.int32)
        out[i] = table[idx]
    return out


def _trim_bars(rgb: np.ndarray, dark: int = 24, most: float = 0.15) -> np.ndarray:
    """Crop black letterbox bars (edge rows/columns that are nearly all dark), at most
    ``most`` of the size per side: a bar would show up in every frame as a fake border."""
    level = rgb.max(axis=2)
    bar_rows = np.mean(level <= dark, axis=1) > 0.97  # > 97 %: JPEG ringing leaves a few bright pixels
    bar_cols = np.mean(level <= dark, axis=0) > 0.97

    def span(is_bar: np.ndarray) -> tuple[int, int]:
        limit = int(most * len(is_bar))
        lo = 0
        while lo < limit and is_bar[lo]:
            lo += 1
        hi = len(is_bar)
        while len(is_bar) - hi < limit and is_bar[hi - 1]:
            hi -= 1
        return lo, hi

    (r0, r1), (c0, c1) = span(bar_rows), span(bar_cols)
    return rgb[r0:r1, c0:c1]


def _read_photo(path: Path) -> np.ndarray | None:
    """(H, W, 3) uint8 sRGB without black bars, or None when the file cannot be decoded or is too small."""
    arr = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    if arr is None:
        return None
    arr = _trim_bars(arr[..., ::-1])  # OpenCV decodes to BGR
    if arr.shape[0] < 8 or arr.shape[1] < 8:
        return None
    return np.ascontiguousarray(arr)


def _is_gray(rgb: np.ndarray, tol: int = 3) -> bool:
    c = rgb.astype(np.int16)
    return bool(np.abs(c[..., 0] - c[..., 1]).max() <= tol and np.abs(c[..., 1] - c[..., 2]).max() <= tol)


def synthetic_clips_from_folder(folder: str | os.PathLike, n_clips: int, n_frames: int, size: tuple[int, int],
                                seed: int) -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``n_clips`` pairs (name, clip) made from the photos in ``folder``.

    Photos are the folder's .jpg/.jpeg/.png files (not recursive), listed in sorted order
    and visited in a seeded random order, cycling when ``n_clips`` exceeds them. Files that
    cannot be decoded and grayscale photos (no colour to learn from) are skipped; black
    letterbox bars are cropped off. Each clip's moving objects are cut from two other photos
    of the folder. ``name`` is ``"{index:05d}_{photo stem}"``; ``clip`` is
    (n_frames, h, w, 3) uint8 sRGB with (h, w) = ``size``. The same arguments give the same
    clips.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"expected a folder of photos, got {str(folder)!r}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())
    if not paths:
        raise InputError(f"expected .jpg/.jpeg/.png photos in {str(folder)!r}, found none")
    rng = np.random.default_rng(seed)
    usable = np.ones(len(paths), bool)  # cleared for files found unreadable or gray

    def load(j: int) -> np.ndarray | None:
        if not usable[j]:
            return None
        photo = _read_photo(paths[j])
        if photo is None or _is_gray(photo):
            usable[j] = False
            return None
        return photo

    made = 0
    while made < n_clips:
        if not usable.any():
            raise InputError(f"expected readable colour photos in {str(folder)!r}, none could be used")
        for j in rng.permutation(len(paths)):
            if made >= n_clips:
                break
            photo = load(j)
            if photo is None:
                continue
            others = [k for k in rng.permutation(len(paths)) if k != j and usable[k]][:2]
            overlays = [o for o in (load(k) for k in others) if o is not None]
            clip = synthetic_clip(photo, n_frames, size, rng, overlays)
            yield f"{made:05d}_{paths[j].stem}", clip
            made += 1
