"""One module per detector: its hyperparameters and the base class's hooks."""

from .skip_ganomaly import SkipGANomalyDetector

__all__ = ["SkipGANomalyDetector"]
