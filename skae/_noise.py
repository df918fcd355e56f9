"""Input corruption for denoising autoencoders, drawn on the device."""

import jax
import jax.numpy as jnp

NOISES = ("gaussian", "masking", "salt_and_pepper")


def corrupt(
    x: jax.Array,
    noise: str,
    level: jax.Array,
    key: jax.Array,
    low: jax.Array,
    high: jax.Array,
    clip: bool,
) -> jax.Array:
    """Return a corrupted copy of ``x``.

    Parameters
    ----------
    x : array
        Clean inputs.
    noise : {"gaussian", "masking", "salt_and_pepper"}
        ``"gaussian"`` adds noise of standard deviation ``level``;
        ``"masking"`` sets each value to 0 with probability ``level`` (input
        dropout); ``"salt_and_pepper"`` sets each value with probability
        ``level`` to ``low`` or ``high`` (the training data's range), half each.
    level : scalar array
        Noise level, traced so that a grid over it reuses one program.
    key : PRNG key
    low, high : scalar arrays
        The training data's minimum and maximum.
    clip : bool
        Clip the result to ``[low, high]`` (used when the data lies in [0, 1]).
    """
    if noise == "gaussian":
        noisy = x + level * jax.random.normal(key, x.shape, x.dtype)
    elif noise == "masking":
        noisy = jnp.where(jax.random.uniform(key, x.shape) < level, 0.0, x)
    else:
        hit_key, salt_key = jax.random.split(key)
        hit = jax.random.uniform(hit_key, x.shape) < level
        salt = jax.random.bernoulli(salt_key, 0.5, x.shape)
        noisy = jnp.where(hit, jnp.where(salt, high, low), x)
    return jnp.clip(noisy, low, high) if clip else noisy
