"""Denoising autoencoders, dense and convolutional."""

from ._architectures import ConvolutionalArchitecture, CustomModules
from ._base import BaseAutoencoder
from ._docs import fill_doc
from ._variants import DenoisingMixin


@fill_doc
class DenoisingAutoencoder(DenoisingMixin, CustomModules, BaseAutoencoder):
    """Denoising autoencoder: learns to reconstruct clean inputs from corrupted ones.

    Training corrupts each input (fresh noise every epoch) and asks for the clean
    input back, so the model learns the structure of the data rather than to copy
    it, and can then clean noisy data: ``inverse_transform(transform(X_noisy))``.
    ``transform``, ``score_samples`` and validation use the inputs as given, with
    no noise added. For images see :class:`ConvolutionalDenoisingAutoencoder`.

    Parameters
    ----------
    n_components : int, default=8
        Size of the code.
    {dense_parameters}
    noise : {{"gaussian", "masking", "salt_and_pepper"}}, default="gaussian"
        Corruption of the training inputs, drawn afresh for every epoch on the
        device: Gaussian noise of standard deviation ``noise_level`` (clipped
        to [0, 1] when the data lies there), inputs set to 0 with probability
        ``noise_level`` (masking, i.e. input dropout), or inputs set to the
        data's minimum or maximum with probability ``noise_level``.
    noise_level : float, default=0.2
        Standard deviation (gaussian) or probability (masking, salt and pepper).
    {training_parameters}
    {custom_module_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    ConvolutionalDenoisingAutoencoder : The same for images.

    Notes
    -----
    Vincent et al., "Extracting and composing robust features with denoising
    autoencoders", ICML 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> X = load_digits().data / 16
    >>> dae = DenoisingAutoencoder(noise_level=0.3, max_iter=20, random_state=0).fit(X)
    >>> noisy = np.clip(X + np.random.RandomState(0).normal(0, 0.3, X.shape), 0, 1)
    >>> dae.inverse_transform(dae.transform(noisy)).shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **CustomModules._architecture_constraints,
        **DenoisingMixin._variant_constraints,
    }

    def __init__(
        self,
        n_components=8,
        *,
        hidden_layer_sizes=(128,),
        activation="relu",
        noise="gaussian",
        noise_level=0.2,
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
        encoder=None,
        decoder=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.noise = noise
        self.noise_level = noise_level
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
        self.encoder = encoder
        self.decoder = decoder


@fill_doc
class ConvolutionalDenoisingAutoencoder(DenoisingMixin, ConvolutionalArchitecture, BaseAutoencoder):
    """Convolutional denoising autoencoder: cleans noisy images.

    :class:`DenoisingAutoencoder` with the layers of
    :class:`ConvolutionalAutoencoder`: trained to reconstruct clean images from
    corrupted ones, for denoising images.

    Parameters
    ----------
    n_components : int or None, default=8
        Size of the code; None makes the last feature map the code.
    {conv_parameters}
    noise : {{"gaussian", "masking", "salt_and_pepper"}}, default="gaussian"
        Corruption of the training inputs, drawn afresh for every epoch on the
        device: Gaussian noise of standard deviation ``noise_level`` (clipped
        to [0, 1] when the data lies there), inputs set to 0 with probability
        ``noise_level`` (masking, i.e. input dropout), or inputs set to the
        data's minimum or maximum with probability ``noise_level``.
    noise_level : float, default=0.2
        Standard deviation (gaussian) or probability (masking, salt and pepper).
    {training_parameters}

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images.
    {fitted_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConvolutionalDenoisingAutoencoder
    >>> X = load_digits().data / 16
    >>> model = ConvolutionalDenoisingAutoencoder(image_shape=(8, 8), max_iter=3)
    >>> model.fit(X).transform(X).shape
    (1797, 8)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **ConvolutionalArchitecture._architecture_constraints,
        **DenoisingMixin._variant_constraints,
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
        noise="gaussian",
        noise_level=0.2,
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
        self.noise = noise
        self.noise_level = noise_level
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
