"""Mixtures of score parts chosen on the development domains (issue 25), from results kept with ``--keep-parts``.

    python -m benchmarks.dev_mixtures benchmarks/results/dev_ablation_*_rot25_s0.json

``benchmarks.dev_ablation --keep-parts`` keeps every validation sample's score
parts, each standardised on held-out normals as the anomaly score uses them.
This script scores every weighting of the detector's score formula,

    A = t T + (1 - t) {w e + (1 - w) [lambda r + (1 - lambda) o]}

(``t = rotation_weight``, ``w = embedding_weight``, ``lambda = lambda_score``;
``T`` rotation, ``e`` embedding, ``r`` residual, ``o`` the detector's other
part), on each file's validation samples, and ranks the weightings by their
ROC AUC averaged over the files (each file one development domain, its classes
averaged first; files of the same domain, e.g. one class per process, are merged): a default is chosen on the
mean over domains, never on one.
For the best weighting it prints each domain's AUC beside the same weighting of
the untrained networks' parts (the ``(untrained)`` variant in the same file)
and the best of the pixel baselines. Nothing is trained or read beyond the files.
"""

from __future__ import annotations

import argparse
import itertools
import os

import numpy as np
from sklearn.metrics import roc_auc_score

from skgan_ad import SkipGANomalyDetector

from ._harness import read_results

GRID = dict(
    rotation_weight=(0.0, 0.1, 0.25, 0.5, 0.75, 1.0),
    embedding_weight=(0.0, 0.25, 0.5, 0.75, 1.0),
    lambda_score=(0.5, 0.9, 1.0),
)
BASELINE_NAMES = ("IsolationForest", "PCA recon.", "kNN (pixels)")


def mixture(parts: dict, rotation_weight: float, embedding_weight: float, lambda_score: float) -> np.ndarray:
    """The anomaly score of standardised ``parts`` under these weights: the detectors' own weighting
    (``BaseGANDetector._component_weights``, the same for every detector without a ``latent_norm`` part)."""
    weigher = SkipGANomalyDetector(
        rotation_weight=rotation_weight, embedding_weight=embedding_weight, lambda_score=lambda_score
    )
    weights = weigher._component_weights(parts)
    return sum(weights[name] * values for name, values in parts.items())


def domain_name(payload: dict, path: str) -> str:
    anomalies = "defects" if payload.get("anomalies") == "defects" else payload["protocol"]
    return f"{payload['dataset']} {anomalies}" if payload else os.path.basename(path)


# Non-linear rules over the standardised parts (issue 25): does a sample flagged by any one part do better
# than a fixed weighted sum? ``e`` embedding, ``r`` residual, ``T`` rotation.
RULES = {
    "max(e, r)": lambda p: np.maximum(p["embedding"], p["residual"]),
    "max(e, r, T)": lambda p: np.maximum.reduce([p["embedding"], p["residual"], p["rotation"]]),
    "logsumexp(e, r, T)": lambda p: np.logaddexp.reduce([p["embedding"], p["residual"], p["rotation"]]),
    "e + max(r, 0) + max(T, 0)": lambda p: p["embedding"] + np.maximum(p["residual"], 0) + np.maximum(p["rotation"], 0),
}


def domain_aucs(payload: dict, variant: str, weights) -> float:
    """Mean over the file's records (classes, seeds) of the AUC on ``variant``'s parts of a weighting
    ``(rotation_weight, embedding_weight, lambda_score)``, or of a rule (a function of the parts)."""
    score = weights if callable(weights) else (lambda parts: mixture(parts, *weights))
    aucs = []
    for record in payload["records"]:
        parts = {k: np.asarray(v) for k, v in record["results"][variant]["standardized"].items()}
        aucs.append(roc_auc_score(record["y"], score(parts)))
    return float(np.mean(aucs))


