"""Nested config overrides, `--set` / `--config`, and save_pretrained / from_pretrained."""

import json

import pytest
import torch

from exemplar_vc import VideoColorizer
from exemplar_vc.config import ColorizerConfig
from exemplar_vc.config_io import apply_overrides, config_from_dict, config_to_dict, parse_assignment
from exemplar_vc.errors import InputError
from exemplar_vc.registry import get_config


def test_dicts_merge_into_nested_groups():
    cfg = apply_overrides(ColorizerConfig(), {"working_size": 320, "propagation": {"fill_in": True, "hand": {"local_radius": 2}}})
    assert cfg.working_size == 320 and cfg.propagation.fill_in and cfg.propagation.hand.local_radius == 2
    default = ColorizerConfig()
    assert cfg.propagation.fill_in_low == default.propagation.fill_in_low  # untouched siblings keep their values
    assert cfg.propagation.hand.global_temperature == default.propagation.hand.global_temperature
    assert default.propagation.fill_in is False  # nothing is mutated


def test_from_pretrained_takes_nested_overrides():
    c = VideoColorizer.from_pretrained("default", device="cpu", propagation={"fill_in": True}, working_size=320)
    assert c.config.propagation.fill_in and c.config.working_size == 320
    assert c.config.propagation.upsample == ColorizerConfig().propagation.upsample


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"workingsize": 3}, "'working_size'"),  # the valid names are listed
        ({"propagation": {"fil_in": True}}, "'fill_in'"),
        ({"propagation": {"hand": {"radius": 2}}}, "'local_radius'"),
        ({"propagation": {"fill_in": "maybe"}}, "propagation.fill_in as true or false"),
        ({"working_size": 3.5}, "working_size as an integer"),
        ({"propagation": 3}, "propagation as a table of settings"),
        ({"shots": {"window": 0}}, "window >= 1"),  # the dataclass's own check still runs
        ({"propagation": {"fill_in_low": 2}}, "fill_in_low < propagation.fill_in_high"),
        ({"encoder": {"blocks": [99]}}, "block numbers 0-15 of efficientnet-lite0, got \\[99\\]"),
        ({"encoder": {"blocks": []}}, "block numbers"),
        ({"propagation": {"keep": "hue"}}, r"propagation.keep in \['luma', 'lightness'\], got 'hue'"),
    ],
)
def test_bad_overrides_are_explained(overrides, message):
    with pytest.raises(InputError, match=message):
        VideoColorizer.from_pretrained("default", device="cpu", **overrides)


def test_unknown_variant_is_explained():
    with pytest.raises(InputError, match="'default'.*save_pretrained"):
        VideoColorizer.from_pretrained("no-such-variant", device="cpu")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("propagation.fill_in=true", {"propagation": {"fill_in": True}}),
        ("propagation.fill_in=No", {"propagation": {"fill_in": False}}),
        ("working_size=320", {"working_size": 320}),
        ("propagation.fill_in_low=0.25", {"propagation": {"fill_in_low": 0.25}}),
        ("propagation.upsample=guided", {"propagation": {"upsample": "guided"}}),
        ("propagation.keep=lightness", {"propagation": {"keep": "lightness"}}),
        ("encoder.blocks=2,4,10", {"encoder": {"blocks": (2, 4, 10)}}),
    ],
)
def test_assignments_are_parsed_by_field_type(text, expected):
    assert parse_assignment(text, ColorizerConfig()) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("propagation.fill_in", "KEY=VALUE"),
        ("propagation.nope=1", "'fill_in'"),
        ("working_size=big", "working_size as an integer"),
        ("working_size.x=1", "single value"),
        ("propagation=1", "group of settings"),
    ],
)
def test_bad_assignments_are_explained(text, message):
    with pytest.raises(InputError, match=message):
        parse_assignment(text, ColorizerConfig())


def test_cli_set_and_config_file(tmp_path):
    from exemplar_vc.cli.colorize_cmd import config_overrides
    from exemplar_vc.cli.main import build_parser

    toml = tmp_path / "settings.toml"
    toml.write_text("working_size = 256\n[propagation]\nfill_in = true\nfill_in_low = 0.2\n[propagation.hand]\nlocal_radius = 3\n")
    args = build_parser().parse_args(
        ["colorize", "in.mp4", "-o", "out.mp4", "--config", str(toml), "--set", "propagation.fill_in_low=0.1", "--set", "propagation.upsample=guided", "--working-size", "320"]
    )
    cfg = apply_overrides(ColorizerConfig(), config_overrides(args))
    assert cfg.working_size == 320  # --working-size after the file
    assert cfg.propagation.fill_in and cfg.propagation.fill_in_low == 0.1  # --set last
    assert cfg.propagation.upsample == "guided" and cfg.propagation.hand.local_radius == 3


def test_cli_bad_config_file_is_explained(tmp_path):
    from exemplar_vc.cli.colorize_cmd import config_overrides
    from exemplar_vc.cli.main import build_parser

    bad = tmp_path / "bad.toml"
    bad.write_text("working_size = \n")
    for path, message in ((bad, "valid TOML"), (tmp_path / "missing.toml", "does not exist")):
        args = build_parser().parse_args(["colorize", "in.mp4", "-o", "out.mp4", "--config", str(path)])
        with pytest.raises(InputError, match=message):
            config_overrides(args)


