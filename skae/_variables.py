"""Flax modules as the engine and the estimators hold them.

A model is built once from its *builder* (a ``functools.partial`` of a module
class, recorded at ``fit``), then split into

- two ``graphdef`` s: the model in training mode (dropout on, batch statistics
  updated) and in evaluation mode (dropout off, running statistics read). Both
  hold no arrays and are hashable, so they are part of the compile cache key;
- its parameters (``nnx.Param``), what the optimizer updates;
- its other variables (batch statistics, the random streams of dropout), the
  *model state*, carried through training steps beside the parameters.

Fitted estimators keep parameters and model state as nested dicts of NumPy
arrays (PRNG keys as their raw ``uint32`` data), so pickles load anywhere.
"""

from functools import lru_cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ._engine import ONE_OFF


class ModelGraphs(NamedTuple):
    """The two static halves of a model: training and evaluation mode."""

    train: nnx.GraphDef
    eval: nnx.GraphDef


def split_model(model: nnx.Module) -> tuple[ModelGraphs, nnx.State, nnx.State]:
    """``(graphs, params, model_state)`` of a module (switched to eval mode after)."""
    model.train()
    train_graph, params, model_state = nnx.split(model, nnx.Param, ...)
    model.eval()
    eval_graph, _, _ = nnx.split(model, nnx.Param, ...)
    return ModelGraphs(train_graph, eval_graph), params, model_state


def build_model(builder: partial, seed: int) -> tuple[ModelGraphs, nnx.State, nnx.State]:
    """Build a model with weights and random streams drawn from ``seed``.

    Modules built of ``nnx.Linear`` stacks (``LINEAR_STACKS``, the dense
    autoencoders) get Flax's initial weights from :func:`_linear_params`,
    which compiles no program per architecture. Other architectures named
    with plain arguments are initialised by one jitted program per
    architecture (compiled once, whatever the seed); run op by op, each weight
    shape would compile its own small programs, which dominates a small fit.
    A user's module instances are built as given, op by op.
    """
    key = _hashable(builder)
    if key is None:
        model = builder(rngs=nnx.Rngs(seed))
        _reseed_streams(model, seed)
        return split_model(model)
    graphs, abstract_params, abstract_state = _abstract(key)
    stacks = getattr(builder.func, "LINEAR_STACKS", None)
    if stacks and jax.config.jax_threefry_partitionable and not jax.tree.leaves(abstract_state):
        return graphs, _linear_params(abstract_params, seed, stacks), abstract_state
    params, model_state = _initialize(key, np.int32(seed))
    return graphs, params, model_state


def _hashable(builder: partial):
    """A hashable stand-in for ``builder`` when it holds only plain values, else None."""
    plain = (str, int, float, bool, type(None))

    def is_plain(value):
        if isinstance(value, tuple):
            return all(is_plain(item) for item in value)
        return isinstance(value, plain)

    items = (*builder.args, *builder.keywords.values())
    if not all(is_plain(value) for value in items):
        return None
    return builder.func, builder.args, tuple(sorted(builder.keywords.items()))


def _builder(key) -> partial:
    """The builder that :func:`_hashable` made ``key`` from."""
    func, args, keywords = key
    return partial(func, *args, **dict(keywords))


@partial(jax.jit, static_argnames="key", compiler_options=ONE_OFF)
def _initialize(key, seed):
    """``(params, model_state)`` of the builder ``key`` stands for, drawn from ``seed``."""
    model = _builder(key)(rngs=nnx.Rngs(jax.random.key(seed)))
    _reseed_streams(model, seed)
    _, params, model_state = nnx.split(model, nnx.Param, ...)
    return params, model_state


@lru_cache(maxsize=64)
def _abstract(key) -> tuple[ModelGraphs, nnx.State, nnx.State]:
    """:func:`abstract_model` of the builder ``key`` stands for (traced once per architecture)."""
    return abstract_model(_builder(key))


# Flax's Lecun normal: a normal truncated at two standard deviations, divided
# by that truncated normal's standard deviation, times sqrt(1 / fan_in).
TRUNCATED_NORMAL_STD = 0.87962566103423978


