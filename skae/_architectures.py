"""The two families of architectures, as mixins of estimator parameters.

``DenseArchitecture`` builds the dense model (or the user's modules) and
``ConvolutionalArchitecture`` the convolutional one, including its handling of
image-shaped input. A variant's ``_model_options`` adds what its model needs
(a sparse code's activation, a variational head).
"""

import math
import warnings
from functools import partial
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from . import _streaming
from ._models.activations import ACTIVATIONS
from ._models.conv import ConvAutoencoder
from ._models.dense import ComposedAutoencoder, DenseAutoencoder
from ._validation import PositiveInts, check_positive_ints


class DenseArchitecture:
    """Parameters ``n_components``, ``hidden_layer_sizes``, ``activation``."""

    _architecture_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [PositiveInts(), Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
    }

    def _model_options(self, loss: str) -> dict:
        return {}

    def _model_builder(self, n_features: int, loss: str) -> partial:
        return partial(
            DenseAutoencoder,
            n_features=n_features,
            hidden_layer_sizes=check_positive_ints("hidden_layer_sizes", self.hidden_layer_sizes),
            n_components=self.n_components,
            activation=self.activation,
            **self._model_options(loss),
        )


class CustomModules(DenseArchitecture):
    """Dense architecture, or the user's ``encoder`` and ``decoder`` modules."""

    _architecture_constraints: dict = {
        **DenseArchitecture._architecture_constraints,
        "encoder": [None, HasMethods("__call__")],
        "decoder": [None, HasMethods("__call__")],
    }

    def _model_builder(self, n_features: int, loss: str) -> partial:
        if self.encoder is None and self.decoder is None:
            return super()._model_builder(n_features, loss)
        if self.encoder is None or self.decoder is None:
            raise ValueError(
                "encoder and decoder go together: give both Flax modules (or callables "
                "taking rngs= that build them), or neither."
            )
        return partial(
            ComposedAutoencoder,
            encoder=self.encoder,
            decoder=self.decoder,
            **self._model_options(loss),
        )


class ConvolutionalArchitecture:
    """Parameters ``image_shape``, ``filters``, ``kernel_size``, ``downsampling``,
    ``n_components`` (or None for the feature map as the code), ``activation``.

    Input may be flat rows of ``height * width * channels`` values (as in a
    Pipeline), ``(n, height, width)`` or ``(n, height, width, channels)``.
    """

    _architecture_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "image_shape": [PositiveInts(lengths=(2, 3)), None],
        "filters": [PositiveInts(min_length=1), Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "downsampling": [StrOptions({"maxpool", "stride"})],
        "activation": [StrOptions(set(ACTIVATIONS))],
    }

    def _model_options(self, loss: str) -> dict:
        return {}

    def _validate_input(self, X, reset: bool) -> np.ndarray:
        images = (
            not hasattr(X, "iloc")
            and not sp.issparse(X)
            and not isinstance(X, _streaming.RowsReadAsFloat32)  # flat rows skae made
            and np.asarray(X).ndim in (3, 4)
        )
        shape = None
        if images:
            X = np.asarray(X)
            shape = _images_shape(X)
            expected = self.image_shape if reset else self.image_shape_
            if expected is not None and shape != _image_shape(expected):
                raise ValueError(
                    f"X holds images of shape {shape} but image_shape is {_image_shape(expected)}."
                )
            X = X.reshape(X.shape[0], math.prod(shape))
        X = super()._validate_input(X, reset)
        if reset:
            self.image_shape_ = shape or self._image_shape_for(X.shape[1])
        return X

    def _image_shape_for(self, n_features: int) -> tuple[int, int, int]:
        """The image shape of flat rows of ``n_features`` values.

        ``image_shape`` when given; else a square single-channel image when
        ``n_features`` is a square number; else, with a warning, a one-row
        image (a 1-D signal of ``n_features`` values).
        """
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
        warnings.warn(
            f"X has {n_features} features, not a square number, and image_shape is "
            f"None: each row is read as a one-row image of shape (1, {n_features}, 1). "
            "Set image_shape=(height, width) or (height, width, channels) if the rows "
            "hold images.",
            UserWarning,
            stacklevel=7,  # the caller of fit
        )
        return (1, n_features, 1)

    def _model_builder(self, n_features: int, loss: str) -> partial:
        return partial(
            ConvAutoencoder,
            image_shape=self.image_shape_,
            filters=check_positive_ints("filters", self.filters),
            kernel_size=self.kernel_size,
            downsampling=self.downsampling,
            n_components=self.n_components,
            activation=self.activation,
            **self._model_options(loss),
        )


def _images_shape(X: np.ndarray) -> tuple[int, int, int]:
    """``(height, width, channels)`` of 3-D ``(n, h, w)`` or 4-D ``(n, h, w, c)`` images.

    Refuses 4-D arrays that look channels-first (``(n, c, h, w)`` with at most 4
    channels and more than 4 values along the last axis), which would otherwise
    be read as images of ``c`` rows.
    """
    if X.ndim == 3:
        return (int(X.shape[1]), int(X.shape[2]), 1)
    height, width, channels = (int(size) for size in X.shape[1:])
    if height <= 4 and channels > 4:
        raise ValueError(
            f"X has shape {X.shape}, which looks channels-first (n, channels, height, "
            "width); skae reads 4-D images channels-last, (n, height, width, channels). "
            "Pass np.moveaxis(X, 1, -1), or flat rows with image_shape if these really "
            f"are {height}-row images with {channels} channels."
        )
    return (height, width, channels)


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
