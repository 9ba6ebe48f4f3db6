"""One module per detector: its hyperparameters and the base class's hooks."""

from .ganomaly import GANomalyDetector
from .skip_ganomaly import SkipGANomalyDetector

__all__ = ["GANomalyDetector", "SkipGANomalyDetector"]