def _linear_params(abstract_params: nnx.State, seed: int, stacks: tuple) -> nnx.State:
    """The parameters Flax initialises for a module of ``nnx.Linear`` stacks.

    ``stacks`` names the module's stacks (``stack.layers[i]`` are
    ``nnx.Linear``) in the order it builds them; its other parameters start
    at zero. As under ``nnx.Rngs(key(seed))``, each layer takes the key
    ``fold_in(key(seed), count)`` for its kernel and the next count for its
    bias (zeros); its kernel is Lecun-normal, ``truncated_normal(key, -2, 2,
    shape) * sqrt(1 / fan_in) / TRUNCATED_NORMAL_STD``. Threefry's
    partitionable counters make those values the first ones of a longer draw
    from the same key, so a few programs (``DRAW_ROW``) serve every
    architecture, where Flax's initialisation compiles a program for each
    (a quarter of a second for each new number of features on a CPU). The
    values are Flax's bit for bit (a test compares them).
    """
    host = jax.tree.map(
        lambda leaf: np.zeros(leaf.shape, leaf.dtype), nnx.to_pure_dict(abstract_params)
    )
    count = 0
    for stack in stacks:
        layers = host[stack]["layers"]
        for index in sorted(layers):
            kernel = layers[index]["kernel"]
            rows = 1 << (-(-kernel.size // DRAW_ROW) - 1).bit_length()
            draws = _truncated_normal_draws(np.int32(seed), np.uint32(count), rows)
            scale = np.sqrt(np.float32(1.0 / kernel.shape[0])) / np.float32(TRUNCATED_NORMAL_STD)
            layers[index]["kernel"] = np.asarray(draws)[: kernel.size].reshape(kernel.shape) * scale
            count += 2  # the kernel's key, then the bias's
    return to_device(abstract_params, host)


# Kernels are drawn in rows of this many values, a power of two of rows
# (row-major, the values of a flat draw): one program serves every kernel of
# up to 4,096 weights, whatever its shape.
DRAW_ROW = 4096


@partial(jax.jit, static_argnames="rows", compiler_options=ONE_OFF)
def _truncated_normal_draws(seed, count, rows: int) -> jax.Array:
    key = jax.random.fold_in(jax.random.key(seed), count)
    return jax.random.truncated_normal(key, -2.0, 2.0, (rows, DRAW_ROW)).ravel()


def abstract_model(builder: partial) -> tuple[ModelGraphs, nnx.State, nnx.State]:
    """:func:`build_model` on shapes only: no weight is computed."""
    return split_model(nnx.eval_shape(lambda: builder(rngs=nnx.Rngs(0))))


def _reseed_streams(model: nnx.Module, seed: int) -> None:
    """Seed every random stream in ``model`` (e.g. a user's ``nnx.Dropout``) from ``seed``.

    A user's module instance arrives with the streams it was built with; this
    makes dropout follow the estimator's ``random_state`` instead.
    """
    base = jax.random.key(seed)
    streams = [
        (path, variable)
        for path, variable in nnx.iter_graph(model)
        if isinstance(variable, nnx.RngKey)
    ]
    for index, (_, variable) in enumerate(streams):
        key = jax.random.fold_in(base, index + 1)
        if hasattr(type(variable), "set_value"):  # flax >= 0.12.1
            variable.set_value(key)
        else:
            variable.value = key


def to_host(state: nnx.State) -> dict:
    """A state as a nested dict of NumPy arrays (PRNG keys as their raw data)."""

    def host(leaf):
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        return np.asarray(leaf)

    return jax.tree.map(host, nnx.to_pure_dict(state))


def to_device(abstract: nnx.State, host: dict) -> nnx.State:
    """The inverse of :func:`to_host`, shaped like ``abstract``."""
    state = jax.tree.map(lambda leaf: leaf, abstract)  # a copy to fill in
    kinds = nnx.to_pure_dict(abstract)

    def device(kind, leaf):
        if jax.dtypes.issubdtype(kind.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(jax.device_put(leaf))
        # device_put, not jnp.asarray: that compiles a copy program for each new shape.
        return jax.device_put(leaf)

    nnx.replace_by_pure_dict(state, jax.tree.map(device, kinds, host))
    return state


def check_model_shapes(
    graphs: ModelGraphs, params, model_state, n_features: int, n_outputs: int | None = None
) -> int:
    """Check that the model encodes rows of ``n_features`` values and decodes
    them to rows of ``n_outputs`` values (``n_features`` when None).

    Returns the code size. Runs on shapes only (``jax.eval_shape``), so a user's
    module that does not fit gets a clear error before any training; the
    answer is kept per architecture, so an ensemble's members check it once.
    """
    return _checked_code_size(
        graphs.eval, _shapes(params), _shapes(model_state), n_features, n_outputs
    )


def _shapes(tree):
    """A hashable stand-in for ``tree``'s structure, shapes and dtypes."""
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, tuple(jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves)


@lru_cache(maxsize=64)
def _checked_code_size(graph, params_shapes, state_shapes, n_features, n_outputs) -> int:
    params = jax.tree.unflatten(*params_shapes)
    model_state = jax.tree.unflatten(*state_shapes)

    def encode(params, model_state, x):
        return nnx.merge(graph, params, model_state).encode(x)

    def decode(params, model_state, codes):
        return nnx.merge(graph, params, model_state).decode(codes)

    inputs = jax.ShapeDtypeStruct((2, n_features), jnp.float32)
    try:
        codes = jax.eval_shape(encode, params, model_state, inputs)
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
        outputs = jax.eval_shape(decode, params, model_state, codes)
    except Exception as error:
        raise ValueError(
            f"The decoder cannot take the encoder's codes of shape {codes.shape}: {error}"
        ) from error
    n_outputs = n_features if n_outputs is None else n_outputs
    if outputs.shape != (2, n_outputs):
        what = "the input's shape" if n_outputs == n_features else "the targets' shape"
        raise ValueError(
            f"The decoder must return {what}: for codes of shape {codes.shape} "
            f"it returned {outputs.shape}, expected (2, {n_outputs})."
        )
    return int(codes.shape[1])
