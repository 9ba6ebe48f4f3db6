"""AnoGAN (Schlegl, Seeböck, Waldstein, Schmidt-Erfurth and Langs, IPMI 2017)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state

from .._validation import Interval, StrOptions
from ..base import BaseGANDetector
from ..losses import DISCRIMINATOR_TERMS, DCGANLoss, discriminator_term, latent_norm_distance, per_sample_l1
from ..nets import DCGANDecoder, DCGANDiscriminator, MLPDiscriminator, mlp_decoder


class AnoGANDetector(BaseGANDetector):
    """AnoGAN: a DCGAN trained on normal data; a sample is scored by how well the generator can match it.

    There is no encoder. To score ``x``, a latent code ``z`` is searched by
    gradient steps (Adam) on the loss ``(1 - lambda) L_res + lambda L_disc``
    with ``L_res = |x - G(z)|_1`` and ``L_disc`` the discriminator term
    (feature matching ``|f(x) - f(G(z))|_1`` by default). Normal samples are
    matched closely; anomalies are not. The search is what makes AnoGAN slow:
    it runs batched over ``batch_size`` samples (and all restarts) at once,
    with no per-sample Python loop; each sample stops moving once its loss
    is at most ``epsilon``, and the whole batch stops when every sample has,
    or after ``n_max`` steps.

    Every sample's search starts from the same ``n_restarts`` codes, drawn
    once from the prior with the fitted seed, so a score does not depend on
    which batch the sample came in.

    Parameters
    ----------
    n_epochs, batch_size, lr, contamination, validation_fraction, trim_fraction,
    trim_warmup, image_shape, device, random_state, verbose, callbacks, memory
        As for :class:`SkipGANomalyDetector` (shared base class).
    nz : int, default=100
        Latent size of the DCGAN (the tabular one uses ``min(nz, hidden_dims[-1])``).
    lambda_score : float in [0, 1], default=0.1
        Weight of the discriminator term in the search loss and the score
        (the paper's lambda).
    disc_term : {"fm", "ce"}, default="fm"
        Discriminator term: feature matching (the paper's improved
        discrimination loss) or cross-entropy of ``D(G(z))`` against "real"
        (the original one).
    n_max : int, default=500
        Most search steps per sample (the paper's Gamma = 500).
    epsilon : float, default=0.0
        Target dissimilarity: a sample's search stops once its loss is at
        most this. 0 runs all ``n_max`` steps.
    n_restarts : int, default=1
        Searches from this many starting codes; the best end point is kept.
    search_lr : float, default=0.05
        Adam step size of the search.
    latent_norm_weight : float, default=0.0
        Weight of the latent-norm part (distance of the found code from the
        prior's typical set) in the score; 0 leaves it out.
    ngf, ndf : int, default=64
        Base widths of the image generator and discriminator.
    hidden_dims : tuple of int, default=(64, 32)
        Tabular discriminator widths (the generator mirrors them).

    Only ``n_epochs`` ... ``memory`` train the networks; the search and score
    parameters change nothing in training, so a grid over them with
    ``memory`` set trains once.

    Attributes
    ----------
    generator_ : DCGANDecoder or Sequential
        G: latent codes to samples.
    discriminator_ : DCGANDiscriminator or MLPDiscriminator
    search_seed_ : int
        Seed of the search's starting codes.
    offset_, component_stats_, calibration_scores_, history_, n_iter_,
    image_shape_, input_shift_, input_scale_, n_features_in_, device_
        As for :class:`SkipGANomalyDetector`; score parts ``residual``,
        ``discriminator`` and ``latent_norm``.

    References
    ----------
    T. Schlegl, P. Seeböck, S. M. Waldstein, U. Schmidt-Erfurth, G. Langs.
    "Unsupervised Anomaly Detection with Generative Adversarial Networks to
    Guide Marker Discovery", IPMI 2017. arXiv:1703.05921.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import AnoGANDetector
    >>> X = np.random.RandomState(0).normal(size=(64, 4))
    >>> det = AnoGANDetector(n_epochs=2, n_max=20, hidden_dims=(8, 4), random_state=0).fit(X)
    >>> det.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseGANDetector._parameter_constraints,
        "nz": [Interval(Integral, 1, None, closed="left")],
        "lambda_score": [Interval(Real, 0, 1, closed="both")],
        "disc_term": [StrOptions(set(DISCRIMINATOR_TERMS))],
        "n_max": [Interval(Integral, 0, None, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "search_lr": [Interval(Real, 0, None, closed="neither")],
        "latent_norm_weight": [Interval(Real, 0, None, closed="left")],
        **BaseGANDetector._width_constraints,
    }
    _scoring_params = BaseGANDetector._scoring_params | {
        "lambda_score",
        "disc_term",
        "n_max",
        "epsilon",
        "n_restarts",
        "search_lr",
        "latent_norm_weight",
    }

    def __init__(
        self,
        *,
        n_epochs=15,
        batch_size=64,
        lr=2e-4,
        nz=100,
        lambda_score=0.1,
        disc_term="fm",
        n_max=500,
        epsilon=0.0,
        n_restarts=1,
        search_lr=0.05,
        latent_norm_weight=0.0,
        contamination=0.1,
        validation_fraction=0.1,
        trim_fraction=0.0,
        trim_warmup=2,
        image_shape=None,
        ngf=64,
        ndf=64,
        hidden_dims=(64, 32),
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        memory=None,
    ):
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.nz = nz
        self.lambda_score = lambda_score
        self.disc_term = disc_term
        self.n_max = n_max
        self.epsilon = epsilon
        self.n_restarts = n_restarts
        self.search_lr = search_lr
        self.latent_norm_weight = latent_norm_weight
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
        nz = self._latent_size(geometry)
        if geometry.is_image:
            return (
                DCGANDecoder(geometry.channels, geometry.size, nz, self.ngf),
                DCGANDiscriminator(geometry.channels, geometry.size, ndf=self.ndf),
            )
        return (
            mlp_decoder([nz, *reversed(self.hidden_dims), geometry.n_features]),
            MLPDiscriminator(geometry.n_features, self.hidden_dims),
        )

    def _build_objective(self, geometry):
        return DCGANLoss(nz=self._latent_size(geometry))

    def _fit(self, X) -> None:
        # The search's starting codes come from random_state like everything else.
        self.search_seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        super()._fit(X)

    # -- the latent search ---------------------------------------------------------
    def _search_loss(self, generator, discriminator, x, f_real, z):
        """Per-sample search loss and its parts for codes ``z`` matched against ``x`` (features ``f_real``)."""
        x_gen = generator(z)
        logits, f_fake = discriminator(x_gen)
        crop = self._geometry().crop
        residual = per_sample_l1(crop(x), crop(x_gen))
        disc = discriminator_term(self.disc_term, logits, f_real, f_fake)
        return (1 - self.lambda_score) * residual + self.lambda_score * disc, residual, disc

    def _search(self, generator, discriminator, x: torch.Tensor):
        """Find each sample's best code: ``(z, residual, disc, loss, n_steps)``, all batched."""
        n, restarts = len(x), self.n_restarts
        nz = self._latent_size(self._geometry())
        # Mirror the map_batches pattern: weights stay fixed, only z is optimised.
        for p in (*generator.parameters(), *discriminator.parameters()):
            p.requires_grad_(False)
        starts = torch.randn(restarts, nz, generator=torch.Generator().manual_seed(self.search_seed_))
        z = starts.to(x).repeat_interleave(n, dim=0).requires_grad_(True)  # restart-major: (restarts * n, nz)
        x_rep = x.repeat(restarts, *([1] * (x.dim() - 1)))
        with torch.no_grad():
            f_real = discriminator(x_rep)[1]  # fixed during the search: computed once
        optimizer = torch.optim.Adam([z], lr=self.search_lr)
        active = torch.ones(len(z), dtype=torch.bool, device=x.device)
        n_steps = torch.zeros(len(z), dtype=torch.long, device=x.device)
        with torch.enable_grad():
            for _ in range(self.n_max):
                loss = self._search_loss(generator, discriminator, x_rep, f_real, z)[0]
                active &= loss.detach() > self.epsilon
                if not bool(active.any()):
                    break
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()  # samples are independent: the sum's gradient is each sample's own
                before = z.detach().clone()
                optimizer.step()
                with torch.no_grad():
                    z[~active] = before[~active]  # Adam's momentum would keep moving finished codes
                n_steps += active
        with torch.no_grad():
            loss, residual, disc = self._search_loss(generator, discriminator, x_rep, f_real, z)
            best = loss.view(restarts, n).argmin(dim=0)
            pick = best * n + torch.arange(n, device=x.device)
            return z.detach()[pick], residual[pick], disc[pick], loss[pick], n_steps[pick]

    def latent_search(self, X) -> dict[str, np.ndarray]:
        """Run the scoring search and return what it found, per sample.

        Returns
        -------
        dict with ``z`` (n, nz), ``loss`` (n,) the search loss at the end,
        and ``n_steps`` (n,) the steps taken by the best restart (at most
        ``n_max``; fewer when its loss reached ``epsilon``).
        """
        rows, _ = self._validate(X)

        def run(generator, discriminator, x):
            z, _, _, loss, n_steps = self._search(generator, discriminator, x)
            return {"z": z.cpu().numpy(), "loss": loss.cpu().numpy(), "n_steps": n_steps.cpu().numpy()}

        batches = self._map_batches(rows, run)
        out = {key: np.concatenate([b[key] for b in batches]) for key in batches[0]}
        out["z"], out["loss"] = out["z"].astype(np.float64), out["loss"].astype(np.float64)
        return out

    # -- hooks -------------------------------------------------------------------------
    def _generate(self, generator, discriminator, x):
        return generator(self._search(generator, discriminator, x)[0])

    def _batch_components(self, generator, discriminator, x):
        z, residual, disc, _, _ = self._search(generator, discriminator, x)
        return {"residual": residual, "discriminator": disc, "latent_norm": latent_norm_distance(z)}

    def _component_weights(self):
        return {
            "residual": 1.0 - self.lambda_score,
            "discriminator": self.lambda_score,
            "latent_norm": self.latent_norm_weight,
        }
