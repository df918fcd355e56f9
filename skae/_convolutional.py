"""The convolutional autoencoder estimator."""

from ._architectures import ConvolutionalArchitecture
from ._base import BaseAutoencoder
from ._docs import fill_doc


@fill_doc
class ConvolutionalAutoencoder(ConvolutionalArchitecture, BaseAutoencoder):
    """Convolutional autoencoder for images.

    Convolutions see neighbouring pixels together and share their weights across
    the image, so on images they reconstruct better than a dense autoencoder
    with fewer weights. Use it on pixel data: flat rows inside a Pipeline (with
    ``image_shape``), or arrays of shape ``(n, height, width)`` or
    ``(n, height, width, channels)``. :meth:`inverse_transform` returns flat
    rows; reshape them with ``image_shape_``.

    Parameters
    ----------
    n_components : int or None, default=8
        Size of the code, a dense layer after the last feature map. None makes
        the last feature map itself the code (a fully convolutional model, e.g.
        4x4x8 = 128 values with ``filters=(16, 8, 8)`` on 28x28 images).
    {conv_parameters}
    {training_parameters}

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images.
    {fitted_attributes}

    See Also
    --------
    Autoencoder : The dense model, for tabular data.

    Notes
    -----
    On the CPU each convolution runs as matmuls over the ``k * k`` shifted
    views of its input, about twice as fast to train there as XLA's
    convolution; on GPUs and TPUs XLA's own convolution is used. Both compute the
    same function. The classic Keras model of Chollet's "Building Autoencoders
    in Keras" (2016), 4,385 weights on 28x28 images, is
    ``ConvolutionalAutoencoder(n_components=None, filters=(16, 8, 8))``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConvolutionalAutoencoder
    >>> X = load_digits().data / 16   # flat rows of 8x8 images
    >>> cae = ConvolutionalAutoencoder(image_shape=(8, 8), max_iter=5, random_state=0)
    >>> cae.fit(X).transform(X).shape
    (1797, 8)
    >>> cae.image_shape_
    (8, 8, 1)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **ConvolutionalArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        n_components=8,
        *,
        image_shape=None,
        filters=(16, 32),
        kernel_size=3,
        downsampling="maxpool",
        activation="relu",
        output_activation="auto",
        loss="auto",
        optimizer="adam",
        learning_rate_init=1e-3,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        random_state=None,
        verbose=0,
        init_weights=None,
        init_layers="all",
        freeze=False,
        compute_dtype="float32",
        devices=None,
    ):
        self.n_components = n_components
        self.image_shape = image_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.downsampling = downsampling
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.init_weights = init_weights
        self.init_layers = init_layers
        self.freeze = freeze
        self.compute_dtype = compute_dtype
        self.devices = devices
