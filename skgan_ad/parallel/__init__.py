"""Scaling out on existing engines: Dask for searches and scoring, ``torch.distributed`` for training.

Two independent backends, one submodule each; every public name is importable from here:

* :mod:`skgan_ad.parallel.dask`: searches on a Dask cluster (:func:`setup_workers`, :class:`TorchThreads`,
  :class:`ClusterMemory`, a ``memory=`` cache that trains each network once under a cluster-wide lock) and
  :func:`score_dask`, scoring a ``dask.array`` or Dask DataFrame block by block into a lazy result.
  Dask is imported lazily: ``pip install "skgan_ad[distributed]"``.
* :mod:`skgan_ad.parallel.distributed`: data-parallel training over the ranks of a ``torch.distributed``
  group launched with ``torchrun`` (:func:`fit_distributed`, :func:`distributed_training`,
  :class:`DistributedGANTrainer`, :func:`check_ranks_agree`, ...). ``torch.distributed`` ships with torch.
"""

from __future__ import annotations

from .dask import ClusterMemory, TorchThreads, score_dask, setup_workers
from .distributed import (
    DistributedGANTrainer,
    check_ranks_agree,
    desynchronise_batchnorm,
    detector_digest,
    distributed_training,
    fit_distributed,
    synchronise_batchnorm,
)

__all__ = [
    "ClusterMemory",
    "DistributedGANTrainer",
    "TorchThreads",
    "check_ranks_agree",
    "desynchronise_batchnorm",
    "detector_digest",
    "distributed_training",
    "fit_distributed",
    "score_dask",
    "setup_workers",
    "synchronise_batchnorm",
]
