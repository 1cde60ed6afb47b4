"""The public names other code relies on: this fails when one disappears."""

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "exemplar_vc": ["VideoColorizer", "ColorizationResult", "ColorizedFrame", "Stage1Plan", "colorize", "Exemplar", "ExemplarSource", "KeyFrame", "VideoPlan", "UserReferences", "InputError", "ExemplarVCError", "__version__"],
    "exemplar_vc.io": ["open_video", "open_writer", "FrameSource", "FrameWriter", "load_color_image", "to_gray", "expand_image_paths"],
    "exemplar_vc.color": ["rgb_to_lab", "lab_to_rgb", "lab_to_rgb_keep_lightness", "lab_to_rgb_keep_luma", "gray_to_lightness", "compose_rgb"],
    "exemplar_vc.ops": ["correspondence", "local_attention"],
    "exemplar_vc.modeling": ["LuminanceEncoder", "EncoderConfig"],
    "exemplar_vc.exemplars": ["Exemplar", "ExemplarSource", "KeyFrame", "UserReferences", "ReferenceBank", "Retriever", "ChainedSources", "ColorizerSource"],
    "exemplar_vc.propagation": ["PropagationEngine", "ColorizedFrame", "upsample_chroma"],
    "exemplar_vc.types": ["Exemplar", "ExemplarSource", "KeyFrame", "VideoPlan"],
    "exemplar_vc.pixels": ["to_uint8", "rgb_to_gray", "to_gray", "to_rgb", "as_channels_last"],
    "exemplar_vc.config_io": ["apply_overrides", "parse_assignment", "config_to_dict", "config_from_dict", "load_toml"],
}

# Methods of public classes: "module:Class" -> names.
MEMBERS = {
    "exemplar_vc.pipeline:VideoColorizer": ["from_pretrained", "save_pretrained", "plan", "stream", "colorize_to", "__call__"],
    "exemplar_vc.pipeline:Stage1Plan": ["source", "plan", "exemplars"],
    "exemplar_vc.exemplars:ReferenceBank": ["build", "load", "add", "add_images", "remove", "search", "save"],
}

# Where names used to live: these imports must keep working.
OLD_LOCATIONS = {
    "exemplar_vc.exemplars.base": ["Exemplar", "ExemplarSource", "KeyFrame"],
    "exemplar_vc.keyframes": ["VideoPlan", "ShotConfig", "plan_video"],
    "exemplar_vc.exemplars.embedding": ["luminance_of"],
    "exemplar_vc.exemplars.bank": ["expand_image_paths"],
    "exemplar_vc.evaluation.baselines": ["compose_rgb"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_exist_and_are_exported(module):
    mod = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert hasattr(mod, name), f"{module}.{name} disappeared"
        assert name in mod.__all__, f"{module}.{name} is not in __all__"


@pytest.mark.parametrize("where", sorted(MEMBERS))
def test_public_members_exist(where):
    module, cls = where.split(":")
    obj = getattr(importlib.import_module(module), cls)
    fields = getattr(obj, "__dataclass_fields__", {})
    for name in MEMBERS[where]:
        assert hasattr(obj, name) or name in fields, f"{cls}.{name} disappeared"


@pytest.mark.parametrize("module", sorted(OLD_LOCATIONS))
def test_old_import_locations_still_work(module):
    mod = importlib.import_module(module)
    for name in OLD_LOCATIONS[module]:
        assert hasattr(mod, name), f"{module}.{name} no longer importable"


def test_shared_types_are_one_class_wherever_imported():
    import exemplar_vc
    from exemplar_vc.exemplars import base
    from exemplar_vc.keyframes import VideoPlan

    assert base.Exemplar is exemplar_vc.Exemplar and base.KeyFrame is exemplar_vc.KeyFrame and VideoPlan is exemplar_vc.VideoPlan


def test_import_prints_nothing():
    out = subprocess.run([sys.executable, "-c", "import exemplar_vc"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == ""


def test_config_does_not_load_the_exemplar_sources():
    code = "import sys, exemplar_vc.config; print(sorted(m for m in sys.modules if m.startswith(('exemplar_vc.exemplars', 'faiss'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
