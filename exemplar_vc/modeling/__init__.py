"""Networks (plain nn.Modules, no I/O) and the registry of named variants."""

from .encoder import EncoderConfig, LuminanceEncoder, load_efficientnet_lite

__all__ = ["EncoderConfig", "LuminanceEncoder", "load_efficientnet_lite"]
