"""ImageColorizer: runs, is deterministic, learns chroma better than the gray baseline,
loads its weights with the encoder they were trained on."""

import cv2
import numpy as np
import pytest
import torch

from exemplar_vc.color.lab import rgb_to_lab
from exemplar_vc.errors import InputError
from exemplar_vc.modeling.colorizer import DEFAULT_WEIGHTS, ImageColorizer, ab_bins, annealed_mean, boost_chroma
from exemplar_vc.modeling.encoder import EncoderConfig, LuminanceEncoder
from exemplar_vc.pixels import rgb_to_gray


def _striped(kind: int, seed: int) -> np.ndarray:
    """Horizontal stripes are orange, vertical ones blue: colour follows texture."""
    rng = np.random.default_rng(seed)
    period = int(rng.integers(6, 10))
    t = (np.arange(64) // (period // 2)) % 2
    mask = np.tile(t[:, None], (1, 64)) if kind == 0 else np.tile(t[None, :], (64, 1))
    colour = np.array([230, 140, 40]) if kind == 0 else np.array([40, 90, 220])
    img = np.where(mask[..., None] == 1, colour, colour // 3)
    return img.astype(np.uint8)


def test_bins_and_annealed_mean():
    bins = ab_bins()
    assert bins.shape[1] == 2 and 150 < len(bins) < 320
    logits = torch.full((1, len(bins), 1, 1), -20.0)
    logits[0, 7] = 5.0
    assert torch.allclose(annealed_mean(logits, bins)[0, :, 0, 0], bins[7], atol=1e-3)


def test_runs_and_is_deterministic(encoder):
    torch.manual_seed(0)
    a = ImageColorizer.build(encoder, width=16).eval()
    torch.manual_seed(0)
    b = ImageColorizer.build(encoder, width=16).eval()
    gray = cv2.cvtColor(_striped(0, 1), cv2.COLOR_RGB2GRAY)
    rgb1, c1 = a.colorize(gray)
    rgb2, c2 = b.colorize(gray)
    assert rgb1.shape == (64, 64, 3) and rgb1.dtype == np.uint8 and 0 <= c1 <= 1
    assert np.array_equal(rgb1, rgb2) and c1 == c2
    assert np.array_equal(a.colorize(gray)[0], rgb1)
    assert np.array_equal(rgb_to_gray(rgb1), gray)  # the input's luma is kept
    with pytest.raises(InputError, match="uint8 gray image"):
        a.colorize(np.zeros((8, 8, 3), np.uint8))


def test_learns_chroma_better_than_gray(encoder, tmp_path):
    torch.manual_seed(0)
    model = ImageColorizer.build(encoder, width=32)
    imgs = [_striped(k, s) for k in (0, 1) for s in range(3)]
    gray = torch.from_numpy(np.stack([cv2.cvtColor(i, cv2.COLOR_RGB2GRAY) for i in imgs])).float().div(255)[:, None]
    with torch.no_grad():
        feats = encoder(gray)
    rgb = torch.from_numpy(np.stack(imgs)).float().div(255).permute(0, 3, 1, 2)
    ab = torch.nn.functional.adaptive_avg_pool2d(rgb_to_lab(rgb)[:, 1:], feats.shape[-2:])
    target = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), model.bins).argmin(1).reshape(len(imgs), *feats.shape[-2:])
    opt = torch.optim.Adam(model.decoder.parameters(), lr=3e-3)
    for _ in range(40):
        loss = torch.nn.functional.cross_entropy(model.decoder(feats), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred, conf = model.chroma(feats)
    err = ((pred - ab) ** 2).sum(1).mean().sqrt()
    baseline = (ab**2).sum(1).mean().sqrt()
    assert err < 0.5 * baseline, (float(err), float(baseline))
    assert conf.shape == (6, 1, *feats.shape[-2:])
    path = tmp_path / "c.pt"
    model.save_decoder(path)
    again = ImageColorizer.from_pretrained(encoder, path)
    with torch.no_grad():
        assert torch.allclose(again.chroma(feats)[0], pred, atol=1e-5)


def test_bad_weights(encoder, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        ImageColorizer.from_pretrained(encoder, tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError, match="could not read"):
        ImageColorizer.from_pretrained(encoder, bad)


def test_boost_adds_chroma_along_the_hue():
    ab = torch.stack([torch.tensor([3.0, 0.6, 0.0]), torch.tensor([4.0, 0.8, 0.0])])[None, :, :, None]
    out = boost_chroma(ab, 5.0, floor=2.0)
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([6.0, 8.0]))  # |m| 5 -> 10, same hue
    assert torch.allclose(out[0, :, 1, 0], ab[0, :, 1, 0] * 3.5)  # |m| 1 < floor: fades in
    assert torch.equal(out[0, :, 2, 0], torch.zeros(2))  # no hue, nothing added
    assert boost_chroma(ab, 0.0) is ab


def test_reduced_decoder_round_trips_with_its_boost(encoder, tmp_path):
    torch.manual_seed(0)
    model = ImageColorizer.build(encoder, width=16, global_context=True, reduce_first=True, dropout=0.5, dilations=(1, 2), chroma_boost=3.0).eval()
    gray = torch.from_numpy(cv2.cvtColor(_striped(1, 2), cv2.COLOR_RGB2GRAY)).float().div(255)[None, None]
    with torch.no_grad():
        ab, conf = model(gray)
        again = model(gray)[0]
        plain = annealed_mean(model.decoder(encoder(gray)), model.bins, model.decoder.config.temperature)
    assert torch.equal(ab, again)  # dropout is off in eval
    grew = ab.norm(dim=1) - plain.norm(dim=1)
    assert torch.allclose(grew[plain.norm(dim=1) >= 2], torch.tensor(3.0), atol=1e-4)
    path = tmp_path / "r.pt"
    model.save_decoder(path)
    loaded = ImageColorizer.from_pretrained(encoder, path)
    assert loaded.decoder.config == model.decoder.config and loaded.encoder is encoder
    with torch.no_grad():
        assert torch.allclose(loaded(gray)[0], ab, atol=1e-5)


def test_weights_on_other_taps_bring_their_own_encoder(encoder, tmp_path):
    """A decoder trained on more blocks than matching taps gets an encoder with those."""
    deep = LuminanceEncoder(EncoderConfig(blocks=(2, 4, 10, 15)), pretrained=False)
    torch.manual_seed(0)
    model = ImageColorizer.build(deep, width=16, reduce_first=True).eval()
    path = tmp_path / "deep.pt"
    model.save_decoder(path)
    loaded = ImageColorizer.from_pretrained(encoder, path)
    assert loaded.encoder is not encoder and loaded.encoder.config == deep.config
    assert loaded.decoder.config.in_channels == deep.channels == encoder.channels + 320


def test_shipped_weights_load_with_the_deeper_encoder(encoder):
    """The default weights read the matching taps plus the backbone's last block, so they
    come with an encoder of their own; colorizing keeps the input's luma."""
    model = ImageColorizer.from_pretrained(encoder)
    assert model.name == DEFAULT_WEIGHTS.stem and model.encoder is not encoder
    assert model.encoder.config.blocks == (*encoder.config.blocks, 15)
    assert model.decoder.config.reduce_first and model.decoder.config.in_channels == model.encoder.channels
    gray = cv2.cvtColor(_striped(0, 3), cv2.COLOR_RGB2GRAY)
    rgb, conf = model.colorize(gray)
    assert np.array_equal(rgb_to_gray(rgb), gray) and 0 <= conf <= 1
    assert np.array_equal(model.colorize(gray)[0], rgb)
