"""The training engine: pure functions, shared by every estimator.

Shaped like an Optax transformation:

- :func:`init_state` builds the :class:`TrainState` (parameters and optimizer
  state) from a model's parameters;
- :func:`run_epoch` runs one whole epoch as one jitted call: it shuffles on the
  device and loops over minibatches there (``jax.lax.fori_loop``), the data
  staying on the device.

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
import numpy as np
from flax import nnx

from ._devices import split_batch
from ._losses import encoder_jacobian_sq_norm, l2_penalty
from ._models.activations import apply_activation
from ._optimizers import OptimizerSpec
from ._transfer import keep_frozen

# Compiler options. On a CPU, XLA's compiler spends most of a small fit's time
# on a new architecture; its newer fusion emitters and LLVM's most expensive
# passes (level 3) cost more compile time than they save in a short run
# (benchmarks/RESULTS.md, ninth session). The ``xla_cpu_`` option concerns
# only the CPU.
# - Programs that run once per fit (initialisation, stacking an ensemble's
#   states) are not optimised at all: they run in a fraction of their compile time.
ONE_OFF = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}
# - Training programs keep XLA's defaults, which run large models fastest
#   (without the fusion emitters a 784-256-128-32 model trains 18% slower
#   on MNIST, at level 2 a convolutional one about 5%).
TRAINING = {}
# - Small training programs, whose compilation outlasts their training, are
#   compiled at level 2 without the fusion emitters: 40% less compile time
#   for the outlier detector's members, whose epochs run 10-20% slower.
SMALL_TRAINING = {"xla_backend_optimization_level": 2, "xla_cpu_use_fusion_emitters": False}
# An epoch is small up to this many (padded rows) x (weights, of all stacked models).
SMALL_EPOCH_WORK = 2**26


class EpochProgram:
    """An epoch function jitted twice: with ``SMALL_TRAINING`` or ``TRAINING``.

    A call compiles (once per static configuration and shapes, as ``jax.jit``)
    and runs the variant that suits the epoch's size: rows times weights, see
    ``SMALL_EPOCH_WORK``. ``lower`` and ``_cache_size`` are ``jax.jit``'s.
    """

    def __init__(self, function, static_argnames):
        self.__doc__ = function.__doc__
        self._small, self._large = (
            jax.jit(function, static_argnames=static_argnames, compiler_options=options)
            for options in (SMALL_TRAINING, TRAINING)
        )

    def _program(self, config, state):
        n_weights = sum(leaf.size for leaf in jax.tree.leaves(state.params))
        small = config.batch_size * config.n_batches * n_weights <= SMALL_EPOCH_WORK
        return self._small if small else self._large

    def __call__(self, config, state, *args, **kwargs):
        return self._program(config, state)(config, state, *args, **kwargs)

    def lower(self, config, state, *args, **kwargs):
        return self._program(config, state).lower(config, state, *args, **kwargs)

    def _cache_size(self) -> int:
        return self._small._cache_size() + self._large._cache_size()


# Up to this many rows (12 bits of place), an epoch's shuffle sorts packed
# integer keys (see _shuffled_places).
PACKED_SORT_ROWS = 4096

# An epoch whose weights' norm grew more than this many times (from a norm of
# at least 1) diverged, even if every value stayed finite: no training that
# converges moves that far in one epoch, and weights of 1e10 would overflow
# float32 at inference.
DIVERGED_GROWTH = 1e3


class TrainState(NamedTuple):
    """What changes during training: a pytree of device arrays.

    ``model_state`` holds the model's Flax variables other than parameters
    (batch statistics of ``nnx.BatchNorm``, the random streams of
    ``nnx.Dropout``); an empty ``nnx.State`` for the built-in models.
    """

    params: Any
    opt_state: Any
    model_state: Any


class EpochMetrics(NamedTuple):
    """What one epoch reports.

    Attributes
    ----------
    loss : scalar array
        Mean training objective over the epoch's samples (finite steps only).
    finite : bool array
        False when a step produced a non-finite loss, or the epoch ended with
        non-finite weights (a NaN or infinite gradient makes the optimizer's
        update non-finite) or with weights exploding while still finite (their
        norm grew more than ``DIVERGED_GROWTH`` times). The returned state is
        then not to be kept: the caller keeps a state from before the epoch
        (see ``skae._training``).
    """

    loss: jax.Array
    finite: jax.Array


@dataclass(frozen=True)
class EpochConfig:
    """Static configuration of :func:`run_epoch` (part of the compile-cache key)."""

    graphdef: Any  # the model in training mode (dropout on, batch statistics updated)
    objective: Any
    optimizer: OptimizerSpec
    batch_size: int
    n_batches: int
    l2_penalty: bool = True  # False when alpha == 0: the penalty is not computed at all
    frozen: tuple[str, ...] = ()  # top-level layers kept as they are (see skae._transfer)
    compute_dtype: str = "float32"  # "bfloat16": mixed precision (see batch_objective)
    mesh: Any = None  # a jax.sharding.Mesh: each batch split over its devices (skae._devices)


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


def epoch_layout(n_samples: int, batch_size: int, stream: bool = False) -> tuple[int, int]:
    """``(rows per batch, number of batches)`` for an epoch over ``n_samples``.

    The number of batches is bucketed (with ``stream=True``, for chunks of a
    stream of any sizes, rounded up to a power of two, so that few programs
    serve them all); a batch larger than the data set shrinks to the
    bucketed data size, except in a stream. Padded rows are masked out of the loss and batches
    made only of padding are not run, so no sample is dropped, none counts
    twice and the padding costs no compute.
    """
    rows = batch_size if stream else min(batch_size, bucket(n_samples))
    n_batches = -(-n_samples // rows)
    return rows, 1 << (n_batches - 1).bit_length() if stream else bucket(n_batches)


def init_state(
    params, optimizer: OptimizerSpec, learning_rate: float, model_state=None
) -> TrainState:
    """A fresh :class:`TrainState` for ``params`` (and the model's other variables)."""
    model_state = nnx.State({}) if model_state is None else model_state
    return _init_state(params, optimizer, np.float32(learning_rate), model_state)


@partial(jax.jit, static_argnames="optimizer", compiler_options=ONE_OFF)
def _init_state(params, optimizer: OptimizerSpec, learning_rate, model_state) -> TrainState:
    # One program per architecture and optimizer, rather than a small one per
    # weight shape when run op by op.
    return TrainState(params, optimizer.init(params, learning_rate), model_state)


def batch_objective(
    config: EpochConfig, params, model_state, batch, mask, key, hyper
) -> tuple[jax.Array, Any]:
    """The objective on one minibatch plus scikit-learn's L2 penalty.

    As in ``MLPRegressor``, the penalty is ``alpha / 2 * ||W||^2`` divided by the
    number of samples in the batch. Returns the loss and the model's updated
    non-parameter state (batch statistics, random streams).

    With a ``compute_dtype`` other than float32 (mixed precision), the model
    runs on copies of the parameters and inputs in that type, while the
    targets, the loss and its sum over the batch stay float32; the gradients
    come back in float32 through the casts, so the weights, the optimizer
    state and the penalty stay float32.

    ``hyper["param_mask"]``, when present, is a tree of 0/1 arrays shaped like
    ``params`` by which they are multiplied: the weights it zeroes get no
    gradient and stay as they are (zero), so a model padded to wider layers
    trains exactly as the narrower model it holds (see ``skae._widths``).
    """
    # Fresh Variable objects for this trace level, which the model may update
    # (Flax refuses to mutate a Variable created at the outer jit's level).
    model_state = jax.tree.map(lambda leaf: leaf, model_state)
    if "param_mask" in hyper:  # a narrower model trained at its group's widths (skae._widths)
        params = jax.tree.map(jnp.multiply, params, hyper["param_mask"])
    params_float32 = params
    if config.compute_dtype != "float32":
        params, batch = _in_compute_dtype(params, batch, jnp.dtype(config.compute_dtype))
    model = nnx.merge(config.graphdef, params, model_state)
    loss = config.objective.training_loss(model, batch, mask, key, hyper).astype(jnp.float32)
    _, _, model_state = nnx.split(model, nnx.Param, ...)
    if config.l2_penalty:
        n_rows = jnp.maximum(jnp.sum(mask), 1).astype(jnp.float32)
        loss = loss + 0.5 * hyper["alpha"] * l2_penalty(params_float32) / n_rows
    return loss, model_state


def _in_compute_dtype(params, batch, dtype):
    """The floating parameters and the inputs in ``dtype``.

    The targets (for an autoencoder, the float32 inputs) keep their type, so
    that the error is measured in float32.
    """
    inputs, targets = batch
    params = jax.tree.map(
        lambda leaf: leaf.astype(dtype) if jnp.issubdtype(leaf.dtype, jnp.floating) else leaf,
        params,
    )
    return params, (inputs.astype(dtype), inputs if targets is None else targets)


def weights_norm(tree) -> jax.Array:
    """Euclidean norm of every floating-point value in ``tree``, in float32
    (NaN or infinite when any value is)."""
    leaves = [leaf for leaf in jax.tree.leaves(tree) if jnp.issubdtype(leaf.dtype, jnp.floating)]
    return jnp.sqrt(sum(jnp.sum(jnp.square(leaf.astype(jnp.float32))) for leaf in leaves))


def _select(keep: jax.Array, new, old):
    """``new`` where ``keep`` else ``old``, leaf by leaf (PRNG keys never change)."""

    def pick(new_leaf, old_leaf):
        if jax.dtypes.issubdtype(new_leaf.dtype, jax.dtypes.prng_key):
            return new_leaf
        return jnp.where(keep, new_leaf, old_leaf)

    return jax.tree.map(pick, new, old)


def _epoch(
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
    n_samples : int array
        Number of real rows (traced, so any count up to the padded size reuses
        the program): a scalar when they are the first rows, or one count per
        equal block of rows when each block starts with its own real rows (one
        block per process, see ``skae._multihost``).
    key : PRNG key
        Source of the shuffle and of each step's key (noise, sampling...).
    hyper : dict of scalar arrays
        ``learning_rate``, ``alpha`` and whatever the objective reads.
    """
    n_rows = config.batch_size * config.n_batches
    shuffle_key, step_key = jax.random.split(key)
    is_real, row_numbers, n_samples = _real_rows(n_rows, n_samples)
    order = _shuffled_places(shuffle_key, is_real, row_numbers)
    grad_fn = jax.value_and_grad(batch_objective, argnums=1, has_aux=True)

    def train_step(step, carry):
        state, loss_sum, finite = carry
        places = step * config.batch_size + jnp.arange(config.batch_size)
        mask = places < n_samples
        # Places past the real rows read real rows (masked out of the loss all
        # the same), so that a user's BatchNorm computes its statistics on real data.
        indices = order[places % n_samples]
        batch = jax.tree.map(lambda array: array[indices], data)
        if config.mesh is not None:  # each device computes its share of the batch
            batch, mask = split_batch((batch, mask), config.mesh)
        step_key_i = jax.random.fold_in(step_key, step)
        (loss, model_state), grads = grad_fn(
            config, state.params, state.model_state, batch, mask, step_key_i, hyper
        )
        params, opt_state = config.optimizer.update(
            grads, state.opt_state, state.params, hyper["learning_rate"]
        )
        if config.frozen:  # after the update, so that no optimizer (weight decay...) moves them
            params = keep_frozen(params, state.params, config.frozen)
        finite &= jnp.isfinite(loss)
        # The step is kept only while every loss so far was finite. A scalar
        # select rather than a lax.cond, whose pass-through branch makes XLA
        # copy the whole carry every step.
        state = _select(finite, TrainState(params, opt_state, model_state), state)
        return state, loss_sum + jnp.where(finite, loss * jnp.sum(mask), 0.0), finite

    start_norm = weights_norm(state.params)
    init = (state, jnp.zeros((), jnp.float32), jnp.ones((), bool))
    # Only the batches that hold real rows run: the number is traced, so data
    # of any size up to the padded one shares this program, and batches of
    # padding only (bucketing adds them) cost nothing.
    n_real_batches = (n_samples + config.batch_size - 1) // config.batch_size
    state, loss_sum, finite = jax.lax.fori_loop(0, n_real_batches, train_step, init)
    # A NaN or infinite gradient with a finite loss makes the optimizer's update,
    # so the weights, non-finite; the next step's loss is then non-finite too,
    # and the weights stay so to the end of the epoch. One check of the final
    # weights' norm, once per epoch, catches it wherever it happened (a NaN or
    # infinite norm fails the comparison), without a reduction over the
    # gradients at every step. Weights that grew a thousandfold are diverging
    # too, only not yet to infinity: keeping them would leave a model whose
    # outputs overflow.
    finite &= weights_norm(state.params) <= DIVERGED_GROWTH * jnp.maximum(start_norm, 1.0)
    return state, EpochMetrics(loss_sum / n_samples, finite)


# Jitted apart from _epoch: run_epochs calls _epoch inside its own program,
# and JAX takes compiler options only on the outermost jit.
run_epoch = EpochProgram(_epoch, static_argnames="config")


def _shuffled_places(key, is_real: jax.Array, row_numbers) -> jax.Array:
    """The places of the real rows in a random order, then the places of the padding.

    Each real row gets a random sort key, padding sorts last. A row's key is
    drawn by its number in the data set, not its place, so that blocks of
    rows on several processes are shuffled as the same rows on one.

    For up to ``PACKED_SORT_ROWS`` places the key is one ``uint32``: random
    high bits over the place in the low bits, sorted alone. XLA's CPU sort is
    several times faster on one integer array than ``argsort``'s pair of
    arrays, which costs a small fit a quarter of its time. Ties of the random
    bits (at least 20 of them: a few pairs of rows per epoch at most) keep
    the rows' order. Larger data sets sort float keys with ``argsort``.
    """
    n_rows = is_real.shape[0]
    if n_rows > PACKED_SORT_ROWS:
        uniform = jax.random.uniform(key, (n_rows,))
        sort_keys = uniform if row_numbers is None else uniform[row_numbers]
        return jnp.argsort(jnp.where(is_real, sort_keys, 2.0))
    place_bits = max(1, (n_rows - 1).bit_length())
    bits = jax.random.bits(key, (n_rows,), jnp.uint32)
    if row_numbers is not None:
        bits = bits[row_numbers]
    # Real rows' random parts stop one below the largest, which marks padding.
    largest = jnp.uint32((1 << (32 - place_bits)) - 1)
    high = jnp.where(is_real, jnp.minimum(bits >> place_bits, largest - 1), largest)
    places = jnp.arange(n_rows, dtype=jnp.uint32)
    packed = jnp.sort((high << place_bits) | places)
    return (packed & jnp.uint32((1 << place_bits) - 1)).astype(jnp.int32)


def _real_rows(n_rows: int, n_samples: jax.Array):
    """Where the real rows are, for :func:`run_epoch`.

    Returns ``(is_real, row_numbers, n_real)``: which of the ``n_rows`` places
    hold a real row, the number in the data set of the row at each place (None
    when it is the place: the real rows come first) and how many rows are real.
    """
    places = jnp.arange(n_rows)
    if n_samples.ndim == 0:
        return places < n_samples, None, n_samples
    # One block per process, each starting with its rows: the data set is the
    # blocks' real rows put end to end.
    block, within = jnp.divmod(places, n_rows // n_samples.shape[0])
    first_row = jnp.cumsum(n_samples) - n_samples
    return within < n_samples[block], first_row[block] + within, jnp.sum(n_samples)


def _epochs(
    config: EpochConfig, states: TrainState, data, n_samples, keys, hyper: dict, shared_data: bool
) -> tuple[TrainState, EpochMetrics]:
    """:func:`run_epoch` for many models of one architecture, in one program.

    ``states``, ``keys``, ``n_samples`` and the values of ``hyper`` are stacked
    along a first axis, one entry per model, so that each model has its own
    learning rate, penalty, noise... and number of real rows; ``data`` is
    shared by all of them (``shared_data=True``) or stacked too (each model
    its own rows: a validation split, a cross-validation fold). ``jax.vmap``
    turns the models' matmuls into batched ones, so an ensemble of small
    models costs little more than one. Each model's epoch is exactly
    :func:`run_epoch`'s: shuffles, divergence checks and kept states are per
    model.
    """

    def one(state, model_data, model_rows, key, model_hyper):
        return _epoch(config, state, model_data, model_rows, key, model_hyper)

    data_axis = None if shared_data else 0
    return jax.vmap(one, in_axes=(0, data_axis, 0, 0, 0))(states, data, n_samples, keys, hyper)


run_epochs = EpochProgram(_epochs, static_argnames=("config", "shared_data"))


@jax.jit
def feature_ranges(X: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Minimum and maximum of each feature of ``X`` (NaN where a NaN is), on its device.

    Checking the training data where it already is saves passes over it on the
    host, which on an accelerator cost more than a short fit.
    """
    return jnp.min(X, axis=0), jnp.max(X, axis=0)


# Inference: ``graphdef`` is the model in evaluation mode (dropout off, batch
# statistics read, not updated) and ``variables`` is ``(params, model_state)``.
@partial(jax.jit, static_argnames=("graphdef", "objective"))
def sample_losses(graphdef, objective, variables, batch, key, hyper: dict) -> jax.Array:
    """Per-sample loss of the model on ``batch`` (no gradient, no update)."""
    return objective.sample_losses(nnx.merge(graphdef, *variables), batch, key, hyper)


@partial(jax.jit, static_argnames="graphdef")
def encode(graphdef, variables, inputs: jax.Array) -> jax.Array:
    """The model's code for ``inputs``."""
    return nnx.merge(graphdef, *variables).encode(inputs)


@partial(jax.jit, static_argnames=("graphdef", "output_activation"))
def decode(graphdef, output_activation: str, variables, codes: jax.Array) -> jax.Array:
    """The model's reconstruction from ``codes``, after the output activation."""
    return apply_activation(output_activation, nnx.merge(graphdef, *variables).decode(codes))


@partial(jax.jit, static_argnames=("graphdef", "output_activation"))
def reconstruct(graphdef, output_activation: str, variables, inputs: jax.Array) -> jax.Array:
    """``decode(encode(inputs))`` after the output activation (the decoded mean)."""
    model = nnx.merge(graphdef, *variables)
    return apply_activation(output_activation, model.decode(model.encode(inputs)))


@partial(jax.jit, static_argnames=("graphdef", "output_activation", "layer"))
def layer_output(graphdef, output_activation: str, variables, inputs: jax.Array, layer: str):
    """One layer's output for ``inputs``, flattened to ``(n, n_units)``.

    ``output`` is the reconstruction (after the output activation).
    """
    outputs = nnx.merge(graphdef, *variables).layer_outputs(inputs)
    value = outputs[layer]
    if layer == "output":
        value = apply_activation(output_activation, value)
    return value.reshape(value.shape[0], -1)


def layer_shapes(graphdef, variables, n_features: int) -> dict[str, tuple[int, ...]]:
    """``{layer name: shape of one sample's output}``, input to output (nothing computed)."""
    names = []

    def outputs(variables, inputs):
        by_name = nnx.merge(graphdef, *variables).layer_outputs(inputs)
        names.extend(by_name)  # a dict returned from a traced function loses its order
        return list(by_name.values())

    shapes = jax.eval_shape(outputs, variables, jax.ShapeDtypeStruct((1, n_features), jnp.float32))
    return {name: tuple(shape.shape[1:]) for name, shape in zip(names, shapes)}


@partial(jax.jit, static_argnames="graphdef")
def jacobian_sq_norms(graphdef, variables, inputs: jax.Array) -> jax.Array:
    """Exact squared Frobenius norm of the encoder's Jacobian at each input row."""
    return encoder_jacobian_sq_norm(nnx.merge(graphdef, *variables).encode, inputs, "exact")
