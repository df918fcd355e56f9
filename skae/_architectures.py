"""The two families of architectures, as mixins of estimator parameters.

``DenseArchitecture`` builds the dense model (or the user's modules) and
``ConvolutionalArchitecture`` the convolutional one, including its handling of
image-shaped input. A variant's ``_model_options`` adds what its model needs
(a sparse code's activation, a variational head).
"""

import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from flax import nnx
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._models.activations import ACTIVATIONS
from ._models.conv import ConvAutoencoder, default_conv_implementation
from ._models.dense import ComposedAutoencoder, DenseAutoencoder
from ._validation import check_positive_ints


class DenseArchitecture:
    """Parameters ``n_components``, ``hidden_layer_sizes``, ``activation``."""

    _architecture_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
    }

    def _model_options(self) -> dict:
        return {}

    def _build_model(self, n_features: int, rngs: nnx.Rngs) -> nnx.Module:
        return DenseAutoencoder(
            n_features,
            check_positive_ints("hidden_layer_sizes", self.hidden_layer_sizes),
            self.n_components,
            self.activation,
            **self._model_options(),
            rngs=rngs,
        )


class CustomModules(DenseArchitecture):
    """Dense architecture, or the user's ``encoder`` and ``decoder`` modules."""

    _architecture_constraints: dict = {
        **DenseArchitecture._architecture_constraints,
        "encoder": [None, HasMethods("__call__")],
        "decoder": [None, HasMethods("__call__")],
    }

    def _build_model(self, n_features: int, rngs: nnx.Rngs) -> nnx.Module:
        if self.encoder is None and self.decoder is None:
            return super()._build_model(n_features, rngs)
        if self.encoder is None or self.decoder is None:
            raise ValueError(
                "encoder and decoder go together: give both Flax modules (or callables "
                "taking rngs= that build them), or neither."
            )
        return ComposedAutoencoder(self.encoder, self.decoder, rngs=rngs)


class ConvolutionalArchitecture:
    """Parameters ``image_shape``, ``filters``, ``kernel_size``, ``downsampling``,
    ``n_components`` (or None for the feature map as the code), ``activation``.

    Input may be flat rows of ``height * width * channels`` values (as in a
    Pipeline), ``(n, height, width)`` or ``(n, height, width, channels)``.
    """

    _architecture_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "image_shape": ["array-like", None],
        "filters": ["array-like", Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "downsampling": [StrOptions({"maxpool", "stride"})],
        "activation": [StrOptions(set(ACTIVATIONS))],
    }

    def _model_options(self) -> dict:
        return {}

    def _validate_input(self, X, reset: bool, check_finite: bool = True) -> np.ndarray:
        if reset:
            self.image_shape_ = None
        if not hasattr(X, "iloc") and not sp.issparse(X) and np.asarray(X).ndim in (3, 4):
            X = np.asarray(X)
            shape = X.shape[1:] if X.ndim == 4 else (*X.shape[1:], 1)
            expected = self.image_shape if reset else self.image_shape_
            if expected is not None and tuple(shape) != _image_shape(expected):
                raise ValueError(
                    f"X holds images of shape {tuple(shape)} but image_shape is "
                    f"{_image_shape(expected)}."
                )
            X = X.reshape(len(X), -1)
            if reset:
                self.image_shape_ = tuple(int(size) for size in shape)
        X = super()._validate_input(X, reset, check_finite)
        if reset and self.image_shape_ is None:
            self.image_shape_ = self._image_shape_for(X.shape[1])
        return X

    def _image_shape_for(self, n_features: int) -> tuple[int, int, int]:
        """The image shape of flat rows of ``n_features`` values."""
        if self.image_shape is not None:
            shape = _image_shape(self.image_shape)
            if math.prod(shape) != n_features:
                raise ValueError(
                    f"image_shape={tuple(self.image_shape)} needs rows of "
                    f"{math.prod(shape)} values, but X has {n_features} features."
                )
            return shape
        side = math.isqrt(n_features)
        if side * side == n_features:
            return (side, side, 1)
        # Not a square and no image_shape: a one-row image (a 1-D signal).
        return (1, n_features, 1)

    def _build_model(self, n_features: int, rngs: nnx.Rngs) -> nnx.Module:
        return ConvAutoencoder(
            self.image_shape_,
            check_positive_ints("filters", self.filters),
            self.kernel_size,
            self.downsampling,
            self.n_components,
            self.activation,
            implementation=default_conv_implementation(),
            **self._model_options(),
            rngs=rngs,
        )


def _image_shape(image_shape) -> tuple[int, int, int]:
    """``(height, width, channels)`` from a 2- or 3-tuple of positive ints."""
    shape = check_positive_ints("image_shape", image_shape)
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3:
        raise ValueError(
            f"image_shape must be (height, width) or (height, width, channels); "
            f"got {image_shape!r}."
        )
    return shape
