"""One module per detector: its hyperparameters and the base class's hooks."""

from .anogan import AnoGANDetector
from .dense_skip_attention import DenseSkipAttentionDetector
from .egbad import EGBADDetector
from .ganomaly import GANomalyDetector
from .skip_ganomaly import SkipGANomalyDetector

__all__ = ["AnoGANDetector", "DenseSkipAttentionDetector", "EGBADDetector", "GANomalyDetector", "SkipGANomalyDetector"]
