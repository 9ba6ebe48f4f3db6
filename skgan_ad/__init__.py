"""GAN-based anomaly detection as scikit-learn estimators."""

from .base import BaseGANDetector
from .detectors import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from .patches import PatchDetector

__version__ = "0.1.0"

__all__ = [
    "AnoGANDetector",
    "BaseGANDetector",
    "DenseSkipAttentionDetector",
    "EGBADDetector",
    "GANomalyDetector",
    "PatchDetector",
    "SkipGANomalyDetector",
    "__version__",
]
