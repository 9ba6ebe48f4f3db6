"""The ``skgan-ad`` command line (also ``python -m skgan_ad``): fit, score, evaluate and describe detectors.

Only argument handling, finding the data in files and printing live here; the
work is the public API's (the detectors, :mod:`skgan_ad.io`,
:mod:`skgan_ad.metrics`, :mod:`skgan_ad.plotting`), so the command line never
computes anything differently from the library.

``DATA`` is one of:

* a folder of images, in one of three layouts: flat (``DATA/*.png``); one
  sub-folder per class (``DATA/<class>/*.png``), where the ``--normal-class``
  folder (``good`` by default) holds the normal images and every other folder
  anomalies; or the industrial layout (``DATA/train/good``, ``DATA/test/good``,
  ``DATA/test/<defect>``), of which ``fit`` reads ``train/good`` and ``score``
  and ``evaluate`` read ``test``; with the ground-truth masks of that layout
  (``DATA/ground_truth/<defect>/<stem>_mask.png``), ``evaluate`` also reports
  the pixel-level ROC AUC and AUPRO of the model's anomaly maps;
* a ``.npy`` file of samples (rows, or images in any layout the detectors
  take), labelled by ``--labels FILE`` if at all;
* a ``.csv`` file of numeric columns, with or without a header; its
  ``--label-column`` (``label`` by default), if present, holds the labels and
  is never a feature.

Labels read 1 as an anomaly and 0 as normal. ``fit`` trains on the normal
samples when ``DATA`` has labels, on every sample otherwise. ``score`` and
``evaluate`` refuse images of another colour than the model's (RGB on a grey
model, grey on an RGB one) unless ``--convert-color`` asks for the conversion.
Training's colour codes go to a terminal only, never with ``NO_COLOR`` set.
Every failure ends with exit status 2 and one line on stderr,
``skgan-ad: error: ...``; ``--debug`` shows the traceback instead.

The modules: ``_parser`` (the argument parser), ``_data`` (reading ``DATA``;
image folders through :func:`skgan_ad.datasets.find_images`, which knows the
layouts), ``_commands`` (the commands and their printing) and ``_common``
(the program's name, the detectors' names, :class:`CLIError`).
"""

from __future__ import annotations

import os
import sys

# _parse_setting and _count: re-exported for tests/test_cli.py, which calls them as cli._parse_setting, cli._count.
from ._commands import _parse_setting as _parse_setting
from ._common import DETECTORS, PROG, CLIError
from ._common import _count as _count
from ._data import Data, read_data
from ._parser import build_parser

__all__ = ["DETECTORS", "PROG", "CLIError", "Data", "build_parser", "main", "read_data"]


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (CLIError, ValueError, TypeError, OSError, ImportError)):
        return message
    return f"{type(exc).__name__}: {message} (run again with --debug for the traceback)"


def main(argv=None) -> int:
    """Run ``skgan-ad`` with ``argv`` (``sys.argv[1:]`` by default); return the exit status.

    0 on success; 2, with one line on stderr, on any failure (``--debug``
    raises it with its traceback instead).
    """
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except BrokenPipeError:
        # The reader went away (skgan-ad score ... | head): nothing to report. Point stdout at devnull so
        # that Python's flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0
