"""Colour tags inside PNG and TIFF frames, so that viewers and tools read our RGB as what it is.

Frames are sRGB unless the input's video said otherwise (``ColorTags``, H.273 code points).

- PNG: a ``cICP`` chunk (PNG third edition: the H.273 primaries and transfer, RGB, full
  range) says exactly that. Older decoders ignore it, so sRGB content also gets an ``sRGB``
  chunk with the ``gAMA`` and ``cHRM`` the PNG specification asks writers to pair with it;
  other primaries get ``cHRM`` (and ``gAMA`` where the transfer is a plain power law).
- TIFF: an ICC profile (tag 34675) for sRGB content, made by Pillow's LittleCMS (Pillow is a
  dependency already) with a fixed creation date, so frames stay byte-identical run to run.
  Other primaries get no profile: there is none to hand without a new dependency.

The chunks and the tag are added to the bytes OpenCV encoded; nothing is re-encoded.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

from .formats import ColorTags

__all__ = ["SRGB", "tag_image", "tag_png", "tag_tiff", "srgb_icc_profile", "is_srgb"]

SRGB = ColorTags(primaries=1, transfer=13, matrix=0, range=2)

# (white, red, green, blue) chromaticities x 100000, per H.273 primaries code point.
_CHROMATICITIES = {
    1: ((31270, 32900), (64000, 33000), (30000, 60000), (15000, 6000)),  # BT.709 / sRGB
    5: ((31270, 32900), (64000, 33000), (29000, 60000), (15000, 6000)),  # BT.601 625
    6: ((31270, 32900), (63000, 34000), (31000, 59500), (15500, 7000)),  # BT.601 525
    9: ((31270, 32900), (70800, 29200), (17000, 79700), (13100, 4600)),  # BT.2020
}
# PNG gAMA (1/gamma x 100000) per H.273 transfer: the video and sRGB curves are close to 2.2.
_GAMMA = {1: 45455, 4: 45455, 5: 35714, 6: 45455, 8: 100000, 13: 45455, 14: 45455, 15: 45455}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ICC_TAG = 34675  # TIFF InterColorProfile
_UNDEFINED = 7  # TIFF field type for raw bytes


def is_srgb(tags: ColorTags) -> bool:
    """BT.709 primaries with the sRGB or BT.709 transfer: what an sRGB tag describes."""
    return tags.primaries == 1 and tags.transfer in (1, 13)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_chunks(tags: ColorTags) -> bytes:
    """The colour chunks for ``tags``, in the order the PNG specification lists them."""
    out = _chunk(b"cICP", bytes([tags.primaries & 0xFF, tags.transfer & 0xFF, 0, 1]))
    if tags.transfer in _GAMMA:
        out += _chunk(b"gAMA", struct.pack(">I", _GAMMA[tags.transfer]))
    if tags.primaries in _CHROMATICITIES:
        out += _chunk(b"cHRM", struct.pack(">8I", *(v for xy in _CHROMATICITIES[tags.primaries] for v in xy)))
    if is_srgb(tags):
        out += _chunk(b"sRGB", b"\x00")  # perceptual rendering intent
    return out


def tag_png(data: bytes, tags: ColorTags) -> bytes:
    """``data`` (a PNG file) with the colour chunks right after IHDR (before any image data)."""
    ihdr_end = len(_PNG_SIGNATURE) + 8 + 13 + 4
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("expected a PNG file starting with its IHDR chunk")
    return data[:ihdr_end] + png_chunks(tags) + data[ihdr_end:]


@lru_cache(maxsize=1)
def srgb_icc_profile() -> bytes:
    """An sRGB ICC profile from LittleCMS, its creation date fixed (it is the only field
    that changes between calls)."""
    from PIL import ImageCms

    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)
    return bytes(profile)


def tag_tiff(data: bytes, tags: ColorTags) -> bytes:
    """``data`` (a TIFF file, one image) with an sRGB ICC profile when ``tags`` are sRGB;
    unchanged otherwise. The first IFD is rewritten at the end of the file with the extra
    entry (existing entries keep pointing at their data, which does not move)."""
    if not is_srgb(tags):
        return data
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack(order + "H", data[2:4])[0] != 42:
        raise ValueError("expected a classic TIFF file")
    ifd = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    entries = [data[ifd + 2 + 12 * k : ifd + 14 + 12 * k] for k in range(count)]
    next_ifd = data[ifd + 2 + 12 * count : ifd + 6 + 12 * count]
    if any(struct.unpack(order + "H", e[:2])[0] == _ICC_TAG for e in entries):
        return data
    profile = srgb_icc_profile()
    out = bytearray(data)
    out += b"\0" * (len(out) % 2)  # TIFF offsets are word aligned
    profile_at = len(out)
    out += profile + b"\0" * (len(profile) % 2)
    entries.append(struct.pack(order + "HHII", _ICC_TAG, _UNDEFINED, len(profile), profile_at))
    entries.sort(key=lambda e: struct.unpack(order + "H", e[:2])[0])  # tags ascending, as TIFF requires
    new_ifd = len(out)
    out += struct.pack(order + "H", len(entries)) + b"".join(entries) + next_ifd
    out[4:8] = struct.pack(order + "I", new_ifd)
    return bytes(out)


def tag_image(data: bytes, ext: str, tags: ColorTags | None) -> bytes:
    """``data`` (an encoded ``.png`` or ``.tif`` frame) with its colour tags (None: sRGB)."""
    tags = tags or SRGB
    if ext == ".png":
        return tag_png(data, tags)
    if ext in (".tif", ".tiff"):
        return tag_tiff(data, tags)
    return data
