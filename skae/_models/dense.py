"""Dense (fully connected) encoder-decoder, and the wrapper for user modules."""

import copy
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from .activations import apply_activation, clip_log_variance


class DenseStack(nnx.Module):
    """A stack of ``nnx.Linear`` layers with ``activation`` between them.

    Parameters
    ----------
    sizes : sequence of int
        Widths from the input to the output, e.g. ``(784, 256, 32)`` is two layers.
    activation : str
        Name from :data:`skae._models.activations.ACTIVATIONS`.
    rngs : nnx.Rngs
        Source of the initial weights.
    """

    def __init__(self, sizes: Sequence[int], activation: str, *, rngs: nnx.Rngs):
        self.activation = activation
        self.layers = nnx.List(
            [nnx.Linear(n_in, n_out, rngs=rngs) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        )

    def outputs(self, x: jax.Array) -> list[jax.Array]:
        """Every layer's output: after ``activation``, but the last one's raw."""
        outputs = []
        for layer in self.layers[:-1]:
            x = apply_activation(self.activation, layer(x))
            outputs.append(x)
        return [*outputs, self.layers[-1](x)]

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.outputs(x)[-1]


class DenseAutoencoder(nnx.Module):
    """Dense autoencoder whose decoder mirrors the encoder.

    ``n_features -> *hidden_layer_sizes -> n_components`` then back through the
    same widths in reverse, to ``n_outputs`` values (``n_features`` when None;
    another width when the model maps inputs to other targets). The code goes
    through ``code_activation`` (linear by default, as in PCA); the decoder's
    last layer returns raw outputs (the output activation is applied by the
    caller, see :mod:`skae._models`).

    With ``variational=True`` the encoder's last layer gives ``2 * n_components``
    values, the mean and the log-variance of a Gaussian posterior
    (:meth:`encode_distribution`), and :meth:`encode` returns the mean. With
    ``gaussian_scale=True`` the module also learns a per-feature log standard
    deviation ``log_scale`` for a Gaussian likelihood.
    """

    ENCODER_PARTS = ("encoder",)  # the weights init_layers="encoder" copies
    # Its nnx.Linear stacks, in the order it builds them (skae._variables
    # initialises them without a program per architecture).
    LINEAR_STACKS = ("encoder", "decoder")

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int],
        n_components: int,
        activation: str,
        *,
        code_activation: str = "identity",
        variational: bool = False,
        gaussian_scale: bool = False,
        n_outputs: int | None = None,
        rngs: nnx.Rngs,
    ):
        n_outputs = n_features if n_outputs is None else n_outputs
        n_code_outputs = 2 * n_components if variational else n_components
        self.encoder = DenseStack(
            (n_features, *hidden_layer_sizes, n_code_outputs), activation, rngs=rngs
        )
        self.decoder = DenseStack(
            (n_components, *hidden_layer_sizes[::-1], n_outputs), activation, rngs=rngs
        )
        self.code_activation = code_activation
        self.variational = variational
        self.log_scale = nnx.Param(jnp.zeros((n_outputs,))) if gaussian_scale else None

    def encode_distribution(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Mean and log-variance of the posterior (``variational=True`` only)."""
        mean, log_var = jnp.split(self.encoder(x), 2, axis=-1)
        return mean, clip_log_variance(log_var)

    def _code(self, encoded: jax.Array) -> jax.Array:
        """The code from the encoder's last layer (the posterior mean for a VAE)."""
        if self.variational:
            return jnp.split(encoded, 2, axis=-1)[0]
        return apply_activation(self.code_activation, encoded)

    def encode(self, x: jax.Array) -> jax.Array:
        return self._code(self.encoder(x))

    def decode(self, code: jax.Array) -> jax.Array:
        return self.decoder(code)

    def layer_outputs(self, x: jax.Array) -> dict[str, jax.Array]:
        """Each layer's output, input to output (see :mod:`skae._models`).

        ``encoder.0``, ``encoder.1``, ... (hidden layers, after ``activation``),
        ``code``, ``decoder.0``, ... and ``output`` (raw).
        """
        encoded = self.encoder.outputs(x)
        code = self._code(encoded[-1])
        decoded = self.decoder.outputs(code)
        return {
            **{f"encoder.{i}": hidden for i, hidden in enumerate(encoded[:-1])},
            "code": code,
            **{f"decoder.{i}": hidden for i, hidden in enumerate(decoded[:-1])},
            "output": decoded[-1],
        }


def make_user_module(spec, rngs: nnx.Rngs) -> nnx.Module:
    """A fresh module from a user's ``encoder``/``decoder`` argument.

    ``spec`` is an ``nnx.Module`` (copied, so every fit starts from the same
    weights) or a callable taking ``rngs=`` and returning one (initialised from
    the estimator's ``random_state``).
    """
    if isinstance(spec, nnx.Module):
        return copy.deepcopy(spec)
    return spec(rngs=rngs)


class ComposedAutoencoder(nnx.Module):
    """An autoencoder made of a user's encoder and decoder modules.

    ``code_activation`` is applied to the encoder's output, as for the built-in
    models (a sparse autoencoder's sigmoid or ReLU code).
    """

    ENCODER_PARTS = ("encoder",)

    def __init__(
        self,
        encoder: nnx.Module | Callable,
        decoder,
        *,
        code_activation: str = "identity",
        rngs: nnx.Rngs,
    ):
        self.encoder = make_user_module(encoder, rngs)
        self.decoder = make_user_module(decoder, rngs)
        self.code_activation = code_activation

    def encode(self, x: jax.Array) -> jax.Array:
        return apply_activation(self.code_activation, self.encoder(x))

    def decode(self, code: jax.Array) -> jax.Array:
        return self.decoder(code)

    def layer_outputs(self, x: jax.Array) -> dict[str, jax.Array]:
        """The output of each of the user's submodules, by its Flax path
        (``encoder``, ``encoder.layers.0``, ...), then ``code`` and ``output``.

        A submodule called more than once gives its last call's output.
        """
        (code, raw), outputs = submodule_outputs(self, lambda: self._forward(x))
        return {**outputs, "code": code, "output": raw}

    def _forward(self, x):
        code = self.encode(x)
        return code, self.decode(code)


def submodule_outputs(module: nnx.Module, forward: Callable):
    """``(forward(), {path: output})``: the output of every submodule of ``module``.

    Each submodule's class is swapped, for the call only, for a subclass whose
    ``__call__`` records its output under the submodule's Flax path (as
    ``nnx.capture(..., method_outputs=...)`` does in newer Flax). Meant for
    the copies ``nnx.merge`` makes inside a traced function. Outputs come in
    the order the calls returned (a layer before the module holding it).
    """
    outputs, swapped = {}, []
    for path, node in nnx.iter_graph(module):
        if not path or not isinstance(node, nnx.Module):
            continue
        name = ".".join(str(part) for part in path)
        original = type(node)

        def recording_call(self, *args, _name=name, _original=original, **kwargs):
            result = _original.__call__(self, *args, **kwargs)
            outputs[_name] = result
            return result

        recording = type(original.__name__, (original,), {"__call__": recording_call})
        object.__setattr__(node, "__class__", recording)
        swapped.append((node, original))
    try:
        result = forward()
    finally:
        for node, original in swapped:
            object.__setattr__(node, "__class__", original)
    return result, outputs
