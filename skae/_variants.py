"""What each variant adds to an architecture: parameters, objective, model options.

These mixins go before an architecture mixin and ``BaseAutoencoder`` in an
estimator's bases; each is a few methods, the training loop stays the engine's.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
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

    def _prepare_fit(self, low: float, high: float) -> None:
        super()._prepare_fit(low, high)
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(
                f"noise={self.noise!r} takes noise_level as a probability in [0, 1]; "
                f"got {self.noise_level}."
            )
        self._data_range = (low, high)

    def _objective(self):
        # Gaussian noise is clipped to the data range for data in [0, 1].
        low, high = self._data_range
        clip = self.noise == "gaussian" and low >= 0 and high <= 1
        return Denoising(self.reconstruction_loss_, self.out_activation_, self.noise, clip)

    def _extra_hyperparameters(self) -> dict:
        low, high = self._data_range
        return {"noise_level": self.noise_level, "data_min": low, "data_max": high}


class SparseMixin:
    """Parameters ``sparsity``, ``sparsity_weight``, ``sparsity_target``."""

    _variant_constraints: dict = {
        "sparsity": [StrOptions({"l1", "kl"})],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
    }

    def _model_options(self) -> dict:
        # A ReLU code has exact zeros for the L1 penalty; the KL penalty needs
        # activations in (0, 1), read as firing rates.
        return {"code_activation": "relu" if self.sparsity == "l1" else "sigmoid"}

    def _objective(self):
        return SparseCode(self.reconstruction_loss_, self.out_activation_, self.sparsity)

    def _extra_hyperparameters(self) -> dict:
        return {"sparsity_weight": self.sparsity_weight, "sparsity_target": self.sparsity_target}


# Up to this many Jacobian entries per sample, jacobian="auto" computes it exactly.
EXACT_JACOBIAN_MAX_COMPONENTS = 32


class ContractiveMixin:
    """Parameters ``contractive_weight`` and ``jacobian``."""

    _variant_constraints: dict = {
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
        "jacobian": [StrOptions({"auto", "exact", "hutchinson"})],
    }

    def _jacobian_method(self) -> str:
        if self.jacobian != "auto":
            return self.jacobian
        exact = self.n_components_ <= EXACT_JACOBIAN_MAX_COMPONENTS
        return "exact" if exact else "hutchinson"

    def _objective(self):
        return Contractive(self.reconstruction_loss_, self.out_activation_, self._jacobian_method())

    def _extra_hyperparameters(self) -> dict:
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
        graphdef, params = self._device_model()
        norms = self._chunked(lambda chunk: _engine.jacobian_sq_norms(graphdef, params, chunk), X)
        return np.sqrt(norms).astype(X.dtype, copy=False)


class VariationalMixin:
    """Parameters ``beta`` and ``n_importance_samples``; ``sample``."""

    _variant_constraints: dict = {
        "beta": [Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
    }

    def _model_options(self) -> dict:
        return {"variational": True, "gaussian_scale": self.reconstruction_loss_ == "mse"}

    def _objective(self):
        return Variational(
            self.reconstruction_loss_, self.out_activation_, self.n_importance_samples
        )

    def _extra_hyperparameters(self) -> dict:
        return {"beta": self.beta}

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
        X_new : ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
        codes = check_random_state(random_state).standard_normal((n_samples, self.n_components_))
        return self.inverse_transform(codes)
