"""Docstring fragments shared by the estimators (filled in by ``fill_doc``)."""

TRAINING_PARAMETERS = """\
loss : {"auto", "mse", "bce"}, default="auto"
        Reconstruction loss. ``"auto"`` picks ``"bce"`` (binary cross-entropy
        with a sigmoid output) when the training data lies in [0, 1], as pixel
        intensities or ``MinMaxScaler`` output do, and ``"mse"`` otherwise.
    output_activation : str, default="auto"
        Activation of the reconstruction: ``"sigmoid"`` with ``loss="bce"``,
        ``"identity"`` with ``loss="mse"``. Any name accepted by ``activation``.
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
        Seeds the weights, the shuffling, the noise and the validation split:
        the same seed gives the same model on the same machine.
    verbose : int or bool, default=0
        1 shows a progress bar for ``fit`` with the loss of each epoch, ended
        at the epoch training stopped at with the best epoch kept (no bar for
        ``partial_fit``, one epoch of a stream per call); 2 also prints a line
        per epoch (``partial_fit`` too); 0 prints nothing.
    init_weights : fitted estimator, FrozenEstimator or dict, default=None
        Start from another model's trained layers instead of random ones
        (transfer learning): a fitted skae estimator wrapped in
        ``sklearn.frozen.FrozenEstimator`` (``clone``, so every
        ``GridSearchCV`` fold, then keeps it fitted), or its ``params_``. Read
        at the start of a new fit only; the layers must have the same shapes.
    init_layers : {"all", "encoder"}, default="all"
        Which layers to take from ``init_weights``: all of them, or the
        encoder's (up to the code), the decoder starting afresh.
    freeze : bool, default=False
        Keep the layers taken from ``init_weights`` exactly as they are while
        the others train (``frozen_layers_``).
    compute_dtype : {"float32", "bfloat16"}, default="float32"
        Type of the training arithmetic. "bfloat16" (mixed precision, for
        GPUs and TPUs, whose matrix units run it several times faster) runs
        the model's layers on bfloat16 copies of the weights and inputs; the
        weights, the optimizer state, the error and the loss stay float32, so
        does inference (``transform``, scores, ``predict``). On CPU it is
        usually slower than float32.
    devices : None, "auto", int or list, default=None
        Devices to train on, data-parallel: each minibatch is split over them
        and the gradients are summed across them (``jax.sharding``), so the
        result is that of one device up to float rounding. None: JAX's
        default device; "auto": every device of the default backend; an int
        ``k``: the first ``k``; a list: device ids (``jax.Device.id``; ids
        rather than ``jax.Device`` objects keep the estimator clonable and
        picklable). The batch size is rounded up to a multiple of the
        number of devices. Inference runs where the weights are."""

_COMMON_ATTRIBUTES = """\
n_components_ : int
        Size of the code (the width of :meth:`transform`'s output).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
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
        Training loss of each epoch (mean over samples, including penalties).
    best_loss_ : float or None
        Lowest training loss, that of the epoch whose weights the model keeps;
        None with ``early_stopping=True``.
    frozen_layers_ : tuple of str
        Top-level names of the layers kept fixed (``freeze=True``), such as
        ``("encoder",)``; empty otherwise.
    params_ : dict
        The trained weights, a nested dict of NumPy arrays (host memory, so a
        fitted model pickles and loads without the device it was trained on).
    model_state_ : dict
        The model's other Flax variables (batch statistics, dropout streams of
        your modules), as NumPy arrays; empty for the built-in models."""

FITTED_ATTRIBUTES = (
    _COMMON_ATTRIBUTES
    + """
    validation_scores_ : list of float or None
        Validation score (mean of :meth:`score_samples` on the held-out rows)
        of each epoch with ``early_stopping=True``; None otherwise.
    best_validation_score_ : float or None
        Best validation score, with ``early_stopping=True``.
    data_min_, data_max_ : ndarray of shape (`n_features_in_`,)
        Each feature's range in the training data, read by
        :meth:`reconstruction_error` and :meth:`score_samples` for values
        outside it."""
)

