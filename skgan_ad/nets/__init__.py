"""PyTorch modules only: no losses, training or scikit-learn code lives here."""

from .dcgan import DCGANDiscriminator
from .init import init_weights_
from .mlp import MLPDiscriminator, SkipMLPGenerator
from .skip_unet import SkipUNetGenerator

__all__ = [
    "DCGANDiscriminator",
    "MLPDiscriminator",
    "SkipMLPGenerator",
    "SkipUNetGenerator",
    "init_weights_",
]
