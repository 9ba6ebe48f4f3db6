"""Skip-GANomaly (Akcay, Atapour-Abarghouei and Breckon, IJCNN 2019)."""

from __future__ import annotations

from numbers import Real

import torch

from .._validation import Interval
from ..base import BaseGANDetector
from ..losses import SkipGANomalyLoss, per_sample_mse
from ..nets import DCGANDiscriminator, MLPDiscriminator, SkipMLPGenerator, SkipUNetGenerator


class SkipGANomalyDetector(BaseGANDetector):
    """Skip-GANomaly: a U-Net generator with skip connections trained adversarially on normal data.

    The generator reconstructs its input; a DCGAN discriminator both judges
    real vs generated and supplies the features ``f(x)`` for the latent loss.
    Normal data are reconstructed well and look real to the discriminator;
    anomalies are not. Trained on normal samples only (``y`` is ignored).

    Images (1 or more channels, any size: see "Inputs" below) use a
    convolutional U-Net and DCGAN discriminator; tabular rows use the
    fully connected counterparts.

    Parameters
    ----------
    n_epochs : int, default=15
        Training epochs (paper: 15).
    batch_size : int, default=64
        Mini-batch size for training and scoring (paper: 64).
    lr : float, default=2e-4
        Adam learning rate of both networks (betas 0.5, 0.999). The paper
        states 2e-3, its reference code uses 2e-4, which trains stably.
    w_adv, w_con, w_lat : float, default=1, 40, 1
        Weights of the adversarial, contextual (L1 reconstruction) and latent
        (discriminator feature) generator losses; 40 is the paper's w_con,
        the reference code uses 50.
    lambda_score : float in [0, 1], default=0.9
        Weight of the reconstruction part in the anomaly score
        ``A = lambda R + (1 - lambda) L`` (reference code value). Both parts are
        standardised on held-out normals first. Changing it needs no retraining.
    contamination : float in (0, 0.5], default=0.1
        Share of normal data to flag: ``offset_`` is this quantile of the
        held-out normal scores, so it is the false-positive rate accepted.
    validation_fraction : float in [0, 1), default=0.1
        Share of the training data held out (at least one sample) for the
        validation loss, the score statistics and ``offset_``. With 0 the
        training data are reused, which makes ``offset_`` optimistic.
    trim_fraction : float in [0, 1), default=0.0
        For training data that may hold anomalies: after ``trim_warmup``
        epochs, each epoch leaves out this share of the training samples
        with the highest training loss (the likeliest anomalies); the indices
        left out are in ``history_[:, "train_dropped"]``. 0 uses every sample.
    trim_warmup : int, default=2
        Epochs on all samples before trimming starts.
    image_shape : tuple (C, H, W) or None, default=None
        Shape of one image when ``X`` holds flattened images; also settles an
        ambiguous 4-D layout. None with 2-D ``X`` means tabular data.
    ngf, ndf : int, default=64
        Base widths of the image generator and discriminator (channels of the
        first level, doubled per level up to 8x).
    hidden_dims : tuple of int, default=(64, 32, 16)
        Layer widths of the tabular encoder (mirrored by the decoder) and
        discriminator.
    device : str or torch.device, default="auto"
        "auto" trains on CUDA when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the held-out split and shuffling (through
        local generators; global random states are not touched). On the CPU
        the same value gives the same scores, bit for bit.
    verbose : int, default=0
        0 silent, 1 a table line per epoch, 2 also a progress bar per epoch.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Passed to the skorch training engine, e.g.
        ``EarlyStopping(monitor="valid_loss")`` or ``Checkpoint(...)``. The
        validation loss is the contextual loss on held-out normals.
    memory : str, path, joblib.Memory or None, default=None
        Caches trained networks (like ``Pipeline(memory=...)``), keyed on the
        training parameters, the seed and the data. Parameters that only
        change scoring (``lambda_score``, ``contamination``) are not part of
        the key, so a grid search over them trains each network once.

    Attributes
    ----------
    generator_, discriminator_ : torch.nn.Module
        The trained networks, in eval mode.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    component_stats_ : dict
        ``{"reconstruction": (mean, std), "latent": (mean, std)}`` on held-out normals.
    calibration_scores_ : ndarray of shape (n_held_out,)
        ``score_samples`` of the held-out normals (the training rows when
        ``validation_fraction=0``); ``offset_`` is their ``contamination`` quantile.
    history_ : skorch.History
        Per-epoch losses (``train_loss``, ``valid_loss``, ``train_adv``,
        ``train_con``, ``train_lat``, ``train_d_loss``, ...).
    n_iter_ : int
        Epochs run.
    image_shape_ : tuple or None
        (C, H, W) of the training images; None for tabular data.
    input_shift_, input_scale_ : float or ndarray
        Scaling of the inputs to the networks' range (see Notes).
    n_features_in_ : int
    feature_names_in_ : ndarray, only with DataFrame input
    device_ : str
        Device the networks were trained on.

    Notes
    -----
    Inputs: tabular ``(n, d)``; images ``(n, H, W)``, ``(n, C, H, W)``,
    ``(n, H, W, C)`` or flat rows with ``image_shape``. Integer images are
    read as 0..255, float images between the training set's min and max; both
    are mapped to [-1, 1]. Images are padded by border replication to a square
    power-of-two side of at least 8 (28x28 -> 32x32), and scored on their
    original pixels only. Tabular features are standardised.

    Score parts, as in the reference code: ``reconstruction`` is the mean
    squared pixel error, ``latent`` the mean squared difference of the
    discriminator's last feature maps for ``x`` and ``G(x)``.

    Departures from the reference code, on purpose: scoring runs in eval mode
    (BatchNorm running statistics) so a score never depends on its batch; the
    latent loss is back-propagated before the generator step; no noise is
    added to inputs; epochs are never chosen on test labels. The first matters
    most for comparing with published CIFAR-10 numbers: the reference code
    scores a label-sorted test set in train-mode BatchNorm, so each batch is
    normalised by statistics of one label; ``benchmarks/reference_protocol.py``
    measures what that adds.

    References
    ----------
    S. Akcay, A. Atapour-Abarghouei, T. P. Breckon. "Skip-GANomaly: Skip
    Connected and Adversarially Trained Encoder-Decoder Anomaly Detection",
    IJCNN 2019. arXiv:1901.08954.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import SkipGANomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(64, 4))
    >>> det = SkipGANomalyDetector(n_epochs=2, hidden_dims=(8, 4), random_state=0).fit(X)
    >>> det.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseGANDetector._parameter_constraints,
        "w_adv": [Interval(Real, 0, None, closed="left")],
        "w_con": [Interval(Real, 0, None, closed="left")],
        "w_lat": [Interval(Real, 0, None, closed="left")],
        "lambda_score": [Interval(Real, 0, 1, closed="both")],
        **BaseGANDetector._width_constraints,
    }
    _scoring_params = BaseGANDetector._scoring_params | {"lambda_score"}

    def __init__(
        self,
        *,
        n_epochs=15,
        batch_size=64,
        lr=2e-4,
        w_adv=1.0,
        w_con=40.0,
        w_lat=1.0,
        lambda_score=0.9,
        contamination=0.1,
        validation_fraction=0.1,
        trim_fraction=0.0,
        trim_warmup=2,
        image_shape=None,
        ngf=64,
        ndf=64,
        hidden_dims=(64, 32, 16),
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        memory=None,
    ):
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.w_adv = w_adv
        self.w_con = w_con
        self.w_lat = w_lat
        self.lambda_score = lambda_score
        self.contamination = contamination
        self.validation_fraction = validation_fraction
        self.trim_fraction = trim_fraction
        self.trim_warmup = trim_warmup
        self.image_shape = image_shape
        self.ngf = ngf
        self.ndf = ndf
        self.hidden_dims = hidden_dims
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.memory = memory

    def _build_networks(self, geometry):
        if geometry.is_image:
            return (
                SkipUNetGenerator(geometry.channels, geometry.size, ngf=self.ngf),
                DCGANDiscriminator(geometry.channels, geometry.size, ndf=self.ndf),
            )
        return (
            SkipMLPGenerator(geometry.n_features, self.hidden_dims),
            MLPDiscriminator(geometry.n_features, self.hidden_dims),
        )

    def _build_objective(self, geometry):
        return SkipGANomalyLoss(w_adv=self.w_adv, w_con=self.w_con, w_lat=self.w_lat)

    def _batch_components(self, generator, discriminator, x: torch.Tensor) -> dict[str, torch.Tensor]:
        fake = generator(x)
        _, f_real = discriminator(x)
        _, f_fake = discriminator(fake)
        crop = self._geometry().crop
        return {"reconstruction": per_sample_mse(crop(x), crop(fake)), "latent": per_sample_mse(f_real, f_fake)}

    def _component_weights(self) -> dict[str, float]:
        return {"reconstruction": self.lambda_score, "latent": 1.0 - self.lambda_score}
