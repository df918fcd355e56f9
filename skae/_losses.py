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
        # Targets clipped to [0, 1], where cross-entropy is defined: with
        # loss="auto" a continued fit may bring values slightly outside.
        errors = optax.sigmoid_binary_cross_entropy(raw_output, jnp.clip(target, 0.0, 1.0))
    else:
        errors = jnp.square(apply_activation(output_activation, raw_output) - target)
    return per_sample_mean(errors)


def masked_mean(values: jax.Array, mask: jax.Array) -> jax.Array:
    """Mean of ``values`` over the entries where ``mask`` is true (0 if none)."""
    mask = mask.astype(values.dtype)
    return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def l2_penalty(params) -> jax.Array:
    """Sum of squared values of every weight matrix or kernel.

    A weight is any parameter with two or more axes (dense kernels, convolution
    kernels, a user's layers whatever their names); parameters with fewer axes
    (biases, normalisation scales, a VAE's per-feature ``log_scale``) are not
    penalised. This is the quantity scikit-learn's MLP multiplies by ``alpha / 2``.
    """
    squares = [jnp.sum(jnp.square(leaf)) for leaf in jax.tree.leaves(params) if leaf.ndim >= 2]
    return sum(squares, jnp.zeros((), jnp.float32))


def encoder_jacobian_sq_norm(
    encode, inputs: jax.Array, method: str, key: jax.Array | None = None
) -> jax.Array:
    """Squared Frobenius norm of each sample's encoder Jacobian, shape ``(n,)``.

    Parameters
    ----------
    encode : callable
        Maps a batch ``(n, n_features)`` to codes ``(n, n_components)``, each row
        depending on its own input row only.
    inputs : array of shape (n, n_features)
    method : {"exact", "hutchinson"}
        ``"exact"`` builds the Jacobian (one reverse pass per code unit).
        ``"hutchinson"`` returns ``||v^T J||^2`` for one Gaussian ``v`` per
        sample, an unbiased estimate since ``E[v v^T] = I`` (Hutchinson, 1989),
        at the cost of a single reverse pass.
    key : PRNG key
        Needed by ``"hutchinson"``.
    """
    if method == "exact":

        def jacobian(row):
            return jax.jacrev(lambda r: encode(r[None])[0])(row)

        return jnp.sum(jnp.square(jax.vmap(jacobian)(inputs)), axis=(1, 2))
    codes, pullback = jax.vjp(encode, inputs)
    (projected,) = pullback(jax.random.normal(key, codes.shape, codes.dtype))
    return per_sample_mean(jnp.square(projected)) * projected[0].size


def gaussian_kl(mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """KL(N(mean, exp(log_var)) || N(0, I)) per sample (Kingma & Welling, 2014)."""
    return 0.5 * jnp.sum(jnp.square(mean) + jnp.exp(log_var) - 1.0 - log_var, axis=-1)


def negative_log_likelihood(
    raw_output: jax.Array, target: jax.Array, loss: str, log_scale: jax.Array | None
) -> jax.Array:
    """``-log p(target | decoder output)`` per sample, summed over features.

    ``loss="bce"``: independent Bernoulli with logits ``raw_output``;
    ``loss="mse"``: independent Gaussians with means ``raw_output`` and standard
    deviations ``exp(log_scale)``.
    """
    if loss == "bce":
        target = jnp.clip(target, 0.0, 1.0)
        return jnp.sum(optax.sigmoid_binary_cross_entropy(raw_output, target), axis=-1)
    z = (target - raw_output) * jnp.exp(-log_scale)
    return jnp.sum(0.5 * jnp.square(z) + log_scale + 0.5 * jnp.log(2 * jnp.pi), axis=-1)
