"""The scikit-learn shell shared by every skae estimator.

A subclass says *what* to train (``_model_builder``, ``_objective`` and, if it
has any, ``_extra_hyperparameters``); :class:`EncoderDecoder` keeps the
scikit-learn contract the same way for all of them: validation, what is fitted
and kept, chunked inference on the device, feature names and pickling.
:class:`BaseAutoencoder` adds what reconstructing ``X`` gives (decoding,
reconstruction errors, scores); the regressors (``skae._regressor``) map ``X``
to targets ``y`` instead. The epoch loop itself is :func:`skae._training.train`.
"""

import copy
import math
import pickle
import warnings
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from functools import lru_cache, partial
from numbers import Integral, Real
from typing import Any

import cloudpickle
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    is_regressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from . import (
    _devices,
    _engine,
    _multihost,
    _prefit,
    _streaming,
    _training,
    _transfer,
    _variables,
)
from ._models.activations import ACTIVATIONS
from ._objectives import Reconstruction
from ._optimizers import OPTIMIZERS, OptimizerSpec
from ._progress import EpochProgress
from ._validation import (
    check_finite_float32,
    check_has_columns,
    check_unit_interval,
    resolve_loss,
    resolve_output_activation,
    validate_rows,
)

# Inference runs in chunks of a fixed number of rows per model: one compiled
# program per method whatever the input size, and a row's result that does not
# depend on which other rows came with it (XLA may pick another matmul strategy
# for another shape, which changes the last bits). The number of rows is sized
# by bytes: a chunk's activations, estimated at ACTIVATION_FACTOR float32 values
# per input value (a convolution with 32 filters at full resolution), stay
# within INFERENCE_BYTES of device memory.
INFERENCE_BYTES = {"cpu": 64 << 20}
INFERENCE_BYTES_ACCELERATOR = 1 << 30
INFERENCE_MAX_ROWS = {"cpu": 1024}
INFERENCE_MAX_ROWS_ACCELERATOR = 8192
ACTIVATION_FACTOR = 32


def inference_rows(values_per_row: int) -> int:
    """Rows per inference chunk for rows of ``values_per_row`` values (a power of 2).

    Read when first needed, not at import, so that ``import skae`` does not
    start JAX's backends.
    """
    backend = jax.default_backend()
    budget = INFERENCE_BYTES.get(backend, INFERENCE_BYTES_ACCELERATOR)
    most = INFERENCE_MAX_ROWS.get(backend, INFERENCE_MAX_ROWS_ACCELERATOR)
    rows = budget // (4 * ACTIVATION_FACTOR * max(values_per_row, 1))
    return int(min(most, 1 << max(int(rows).bit_length() - 1, 0)))


@dataclass
class _FitPlan:
    """Everything a fit has checked and resolved before training starts."""

    X_train: np.ndarray
    X_val: np.ndarray | None
    loss: str
    output_activation: str
    builder: partial
    graphs: _variables.ModelGraphs
    state: _engine.TrainState
    n_components: int
    objective: Any
    hyper: dict
    batch_size: int
    seed: int
    data_min: np.ndarray
    data_max: np.ndarray
    Y_train: np.ndarray | None = None  # the targets, None where they are the inputs
    Y_val: np.ndarray | None = None
    frozen: tuple[str, ...] = ()  # layers kept fixed (skae._transfer)
    rows_per_process: tuple[int, ...] | None = None  # several processes (skae._multihost)


class EncoderDecoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Base class for skae's encoder-decoder estimators. Not meant to be used directly.

    Trains a model that encodes ``X`` and decodes the code to targets: ``X``
    itself (:class:`BaseAutoencoder`) or ``y`` (the regressors, which override
    :meth:`_validate_targets`).
    """

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
        "init_weights": [None, dict, HasMethods(["fit"])],
        "init_layers": [StrOptions({"all", "encoder"})],
        "freeze": ["boolean"],
        "compute_dtype": [StrOptions({"float32", "bfloat16"})],
        "devices": [None, StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), list],
    }

    # ----------------------------------------------------------------- hooks
    @abstractmethod
    def _model_builder(self, n_features: int, loss: str) -> partial:
        """A ``functools.partial`` of a Flax module class, completed by ``rngs=``.

        Its keywords are what the model is built from; they are recorded at
        ``fit`` and a continued fit must find them unchanged.
        """

    def _objective(self, loss: str, output_activation: str, n_components: int, data_range):
        """The training objective, a hashable object (see ``skae._objectives``)."""
        return Reconstruction(loss, output_activation)

    def _extra_hyperparameters(self, data_range: tuple[float, float]) -> dict:
        """Numeric hyper-parameters the objective reads, traced (not compiled in)."""
        return {}

    def _validate_targets(self, y, n_samples: int, reset: bool):
        """``(targets as 2-D float32, min, max)``, or None where the targets are ``X``.

        Transformers ignore ``y``: a Pipeline passes class labels there.
        """
        return None

    @abstractmethod
    def _validation_scorer(self, plan: _FitPlan):
        """``state -> score`` (higher is better) on the plan's validation rows, or None."""

    def _validate_input(self, X, reset: bool) -> np.ndarray:
        """``X`` checked and converted to a 2-D float array (sets ``n_features_in_``).

        Finiteness is checked after the conversion to float32, the precision
        everything runs in (:func:`skae._validation.check_finite_float32`).
        """
        return validate_rows(self, X, reset)

    # ----------------------------------------------------------- scikit-learn
    @property
    def _n_features_out(self) -> int:
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Outputs come back in the input's float dtype (computation is float32).
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags

    def __repr__(self, N_CHAR_MAX=700):
        # A Flax module instance given as a parameter (encoder=, decoder=)
        # would print all of its weights; show its class instead.
        modules = {
            name: value
            for name, value in self.get_params(deep=False).items()
            if isinstance(value, nnx.Module)
        }
        if not modules:
            return super().__repr__(N_CHAR_MAX)
        shown = copy.copy(self)
        for name, module in modules.items():
            setattr(shown, name, _ShortRepr(f"{type(module).__name__}(...)"))
        return super(EncoderDecoder, shown).__repr__(N_CHAR_MAX)

    def __getstate__(self):
        # Device arrays and compiled functions are caches: never pickled, rebuilt
        # on first use, so a model trained on a GPU loads on a CPU-only machine.
        state = dict(super().__getstate__())  # a copy: object's is self.__dict__
        device = state.pop("_device", None)
        if device is not None:
            # Its leaves only, as NumPy arrays: the tree (Optax and Flax
            # containers) is rebuilt from the optimizer at load, so loaders
            # that trust few types (skops.io) need not trust those.
            opt_state = device["state"].opt_state
            state["_optimizer_state"] = [np.asarray(leaf) for leaf in jax.tree.leaves(opt_state)]
        # An Optax transformation is made of closures, which the standard
        # pickle module cannot store; cloudpickle stores them by value.
        if not isinstance(state.get("optimizer"), str | type(None)):
            state["optimizer"] = _ByValue(cloudpickle.dumps(state["optimizer"]))
        return state

    def __setstate__(self, state):
        if isinstance(state.get("optimizer"), _ByValue):
            state = {**state, "optimizer": pickle.loads(state["optimizer"].payload)}
        super().__setstate__(state)

    # --------------------------------------------------------------- fitting
    def _fit(self, X, y, incremental: bool):
        if not incremental and not self.warm_start:
            computed_ahead = _prefit.take(self, X, y)  # a batched search's (skae._prefit)
            if computed_ahead is not None:
                self.__dict__.update(computed_ahead.__dict__)
                return self
        if incremental and hasattr(self, "params_"):
            # scikit-learn's _fit_context skips this for partial_fit on a fitted
            # estimator; parameters may have changed since.
            self._validate_params()
        continuing = hasattr(self, "params_") and (incremental or self.warm_start)
        # A fit rejected before training leaves the estimator as it was:
        # validate_data and the image-shape check record on ``self``, so undo.
        before = dict(self.__dict__)
        try:
            plan = self._plan_fit(X, y, incremental, continuing)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        result = self._run_training(plan, incremental, continuing)
        self._record_fit(plan, result, incremental, continuing)
        return self

    def _plan_fit(self, X, y, incremental: bool, continuing: bool) -> _FitPlan:
        """Check and resolve everything a fit needs, without touching fitted state.

        ``low`` and ``high`` are the range of the targets (``X`` for an
        autoencoder), which ``loss="auto"`` and the objective read.
        """
        if _streaming.is_chunk_stream(X):
            if is_regressor(self):
                raise TypeError(
                    f"{type(self).__name__} takes X as an array or a memmap, not an iterable "
                    "of chunks: its targets must stay aligned with the rows."
                )

            def check_chunk(chunk, first: bool):
                rows = self._validate_input(chunk, reset=first and not continuing)
                return check_finite_float32(rows, type(self).__name__, per_feature=True)

            X = _streaming.ChunkStream(X, check_chunk)
            data_min, data_max = X.data_min, X.data_max
        else:
            X = self._validate_input(X, reset=not continuing)
            X, data_min, data_max = check_finite_float32(X, type(self).__name__, per_feature=True)
        low, high = float(data_min.min()), float(data_max.max())
        targets = self._validate_targets(y, len(X), reset=not continuing)
        Y, targets_name = None, "X"
        if targets is not None:
            (Y, low, high), targets_name = targets, "y"
        seed = (
            self._seed
            if continuing
            else int(check_random_state(self.random_state).randint(2**31 - 1))
        )
        rows_per_process = None
        if _multihost.spans_processes(_devices.batch_mesh(_devices.resolve_devices(self.devices))):
            X, Y = self._check_process_shard(X, Y, incremental)
            rows_per_process, data_min, data_max, (low, high), seed = _multihost.agree(
                len(X), X.shape[1], data_min, data_max, (low, high), seed
            )
        if continuing:  # the range seen over the whole training
            data_min = np.minimum(data_min, self.data_min_)
            data_max = np.maximum(data_max, self.data_max_)
        if continuing:
            loss, output_activation = self._continued_loss(low, high, incremental, targets_name)
            builder = self._model_builder(self.n_features_in_, loss)
            _check_same_model(self._model_builder_, builder, incremental)
            graphs, params, model_state = self._device_model()
            opt_state = self._device["state"].opt_state if incremental else None
            n_components = self.n_components_
            frozen = self.frozen_layers_ if self.freeze else ()
        else:
            loss, output_activation = resolve_loss(
                self.loss, self.output_activation, low, high, targets_name
            )
            builder = self._model_builder(self.n_features_in_, loss)
            graphs, params, model_state = _variables.build_model(builder, seed)
            params, frozen = self._initial_layers(params, builder)
            n_components = _variables.check_model_shapes(
                graphs, params, model_state, self.n_features_in_, None if Y is None else Y.shape[1]
            )
            opt_state = None

        spec = self._optimizer_spec()
        if opt_state is not None and not _fits(opt_state, spec, params):
            opt_state = None  # the optimizer changed: start it afresh
        if opt_state is None:
            state = _engine.init_state(params, spec, self.learning_rate_init, model_state)
        else:
            state = _engine.TrainState(params, opt_state, model_state)

        data_range = (low, high)
        objective = self._objective(loss, output_activation, n_components, data_range)
        hyper = {
            "learning_rate": self.learning_rate_init,
            "alpha": self.alpha,
            **self._extra_hyperparameters(data_range),
        }
        hyper = {
            name: jax.device_put(np.asarray(value, np.float32)) for name, value in hyper.items()
        }

        X_train, X_val, Y_train, Y_val = X, None, Y, None
        if self.early_stopping and not incremental:
            if _streaming.reads_a_file(X) or isinstance(X, _streaming.ChunkStream):
                raise ValueError(
                    "early_stopping=True holds out rows of X, which would copy a memory-mapped "
                    "X (or a stream of chunks) into memory. Set early_stopping=False, or keep "
                    "validation rows apart and watch score() on them between partial_fit calls."
                )
            train_rows, val_rows = validation_split(len(X), self.validation_fraction, seed)
            X_train, X_val = X[train_rows], X[val_rows]
            if Y is not None:
                Y_train, Y_val = Y[train_rows], Y[val_rows]
        batch_size = min(200, len(X_train)) if self.batch_size == "auto" else self.batch_size
        if batch_size > len(X_train):
            warnings.warn(
                f"Got batch_size={batch_size} larger than the {len(X_train)} training "
                "samples; it is clipped to the number of samples.",
                UserWarning,
                stacklevel=5,  # the caller of fit, past _plan_fit, _fit, fit and _fit_context
            )
            batch_size = len(X_train)
        return _FitPlan(
            X_train,
            X_val,
            loss,
            output_activation,
            builder,
            graphs,
            state,
            n_components,
            objective,
            hyper,
            batch_size,
            seed,
            data_min.astype(np.float64),
            data_max.astype(np.float64),
            Y_train,
            Y_val,
            frozen,
            rows_per_process,
        )

    def _check_process_shard(self, X, Y, incremental: bool):
        """``(X, Y)`` as this process's rows of a fit over several processes (skae._multihost)."""
        if isinstance(X, _streaming.ChunkStream):
            raise TypeError(
                "Training over several processes takes each process's rows as an array or a "
                "memmap, not an iterable of chunks."
            )
        if self.early_stopping and not incremental:
            raise ValueError(
                "early_stopping=True is not supported when training over several processes: "
                "set early_stopping=False, and watch score() on validation rows between "
                "partial_fit calls."
            )
        # A memory-mapped or sparse shard is read into memory: each process holds its rows.
        return np.array(X[: len(X)]), None if Y is None else np.array(Y)

    def _initial_layers(self, params, builder: partial):
        """``(params with the layers of init_weights, the layers to keep fixed)``."""
        if self.init_weights is None:
            if self.freeze:
                raise ValueError(
                    "freeze=True keeps the layers taken from init_weights fixed, but "
                    "init_weights is None. Give init_weights, or set freeze=False."
                )
            return params, ()
        source = _transfer.source_weights(self.init_weights)
        parts = None if self.init_layers == "all" else builder.func.ENCODER_PARTS
        params, copied = _transfer.transfer(params, source, parts)
        if not self.freeze:
            return params, ()
        if set(copied) == set(params.keys()):
            raise ValueError(
                f"freeze=True with init_layers={self.init_layers!r} keeps every layer fixed: "
                "nothing left to train. Use init_layers='encoder', or freeze=False."
            )
        return params, copied

    def _continued_loss(
        self, low: float, high: float, incremental: bool, targets_name: str = "X"
    ) -> tuple[str, str]:
        """The fitted loss, checked against the current parameters and the new data."""
        method = "partial_fit" if incremental else "fit with warm_start=True"
        loss, output_activation = self.reconstruction_loss_, self.out_activation_
        wanted_loss = loss if self.loss == "auto" else self.loss
        wanted_output = resolve_output_activation(self.output_activation, wanted_loss)
        if (wanted_loss, wanted_output) != (loss, output_activation):
            raise ValueError(
                f"{method} continues the fitted model, trained with loss={loss!r} and "
                f"output_activation={output_activation!r}; the parameters now ask for "
                f"loss={self.loss!r}, output_activation={self.output_activation!r}. "
                "Set them back, or call fit with warm_start=False to train a new model."
            )
        if loss == "bce" and self.loss == "bce":
            # loss="auto" never refuses data later; cross-entropy then reads
            # targets clipped to [0, 1] (see skae._losses.reconstruction_error).
            check_unit_interval(low, high, self.loss, targets_name)
        return loss, output_activation

    def _optimizer_spec(self) -> OptimizerSpec:
        if isinstance(self.optimizer, str):
            return OptimizerSpec(name=self.optimizer)
        return OptimizerSpec(transformation=self.optimizer)

    def _epoch_config(
        self, plan: _FitPlan, n_samples: int | None = None, stream: bool = False
    ) -> _engine.EpochConfig:
        """The engine's static configuration for an epoch over ``n_samples`` rows.

        By default, all of the plan's training rows; ``stream`` for a chunk of
        a stream (``partial_fit``, a memmap), whose sizes vary.
        """
        mesh = _devices.batch_mesh(_devices.resolve_devices(self.devices))
        if n_samples is None and plan.rows_per_process is not None:
            # One equal block of rows per process, each holding that process's rows.
            n_samples = len(plan.rows_per_process) * max(plan.rows_per_process)
        n_samples = len(plan.X_train) if n_samples is None else n_samples
        rows, n_batches = _engine.epoch_layout(n_samples, plan.batch_size, stream)
        rows = _devices.rows_per_device_multiple(rows, mesh)
        return _engine.EpochConfig(
            plan.graphs.train,
            plan.objective,
            self._optimizer_spec(),
            rows,
            n_batches,
            self.alpha > 0,
            plan.frozen,
            self.compute_dtype,
            mesh,
        )

    def _run_training(self, plan: _FitPlan, incremental: bool, continuing: bool):
        """Run the epoch loop on a checked plan; returns a ``TrainingResult``."""
        state, hyper = plan.state, plan.hyper
        streamed = isinstance(plan.X_train, _streaming.ChunkStream)
        if streamed or _streaming.reads_in_chunks(plan.X_train):  # see skae._streaming
            if streamed:
                chunks = plan.X_train.chunks
                config = self._epoch_config(plan, plan.batch_size, stream=True)
            else:
                chunk = _streaming.chunk_rows(math.prod(plan.X_train.shape[1:]), plan.batch_size)
                chunks = _streaming.memmap_chunks(plan.X_train, plan.Y_train, chunk)
                config = self._epoch_config(plan, min(chunk, len(plan.X_train)), stream=True)

            def place(rows, n_rows):
                padded = _pad_rows(rows, n_rows)
                return padded if config.mesh is None else _devices.replicate(padded, config.mesh)

            data = None
            epoch = _streaming.streamed_epoch(
                lru_cache(partial(self._epoch_config, plan, stream=True)),
                place,
                chunks,
                len(plan.X_train),
                hyper,
            )
        else:
            config, epoch = self._epoch_config(plan, stream=incremental), None
            n_rows = config.batch_size * config.n_batches
            pad = _pad_rows
            if plan.rows_per_process is not None:  # each process's rows in its own block
                pad = partial(_multihost.global_rows, mesh=config.mesh)
            targets = None if plan.Y_train is None else pad(plan.Y_train, n_rows=n_rows)
            data = (pad(plan.X_train, n_rows=n_rows), targets)
            if config.mesh is not None and plan.rows_per_process is None:
                data = _devices.replicate(data, config.mesh)
        if config.mesh is not None:
            state, hyper = _devices.replicate((state, hyper), config.mesh)
        validation_score = self._validation_scorer(plan)
        n_epochs = 1 if incremental else self.max_iter
        previous_epochs = self.n_iter_ if continuing else 0
        with EpochProgress(
            n_epochs, type(self).__name__, self.verbose, previous_epochs, stream=incremental
        ) as bar:

            def on_epoch(loss, score):
                bar.update(loss=loss) if score is None else bar.update(loss=loss, val_score=score)

            result = _training.train(
                config,
                state,
                data,
                plan.rows_per_process or len(plan.X_train),
                hyper,
                jax.random.key(plan.seed),
                first_epoch=previous_epochs,
                n_epochs=n_epochs,
                stopping=_training.EarlyStopping(self.tol, self.n_iter_no_change),
                keep_best=not incremental,
                validation_score=validation_score,
                on_epoch=on_epoch,
                epoch=epoch,
            )
            best = None if result.best_epoch is None else previous_epochs + result.best_epoch
            bar.finish(result.outcome, best if not incremental else None)
        return result

    def _record_fit(self, plan: _FitPlan, result, incremental: bool, continuing: bool) -> None:
        """Record the fitted state of a checked plan's training, then report how it ended."""
        self.reconstruction_loss_ = plan.loss
        self.out_activation_ = plan.output_activation
        self.n_components_ = plan.n_components
        self._model_builder_ = plan.builder
        self._objective_ = plan.objective
        self._seed = plan.seed
        self.frozen_layers_ = plan.frozen
        self.data_min_, self.data_max_ = plan.data_min, plan.data_max
        self._set_state(plan.graphs, result.state)
        previous_losses = self.loss_curve_ if continuing else []
        self.loss_curve_ = [*previous_losses, *result.losses]
        self.n_iter_ = len(self.loss_curve_)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        if plan.X_val is not None:
            previous_scores = (self.validation_scores_ or []) if continuing else []
            self.validation_scores_ = [*previous_scores, *result.validation_scores]
            self.best_validation_score_ = max(self.validation_scores_, default=None)
            self.best_loss_ = None
        else:
            if not continuing:
                self.validation_scores_ = None
                self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_, default=None)

        if result.outcome == "diverged":
            raise FloatingPointError(
                f"Training diverged at epoch {self.n_iter_ + 1}: the loss or its gradient "
                "became infinite or NaN, or the weights exploded (their norm grew more "
                f"than {_engine.DIVERGED_GROWTH:g} times in one epoch). The model keeps the "
                "weights of its best epoch before that. Lower learning_rate_init (now "
                f"{self.learning_rate_init}), scale X (for example with StandardScaler) or "
                "use a smaller batch_size."
            )
        if result.outcome == "interrupted":
            warnings.warn(
                f"Training interrupted after {self.n_iter_} epochs; the model keeps the "
                "best weights found so far and can be used.",
                UserWarning,
                stacklevel=5,  # the caller of fit, past _record_fit, _fit, fit and _fit_context
            )
        elif result.outcome == "max_iter" and not incremental and self.max_iter > 1:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the optimization hasn't "
                "converged yet.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _set_state(self, graphs: _variables.ModelGraphs, state: _engine.TrainState) -> None:
        # The device copy (with the optimizer state) is a cache; the fitted
        # weights are host arrays.
        self._device = {"graphs": graphs, "state": state}
        self._optimizer_state = None  # superseded by the device copy
        self.params_ = _variables.to_host(state.params)
        self.model_state_ = _variables.to_host(state.model_state)

    def _device_model(self):
        """``(graphs, params, model_state)`` on the device, rebuilt after unpickling."""
        if getattr(self, "_device", None) is None:
            graphs, abstract_params, abstract_state = _variables.abstract_model(
                self._model_builder_
            )
            params = _variables.to_device(abstract_params, self.params_)
            model_state = _variables.to_device(abstract_state, self.model_state_)
            leaves = getattr(self, "_optimizer_state", None)
            opt_state = None
            if leaves is not None:
                opt_state = optimizer_state_from_leaves(
                    self._optimizer_spec(), abstract_params, jax.tree.leaves(leaves)
                )
            self._device = {
                "graphs": graphs,
                "state": _engine.TrainState(params, opt_state, model_state),
            }
        state = self._device["state"]
        return self._device["graphs"], state.params, state.model_state

    # ------------------------------------------------------------- inference
    def _chunked(self, function, X, check_finite: bool = True, on_host=None) -> np.ndarray:
        """Apply a jitted ``function(chunk)`` to ``X`` in fixed-size chunks.

        ``X`` (an array, a memmap, ``SparseRows`` or ``InferenceChunks``, see
        skae._streaming) is read one block of rows at a time. ``on_host(result,
        rows)``, when given, turns each chunk's result (its real rows, as
        NumPy) and the chunk's rows of ``X`` into what is kept, so that a
        result as large as ``X`` (a reconstruction) is never held whole. Finite
        input whose result overflows float32 (values near 1e38, or squared
        errors of values beyond 1e19) raises a ValueError rather than
        returning infinities or NaN.
        """
        rows = inference_rows(self.n_features_in_)
        kept, in_flight = [], []

        def finish(result, X_rows):
            result = np.asarray(result)[: len(X_rows)]
            if check_finite and not np.isfinite(result).all():
                largest = float(np.max(np.abs(X_rows)))
                raise ValueError(
                    f"{type(self).__name__} computed infinite or NaN values from finite X: "
                    f"its values (largest |x| = {largest:.3g}) are too large for the model's "
                    "float32 computation (overflow). Scale X, for example with StandardScaler."
                )
            kept.append(result if on_host is None else on_host(result, X_rows))

        if isinstance(X, _streaming.InferenceChunks):
            blocks = X.blocks(rows)
        else:
            blocks = _streaming.row_blocks(X, rows)
        for X_rows in blocks:
            in_flight.append((function(_pad_rows(X_rows, rows)), X_rows))
            if len(in_flight) > 1:  # the device computes a chunk while the host finishes one
                finish(*in_flight.pop(0))
        for result, X_rows in in_flight:
            finish(result, X_rows)
        return np.concatenate(kept)

    def _validate_for_inference(self, X):
        check_is_fitted(self)
        if _streaming.is_chunk_stream(X):  # each chunk checked as it is read
            return _streaming.InferenceChunks(X, self._validate_for_inference)
        X = self._validate_input(X, reset=False)
        checked, _, _ = check_finite_float32(X, type(self).__name__)
        return checked if isinstance(checked, _streaming.SparseRows) else X

    def _eval_model(self):
        """``(evaluation graphdef, (params, model_state))`` of the fitted model."""
        graphs, params, model_state = self._device_model()
        # After training over several processes, this process's copy of the weights.
        return graphs.eval, _multihost.local_copy((params, model_state))

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
        graph, variables = self._eval_model()
        codes = self._chunked(lambda chunk: _engine.encode(graph, variables, chunk), X)
        return codes.astype(X.dtype, copy=False)

    def get_layer_names(self) -> list[str]:
        """Names of the layers :meth:`layer_activations` reads, from input to output.

        - dense models: ``encoder.0``, ``encoder.1``, ... (each hidden layer,
          after ``activation``), ``code``, ``decoder.0``, ... , ``output``;
        - convolutional models: ``encoder.0``, ... (the feature map after each
          level's convolution, activation and pooling), ``code``,
          ``decoder.dense`` (with a dense code), ``decoder.0``, ... (after each
          level's upsampling), ``output``;
        - your ``encoder``/``decoder`` modules: the Flax path of every
          submodule (``encoder``, ``encoder.layers.0``, ``decoder``, ...) in the
          order their calls return, then ``code`` and ``output``.

        ``code`` is what :meth:`transform` returns and ``output`` the model's
        output after the output activation.

        Returns
        -------
        names : list of str
        """
        check_is_fitted(self)
        return list(self._layer_shapes())

    def _layer_shapes(self) -> dict[str, tuple[int, ...]]:
        graph, variables = self._eval_model()
        return _engine.layer_shapes(graph, variables, self.n_features_in_)

    def _layer_name(self, layer) -> str:
        """The name of ``layer``, given by name or by index into :meth:`get_layer_names`."""
        names = self.get_layer_names()
        if isinstance(layer, Integral) and not isinstance(layer, bool):
            if not -len(names) <= layer < len(names):
                raise ValueError(
                    f"layer={layer} is out of range: this model has {len(names)} layers, {names}."
                )
            return names[layer]
        if layer not in names:
            raise ValueError(f"layer={layer!r} is not a layer of this model; its layers: {names}.")
        return layer

    def layer_activations(self, X, layer) -> np.ndarray:
        """The output of one layer of the model for ``X``, one row per sample.

        Feed a hidden layer to a classifier, plot it, or compare layers:
        ``layer`` is a name from :meth:`get_layer_names` or an index into it
        (``0`` the first layer, ``-1`` the output). Convolutional feature maps
        are flattened, height, width then channels, as
        :meth:`get_layer_feature_names_out` names them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs (images for the convolutional models); any finite values.
        layer : str or int
            The layer.

        Returns
        -------
        activations : ndarray of shape (n_samples, n_units)
            In the dtype of ``X`` (float32 or float64).

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skae import Autoencoder
        >>> X = load_digits().data / 16
        >>> ae = Autoencoder(hidden_layer_sizes=(32,), max_iter=5, random_state=0).fit(X)
        >>> ae.get_layer_names()
        ['encoder.0', 'code', 'decoder.0', 'output']
        >>> ae.layer_activations(X, "encoder.0").shape
        (1797, 32)
        >>> ae.get_layer_feature_names_out("encoder.0")[:2]
        array(['encoder.0_0', 'encoder.0_1'], dtype=object)
        """
        X = self._validate_for_inference(X)
        name = self._layer_name(layer)
        graph, variables = self._eval_model()
        activation = self.out_activation_
        activations = self._chunked(
            lambda chunk: _engine.layer_output(graph, activation, variables, chunk, name), X
        )
        return activations.astype(X.dtype, copy=False)

    def get_layer_feature_names_out(self, layer) -> np.ndarray:
        """Column names of :meth:`layer_activations` for ``layer``.

        ``"{layer}_{unit}"`` for a dense layer, ``"{layer}_y{row}_x{col}_c{channel}"``
        for a convolutional feature map.

        Parameters
        ----------
        layer : str or int
            The layer, as for :meth:`layer_activations`.

        Returns
        -------
        names : ndarray of str objects
        """
        name = self._layer_name(layer)
        shape = self._layer_shapes()[name]
        if len(shape) == 3:
            names = [f"{name}_y{y}_x{x}_c{c}" for y, x, c in np.ndindex(*shape)]
        else:
            names = [f"{name}_{unit}" for unit in range(int(np.prod(shape)))]
        return np.asarray(names, dtype=object)


