"""Activation functions by name, as scikit-learn's MLP names them."""

import jax
import jax.numpy as jnp

ACTIVATIONS = {
    "identity": lambda x: x,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "logistic": jax.nn.sigmoid,
    "sigmoid": jax.nn.sigmoid,
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "leaky_relu": jax.nn.leaky_relu,
    "softplus": jax.nn.softplus,
}
"""Names accepted by ``activation`` and ``output_activation``.

``"logistic"`` is scikit-learn's name for the sigmoid; ``"sigmoid"`` is accepted
as an alias.
"""


def apply_activation(name: str, x: jax.Array) -> jax.Array:
    """Apply the activation called ``name`` to ``x``."""
    return ACTIVATIONS[name](x)


def clip_log_variance(log_var: jax.Array) -> jax.Array:
    """Keep a predicted log-variance where its exponential is finite.

    Unscaled inputs (values in the hundreds) can give log-variances whose
    exponential overflows in the KL term before training has adapted.
    """
    return jnp.clip(log_var, -30.0, 20.0)
