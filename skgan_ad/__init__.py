"""GAN-based anomaly detection as scikit-learn estimators."""

from .base import BaseGANDetector
from .detectors import GANomalyDetector, SkipGANomalyDetector

__version__ = "0.1.0"

__all__ = ["BaseGANDetector", "GANomalyDetector", "SkipGANomalyDetector", "__version__"]
