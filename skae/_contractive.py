"""The contractive autoencoder estimator."""

from ._architectures import CustomModules
from ._base import BaseAutoencoder
from ._docs import fill_doc
from ._variants import ContractiveMixin


@fill_doc
class ContractiveAutoencoder(ContractiveMixin, CustomModules, BaseAutoencoder):
    """Contractive autoencoder: codes that change little under small input changes.

    Adds ``contractive_weight`` times the squared Frobenius norm of the encoder's
    Jacobian (how much the code moves when the input moves) to the loss, so the
    code keeps the directions along the data and ignores the others: robust
    features for a classifier, smooth latent spaces.

    Parameters
    ----------
    n_components : int, default=8
        Size of the code.
    {dense_parameters}
    contractive_weight : float, default=1e-3
        Weight of the Jacobian penalty.
    jacobian : {{"auto", "exact", "hutchinson"}}, default="auto"
        ``"exact"`` computes the whole Jacobian with JAX autodiff (one reverse
        pass per code unit); ``"hutchinson"`` an unbiased estimate of its norm
        from one random projection per sample and step (one reverse pass),
        for large codes. ``"auto"`` is exact up to 32 code units.
    {training_parameters}
    {custom_module_parameters}

    Attributes
    ----------
    {fitted_attributes}

    Notes
    -----
    Rifai et al., "Contractive auto-encoders: explicit invariance during feature
    extraction", ICML 2011. Hutchinson, "A stochastic estimator of the trace of
    the influence matrix", 1989.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ContractiveAutoencoder
    >>> X = load_digits().data / 16
    >>> cae = ContractiveAutoencoder(max_iter=10, random_state=0).fit(X)
    >>> cae.jacobian_norm(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **CustomModules._architecture_constraints,
        **ContractiveMixin._variant_constraints,
    }

    def __init__(
        self,
        n_components=8,
        *,
        hidden_layer_sizes=(128,),
        activation="relu",
        contractive_weight=1e-3,
        jacobian="auto",
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
        self.contractive_weight = contractive_weight
        self.jacobian = jacobian
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
