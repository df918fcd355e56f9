"""What a model is trained to minimise: the hook through which variants differ.

An objective is a small frozen (hashable) dataclass, so that it can be part of a
jitted function's static configuration. It has two pure methods:

``training_loss(model, batch, mask, key, hyper)``
    The scalar minimised on one minibatch. ``batch`` is ``(inputs, targets)``,
    ``mask`` marks the real rows (the last batch of an epoch is padded), ``key``
    is this step's random key and ``hyper`` a dict of traced numbers.

``sample_losses(model, batch, key, hyper)``
    A per-sample loss, shape ``(n_samples,)``, used for validation and
    ``score_samples`` (which returns its negative).

A variant subclasses :class:`Reconstruction` and overrides one of them; the
training loop stays the same. ``targets`` is None where they are the inputs.
"""

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ._losses import (
    encoder_jacobian_sq_norm,
    gaussian_kl,
    masked_mean,
    negative_log_likelihood,
    reconstruction_error,
)
from ._models.activations import apply_activation
from ._noise import corrupt


def inputs_and_targets(batch) -> tuple[jax.Array, jax.Array]:
    """``(inputs, targets)`` of a batch whose targets may be None (= inputs)."""
    inputs, targets = batch
    return inputs, inputs if targets is None else targets


@dataclass(frozen=True)
class Reconstruction:
    """Reproduce the targets from the inputs: the plain autoencoder objective.

    Parameters
    ----------
    loss : {"mse", "bce"}
        Reconstruction loss, see :func:`skae._losses.reconstruction_error`.
    output_activation : str
        Activation applied to the decoder's raw output.
    """

    loss: str
    output_activation: str

    def errors(self, model, inputs, targets) -> jax.Array:
        """Per-sample reconstruction error of ``targets`` from ``inputs``."""
        raw = model.decode(model.encode(inputs))
        return reconstruction_error(raw, targets, self.loss, self.output_activation)

    def sample_losses(self, model, batch, key, hyper: dict) -> jax.Array:
        return self.errors(model, *inputs_and_targets(batch))

    def training_loss(self, model, batch, mask, key, hyper: dict) -> jax.Array:
        return masked_mean(self.sample_losses(model, batch, key, hyper), mask)


@dataclass(frozen=True)
class Denoising(Reconstruction):
    """Reconstruct the clean targets from inputs corrupted afresh at every step.

    Reads ``hyper["noise_level"]``, ``hyper["data_min"]`` and
    ``hyper["data_max"]``; see :func:`skae._noise.corrupt`. Scores (validation,
    ``score_samples``) use the clean inputs.
    """

    noise: str = "gaussian"
    clip: bool = False

    def training_loss(self, model, batch, mask, key, hyper: dict) -> jax.Array:
        inputs, targets = inputs_and_targets(batch)
        noisy = corrupt(
            inputs,
            self.noise,
            hyper["noise_level"],
            key,
            hyper["data_min"],
            hyper["data_max"],
            self.clip,
        )
        return masked_mean(self.errors(model, noisy, targets), mask)


@dataclass(frozen=True)
class SparseCode(Reconstruction):
    """Reconstruction plus a penalty that keeps code activations sparse.

    ``sparsity="l1"``: ``hyper["sparsity_weight"]`` times the mean absolute code
    activation (an activity penalty). ``sparsity="kl"``: the same weight times
    ``sum_j KL(rho || rho_hat_j)``, where ``rho_hat_j`` is unit ``j``'s average
    activation over the batch (in (0, 1): a sigmoid code) and ``rho`` is
    ``hyper["sparsity_target"]`` (Ng, "Sparse autoencoder", CS294A notes, 2011).
    """

    sparsity: str = "l1"

    def training_loss(self, model, batch, mask, key, hyper: dict) -> jax.Array:
        inputs, targets = inputs_and_targets(batch)
        code = model.encode(inputs)
        raw = model.decode(code)
        errors = reconstruction_error(raw, targets, self.loss, self.output_activation)
        if self.sparsity == "l1":
            penalty = masked_mean(jnp.mean(jnp.abs(code), axis=1), mask)
        else:
            weights = mask.astype(code.dtype)[:, None]
            rho_hat = jnp.sum(code * weights, axis=0) / jnp.maximum(jnp.sum(weights), 1.0)
            rho_hat = jnp.clip(rho_hat, 1e-6, 1 - 1e-6)
            rho = hyper["sparsity_target"]
            penalty = jnp.sum(
                rho * jnp.log(rho / rho_hat) + (1 - rho) * jnp.log((1 - rho) / (1 - rho_hat))
            )
        return masked_mean(errors, mask) + hyper["sparsity_weight"] * penalty


