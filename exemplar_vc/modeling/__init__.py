"""Networks (plain nn.Modules, no I/O) and the registry of named variants."""

from .colorizer import ChromaDecoder, ChromaDecoderConfig, ImageColorizer, gated_fill
from .encoder import EncoderConfig, LuminanceEncoder, load_efficientnet_lite

__all__ = ["ChromaDecoder", "ChromaDecoderConfig", "ImageColorizer", "gated_fill", "EncoderConfig", "LuminanceEncoder", "load_efficientnet_lite"]
