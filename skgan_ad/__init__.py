"""GAN-based anomaly detection as scikit-learn estimators."""

from ._outlier import CalibrationWarning
from ._validation import AmbiguousLayoutWarning
from ._version import __version__
from .base import BaseGANDetector
from .detectors import AnoGANDetector, DenseSkipAttentionDetector, EGBADDetector, GANomalyDetector, SkipGANomalyDetector
from .patches import PatchDetector

# Capabilities outside the core (DESIGN.md section 5), imported on first use so that
# ``import skgan_ad`` stays light and optional dependencies stay optional.
_LAZY = {"save": "io", "load": "io", "InconsistentVersionWarning": "io", "export_onnx": "export"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AmbiguousLayoutWarning",
    "AnoGANDetector",
    "BaseGANDetector",
    "CalibrationWarning",
    "DenseSkipAttentionDetector",
    "EGBADDetector",
    "InconsistentVersionWarning",
    "GANomalyDetector",
    "PatchDetector",
    "SkipGANomalyDetector",
    "__version__",
    "export_onnx",
    "load",
    "save",
]
