"""The dense autoencoder estimator."""

from ._architectures import CustomModules
from ._base import BaseAutoencoder
from ._docs import fill_doc


@fill_doc
class Autoencoder(CustomModules, BaseAutoencoder):
    """Dense autoencoder: a nonlinear, learned ``PCA``.

    An encoder maps ``X`` through ``hidden_layer_sizes`` to a code of
    ``n_components`` values; a decoder mirroring it maps the code back. Both are
    trained together to reconstruct ``X``. Use it where you would use ``PCA``:
    ``transform`` gives the codes, ``inverse_transform`` the reconstructions and
    ``score_samples`` the negative reconstruction error, an outlier score.

    Parameters
    ----------
    n_components : int, default=8
        Size of the code (the output of :meth:`transform`), which is linear, as
        in PCA. Use 2 or 3 to plot the data, more to keep more detail.
    {dense_parameters}
    {training_parameters}
    {custom_module_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    sklearn.neural_network.MLPRegressor : ``MLPRegressor().fit(X, X)`` trains a
        similar network but gives no access to the code.
    ConvolutionalAutoencoder : For images.

    Notes
    -----
    Training runs one jitted JAX call per epoch, which shuffles the data on the
    device and scans over the minibatches. Models of the same architecture share
    compiled programs, so refitting, cloning and cross-validating do not compile
    again. See Hinton & Salakhutdinov, "Reducing the dimensionality of data with
    neural networks", Science 313 (2006).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import Autoencoder
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(n_components=8, max_iter=20, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 8)
    >>> ae.inverse_transform(ae.transform(X[:2])).shape
    (2, 64)
    >>> bool(ae.score(X) < 0)
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **CustomModules._architecture_constraints,
    }

    def __init__(
        self,
        n_components=8,
        *,
        hidden_layer_sizes=(128,),
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
        encoder=None,
        decoder=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
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
        self.encoder = encoder
        self.decoder = decoder
