"""skorch callbacks for the GAN training engine.

Every detector's ``callbacks`` parameter passes skorch callbacks through to
``skgan_ad._trainer.GANTrainer``. skorch's own ``EarlyStopping(load_best=True)``
restores only ``module_`` (our generator); the discriminator matters too,
since its features enter the latent loss and the score. ``RestoreBestModules``
restores both.
"""

from __future__ import annotations

import copy

from skorch.callbacks import Callback


class RestoreBestModules(Callback):
    """Restore every network to its state at the epoch with the best monitored value.

    Use with ``EarlyStopping`` for early stopping on held-out normal data only
    (never on test labels)::

        SkipGANomalyDetector(callbacks=[EarlyStopping(monitor="valid_loss", patience=3),
                                        RestoreBestModules(monitor="valid_loss")])

    Parameters
    ----------
    monitor : str, default="valid_loss"
        History key to watch; ``valid_loss`` is the detector's validation loss
        on held-out normals.
    lower_is_better : bool, default=True

    Attributes
    ----------
    best_epoch_ : int or None
        The epoch restored (also recorded as ``best_epoch`` in the last history row).
    """

    def __init__(self, monitor: str = "valid_loss", lower_is_better: bool = True) -> None:
        self.monitor = monitor
        self.lower_is_better = lower_is_better

    def initialize(self):
        self.best_score_ = None
        self.best_epoch_ = None
        self.best_states_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        better = self.best_score_ is None or (
            score < self.best_score_ if self.lower_is_better else score > self.best_score_
        )
        if better:
            self.best_score_ = score
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_states_ = {name: copy.deepcopy(getattr(net, name + "_").state_dict()) for name in net._modules}

    def on_train_end(self, net, **kwargs):
        if self.best_states_ is None:
            return
        for name, state in self.best_states_.items():
            getattr(net, name + "_").load_state_dict(state)
        net.history.record("best_epoch", self.best_epoch_)
        self.best_states_ = None  # the weights now live in the networks; do not keep a second copy
