"""The scikit-learn shell shared by every skae estimator.

A subclass says *what* to train (``_build_model``, ``_objective`` and, if it
has any, ``_extra_hyperparameters``); this class does the rest the same way for
all of them: validation, the epoch loop with early stopping and progress bar,
chunked inference on the device, feature names and pickling.
"""

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _engine
from ._models.activations import ACTIVATIONS
from ._objectives import Reconstruction
from ._optimizers import OPTIMIZERS, OptimizerSpec
from ._progress import EpochProgress
from ._validation import check_unit_interval, resolve_loss

# Inference runs in chunks of a fixed number of rows: one compiled program per
# method whatever the input size, bounded device memory, and a row's result that
# does not depend on which other rows came with it (XLA may pick a different
# matmul strategy for another shape, which changes the last bits).
INFERENCE_ROWS = {"cpu": 1024}.get(jax.default_backend(), 8192)


class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Base class for skae's autoencoders. Not meant to be used directly."""

    _parameter_constraints: dict = {
        "output_activation": [StrOptions(set(ACTIVATIONS) | {"auto"})],
        "loss": [StrOptions({"auto", "mse", "bce"})],
        "optimizer": [StrOptions(set(OPTIMIZERS)), HasMethods(["init", "update"])],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ----------------------------------------------------------------- hooks
    @abstractmethod
    def _build_model(self, n_features: int, rngs: nnx.Rngs) -> nnx.Module:
        """The Flax module to train, for inputs of ``n_features`` columns."""

    def _objective(self):
        """The training objective, a hashable object (see ``skae._objectives``)."""
        return Reconstruction(self.reconstruction_loss_, self.out_activation_)

    def _extra_hyperparameters(self) -> dict:
        """Numeric hyper-parameters the objective reads, traced (not compiled in)."""
        return {}

    def _validate_input(self, X, reset: bool, check_finite: bool = True) -> np.ndarray:
        """``X`` checked and converted to a 2-D float array (sets ``n_features_in_``)."""
        return validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], ensure_all_finite=check_finite
        )

    def _prepare_fit(self, low: float, high: float) -> None:
        """Record what a fresh fit needs from the data's range [low, high] (hook)."""

    # ----------------------------------------------------------- scikit-learn
    @property
    def _n_features_out(self) -> int:
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Outputs come back in the input's float dtype (computation is float32).
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def __getstate__(self):
        # Device arrays and compiled functions are caches: never pickled, rebuilt
        # on first use, so a model trained on a GPU loads on a CPU-only machine.
        state = super().__getstate__()
        device = state.pop("_device", None) or {}
        if device.get("opt_state") is not None:
            state["_optimizer_state"] = jax.tree.map(np.asarray, device["opt_state"])
        return state

    # --------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Trains for up to ``max_iter`` epochs, stopping early when the loss (or
        the validation score, with ``early_stopping=True``) stops improving, and
        keeps the best weights seen. With ``warm_start=True`` it continues from
        the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch over ``X``, continuing from the current state.

        The first call initialises the model; later calls keep the weights and
        the optimizer state, so a stream of batches trains like one long fit.
        Early stopping does not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, incremental=True)

    def _fit(self, X, incremental: bool):
        fresh = not hasattr(self, "params_") or not (incremental or self.warm_start)
        # Finiteness and range are checked on the device (data_summary).
        X = self._validate_input(X, reset=fresh, check_finite=False)
        X, low, high = self._to_device_checked(X)
        if fresh:
            self.reconstruction_loss_, self.out_activation_ = resolve_loss(
                self.loss, self.output_activation, low, high
            )
            self._prepare_fit(low, high)
            self._seed = int(check_random_state(self.random_state).randint(2**31 - 1))
            self._init_model()
            self.n_iter_ = 0
            self.loss_curve_ = []
            self.best_loss_ = None
            self.validation_scores_ = [] if self.early_stopping and not incremental else None
            self.best_validation_score_ = None
        else:
            if not incremental:
                self._restart_from_weights()
            if self.reconstruction_loss_ == "bce":
                check_unit_interval(low, high, self.loss)

        if self.early_stopping and not incremental:
            train_rows, val_rows = self._validation_split(len(X))
            X_train, X_val = X[train_rows], X[val_rows]
            if self.validation_scores_ is None:
                self.validation_scores_ = []
        else:
            X_train, X_val = X, None
        self._train(
            X_train,
            X_val,
            n_epochs=1 if incremental else self.max_iter,
            keep_best=not incremental,
            reuse_optimizer=incremental,
        )
        return self

    def _to_device_checked(self, X: np.ndarray):
        """``(X as float32 for training, min, max)``; raises on NaN or infinity.

        On an accelerator the data goes to the device once and is checked there,
        in one reduction, which saves passes over it on the host. On the CPU,
        where host and device memory are the same, NumPy checks it: no program
        is compiled for the data's shape, so folds of new sizes compile nothing.
        """
        X = np.asarray(X, dtype=np.float32)
        if jax.default_backend() == "cpu":
            summary = [np.isnan(X).any(), np.isinf(X).any(), X.min(), X.max()]
        else:
            X = jax.device_put(X)
            summary = np.asarray(_engine.data_summary(X)).tolist()
        has_nan, has_inf, low, high = (bool(summary[0]), bool(summary[1]), *map(float, summary[2:]))
        if has_nan:
            raise ValueError(
                f"Input X contains NaN. {type(self).__name__} does not accept missing "
                "values; impute them first (for example with SimpleImputer)."
            )
        if has_inf:
            raise ValueError(
                "Input X contains infinity or a value too large for float32, the "
                "precision training runs in."
            )
        return X, low, high

    def _validation_split(self, n_samples: int):
        """``(training rows, validation rows)`` for early stopping."""
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        if n_val < 1 or n_samples - n_val < 1:
            raise ValueError(
                f"early_stopping=True with validation_fraction={self.validation_fraction} "
                f"leaves no training or no validation sample among {n_samples} samples; "
                "give more samples or set early_stopping=False."
            )
        rng = np.random.RandomState(self._seed)
        return train_test_split(np.arange(n_samples), test_size=n_val, random_state=rng)

    def _init_model(self) -> None:
        model = self._build_model(self.n_features_in_, nnx.Rngs(self._seed))
        self.n_components_ = _check_model_shapes(model, self.n_features_in_)
        graphdef, params = nnx.split(model, nnx.Param)
        self._set_params(graphdef, params)

    def _set_params(self, graphdef, params, opt_state=None) -> None:
        # The optimizer state stays on the device between partial_fit calls; it
        # reaches the host only when the model is pickled.
        self._device = {"graphdef": graphdef, "params": params, "opt_state": opt_state}
        self.params_ = jax.tree.map(np.asarray, nnx.to_pure_dict(params))

    def _abstract_model(self):
        """``(graphdef, params of shapes only)`` for the current parameters."""
        abstract = nnx.eval_shape(lambda: self._build_model(self.n_features_in_, nnx.Rngs(0)))
        return nnx.split(abstract, nnx.Param)

    def _device_model(self):
        """``(graphdef, params on the device)``, rebuilt after unpickling."""
        if getattr(self, "_device", None) is None:
            graphdef, params = self._abstract_model()
            nnx.replace_by_pure_dict(params, jax.tree.map(jnp.asarray, self.params_))
            opt_state = getattr(self, "_optimizer_state", None)
            opt_state = None if opt_state is None else jax.device_put(opt_state)
            self._device = {"graphdef": graphdef, "params": params, "opt_state": opt_state}
        return self._device["graphdef"], self._device["params"]

    def _restart_from_weights(self) -> None:
        """Warm start: rebuild the model from the current parameters and weights."""
        _, abstract = self._abstract_model()
        expected = jax.tree.map(lambda leaf: leaf.shape, nnx.to_pure_dict(abstract))
        found = jax.tree.map(np.shape, self.params_)
        if expected != found:
            raise ValueError(
                "warm_start=True needs the architecture of the previous fit, but the "
                "parameters now describe other weight shapes (n_components, "
                "hidden_layer_sizes...). Set warm_start=False to train a new model."
            )
        self._device = None

    def _hyperparameters(self) -> dict:
        numbers = {
            "learning_rate": self.learning_rate_init,
            "alpha": self.alpha,
            **self._extra_hyperparameters(),
        }
        return {name: jnp.asarray(value, jnp.float32) for name, value in numbers.items()}

    def _optimizer_spec(self) -> OptimizerSpec:
        if isinstance(self.optimizer, str):
            return OptimizerSpec(name=self.optimizer)
        return OptimizerSpec(transformation=self.optimizer)

    def _train(self, X_train, X_val, n_epochs: int, keep_best: bool, reuse_optimizer: bool):
        """The epoch loop: one jitted call per epoch, bookkeeping on the host."""
        graphdef, params = self._device_model()
        batch_size = min(200, len(X_train)) if self.batch_size == "auto" else self.batch_size
        rows, n_batches = _engine.epoch_layout(len(X_train), batch_size)
        config = _engine.EpochConfig(
            graphdef, self._objective(), self._optimizer_spec(), rows, n_batches, self.alpha > 0
        )
        data = (_pad_rows(X_train, rows * n_batches), None)  # targets: the inputs
        n_samples = jnp.asarray(len(X_train), jnp.int32)
        hyper = self._hyperparameters()
        opt_state = self._device["opt_state"] if reuse_optimizer else None
        if opt_state is None:
            state = _engine.init_state(params, config.optimizer, self.learning_rate_init)
        else:
            state = _engine.TrainState(params, opt_state)
        val_chunks = None if X_val is None else list(_device_chunks(X_val))
        stopper = _engine.EarlyStopping(self.tol, self.n_iter_no_change)
        base_key = jax.random.key(self._seed)
        diverged = interrupted = converged = False

        with EpochProgress(n_epochs, type(self).__name__, enabled=bool(self.verbose)) as bar:
            try:
                for _ in range(n_epochs):
                    key = jax.random.fold_in(base_key, self.n_iter_)
                    new_state, metrics = _engine.run_epoch(
                        config, state, data, n_samples, key, hyper
                    )
                    state = new_state
                    finite, loss = jax.device_get((metrics.finite, metrics.loss))
                    if not finite:
                        diverged = True
                        break
                    loss = float(loss)
                    self.n_iter_ += 1
                    self.loss_curve_.append(loss)
                    self.loss_ = loss
                    if val_chunks is None:
                        score = -loss
                        self.best_loss_ = (
                            loss if self.best_loss_ is None else min(self.best_loss_, loss)
                        )
                        bar.update(loss=loss)
                    else:
                        scores = self._chunked_scores(val_chunks, len(X_val), state.params)
                        score = float(np.mean(scores))
                        self.validation_scores_.append(score)
                        bar.update(loss=loss, val_score=score)
                    if stopper.update(score, state.params) and keep_best:
                        converged = True
                        break
            except KeyboardInterrupt:
                interrupted = True

        if val_chunks is not None and stopper.best_params is not None:
            self.best_validation_score_ = stopper.best_score
        final = state.params
        if keep_best and not diverged and stopper.best_params is not None:
            final = stopper.best_params
        self._set_params(graphdef, final, state.opt_state)
        self._optimizer_state = None  # superseded by the device copy

        if diverged:
            raise FloatingPointError(
                f"Training diverged at epoch {self.n_iter_ + 1}: the loss or its gradient "
                "became infinite or NaN. The last finite weights were kept. Lower "
                f"learning_rate_init (now {self.learning_rate_init}), scale X (for "
                "example with StandardScaler) or use a smaller batch_size."
            )
        if interrupted:
            warnings.warn(
                f"Training interrupted after {self.n_iter_} epochs; the model keeps the "
                "best weights found so far and can be used.",
                UserWarning,
                stacklevel=5,  # the caller of fit, past _train, _fit and _fit_context
            )
        elif keep_best and not converged and n_epochs > 1:
            warnings.warn(
                f"Maximum iterations ({n_epochs}) reached and the optimization hasn't "
                "converged yet.",
                ConvergenceWarning,
                stacklevel=5,  # the caller of fit, past _train, _fit and _fit_context
            )

    # ------------------------------------------------------------- inference
    def _chunked(self, function, X) -> np.ndarray:
        """Apply a jitted ``function(chunk)`` to ``X`` in fixed-size chunks."""
        outputs = [function(chunk) for chunk in _device_chunks(X)]
        return np.concatenate([np.asarray(out) for out in outputs])[: len(X)]

    def _chunked_scores(self, chunks, n_rows: int, params=None) -> np.ndarray:
        """Negative per-sample losses over device chunks (of ``params`` if given)."""
        graphdef, fitted_params = self._device_model()
        params = fitted_params if params is None else params
        objective, hyper = self._objective(), self._hyperparameters()
        key = jax.random.key(0)
        outputs = [
            _engine.sample_losses(graphdef, objective, params, (chunk, None), key, hyper)
            for chunk in chunks
        ]
        return -np.concatenate([np.asarray(out) for out in outputs])[:n_rows]

    def _validate_for_inference(self, X):
        check_is_fitted(self)
        return self._validate_input(X, reset=False)

    def transform(self, X):
        """Encode ``X``: the code layer's values, like ``PCA.transform``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            In the dtype of ``X`` (float32 or float64).
        """
        X = self._validate_for_inference(X)
        graphdef, params = self._device_model()
        codes = self._chunked(lambda chunk: _engine.encode(graphdef, params, chunk), X)
        return codes.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, for example from :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features_in_)
            In the dtype of the codes (float32 or float64).
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if codes.shape[1] != self.n_components_:
            raise ValueError(
                f"inverse_transform expects codes of {self.n_components_} columns "
                f"(n_components_); got {codes.shape[1]}."
            )
        graphdef, params = self._device_model()
        activation = self.out_activation_
        decoded = self._chunked(
            lambda chunk: _engine.decode(graphdef, activation, params, chunk), codes
        )
        return decoded.astype(codes.dtype, copy=False)

    def score_samples(self, X):
        """Negative reconstruction error of each sample: higher is more normal.

        The error is the training loss (``reconstruction_loss_``) averaged over
        features, so ``-score_samples(X)`` is an outlier score, as with
        ``IsolationForest.score_samples``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        X = self._validate_for_inference(X)
        if self.reconstruction_loss_ == "bce":
            check_unit_interval(X.min(), X.max(), self.loss)
        return self._chunked_scores(_device_chunks(X), len(X)).astype(X.dtype, copy=False)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: higher means better reconstructions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))


def _check_model_shapes(model: nnx.Module, n_features: int) -> int:
    """Check that ``model`` encodes and decodes rows of ``n_features``.

    Returns the code size. Runs on shapes only (``jax.eval_shape``), so a user's
    module that does not fit gets a clear error before any training.
    """
    inputs = jax.ShapeDtypeStruct((2, n_features), jnp.float32)
    try:
        codes = jax.eval_shape(model.encode, inputs)
    except Exception as error:
        raise ValueError(
            f"The encoder cannot take inputs of shape (n_samples, {n_features}): {error}"
        ) from error
    if len(codes.shape) != 2 or codes.shape[0] != 2:
        raise ValueError(
            "The encoder must return codes of shape (n_samples, n_components); for "
            f"inputs of shape (2, {n_features}) it returned {codes.shape}."
        )
    try:
        outputs = jax.eval_shape(model.decode, codes)
    except Exception as error:
        raise ValueError(
            f"The decoder cannot take the encoder's codes of shape {codes.shape}: {error}"
        ) from error
    if outputs.shape != (2, n_features):
        raise ValueError(
            f"The decoder must return the input's shape: for codes of shape {codes.shape} "
            f"it returned {outputs.shape}, expected (2, {n_features})."
        )
    return int(codes.shape[1])


def _pad_rows(X, n_rows: int) -> jax.Array:
    """``X`` (host or device) as float32 on the device, zero-padded to ``n_rows`` rows.

    A host array is padded on the host, a device array on its device.
    """
    xp = jnp if isinstance(X, jax.Array) else np
    padding = ((0, n_rows - len(X)), *[(0, 0)] * (X.ndim - 1))
    return jnp.asarray(xp.pad(xp.asarray(X, dtype=np.float32), padding))


def _device_chunks(X: np.ndarray):
    """Yield ``X`` in zero-padded device chunks of ``INFERENCE_ROWS`` rows."""
    for start in range(0, len(X), INFERENCE_ROWS):
        yield _pad_rows(X[start : start + INFERENCE_ROWS], INFERENCE_ROWS)
