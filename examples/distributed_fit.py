"""Training on several processes with torch.distributed
====================================================

Train one detector data-parallel over several processes with torch.distributed, launched by torchrun.

::

    torchrun --standalone --nproc_per_node 2 examples/distributed_fit.py            # 2 CPU processes (gloo)
    torchrun --standalone --nproc_per_node 4 examples/distributed_fit.py --save model.safetensors   # 4 GPUs (nccl)
    python examples/distributed_fit.py                                               # the same fit, one process

The digits, leave-one-class-out (DESIGN.md's split; ``--digit`` is the
abnormal class). Every rank loads the same data and fits with the same
``random_state``; ``skgan_ad.parallel.fit_distributed`` splits each batch
over the ranks, averages the gradients, checks that all ranks end with the
same weights, score statistics and ``offset_``, and rank 0 saves. On a
machine with GPUs, rank r trains on GPU r (``device="auto"``).

Several machines: ``torchrun --nnodes 2 --node_rank R --nproc_per_node 4
--rdzv_endpoint HOST:29500 examples/distributed_fit.py`` on each.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from sklearn.metrics import roc_auc_score

from skgan_ad import SkipGANomalyDetector
from skgan_ad.datasets import digits_leave_one_out
from skgan_ad.io import save
from skgan_ad.parallel import detector_digest, fit_distributed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digit", type=int, default=0, help="the abnormal digit")
    parser.add_argument("--width", type=int, default=64, help="ngf = ndf (the detector's default 64)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch, split over the ranks")
    parser.add_argument("--max-train", type=int, help="train on the first N normal images only (quick runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="where rank 0 saves the fitted detector")
    parser.add_argument("--report", help="write each rank's results as JSON to REPORT/rank<r>.json")
    args = parser.parse_args(argv)

    split = digits_leave_one_out(abnormal_class=args.digit)
    X_train = split.X_train[: args.max_train]
    detector = SkipGANomalyDetector(
        ngf=args.width, ndf=args.width, n_epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed
    )
    distributed = "WORLD_SIZE" in os.environ  # set by torchrun
    start = time.perf_counter()
    if distributed:
        rank = int(os.environ["RANK"])
        world = int(os.environ["WORLD_SIZE"])
        fit_distributed(detector, X_train, path=args.save)
    else:
        rank, world = 0, 1
        detector.fit(X_train)
    fit_s = time.perf_counter() - start

    auc = roc_auc_score(split.y_test, detector.anomaly_score(split.X_test))
    if rank == 0:
        print(f"{world} process(es), {len(X_train)} training images: fit {fit_s:.1f} s, test AUC {auc:.3f}")
        if args.save and not distributed:
            save(detector, args.save)  # under torchrun, fit_distributed has saved it (rank 0)
        if args.save:
            print(f"saved to {args.save}")
    if args.report:
        os.makedirs(args.report, exist_ok=True)
        record = dict(
            rank=rank,
            world_size=world,
            auc=auc,
            fit_s=fit_s,
            offset=detector.offset_,
            component_stats=detector.component_stats_,
            n_iter=detector.n_iter_,
            train_loss=detector.history_[:, "train_loss"],
            digest=detector_digest(detector),
        )
        with open(os.path.join(args.report, f"rank{rank}.json"), "w") as f:
            json.dump(record, f, indent=1)
    return detector, auc


if __name__ == "__main__":
    main()
