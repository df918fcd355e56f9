"""Pure reconstruction losses and penalty terms.

All functions take JAX arrays and return JAX arrays; nothing here knows about
estimators. Per-sample losses are means over features, so that their scale does
not grow with the input width.
"""

import jax
import jax.numpy as jnp
import optax

from ._models.activations import apply_activation


def per_sample_mean(values: jax.Array) -> jax.Array:
    """Mean over every axis but the first (samples)."""
    return values.reshape(values.shape[0], -1).mean(axis=1)


def reconstruction_error(
    raw_output: jax.Array, target: jax.Array, loss: str, output_activation: str
) -> jax.Array:
    """Per-sample reconstruction error, shape ``(n_samples,)``.

    Parameters
    ----------
    raw_output : array
        Decoder output before the output activation.
    target : array
        What the decoder should reproduce, same shape as ``raw_output``.
    loss : {"mse", "bce"}
        ``"mse"``: mean squared error. ``"bce"``: binary cross-entropy, computed
        from logits (``output_activation`` must then be ``"sigmoid"``), which is
        exact where ``log(sigmoid(x))`` would underflow.
    output_activation : str
        Applied to ``raw_output`` before the squared error.
    """
    if loss == "bce":
        errors = optax.sigmoid_binary_cross_entropy(raw_output, target)
    else:
        errors = jnp.square(apply_activation(output_activation, raw_output) - target)
    return per_sample_mean(errors)


def masked_mean(values: jax.Array, mask: jax.Array) -> jax.Array:
    """Mean of ``values`` over the entries where ``mask`` is true (0 if none)."""
    mask = mask.astype(values.dtype)
    return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def l2_penalty(params) -> jax.Array:
    """Sum of squared weights of every ``kernel`` (biases are not penalised).

    This is the quantity scikit-learn's MLP multiplies by ``alpha / 2``.
    """
    leaves = jax.tree_util.tree_leaves_with_path(params)
    squares = [
        jnp.sum(jnp.square(leaf))
        for path, leaf in leaves
        if any(getattr(key, "key", None) == "kernel" for key in path)
    ]
    return sum(squares, jnp.zeros((), jnp.float32))
