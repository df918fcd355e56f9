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

A variant (denoising, sparse, variational...) subclasses
:class:`Reconstruction` and overrides one of them; the training loop stays the
same.
"""

from dataclasses import dataclass

import jax

from ._losses import masked_mean, reconstruction_error


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

    def sample_losses(self, model, batch, key: jax.Array, hyper: dict) -> jax.Array:
        inputs, targets = batch
        return reconstruction_error(
            model.decode(model.encode(inputs)), targets, self.loss, self.output_activation
        )

    def training_loss(self, model, batch, mask, key: jax.Array, hyper: dict) -> jax.Array:
        return masked_mean(self.sample_losses(model, batch, key, hyper), mask)