class BaseAutoencoder(EncoderDecoder):
    """Base class for skae's autoencoders, trained to reconstruct ``X``.

    Not meant to be used directly.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Trains for up to ``max_iter`` epochs, stopping early when the loss (or
        the validation score, with ``early_stopping=True``) stops improving.
        The model keeps the weights of its best epoch (lowest training loss, or
        best validation score), with the optimizer state that belongs to them.
        With ``warm_start=True`` it continues from the current weights, with a
        new optimizer state, as ``MLPRegressor`` does.

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

        Raises
        ------
        ValueError
            For bad input or parameters; the estimator is then left as it was.
        FloatingPointError
            When training diverges; the estimator is then fitted, with the
            weights of the best epoch before it diverged.
        """
        return self._fit(X, None, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch over ``X``, continuing from the current state.

        The first call initialises the model; later calls keep the weights and
        the optimizer state (also after ``fit``), so a stream of batches trains
        like one long fit. Early stopping does not apply. Training parameters
        may change between calls (a new ``optimizer`` starts a fresh optimizer
        state); the architecture and the loss may not.

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
        return self._fit(X, None, incremental=True)

    def _validation_scorer(self, plan: _FitPlan):
        """``state -> mean score`` on the plan's validation rows, or None."""
        if plan.X_val is None:
            return None
        X_val = plan.X_val

        def validation_score(state):
            model = _FittedModel(
                plan.graphs.eval,
                (state.params, state.model_state),
                plan.output_activation,
                plan.objective,
                plan.data_min,
                plan.data_max,
            )
            return float(np.mean(self._row_scores(X_val, model, check_finite=False)))

        return validation_score

    def _fitted_model(self) -> "_FittedModel":
        """What scoring needs of the fitted model."""
        graph, variables = self._eval_model()
        return _FittedModel(
            graph,
            variables,
            self.out_activation_,
            self._objective_,
            self.data_min_,
            self.data_max_,
        )

    def _squared_errors(
        self, X, model: "_FittedModel", check_finite=True, row_means=False
    ) -> np.ndarray:
        """Per-feature squared reconstruction error of ``X``, float64, input units.

        The error of the decoded mean (``inverse_transform(transform(X))``) plus,
        per feature, the squared distance of the value outside the training
        range ``[data_min_, data_max_]`` (zero inside it). The second term keeps
        scores falling as a row moves away from the data, even where the
        decoder's output is bounded (a sigmoid) or follows the input. With
        ``row_means``, each row's mean, computed chunk by chunk.
        """
        graph, variables, activation = model.graph, model.variables, model.output_activation

        def reconstruct(chunk):
            return _engine.reconstruct(graph, activation, variables, chunk)

        def squared_errors(reconstruction, X_rows):
            X_rows = np.asarray(X_rows, dtype=np.float64)
            outside = X_rows - np.clip(X_rows, model.data_min, model.data_max)
            errors = np.square(X_rows - reconstruction) + np.square(outside)
            return errors.mean(axis=1) if row_means else errors

        return self._chunked(reconstruct, X, check_finite, squared_errors)

    def _row_scores(self, X, model: "_FittedModel", check_finite=True) -> np.ndarray:
        """:meth:`score_samples` of ``model``, float64 (the VAEs override it)."""
        return -self._squared_errors(X, model, check_finite, row_means=True)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, for example from :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, `n_features_in_`)
            In the dtype of the codes (float32 or float64).
        """
        check_is_fitted(self)
        check_has_columns(X, type(self).__name__)
        codes = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if codes.shape[1] != self.n_components_:
            raise ValueError(
                f"inverse_transform expects codes of {self.n_components_} columns "
                f"(n_components_); got {codes.shape[1]}."
            )
        check_finite_float32(codes, type(self).__name__)
        graph, variables = self._eval_model()
        activation = self.out_activation_
        decoded = self._chunked(
            lambda chunk: _engine.decode(graph, activation, variables, chunk), codes
        )
        return decoded.astype(codes.dtype, copy=False)

    _interpolation = "linear"  # the VAEs: "spherical"

    def interpolate(self, x_a, x_b, n_steps: int = 10, *, method: str = "auto") -> np.ndarray:
        """Decode the path from ``x_a`` to ``x_b`` in code space.

        Encodes both samples, walks from one code to the other in ``n_steps``
        equal steps (both ends included) and decodes each point: the
        morphing strips of the autoencoder literature. ``method="auto"`` walks
        a straight line for the plain autoencoders and a great circle
        (spherical interpolation) for the variational ones, whose Gaussian
        prior puts typical codes near a sphere (White, "Sampling Generative
        Networks", 2016).

        Parameters
        ----------
        x_a, x_b : array-like of shape (n_features,), or one image
            The two samples (a row, an image, or an array holding one of them).
        n_steps : int, default=10
            Number of points on the path, at least 2.
        method : {"auto", "linear", "spherical"}, default="auto"
            How to walk between the codes.

        Returns
        -------
        path : ndarray of shape (n_steps, `n_features_in_`)
            The decoded points, as :meth:`inverse_transform` returns them;
            the first and last are the reconstructions of ``x_a`` and ``x_b``.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skae import Autoencoder
        >>> X = load_digits().data / 16
        >>> ae = Autoencoder(n_components=4, max_iter=10, random_state=0).fit(X)
        >>> ae.interpolate(X[0], X[1], n_steps=5).shape
        (5, 64)
        """
        check_is_fitted(self)
        if not isinstance(n_steps, Integral) or n_steps < 2:
            raise ValueError(f"n_steps must be an int of at least 2; got {n_steps!r}.")
        if method not in ("auto", "linear", "spherical"):
            raise ValueError(f"method must be 'auto', 'linear' or 'spherical'; got {method!r}.")
        ends = [np.asarray(x, dtype=float) for x in (x_a, x_b)]
        for name, x in zip(("x_a", "x_b"), ends):
            if x.size != self.n_features_in_:
                raise ValueError(
                    f"{name} must be one sample of {self.n_features_in_} values; got an "
                    f"array of shape {x.shape}."
                )
        code_a, code_b = self.transform(np.stack([x.reshape(-1) for x in ends]))
        method = self._interpolation if method == "auto" else method
        steps = np.linspace(0.0, 1.0, n_steps)[:, None]
        codes = _interpolate_codes(code_a, code_b, steps, method)
        return self.inverse_transform(codes)

    def reconstruction_error(self, X):
        """Squared reconstruction error of each feature of each sample.

        Shows which columns (or pixels) make a sample unusual. It is, in the
        units of ``X`` squared, ``(X - inverse_transform(transform(X))) ** 2``
        plus, for a value outside the range the feature had in training
        (``data_min_``, ``data_max_``), the squared distance to that range.
        For every estimator but the variational ones, its row mean is
        ``-score_samples(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct; any finite values.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            In the dtype of ``X`` (float32 or float64).
        """
        X = self._validate_for_inference(X)
        errors = self._squared_errors(X, self._fitted_model())
        return _as_finite(errors, X.dtype, type(self).__name__)

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each sample: higher is more normal.

        ``-score_samples(X)`` is the row mean of :meth:`reconstruction_error`:
        the squared error of the decoded mean per feature, in the units of
        ``X``, whatever loss the model was trained with, plus the squared
        distance of values outside the training range. It is defined for every
        finite input, falls as a sample moves away from the training data, and
        is comparable across ``loss``, ``n_components`` and architecture
        settings (so :meth:`score` can select them in ``GridSearchCV``). An
        outlier score, as ``IsolationForest.score_samples``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score; any finite values.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            In the dtype of ``X`` (float32 or float64).
        """
        X = self._validate_for_inference(X)
        scores = self._row_scores(X, self._fitted_model())
        return _as_finite(scores, X.dtype, type(self).__name__)

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


def _interpolate_codes(code_a, code_b, steps: np.ndarray, method: str) -> np.ndarray:
    """Points at fractions ``steps`` (a column) of the way from ``code_a`` to ``code_b``.

    Spherical interpolation (Shoemake, SIGGRAPH 1985) follows the arc
    between the two codes rather than the chord, which for Gaussian codes cuts
    through the unlikely region near the origin; it falls back to a straight
    line for codes in (nearly) the same direction.
    """
    linear = (1 - steps) * code_a + steps * code_b
    norm_a, norm_b = np.linalg.norm(code_a), np.linalg.norm(code_b)
    if method == "linear" or min(norm_a, norm_b) == 0:
        return linear
    cosine = np.clip(np.dot(code_a / norm_a, code_b / norm_b), -1.0, 1.0)
    angle = np.arccos(cosine)
    if np.sin(angle) < 1e-6:
        return linear
    return (np.sin((1 - steps) * angle) * code_a + np.sin(steps * angle) * code_b) / np.sin(angle)


@dataclass(frozen=True)
class _FittedModel:
    """A model as scoring sees it: the evaluation graph and what it was fitted with."""

    graph: Any
    variables: Any
    output_activation: str
    objective: Any
    data_min: np.ndarray
    data_max: np.ndarray


def _as_finite(
    values: np.ndarray, dtype, estimator_name: str, what: str = "reconstruction errors"
) -> np.ndarray:
    """``values`` cast to ``dtype``; a ValueError if that overflows."""
    cast = values.astype(dtype, copy=False)
    if not np.isfinite(cast).all():
        raise ValueError(
            f"{estimator_name}'s {what} overflow {np.dtype(dtype).name}: X holds values too "
            "large (overflow) for the results in its dtype. Scale X, for example with "
            "StandardScaler, or pass float64."
        )
    return cast


class _ShortRepr:
    """A stand-in that prints as the text it holds (see ``EncoderDecoder.__repr__``)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _ByValue:
    """An object pickled by cloudpickle, inside a standard pickle."""

    def __init__(self, payload: bytes):
        self.payload = payload


def validation_split(n_samples: int, fraction: float, seed: int):
    """``(training rows, validation rows)`` for early stopping."""
    n_val = int(np.ceil(fraction * n_samples))
    if n_val < 1 or n_samples - n_val < 1:
        raise ValueError(
            f"early_stopping=True with validation_fraction={fraction} leaves no training "
            f"or no validation sample among {n_samples} samples; give more samples or "
            "set early_stopping=False."
        )
    rng = np.random.RandomState(seed)
    return train_test_split(np.arange(n_samples), test_size=n_val, random_state=rng)


def abstract_opt_state(spec: OptimizerSpec, params):
    """The shapes of the optimizer state ``spec`` gives ``params`` (nothing computed)."""
    return jax.eval_shape(lambda p: spec.init(p, jnp.float32(0.0)), params)


def optimizer_state_from_leaves(spec: OptimizerSpec, params, leaves: list):
    """The optimizer state ``spec`` gives ``params``, filled with ``leaves``, on the device.

    None when the leaves do not fit it (the ``optimizer`` parameter was
    changed after fitting): ``partial_fit`` then starts a fresh optimizer state.
    """
    expected = abstract_opt_state(spec, params)
    if [tuple(leaf.shape) for leaf in jax.tree.leaves(expected)] != [np.shape(x) for x in leaves]:
        return None
    return jax.tree.unflatten(jax.tree.structure(expected), [jax.device_put(x) for x in leaves])


def _fits(opt_state, spec: OptimizerSpec, params) -> bool:
    """Whether ``opt_state`` has the structure ``spec`` gives ``params``."""
    expected = abstract_opt_state(spec, params)
    same_tree = jax.tree.structure(expected) == jax.tree.structure(opt_state)
    return same_tree and all(
        np.shape(a) == np.shape(b)
        for a, b in zip(jax.tree.leaves(expected), jax.tree.leaves(opt_state))
    )


def _check_same_model(fitted: partial, wanted: partial, incremental: bool) -> None:
    """Raise when the parameters now describe another model than the fitted one."""
    changed = [
        name
        for name in sorted(set(fitted.keywords) | set(wanted.keywords))
        if not _same(fitted.keywords.get(name), wanted.keywords.get(name))
    ]
    if fitted.func is not wanted.func and not changed:
        changed = ["the model class"]
    if changed:
        method = "partial_fit" if incremental else "fit with warm_start=True"
        details = ", ".join(
            f"{name}: {fitted.keywords.get(name)!r} -> {wanted.keywords.get(name)!r}"
            for name in changed
        )
        raise ValueError(
            f"{method} continues the fitted model, but the parameters now describe "
            f"another architecture ({details}). Set them back, or call fit with "
            "warm_start=False to train a new model."
        )


def _same(a, b) -> bool:
    """Equality of builder arguments; partials (user module builders) by their parts."""
    if isinstance(a, partial) and isinstance(b, partial):
        return (
            a.func is b.func
            and len(a.args) == len(b.args)
            and all(_same(x, y) for x, y in zip(a.args, b.args))
            and _same(a.keywords, b.keywords)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a is b or a == b)
    except Exception:
        return False


def _pad_rows(X, n_rows: int) -> jax.Array:
    """``X`` (host or device) as float32 on the device, zero-padded to ``n_rows`` rows.

    A host array is padded on the host, a device array on its device.
    """
    padding = ((0, n_rows - len(X)), *[(0, 0)] * (X.ndim - 1))
    if isinstance(X, jax.Array):
        return jnp.pad(X.astype(np.float32), padding)
    # device_put, not jnp.asarray: that compiles a copy program for each new shape.
    return jax.device_put(np.pad(np.asarray(X, dtype=np.float32), padding))