def rank(payloads: dict, variant: str) -> list:
    """``[(mean AUC over domains, weights, {domain: AUC})]``, best first."""
    rows = []
    for weights in itertools.product(*GRID.values()):
        per_domain = {name: domain_aucs(p, variant, weights) for name, p in payloads.items()}
        rows.append((float(np.mean(list(per_domain.values()))), weights, per_domain))
    return sorted(rows, key=lambda row: -row[0])


def baseline(payload: dict) -> tuple[str, float]:
    means = {n: np.mean([r["results"][n]["auc"] for r in payload["records"]]) for n in BASELINE_NAMES}
    best = max(means, key=means.get)
    return best, float(means[best])


def report(paths, variants, top: int = 8) -> str:
    payloads = {}
    for path in paths:
        payload = read_results(path)
        payload = payload.get("result", payload)
        name = domain_name(payload, path)
        if name in payloads:  # one domain run in several files (a class per process): their records together
            payloads[name] = {**payloads[name], "records": payloads[name]["records"] + payload["records"]}
        else:
            payloads[name] = payload
    lines = []
    for variant in variants:
        ranked = rank(payloads, variant)
        names = list(payloads)
        lines += [
            f"## {variant}: weightings ranked by mean AUC over {len(names)} development domains",
            "",
            "| rotation_weight | embedding_weight | lambda_score | mean | " + " | ".join(names) + " |",
            "|---|---|---|---|" + "---|" * len(names),
        ]
        defaults = (0.0, 1.0, 0.9)
        # Beside the best: today's default, and the rotation part alone (GEOM's score).
        marks = {defaults: " (today's default)", (1.0, 1.0, 0.9): " (rotation part alone)"}
        shown = ranked[:top] + [row for row in ranked[top:] if row[1] in marks]
        for mean, weights, per_domain in shown:
            mark = marks.get(weights, "")
            cells = " | ".join(f"{per_domain[n]:.3f}" for n in names)
            lines.append(f"| {weights[0]} | {weights[1]} | {weights[2]}{mark} | **{mean:.3f}** | {cells} |")
        best = ranked[0][1]
        control = next(
            (
                v
                for v in payloads[names[0]]["records"][0]["results"]
                if v.startswith(variant.split()[0])
                and v.endswith("(untrained)")
                and "standardized" in payloads[names[0]]["records"][0]["results"][v]
            ),
            None,
        )
        lines += [
            "",
            f"Best weighting {best} against controls:",
            "",
            "| domain | trained | untrained | best baseline | margin over untrained | margin over baseline |",
            "|---|---|---|---|---|---|",
        ]
        for name in names:
            trained = ranked[0][2][name]
            untrained = domain_aucs(payloads[name], control, best) if control else float("nan")
            base_name, base = baseline(payloads[name])
            lines.append(
                f"| {name} | {trained:.3f} | {untrained:.3f} | {base:.3f} ({base_name}) | "
                f"{trained - untrained:+.3f} | {trained - base:+.3f} |"
            )
        lines += ["", "Non-linear rules over the same parts, trained / untrained:", ""]
        lines += ["| rule | mean | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
        for rule_name, rule in RULES.items():
            aucs = [domain_aucs(payloads[n], variant, rule) for n in names]
            controls = [domain_aucs(payloads[n], control, rule) if control else float("nan") for n in names]
            cells = " | ".join(f"{a:.3f} / {c:.3f}" for a, c in zip(aucs, controls))
            lines.append(f"| {rule_name} | **{np.mean(aucs):.3f}** | {cells} |")
        bases = [baseline(payloads[n]) for n in names]
        lines.append("| best pixel baseline | | " + " | ".join(f"{b:.3f} ({name})" for name, b in bases) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="dev_ablation results files written with --keep-parts")
    parser.add_argument("--variants", nargs="+", default=["SkipGANomaly rotation head", "GANomaly rotation head"])
    parser.add_argument("--top", type=int, default=8, help="weightings to list (default 8)")
    args = parser.parse_args(argv)
    print(report(args.paths, args.variants, args.top))


if __name__ == "__main__":
    main()
