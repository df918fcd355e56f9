"""The training engine: pure functions, shared by every estimator.

Shaped like an Optax transformation:

- :func:`init_state` builds the :class:`TrainState` (parameters and optimizer
  state) from a model's parameters;
- :func:`run_epoch` runs one whole epoch as one jitted call: it shuffles on the
  device and ``jax.lax.scan``-s over minibatches, the data staying on the device.

Everything that varies between models of the same shape (parameters, optimizer
state, keys, data, numeric hyper-parameters) is an argument, not a global or a
static value: that is what lets one compiled program serve a ``clone``, every
``GridSearchCV`` fold and a grid over learning rates, and what a later ``vmap``
over models or a ``jax.sharding`` mesh over the batch will wrap.

The static part of the program is an :class:`EpochConfig`, a frozen dataclass
whose fields are all hashable: the model's ``graphdef``, the objective, the
optimizer, the batch size and the (bucketed) number of batches.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from ._losses import encoder_jacobian_sq_norm, l2_penalty
from ._models.activations import apply_activation
from ._optimizers import OptimizerSpec


class TrainState(NamedTuple):
    """What changes during training: a pytree of device arrays."""

    params: Any
    opt_state: Any


class EpochMetrics(NamedTuple):
    """What one epoch reports.

    Attributes
    ----------
    loss : scalar array
        Mean training objective over the epoch's samples (finite steps only).
    finite : bool array
        False when a step produced a non-finite loss; the steps from then on
        were skipped, so the returned state holds the last finite weights.
    """

    loss: jax.Array
    finite: jax.Array


@dataclass(frozen=True)
class EpochConfig:
    """Static configuration of :func:`run_epoch` (part of the compile-cache key)."""

    graphdef: Any
    objective: Any
    optimizer: OptimizerSpec
    batch_size: int
    n_batches: int
    l2_penalty: bool = True  # False when alpha == 0: the penalty is not computed at all


def bucket(n: int) -> int:
    """Round ``n`` up to a number with at most four significant bits.

    Shapes are rounded to these buckets (16, 18, 20, ..., 32, 36, 40, ..., 64,
    72, ..., at most 12.5 % above ``n``) so that data sets of slightly different
    sizes, such as cross-validation folds, share one compiled program.
    """
    if n <= 16:
        return n
    step = 1 << (n.bit_length() - 4)
    return -(-n // step) * step


def epoch_layout(n_samples: int, batch_size: int) -> tuple[int, int]:
    """``(rows per batch, number of batches)`` for an epoch over ``n_samples``.

    The number of batches is bucketed; a batch larger than the data set shrinks
    to the bucketed data size. Padded rows are masked out of the loss and the
    updates of batches made only of padding are discarded, so no sample is
    dropped and none counts twice.
    """
    rows = min(batch_size, bucket(n_samples))
    return rows, bucket(-(-n_samples // rows))


def init_state(params, optimizer: OptimizerSpec, learning_rate: float) -> TrainState:
    """A fresh :class:`TrainState` for ``params``."""
    return TrainState(params, optimizer.init(params, jnp.asarray(learning_rate, jnp.float32)))


def batch_objective(config: EpochConfig, params, batch, mask, key, hyper) -> jax.Array:
    """The objective on one minibatch plus scikit-learn's L2 penalty.

    As in ``MLPRegressor``, the penalty is ``alpha / 2 * ||W||^2`` divided by the
    number of samples in the batch.
    """
    model = nnx.merge(config.graphdef, params)
    loss = config.objective.training_loss(model, batch, mask, key, hyper)
    if not config.l2_penalty:
        return loss
    n_rows = jnp.maximum(jnp.sum(mask), 1).astype(jnp.float32)
    return loss + 0.5 * hyper["alpha"] * l2_penalty(params) / n_rows


@partial(jax.jit, static_argnames="config")
def run_epoch(
    config: EpochConfig, state: TrainState, data, n_samples, key, hyper: dict
) -> tuple[TrainState, EpochMetrics]:
    """Train for one epoch over the first ``n_samples`` rows of ``data``.

    Parameters
    ----------
    config : EpochConfig
        Static configuration.
    state : TrainState
        Parameters and optimizer state at the start of the epoch.
    data : pytree of arrays
        ``(inputs, targets)``, each with ``config.batch_size * config.n_batches``
        rows on the device; the rows from ``n_samples`` on are padding.
        ``targets`` is None when they are the inputs (an autoencoder), which
        saves gathering the same rows twice.
    n_samples : int scalar array
        Number of real rows (traced, so any count up to the padded size reuses
        the program).
    key : PRNG key
        Source of the shuffle and of each step's key (noise, sampling...).
    hyper : dict of scalar arrays
        ``learning_rate``, ``alpha`` and whatever the objective reads.
    """
    n_rows = config.batch_size * config.n_batches
    shuffle_key, step_key = jax.random.split(key)
    # Real rows get a random sort key in [0, 1), padding sorts last: the order
    # is a shuffle of the real rows followed by the padding.
    sort_keys = jnp.where(
        jnp.arange(n_rows) < n_samples, jax.random.uniform(shuffle_key, (n_rows,)), 2.0
    )
    order = jnp.argsort(sort_keys).reshape(config.n_batches, config.batch_size)
    grad_fn = jax.value_and_grad(batch_objective, argnums=1)

    def train_step(carry, step):
        state, loss_sum, finite = carry
        indices = order[step]
        mask = indices < n_samples
        batch = jax.tree.map(lambda array: array[indices], data)
        loss, grads = grad_fn(
            config, state.params, batch, mask, jax.random.fold_in(step_key, step), hyper
        )
        params, opt_state = config.optimizer.update(
            grads, state.opt_state, state.params, hyper["learning_rate"]
        )
        finite &= jnp.isfinite(loss)
        # The update is kept only for a batch holding real rows (bucket padding
        # adds batches of padding only) and while every loss so far was finite;
        # a value the update made non-finite keeps its old value. So the weights
        # stay finite, and after a non-finite loss they stay as they were and
        # the caller sees finite=False. Selects rather than a lax.cond, whose
        # pass-through branch makes XLA copy the whole carry every step, and
        # elementwise, so they fuse into the optimizer's update instead of
        # adding a reduction over all gradients to every step.
        keep = finite & (step * config.batch_size < n_samples)
        state = jax.tree.map(
            lambda new, old: jnp.where(keep & jnp.isfinite(new), new, old),
            TrainState(params, opt_state),
            state,
        )
        return (state, loss_sum + jnp.where(keep, loss * jnp.sum(mask), 0.0), finite), None

    init = (state, jnp.zeros((), jnp.float32), jnp.ones((), bool))
    (state, loss_sum, finite), _ = jax.lax.scan(train_step, init, jnp.arange(config.n_batches))
    return state, EpochMetrics(loss_sum / n_samples, finite)


@jax.jit
def data_summary(X: jax.Array) -> jax.Array:
    """``[any NaN, any infinity, min, max]`` of ``X``, computed on its device.

    Checking the training data where it already is saves passes over it on the
    host, which on an accelerator cost more than a short fit.
    """
    return jnp.stack([jnp.isnan(X).any(), jnp.isinf(X).any(), jnp.nanmin(X), jnp.nanmax(X)]).astype(
        jnp.float32
    )


@partial(jax.jit, static_argnames=("graphdef", "objective"))
def sample_losses(graphdef, objective, params, batch, key, hyper: dict) -> jax.Array:
    """Per-sample loss of the model on ``batch`` (no gradient, no update)."""
    return objective.sample_losses(nnx.merge(graphdef, params), batch, key, hyper)


@partial(jax.jit, static_argnames="graphdef")
def encode(graphdef, params, inputs: jax.Array) -> jax.Array:
    """The model's code for ``inputs``."""
    return nnx.merge(graphdef, params).encode(inputs)


