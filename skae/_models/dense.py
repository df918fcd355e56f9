"""Dense (fully connected) encoder-decoder."""

from collections.abc import Sequence

import jax
from flax import nnx

from .activations import apply_activation


class DenseStack(nnx.Module):
    """A stack of ``nnx.Linear`` layers, with ``activation`` after all but the last.

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

    def __call__(self, x: jax.Array) -> jax.Array:
        for layer in self.layers[:-1]:
            x = apply_activation(self.activation, layer(x))
        return self.layers[-1](x)


class DenseAutoencoder(nnx.Module):
    """Dense autoencoder whose decoder mirrors the encoder.

    ``n_features -> *hidden_layer_sizes -> n_components`` then back through the
    same widths in reverse. The code layer is linear, as in PCA; the decoder's
    last layer returns raw outputs (the output activation is applied by the
    caller, see :mod:`skae._models`).
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int],
        n_components: int,
        activation: str,
        *,
        rngs: nnx.Rngs,
    ):
        widths = (n_features, *hidden_layer_sizes, n_components)
        self.encoder = DenseStack(widths, activation, rngs=rngs)
        self.decoder = DenseStack(widths[::-1], activation, rngs=rngs)

    def encode(self, x: jax.Array) -> jax.Array:
        return self.encoder(x)

    def decode(self, code: jax.Array) -> jax.Array:
        return self.decoder(code)