REGRESSOR_ATTRIBUTES = (
    _COMMON_ATTRIBUTES
    + """
    validation_scores_ : list of float or None
        Validation R^2 (on the held-out rows) of each epoch with
        ``early_stopping=True``; None otherwise.
    best_validation_score_ : float or None
        Best validation R^2, with ``early_stopping=True``.
    n_outputs_ : int
        Number of target values per sample (the width of ``y`` as flat rows).
    target_shape_ : tuple of int
        Shape of one sample's target as given to ``fit``: ``()`` for 1-D ``y``,
        ``(n_outputs,)`` for 2-D, the image shape for images."""
)

REGRESSOR_NOTES = """\
``loss="auto"`` reads the targets: cross-entropy with a sigmoid output when
    ``y`` lies in [0, 1] (pixel intensities), squared error otherwise. Inputs
    may be any finite values. ``score`` is R^2, as for every scikit-learn
    regressor; ``transform`` gives the code, the encoder's output for ``X``."""

DENSE_PARAMETERS = """\
hidden_layer_sizes : int or tuple of int, default=(128,)
        Widths of the encoder's hidden layers, from the input to the code; the
        decoder uses them in reverse. ``()`` gives the single-hidden-layer
        autoencoder whose only hidden layer is the code.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "selu", "gelu", \
"silu", "leaky_relu", "softplus"}, default="relu"
        Activation of the hidden layers."""

CONV_PARAMETERS = """\
image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(height, width, channels)`` of the images when X
        holds flat rows (as in a Pipeline). None: taken from 3-D ``(n, h, w)``
        or 4-D ``(n, h, w, c)`` input; for flat rows, a square single-channel
        image when the width is a square number, else a one-row image (a 1-D
        signal).
    filters : tuple of int, default=(16, 32)
        Channels of the encoder's convolutions, one per level; each level halves
        height and width (rounding up, so any size works). The decoder mirrors
        them.
    kernel_size : int, default=3
        Height and width of the convolution kernels.
    downsampling : {"maxpool", "stride"}, default="maxpool"
        How each level halves the image: 2x2 max-pooling after the convolution,
        or the convolution itself with stride 2. The decoder upsamples (nearest
        neighbour) then convolves, which avoids the checkerboard artefacts of
        transposed convolutions.
    activation : str, default="relu"
        Activation after each convolution (and the dense layers to and from the
        code)."""

CUSTOM_MODULE_PARAMETERS = """\
encoder, decoder : flax.nnx.Module or callable, default=None
        Your own Flax NNX modules, used instead of the built-in layers (then
        ``n_components``, ``hidden_layer_sizes`` and ``activation`` are not
        used). The encoder maps rows ``(n, n_features)`` to codes
        ``(n, n_components)``, the decoder maps codes back to raw outputs
        ``(n, n_features)`` before the output activation. Give module instances
        (copied at every fit, so refits start from the same weights) or
        callables taking ``rngs=`` that build them, such as
        ``functools.partial(MyEncoder, 64, 8)`` (initialised from
        ``random_state``; picklable when the callable is). Shapes are checked at
        ``fit``."""


def fill_doc(cls):
    """Fill ``{training_parameters}``-style fields of a class docstring."""
    cls.__doc__ = cls.__doc__.format(
        training_parameters=TRAINING_PARAMETERS,
        fitted_attributes=FITTED_ATTRIBUTES,
        dense_parameters=DENSE_PARAMETERS,
        conv_parameters=CONV_PARAMETERS,
        custom_module_parameters=CUSTOM_MODULE_PARAMETERS,
        regressor_attributes=REGRESSOR_ATTRIBUTES,
        regressor_notes=REGRESSOR_NOTES,
    )
    return cls
