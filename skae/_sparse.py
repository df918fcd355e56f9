"""The sparse autoencoder estimator."""

from ._architectures import CustomModules
from ._base import BaseAutoencoder
from ._docs import fill_doc
from ._variants import SparseMixin


@fill_doc
class SparseAutoencoder(SparseMixin, CustomModules, BaseAutoencoder):
    """Sparse autoencoder: codes with few active units per sample.

    A penalty on the code activations makes most units near zero for any given
    sample, so each unit stands for a part or a feature of the data and codes are
    easier to interpret. The code may then be overcomplete (``n_components``
    larger than the number of features) without the model learning to copy its
    input.

    Parameters
    ----------
    n_components : int, default=8
        Size of the code; may exceed the number of features.
    {dense_parameters}
    sparsity : {{"l1", "kl"}}, default="l1"
        ``"l1"``: a ReLU code with ``sparsity_weight`` times its mean absolute
        activation added to the loss. ``"kl"``: a sigmoid code whose average
        activation over a batch is pulled to ``sparsity_target`` by
        ``sparsity_weight`` times the KL divergence between the two, summed
        over units.
    sparsity_weight : float, default=1e-2
        Weight of the sparsity penalty.
    sparsity_target : float, default=0.05
        Average activation each code unit should have, with ``sparsity="kl"``.
    {training_parameters}
    {custom_module_parameters}

    Attributes
    ----------
    {fitted_attributes}

    Notes
    -----
    Ng, "Sparse autoencoder", CS294A lecture notes, 2011; Makhzani & Frey,
    "k-Sparse autoencoders", 2013.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoencoder
    >>> X = load_digits().data / 16
    >>> sae = SparseAutoencoder(n_components=128, sparsity="kl", max_iter=10)
    >>> codes = sae.fit(X).transform(X)
    >>> codes.shape
    (1797, 128)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **CustomModules._architecture_constraints,
        **SparseMixin._variant_constraints,
    }

    def __init__(
        self,
        n_components=8,
        *,
        hidden_layer_sizes=(128,),
        activation="relu",
        sparsity="l1",
        sparsity_weight=1e-2,
        sparsity_target=0.05,
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
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target
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
