"""PyTorch modules only: no losses, training or scikit-learn code lives here."""

from .attention import AttentionAugmentedConv2d, AttentionDiscriminator, MultiHeadSelfAttention2d
from .bigan import BiGANGenerator, JointDiscriminator
from .dcgan import DCGANDiscriminator
from .dense_skip import DenseSkipGenerator
from .ganomaly import DCGANDecoder, DCGANEncoder, EncoderDecoderEncoder
from .init import init_weights_
from .mlp import MLPDiscriminator, SkipMLPGenerator, mlp_decoder, mlp_encoder
from .rotation import N_ROTATIONS, RotationHead, attach_rotation_head, rotations
from .skip_unet import SkipUNetGenerator
from .spectral import maybe_spectral_norm, reset_spectral_norm_, spectral_norm_all, spectral_norm_layers

__all__ = [
    "AttentionAugmentedConv2d",
    "AttentionDiscriminator",
    "BiGANGenerator",
    "DCGANDecoder",
    "DCGANEncoder",
    "EncoderDecoderEncoder",
    "JointDiscriminator",
    "DCGANDiscriminator",
    "DenseSkipGenerator",
    "MLPDiscriminator",
    "MultiHeadSelfAttention2d",
    "N_ROTATIONS",
    "RotationHead",
    "SkipMLPGenerator",
    "SkipUNetGenerator",
    "attach_rotation_head",
    "init_weights_",
    "maybe_spectral_norm",
    "mlp_decoder",
    "mlp_encoder",
    "reset_spectral_norm_",
    "rotations",
    "spectral_norm_all",
    "spectral_norm_layers",
]