@partial(jax.jit, static_argnames=("graphdef", "output_activation"))
def decode(graphdef, output_activation: str, params, codes: jax.Array) -> jax.Array:
    """The model's reconstruction from ``codes``, after the output activation."""
    return apply_activation(output_activation, nnx.merge(graphdef, params).decode(codes))


@partial(jax.jit, static_argnames="graphdef")
def jacobian_sq_norms(graphdef, params, inputs: jax.Array) -> jax.Array:
    """Exact squared Frobenius norm of the encoder's Jacobian at each input row."""
    return encoder_jacobian_sq_norm(nnx.merge(graphdef, params).encode, inputs, "exact")


class EarlyStopping:
    """scikit-learn's MLP rule for stopping, on a score where higher is better.

    An epoch improves when its score beats the best by more than ``tol``;
    training stops after ``n_iter_no_change`` epochs in a row without
    improvement. The best parameters seen are kept.
    """

    def __init__(self, tol: float, n_iter_no_change: int):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.best_score = -float("inf")
        self.best_params = None
        self.no_improvement_count = 0

    def update(self, score: float, params) -> bool:
        """Record an epoch's score; return True when training should stop."""
        if score < self.best_score + self.tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        if score > self.best_score:
            self.best_score = score
            self.best_params = params
        return self.no_improvement_count > self.n_iter_no_change
