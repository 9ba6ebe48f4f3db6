"""AnoGAN (Schlegl, Seeböck, Waldstein, Schmidt-Erfurth and Langs, IPMI 2017)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import check_random_state

from .._outlier import draw_seed
from .._params import estimator_params, param
from .._validation import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, StrOptions
from ..base import BaseGANDetector
from ..losses import DISCRIMINATOR_TERMS, DCGANLoss, discriminator_term, latent_norm_distance, per_sample_l1
from ..nets import DCGANDecoder, DCGANDiscriminator, MLPDiscriminator, mlp_decoder


@estimator_params
class AnoGANDetector(BaseGANDetector):
    """AnoGAN: a DCGAN trained on normal data; a sample is scored by how well the generator can match it.

    There is no encoder. To score ``x``, a latent code ``z`` is searched by
    gradient steps (Adam) on the loss
    ``lambda_score * L_res + (1 - lambda_score) * L_disc``
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
    nz : int, default=100
        Latent size of the DCGAN (the tabular one uses ``min(nz, hidden_dims[-1])``).
    lambda_score : float in [0, 1], default=0.9
        Share of the ``residual`` part in the search loss and the score;
        ``1 - lambda_score`` is the paper's lambda (0.1), the weight of the
        discriminator term.
    disc_term : {"fm", "ce"}, default="fm"
        Discriminator term: feature matching (the paper's improved
        discrimination loss; score part ``feature``) or cross-entropy of
        ``D(G(z))`` against "real" (the original one; score part
        ``discriminator``).
    n_max : int, default=100
        Most search steps per sample. The paper's Gamma is 500; on MNIST
        development splits (training images only, one-class, classes 0 and
        7) 100 steps scored higher (residual AUC 0.947 / 0.957 against
        0.930 / 0.945 at 400: a longer search fits anomalies too) and runs
        about 5x faster. :meth:`paper` uses 500.
    epsilon : float, default=0.0
        Target dissimilarity: a sample's search stops once its loss is at
        most this. 0 runs all ``n_max`` steps.
    n_restarts : int, default=1
        Searches from this many starting codes; the best end point is kept.
    search_lr : float, default=0.05
        Adam step size of the search.
    latent_norm_weight : float, default=0.0
        Weight of the ``latent_norm`` part (distance of the found code from the
        prior's typical set) in the score; 0 leaves it out.
    {shared_parameters}

    Only the shared training parameters train the networks; the search and
    score parameters change nothing in training, so a grid over them with
    ``memory`` set trains once.

    Attributes
    ----------
    generator_ : DCGANDecoder or Sequential
        G: latent codes to samples.
    discriminator_ : DCGANDiscriminator or MLPDiscriminator
    search_seed_ : int
        Seed of the search's starting codes.
    {shared_attributes}

    Notes
    -----
    Score parts and the paper's symbols: ``residual`` is R(x) = ``|x - G(z*)|_1``
    and ``feature`` D(x) = ``|f(x) - f(G(z*))|_1`` at the code ``z*`` found by
    the search; A(x) = (1 - lambda) R(x) + lambda D(x) with the paper's
    lambda = ``1 - lambda_score``.

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

    nz: int = param(100, POSITIVE_INT)
    disc_term: str = param("fm", StrOptions(set(DISCRIMINATOR_TERMS)))
    n_max: int = param(100, NON_NEGATIVE_INT)
    epsilon: float = param(0.0, NON_NEGATIVE)
    n_restarts: int = param(1, POSITIVE_INT)
    search_lr: float = param(0.05, POSITIVE)
    latent_norm_weight: float = param(0.0, NON_NEGATIVE)

    _paper_params = {**BaseGANDetector._paper_params, "n_max": 500, "lambda_score": 0.9}

    # The search and score options change nothing in training.
    _scoring_params = BaseGANDetector._scoring_params | {
        "disc_term",
        "n_max",
        "epsilon",
        "n_restarts",
        "search_lr",
        "latent_norm_weight",
    }

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

    def _fit(self, X, y=None) -> None:
        # The search's starting codes come from random_state like everything else.
        self.search_seed_ = draw_seed(check_random_state(self.random_state))
        super()._fit(X, y)

    # -- the latent search ---------------------------------------------------------
    def _search_loss(self, generator, discriminator, x, f_real, z, geometry):
        """Per-sample search loss and its parts for codes ``z`` matched against ``x`` (features ``f_real``)."""
        x_gen = generator(z)
        logits, f_fake = discriminator(x_gen)
        residual = per_sample_l1(geometry.crop(x), geometry.crop(x_gen))
        disc = discriminator_term(self.disc_term, logits, f_real, f_fake)
        return self.lambda_score * residual + (1 - self.lambda_score) * disc, residual, disc

    def _search(self, generator, discriminator, x: torch.Tensor, geometry):
        """Find each sample's best code: ``(z, disc, loss, n_steps)``, all batched.

        The residual at the found code is not returned: the score recomputes it
        from ``G(z)`` with the residual options (smoothing, per-pixel scale)."""
        n, restarts = len(x), self.n_restarts
        nz = self._latent_size(geometry)
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
                loss = self._search_loss(generator, discriminator, x_rep, f_real, z, geometry)[0]
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
            loss, _, disc = self._search_loss(generator, discriminator, x_rep, f_real, z, geometry)
            best = loss.view(restarts, n).argmin(dim=0)
            pick = best * n + torch.arange(n, device=x.device)
            return z.detach()[pick], disc[pick], loss[pick], n_steps[pick]

    def latent_search(self, X) -> dict[str, np.ndarray]:
        """Run the scoring search and return what it found, per sample.

        Returns
        -------
        dict with ``z`` (n, nz), ``loss`` (n,) the search loss at the end,
        and ``n_steps`` (n,) the steps taken by the best restart (at most
        ``n_max``; fewer when its loss reached ``epsilon``).
        """

        def run(generator, discriminator, x, geometry):
            z, _, loss, n_steps = self._search(generator, discriminator, x, geometry)
            return {"z": z.cpu().numpy(), "loss": loss.cpu().numpy(), "n_steps": n_steps.cpu().numpy()}

        return self._map_input(X, run)[0]

    # -- hooks -------------------------------------------------------------------------
    def _generate(self, generator, discriminator, x, geometry):
        return generator(self._search(generator, discriminator, x, geometry)[0])

    def _batch_components(self, generator, discriminator, x, geometry):
        z, disc, _, _ = self._search(generator, discriminator, x, geometry)
        parts = {
            "residual": self._residual(x, generator(z), geometry),
            DISCRIMINATOR_TERMS[self.disc_term]: disc,
            "latent_norm": latent_norm_distance(z),
        }
        return parts, None  # the code (D's features of x) is not a by-product of the search's output