@dataclass(frozen=True)
class Contractive(Reconstruction):
    """Reconstruction plus ``hyper["contractive_weight"]`` times the squared
    Frobenius norm of the encoder's Jacobian (Rifai et al., ICML 2011).

    ``jacobian`` is ``"exact"`` or ``"hutchinson"``, see
    :func:`skae._losses.encoder_jacobian_sq_norm`.
    """

    jacobian: str = "exact"

    def training_loss(self, model, batch, mask, key, hyper: dict) -> jax.Array:
        inputs, targets = inputs_and_targets(batch)
        penalty = encoder_jacobian_sq_norm(model.encode, inputs, self.jacobian, key)
        errors = self.errors(model, inputs, targets)
        return masked_mean(errors + hyper["contractive_weight"] * penalty, mask)


@dataclass(frozen=True)
class Variational(Reconstruction):
    """Negative evidence lower bound of a VAE (Kingma & Welling, ICLR 2014).

    ``-ELBO = -E_q[log p(x | z)] + beta * KL(q(z | x) || N(0, I))`` per sample,
    in nats (summed over features), with one reparameterised sample of ``z``.
    ``beta`` is ``hyper["beta"]`` (Higgins et al., ICLR 2017). The likelihood is
    Bernoulli for ``loss="bce"`` and Gaussian with a learned per-feature scale
    for ``loss="mse"``.

    ``sample_losses`` is the negative ELBO (beta = 1) estimated with one sample,
    or with ``n_importance_samples > 1`` the negative importance-weighted bound
    (Burda et al., ICLR 2016); every row uses the same random draws, so scores
    are reproducible and do not depend on the other rows.
    """

    n_importance_samples: int = 1

    def _log_scale(self, model):
        # Floor the learned scale: a constant feature would drive it to -inf.
        return None if model.log_scale is None else jnp.clip(model.log_scale[...], -10.0, 10.0)

    def _likelihood_parameter(self, raw: jax.Array) -> jax.Array:
        """What the likelihood reads: logits for Bernoulli, the mean for Gaussian.

        The Gaussian mean is the decoded output after ``output_activation``,
        the same value ``inverse_transform`` and ``sample`` return.
        """
        return raw if self.loss == "bce" else apply_activation(self.output_activation, raw)

    def _nll(self, model, raw, targets) -> jax.Array:
        return negative_log_likelihood(
            self._likelihood_parameter(raw), targets, self.loss, self._log_scale(model)
        )

    def training_loss(self, model, batch, mask, key, hyper: dict) -> jax.Array:
        inputs, targets = inputs_and_targets(batch)
        mean, log_var = model.encode_distribution(inputs)
        z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape, mean.dtype)
        nll = self._nll(model, model.decode(z), targets)
        return masked_mean(nll + hyper["beta"] * gaussian_kl(mean, log_var), mask)

    def sample_losses(self, model, batch, key, hyper: dict) -> jax.Array:
        inputs, targets = inputs_and_targets(batch)
        mean, log_var = model.encode_distribution(inputs)
        std = jnp.exp(0.5 * log_var)
        n_draws = self.n_importance_samples
        # Common random numbers: every row uses the same standard-normal draws,
        # so scores are reproducible, independent of the other rows and their
        # order, and two rows are compared without the noise of separate draws.
        eps = jax.random.normal(key, (1, n_draws, mean.shape[-1]), mean.dtype)
        z = mean[:, None, :] + std[:, None, :] * eps  # (n, draws, latent)
        raw = model.decode(z.reshape(-1, z.shape[-1])).reshape(len(inputs), n_draws, -1)
        nll = jax.vmap(lambda r: self._nll(model, r, targets), in_axes=1, out_axes=1)(raw)
        if n_draws == 1:
            return nll[:, 0] + gaussian_kl(mean, log_var)
        log_prior = -0.5 * jnp.sum(jnp.square(z) + jnp.log(2 * jnp.pi), axis=-1)
        log_posterior = -0.5 * jnp.sum(
            jnp.square(eps) + log_var[:, None, :] + jnp.log(2 * jnp.pi), axis=-1
        )
        log_weights = -nll + log_prior - log_posterior
        return -(jax.nn.logsumexp(log_weights, axis=1) - math.log(n_draws))
