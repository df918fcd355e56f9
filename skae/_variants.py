"""What each variant adds to an architecture: parameters, objective, model options.

These mixins go before an architecture mixin and ``BaseAutoencoder`` in an
estimator's bases; each is a few methods, the training loop stays the engine's.
"""

from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _engine
from ._noise import NOISES
from ._objectives import Contractive, Denoising, SparseCode, Variational


class DenoisingMixin:
    """Parameters ``noise`` and ``noise_level``: train on corrupted inputs."""

    _variant_constraints: dict = {
        "noise": [StrOptions(set(NOISES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
    }

    def _objective(self, loss, output_activation, n_components, data_range):
        if self.noise != "gaussian" and self.noise_level > 1:
            raise InvalidParameterError(
                f"The 'noise_level' parameter of {type(self).__name__} is a probability "
                f"with noise={self.noise!r}, so it must be in [0, 1]. Got "
                f"{self.noise_level!r} instead."
            )
        # Gaussian noise is clipped to the data range for data in [0, 1].
        low, high = data_range
        clip = self.noise == "gaussian" and low >= 0 and high <= 1
        return Denoising(loss, output_activation, self.noise, clip)

    def _extra_hyperparameters(self, data_range) -> dict:
        low, high = data_range
        return {"noise_level": self.noise_level, "data_min": low, "data_max": high}


class SparseMixin:
    """Parameters ``sparsity``, ``sparsity_weight``, ``sparsity_target``."""

    _variant_constraints: dict = {
        "sparsity": [StrOptions({"l1", "kl"})],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
    }

    def _model_options(self, loss: str) -> dict:
        # A ReLU code has exact zeros for the L1 penalty; the KL penalty needs
        # activations in (0, 1), read as firing rates. Applied to a user's
        # encoder too.
        return {"code_activation": "relu" if self.sparsity == "l1" else "sigmoid"}

    def _objective(self, loss, output_activation, n_components, data_range):
        return SparseCode(loss, output_activation, self.sparsity)

    def _extra_hyperparameters(self, data_range) -> dict:
        return {"sparsity_weight": self.sparsity_weight, "sparsity_target": self.sparsity_target}


# Up to this many Jacobian entries per sample, jacobian="auto" computes it exactly.
EXACT_JACOBIAN_MAX_COMPONENTS = 32


class ContractiveMixin:
    """Parameters ``contractive_weight`` and ``jacobian``."""

    _variant_constraints: dict = {
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
        "jacobian": [StrOptions({"auto", "exact", "hutchinson"})],
    }

    def _objective(self, loss, output_activation, n_components, data_range):
        method = self.jacobian
        if method == "auto":
            exact = n_components <= EXACT_JACOBIAN_MAX_COMPONENTS
            method = "exact" if exact else "hutchinson"
        return Contractive(loss, output_activation, method)

    def _extra_hyperparameters(self, data_range) -> dict:
        return {"contractive_weight": self.contractive_weight}

    def jacobian_norm(self, X) -> np.ndarray:
        """Frobenius norm of the encoder's Jacobian at each sample (exact).

        Small values mean codes that change little under small input changes,
        which is what the contractive penalty asks for.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        norms : ndarray of shape (n_samples,)
        """
        X = self._validate_for_inference(X)
        graph, variables = self._eval_model()
        norms = self._chunked(lambda chunk: _engine.jacobian_sq_norms(graph, variables, chunk), X)
        return np.sqrt(norms).astype(X.dtype, copy=False)


class VariationalMixin:
    """Parameters ``beta`` and ``n_importance_samples``; ``sample``."""

    _variant_constraints: dict = {
        "beta": [Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
    }

    def _model_options(self, loss: str) -> dict:
        return {"variational": True, "gaussian_scale": loss == "mse"}

    def _objective(self, loss, output_activation, n_components, data_range):
        return Variational(loss, output_activation, self.n_importance_samples)

    def _extra_hyperparameters(self, data_range) -> dict:
        return {"beta": self.beta}

    def _row_scores(self, X, model, check_finite=True) -> np.ndarray:
        """The ELBO in nats, with a Gaussian tail for values outside the training range.

        The ELBO is computed on ``X`` clipped to the training range (where a
        Bernoulli likelihood is defined), minus ``0.5 * sum((d / s) ** 2)`` nats,
        ``d`` being each value's distance outside the range and ``s`` a quarter
        of the feature's training range (about a standard deviation; floored):
        inside the range it is the plain ELBO, and it falls as a sample moves
        away from the data.
        """
        key = jax.random.key(0)
        low, high = (jnp.asarray(bound, jnp.float32) for bound in (model.data_min, model.data_max))
        # A quarter of the training range, about one standard deviation.
        scale = (model.data_max - model.data_min) / 4
        scale = np.maximum(scale, 1e-3 * max(float(scale.max(initial=0.0)), 1e-9))

        def losses(chunk):
            batch = (jnp.clip(chunk, low, high), None)
            return _engine.sample_losses(
                model.graph, model.objective, model.variables, batch, key, {}
            )

        def elbo(losses, X_rows):
            X_rows = np.asarray(X_rows, dtype=np.float64)
            outside = (X_rows - np.clip(X_rows, model.data_min, model.data_max)) / scale
            return -losses.astype(np.float64) - 0.5 * np.sum(np.square(outside), axis=1)

        return self._chunked(losses, X, check_finite, elbo)

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each sample, in nats: higher is more normal.

        With ``n_importance_samples > 1``, the importance-weighted bound. A value
        outside the range its feature had in training costs ``0.5 * (d / s) ** 2``
        nats more, ``d`` its distance to the range and ``s`` a quarter of the
        range's width (about a standard deviation), so scores are defined for
        every finite input and fall as a sample moves away from the data. Every
        sample is scored with the same random draws of the latent code (common
        random numbers), so scores are reproducible and comparable.
        :meth:`reconstruction_error` gives the per-feature squared errors of
        the decoded posterior mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score; any finite values.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            In the dtype of ``X`` (float32 or float64).
        """
        return super().score_samples(X)

    _interpolation = "spherical"  # see BaseAutoencoder.interpolate

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Generate new data: decode codes drawn from the prior N(0, I).

        Returns the mean of the likelihood at each drawn code (pixel
        probabilities for ``loss="bce"``).

        Parameters
        ----------
        n_samples : int, default=1
            How many samples to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the drawn codes.

        Returns
        -------
        X_new : ndarray of shape (n_samples, `n_features_in_`)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
        codes = check_random_state(random_state).standard_normal((n_samples, self.n_components_))
        return self.inverse_transform(codes)