def test_config_round_trips_through_json():
    cfg = apply_overrides(ColorizerConfig(), {"working_size": 200, "propagation": {"fill_in": True}, "encoder": {"blocks": (2, 4, 10)}})
    data = json.loads(json.dumps(config_to_dict(cfg)))
    assert config_from_dict(ColorizerConfig, data) == cfg


def _state(module: torch.nn.Module) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_save_and_load_give_the_same_config_and_weights(tmp_path):
    from exemplar_vc import __version__

    c = VideoColorizer.from_pretrained("fast", device="cpu", propagation={"fill_in": True, "hand": {"local_radius": 3}})
    saved = c.save_pretrained(tmp_path / "mine")
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.safetensors", "version.txt"]
    assert (saved / "version.txt").read_text().strip() == __version__
    back = VideoColorizer.from_pretrained(saved, device="cpu")
    assert back.config == c.config
    assert back.fusion.state_dict().keys() == c.fusion.state_dict().keys()  # the hand rule: no weights
    assert VideoColorizer.from_pretrained(str(saved), device="cpu", working_size=128).config.working_size == 128


def test_network_weights_round_trip(tmp_path):
    safetensors = pytest.importorskip("safetensors.torch")
    net_mod = pytest.importorskip("exemplar_vc.modeling.propagation_net")

    torch.manual_seed(0)
    start = tmp_path / "start.safetensors"
    safetensors.save_file(net_mod.PropagationNet(net_mod.PropagationNetConfig()).state_dict(), str(start))
    c = VideoColorizer.from_pretrained("default", device="cpu", propagation={"fusion": "network", "network": {"weights": str(start)}})
    with torch.no_grad():  # weights that differ from the file the config names
        for p in c.fusion.parameters():
            p.add_(0.5)
    saved = c.save_pretrained(tmp_path / "net")
    back = VideoColorizer.from_pretrained(saved, device="cpu")
    assert back.config == c.config
    mine, theirs = _state(c.fusion), _state(back.fusion)
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)


def test_a_saved_folder_can_switch_fusion_module(tmp_path):
    """Overriding the fusion of a saved folder (as ``quality.py --compare hand`` does) takes
    the other module with its own shipped weights; the folder's weights are not forced on it."""
    from exemplar_vc.modeling.fusion import HandFusion
    from exemplar_vc.modeling.propagation_net import PropagationNet

    net_dir = VideoColorizer.from_pretrained("default", device="cpu").save_pretrained(tmp_path / "net")
    hand = VideoColorizer.from_pretrained(net_dir, device="cpu", propagation={"fusion": "hand"})
    assert isinstance(hand.fusion, HandFusion) and hand.config.propagation.fusion == "hand"
    hand_dir = hand.save_pretrained(tmp_path / "hand")
    net = VideoColorizer.from_pretrained(hand_dir, device="cpu", propagation={"fusion": "network"})
    shipped = VideoColorizer.from_pretrained("default", device="cpu").fusion.state_dict()
    assert isinstance(net.fusion, PropagationNet)
    assert all(torch.equal(v, shipped[k]) for k, v in net.fusion.state_dict().items())


def test_saved_weights_that_do_not_fit_are_explained(tmp_path):
    c = VideoColorizer.from_pretrained("default", device="cpu")
    c.fusion = torch.nn.Linear(2, 2)  # weights no hand rule can take
    saved = c.save_pretrained(tmp_path / "odd")
    with pytest.raises(InputError, match="do not fit"):
        VideoColorizer.from_pretrained(saved, device="cpu")


def test_missing_or_corrupt_saved_folder_is_explained(tmp_path):
    saved = VideoColorizer.from_pretrained("default", device="cpu").save_pretrained(tmp_path / "m")
    (saved / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="corrupted"):
        VideoColorizer.from_pretrained(saved, device="cpu")
    (saved / "model.safetensors").unlink()
    with pytest.raises(InputError, match="model.safetensors"):
        VideoColorizer.from_pretrained(saved, device="cpu")


def test_auto_fill_is_a_setting_that_jobs_do_not_key_on():
    """``auto_fill`` is set like any other setting; it only changes stage 1, whose effect
    reaches segments through their anchors, so the colorizer key of a job ignores it."""
    from exemplar_vc.jobs.keys import colorizer_key

    assert ColorizerConfig().auto_fill is False
    assert parse_assignment("auto_fill=yes", ColorizerConfig()) == {"auto_fill": True}
    plain = VideoColorizer.from_pretrained("hand", device="cpu")
    filling = VideoColorizer.from_pretrained("hand", device="cpu", auto_fill=True)
    assert filling.config.auto_fill is True
    assert colorizer_key(plain) == colorizer_key(filling)


def test_cli_help_states_the_default_working_size():
    """The help's literal default (kept literal so ``--help`` stays light) must follow the
    default variant's."""
    import argparse

    from exemplar_vc.cli.main import build_parser

    size = get_config("default").working_size
    assert ColorizerConfig().working_size == size
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("colorize", "batch"):
        option = next(a for a in sub.choices[command]._actions if "--working-size" in a.option_strings)
        assert f"(default {size})" in option.help
