"""Variational autoencoders, dense and convolutional."""

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._architectures import ConvolutionalArchitecture, DenseArchitecture
from ._base import BaseAutoencoder
from ._docs import fill_doc
from ._variants import VariationalMixin


@fill_doc
class VariationalAutoencoder(VariationalMixin, DenseArchitecture, BaseAutoencoder):
    """Variational autoencoder: a generative model you can sample from.

    The encoder gives a Gaussian posterior over a latent code (mean and
    variance); training maximises the evidence lower bound (ELBO): the
    likelihood of the data decoded from a sampled code (Bernoulli for
    ``loss="bce"``, Gaussian with learned scales for ``loss="mse"``) minus
    ``beta`` times the KL divergence from the prior N(0, I). :meth:`transform`
    returns the posterior mean, :meth:`sample` generates new data and
    :meth:`score_samples` the per-sample ELBO, in nats, which ranks outliers
    (low is unusual).

    Parameters
    ----------
    n_components : int, default=8
        Size of the latent code.
    {dense_parameters}
    beta : float, default=1.0
        Weight of the KL term; above 1 favours disentangled latent factors
        (beta-VAE), below 1 sharper reconstructions.
    n_importance_samples : int, default=1
        Samples per input for :meth:`score_samples`: 1 gives the evidence lower
        bound (ELBO), more the tighter importance-weighted bound.
    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    Notes
    -----
    ``loss_curve_`` holds the negative ELBO per sample. Kingma & Welling,
    "Auto-encoding variational Bayes", ICLR 2014; Higgins et al., "beta-VAE",
    ICLR 2017; Burda et al., "Importance weighted autoencoders", ICLR 2016.
    Every sample is scored with the same random draws of the latent code, so
    scores are reproducible and do not depend on the order of the samples.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> X = load_digits().data / 16
    >>> vae = VariationalAutoencoder(n_components=4, max_iter=10, random_state=0).fit(X)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    >>> vae.score_samples(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **DenseArchitecture._architecture_constraints,
        **VariationalMixin._variant_constraints,
    }

    def __init__(
        self,
        n_components=8,
        *,
        hidden_layer_sizes=(128,),
        activation="relu",
        beta=1.0,
        n_importance_samples=1,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.beta = beta
        self.n_importance_samples = n_importance_samples
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


@fill_doc
class ConvolutionalVariationalAutoencoder(
    VariationalMixin, ConvolutionalArchitecture, BaseAutoencoder
):
    """Convolutional variational autoencoder, for images.

    :class:`VariationalAutoencoder` with the layers of
    :class:`ConvolutionalAutoencoder`.

    Parameters
    ----------
    n_components : int, default=8
        Size of the latent code.
    {conv_parameters}
    beta : float, default=1.0
        Weight of the KL term; above 1 favours disentangled latent factors
        (beta-VAE), below 1 sharper reconstructions.
    n_importance_samples : int, default=1
        Samples per input for :meth:`score_samples`: 1 gives the evidence lower
        bound (ELBO), more the tighter importance-weighted bound.
    {training_parameters}

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images.
    {fitted_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConvolutionalVariationalAutoencoder
    >>> X = load_digits().data / 16
    >>> vae = ConvolutionalVariationalAutoencoder(image_shape=(8, 8), max_iter=3)
    >>> vae.fit(X).sample(2, random_state=0).shape
    (2, 64)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **ConvolutionalArchitecture._architecture_constraints,
        **VariationalMixin._variant_constraints,
        # The latent code is a Gaussian sample: no feature map as the code.
        "n_components": [Interval(Integral, 1, None, closed="left")],
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
        beta=1.0,
        n_importance_samples=1,
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
        self.beta = beta
        self.n_importance_samples = n_importance_samples
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
