"""The ``skgan-ad`` argument parser: one sub-command per task, and failures of argument parsing in one line."""

from __future__ import annotations

import argparse

from ._commands import _evaluate, _fit, _info, _score
from ._common import DETECTORS, PROG


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse prints the usage too; one line reads better in logs and is what every other failure gives.
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _size(text: str) -> tuple[int, int]:
    try:
        sizes = [int(s) for s in text.lower().replace("x", " ").replace(",", " ").split()]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected N or HxW (positive ints), got {text!r}")
    return (sizes[0], sizes[-1])


def build_parser() -> argparse.ArgumentParser:
    """The ``skgan-ad`` argument parser, one sub-command per task."""
    from .. import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    common.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument(
        "--size", type=_size, metavar="N|HxW", help="resize images to N or HxW pixels (the same at fit and score)"
    )
    reading.add_argument(
        "--normal-class",
        default="good",
        metavar="NAME",
        help="class folder of the normal images in DATA/<class>/ (default: good)",
    )
    reading.add_argument(
        "--label-column",
        default="label",
        metavar="NAME",
        help="CSV column of labels, 1 anomaly / 0 normal (default: label)",
    )
    reading.add_argument("--labels", metavar="FILE", help="labels of DATA's samples, one per line or a .npy file")
    scoring = argparse.ArgumentParser(add_help=False)
    scoring.add_argument("model", metavar="MODEL", help="a model file written by skgan-ad fit (skgan_ad.save)")
    scoring.add_argument("data", metavar="DATA", help="an image folder, a .npy file or a .csv file")
    scoring.add_argument(
        "--convert-color",
        action="store_true",
        help="convert images whose colour differs from the model's (colour to grey, grey to RGB); "
        "without it such an image is an error",
    )

    parser = _Parser(
        prog=PROG,
        description="GAN anomaly detectors on image folders, .npy and .csv files.",
        epilog="DATA: an image folder (flat, <class>/ sub-folders, or train/good + test/<good|defect>), "
        "a .npy file or a .csv file of numeric columns.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser(
        "fit",
        parents=[common, reading],
        help="train a detector on normal data and save it",
        description=(
            "Train on the normal samples of DATA (all of them when DATA has no labels; train/good of the "
            "industrial layout) and save the model."
        ),
    )
    fit.add_argument("data", metavar="DATA", help="an image folder, a .npy file or a .csv file")
    fit.add_argument("--model", required=True, metavar="MODEL", help="file to save the fitted detector to")
    fit.add_argument("--detector", default="skip-ganomaly", choices=list(DETECTORS), help="default: skip-ganomaly")
    fit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a detector parameter, the value read as a Python literal: --set n_epochs=5 --set hidden_dims=(64,32)",
    )
    fit.add_argument(
        "--color",
        choices=("auto", "grey", "rgb"),
        default="auto",
        help="read images as grey or RGB (auto: as the first image is)",
    )
    fit.set_defaults(run=_fit)

    score = commands.add_parser(
        "score",
        parents=[scoring, common, reading],
        help="write anomaly scores, p-values and flags as CSV",
        description="One CSV row per sample: its path or row number, anomaly score (higher is more abnormal), "
        "conformal p-value against the held-out normals of training, and flag (1: beyond the model's threshold).",
    )
    score.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    score.set_defaults(run=_score)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[scoring, common, reading],
        help="ROC AUC, average precision, recall at 1%% and 5%% FPR; pixel ROC AUC and AUPRO with masks",
        description="Evaluate on labelled DATA (test/good and test/<defect>, a --normal-class folder, a CSV label "
        "column or --labels; 1 anomaly, 0 normal). With the ground-truth masks of the industrial layout "
        "(ground_truth/<defect>/<stem>_mask.png), also the pixel-level ROC AUC and AUPRO (up to 30%% FPR) of "
        "the model's anomaly maps.",
    )
    evaluate.add_argument(
        "--figures",
        metavar="DIR",
        help="write ROC, precision-recall and other plots here, and, with ground-truth masks, anomaly maps with "
        "the defects outlined",
    )
    evaluate.set_defaults(run=_evaluate)

    info = commands.add_parser(
        "info",
        parents=[common],
        help="describe a saved model",
        description="Print a saved model's detector, "
        "parameters, input, threshold and training history, and the library version.",
    )
    info.add_argument("model", metavar="MODEL")
    info.set_defaults(run=_info)
    return parser
