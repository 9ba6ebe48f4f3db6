"""What every part of the command line shares: its name, the detectors' names, its error and its counts."""

from __future__ import annotations

PROG = "skgan-ad"

#: Command-line names of the detectors and their classes in :mod:`skgan_ad`.
DETECTORS = {
    "skip-ganomaly": "SkipGANomalyDetector",
    "ganomaly": "GANomalyDetector",
    "dense-skip-attention": "DenseSkipAttentionDetector",
    "anogan": "AnoGANDetector",
    "egbad": "EGBADDetector",
}


class CLIError(Exception):
    """A failure the user can fix (bad path, bad option): reported in one line, without a traceback."""


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1: "1 epoch", "2 epochs", "0 samples"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
