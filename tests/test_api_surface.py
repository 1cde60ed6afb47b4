"""The public names other code relies on: this fails when one disappears."""

import importlib

import pytest

PUBLIC = {
    "exemplar_vc": ["VideoColorizer", "ColorizationResult", "ColorizedFrame", "colorize", "Exemplar", "ExemplarSource", "KeyFrame", "UserReferences", "InputError", "ExemplarVCError", "__version__"],
    "exemplar_vc.io": ["open_video", "open_writer", "FrameSource", "FrameWriter", "load_color_image", "to_gray"],
    "exemplar_vc.color": ["rgb_to_lab", "lab_to_rgb", "lab_to_rgb_keep_lightness", "gray_to_lightness"],
    "exemplar_vc.ops": ["correspondence", "local_attention"],
    "exemplar_vc.modeling": ["LuminanceEncoder", "EncoderConfig"],
    "exemplar_vc.exemplars": ["Exemplar", "ExemplarSource", "KeyFrame", "UserReferences"],
    "exemplar_vc.propagation": ["PropagationEngine", "ColorizedFrame", "upsample_chroma"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_exist_and_are_exported(module):
    mod = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert hasattr(mod, name), f"{module}.{name} disappeared"
        assert name in mod.__all__, f"{module}.{name} is not in __all__"


def test_import_prints_nothing():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import exemplar_vc"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == ""
