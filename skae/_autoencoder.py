"""The dense autoencoder estimator."""

from flax import nnx

from ._base import BaseAutoencoder
from ._models.dense import DenseAutoencoder
from ._validation import check_hidden_layer_sizes


class Autoencoder(BaseAutoencoder):
    """Dense autoencoder: a nonlinear, learned ``PCA``.

    An encoder maps ``X`` through ``hidden_layer_sizes`` to a code of
    ``n_components`` values; a decoder mirroring it maps the code back. Both are
    trained together to reconstruct ``X``. Use it where you would use ``PCA``:
    ``transform`` gives the codes, ``inverse_transform`` the reconstructions and
    ``score_samples`` the negative reconstruction error, an outlier score.

    Parameters
    ----------
    n_components : int, default=8
        Size of the code (the output of :meth:`transform`). Use 2 or 3 to plot
        the data, more to keep more detail.
    hidden_layer_sizes : int or tuple of int, default=(128,)
        Widths of the encoder's hidden layers, from the input to the code; the
        decoder uses them in reverse. ``()`` gives the single-hidden-layer
        autoencoder whose only hidden layer is the code.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "selu", "gelu", \
"silu", "leaky_relu", "softplus"}, default="relu"
        Activation of the hidden layers (the code layer is linear, as in PCA).
    output_activation : str, default="auto"
        Activation of the reconstruction: ``"sigmoid"`` with ``loss="bce"``,
        ``"identity"`` with ``loss="mse"``. Any name accepted by ``activation``.
    loss : {"auto", "mse", "bce"}, default="auto"
        Reconstruction loss. ``"auto"`` picks ``"bce"`` (binary cross-entropy
        with a sigmoid output) when the training data lies in [0, 1], as pixel
        intensities or ``MinMaxScaler`` output do, and ``"mse"`` otherwise.
    optimizer : str or optax.GradientTransformation, default="adam"
        ``"adam"``, ``"adamw"``, ``"nadam"``, ``"radam"``, ``"adamax"``,
        ``"adabelief"``, ``"lamb"``, ``"lion"``, ``"sgd"``, ``"rmsprop"``,
        ``"adagrad"``, ``"adadelta"`` (Optax's defaults apart from the learning
        rate), or any Optax transformation, which then brings its own learning
        rate and ignores ``learning_rate_init``.
    learning_rate_init : float, default=1e-3
        Learning rate of a named optimizer.
    alpha : float, default=1e-4
        L2 penalty on the weights, as in ``MLPRegressor``: ``alpha / 2`` times the
        sum of squared weights, divided by the batch size, is added to the loss.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Most epochs to train for.
    tol : float, default=1e-4
        Least improvement of the loss (or validation score) that counts.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` after which training stops.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its score
        stops improving; the weights with the best validation score are kept.
        Otherwise stopping watches the training loss.
    validation_fraction : float, default=0.1
        Share of the training data held out with ``early_stopping=True``.
    warm_start : bool, default=False
        Continue from the previous fit's weights instead of starting anew.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the shuffling and the validation split: the same
        seed gives the same model on the same machine.
    verbose : int or bool, default=0
        1 shows a progress bar with the loss of each epoch; 0 prints nothing.

    Attributes
    ----------
    n_components_ : int
        Size of the code.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when ``X`` has string column names.
    reconstruction_loss_ : {"mse", "bce"}
        The loss used, after resolving ``loss="auto"``.
    out_activation_ : str
        The output activation used, after resolving ``output_activation="auto"``.
    n_iter_ : int
        Number of epochs trained.
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of each epoch (mean over samples, including the penalty).
    best_loss_ : float or None
        Lowest training loss; None with ``early_stopping=True``.
    validation_scores_ : list of float or None
        Validation score (negative mean reconstruction error) of each epoch with
        ``early_stopping=True``; None otherwise.
    best_validation_score_ : float or None
        Best validation score, with ``early_stopping=True``.
    params_ : dict
        The trained weights, a nested dict of NumPy arrays (host memory, so a
        fitted model pickles and loads without the device it was trained on).

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    sklearn.neural_network.MLPRegressor : ``MLPRegressor().fit(X, X)`` trains a
        similar network but gives no access to the code.

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
        "hidden_layer_sizes": ["array-like", int],
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

    def _build_model(self, n_features: int, rngs: nnx.Rngs) -> nnx.Module:
        return DenseAutoencoder(
            n_features,
            check_hidden_layer_sizes(self.hidden_layer_sizes),
            self.n_components,
            self.activation,
            rngs=rngs,
        )
