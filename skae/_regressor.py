"""Encoder-decoders trained on paired data: ``X`` in, targets ``y`` out.

The autoencoders reconstruct their input; these estimators learn to map an
input to another target of any width through the same encoder, code and
decoder: noisy to clean, grey to colour, watermarked to clean. They train on the
same engine (its batches already hold ``(inputs, targets)``) with the same
parameters and guarantees, are scikit-learn regressors (``predict``, R^2
``score``) and still give the code through ``transform``.
"""

from functools import partial

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_array

from . import _engine, _multihost
from ._architectures import ConvolutionalArchitecture, CustomModules
from ._base import EncoderDecoder, _as_finite
from ._docs import fill_doc
from ._models.dense import ComposedAutoencoder
from ._validation import check_finite_float32


class _Regression(RegressorMixin):
    """What makes an :class:`EncoderDecoder` a regressor: ``fit(X, y)``,
    ``predict``, R^2 ``score``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the model to map ``X`` to ``y``.

        Trains for up to ``max_iter`` epochs, stopping early when the loss (or
        the validation R^2, with ``early_stopping=True``) stops improving, and
        keeps the weights of the best epoch, as the autoencoders do.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Inputs.
        y : array-like of shape (n_samples,), (n_samples, n_outputs) or images
            Targets, of any width. :meth:`predict` returns arrays of the same
            shape per sample.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """Train for one epoch over ``(X, y)``, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Inputs.
        y : array-like of shape (n_samples,), (n_samples, n_outputs) or images
            Targets, of the width seen at the first call.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, incremental=True)

    def _validate_targets(self, y, n_samples: int, reset: bool):
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        Y = check_array(
            y,
            ensure_2d=False,
            allow_nd=True,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
            input_name="y",
        )
        if len(Y) != n_samples:
            raise ValueError(
                f"X and y hold different numbers of samples: {n_samples} and {len(Y)}."
            )
        shape = tuple(int(size) for size in Y.shape[1:])
        Y = Y.reshape(len(Y), -1)
        if Y.shape[1] == 0:
            raise ValueError(f"y has no values per sample (shape {(len(Y), *shape)}).")
        if reset:
            self.n_outputs_, self.target_shape_ = Y.shape[1], shape
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} values per sample, but {name} was fitted with "
                f"{self.n_outputs_} (n_outputs_)."
            )
        return check_finite_float32(Y, name, input_name="y")

    def _plan_fit(self, X, y, incremental: bool, continuing: bool):
        """The shared plan, with targets standardised for a squared-error fit.

        A linear output trained by squared error learns targets of any scale,
        but slowly when they are far from unit scale (prices in thousands take
        thousands of steps to reach); standardising each target, as
        ``TransformedTargetRegressor(transformer=StandardScaler())`` would,
        makes every scale train alike. Predictions are mapped back, and R^2 does
        not change under the mapping. The scale is fixed at the first fit.
        """
        plan = super()._plan_fit(X, y, incremental, continuing)
        if continuing:
            offset, scale = self._target_offset, self._target_scale
        elif plan.loss == "mse" and plan.output_activation == "identity":
            if plan.rows_per_process is None:
                offset, scale = plan.Y_train.mean(axis=0), plan.Y_train.std(axis=0)
            else:  # over the targets of every process
                offset, scale = _multihost.mean_and_std(plan.Y_train)
            scale[scale <= 1e-6 * np.maximum(np.abs(offset), 1.0)] = 1.0  # constant targets
        else:  # a bounded output (sigmoid...) predicts the targets in their own units
            offset = scale = None
        if offset is not None:
            plan.Y_train = (plan.Y_train - offset) / scale
            plan.Y_val = None if plan.Y_val is None else (plan.Y_val - offset) / scale
        # Recorded now, as validate_data records n_features_in_: a fit that
        # fails before training restores the estimator as it was.
        self._target_offset, self._target_scale = offset, scale
        return plan

    def _predict_rows(self, X, graph, variables, output_activation: str, check_finite=True):
        """Predictions for validated ``X`` as flat rows, in the units the model trained in."""
        return self._chunked(
            lambda chunk: _engine.reconstruct(graph, output_activation, variables, chunk),
            X,
            check_finite,
        )

    def predict(self, X):
        """Predict the targets of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Inputs; any finite values.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, *target_shape_)
            Shaped as the ``y`` given to ``fit`` (1-D, 2-D or images), in the
            dtype of ``X`` (float32 or float64).
        """
        X = self._validate_for_inference(X)
        graph, variables = self._eval_model()
        predicted = self._predict_rows(X, graph, variables, self.out_activation_)
        if self._target_offset is not None:  # in float64: a float32 product may overflow
            predicted = predicted * self._target_scale.astype(np.float64) + self._target_offset
        predicted = _as_finite(predicted, X.dtype, type(self).__name__, "predictions")
        return predicted.reshape(len(X), *self.target_shape_)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of :meth:`predict`, as every regressor's.

        Image targets count as flat rows of values; the R^2 of each value is
        averaged uniformly, as ``r2_score``'s default does for several outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Inputs.
        y : array-like of shape (n_samples,), (n_samples, n_outputs) or images
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        predicted = self.predict(X)
        y = check_array(y, ensure_2d=False, allow_nd=True, dtype=None, input_name="y")
        return float(
            r2_score(
                y.reshape(len(y), -1),
                predicted.reshape(len(predicted), -1),
                sample_weight=sample_weight,
            )
        )

    def _validation_scorer(self, plan):
        """``state -> R^2`` on the plan's validation rows, or None."""
        if plan.X_val is None:
            return None

        def validation_score(state):
            variables = (state.params, state.model_state)
            predicted = self._predict_rows(
                plan.X_val, plan.graphs.eval, variables, plan.output_activation, False
            )
            if not np.isfinite(predicted).all():
                return float("-inf")
            return float(r2_score(plan.Y_val, predicted))

        return validation_score


@fill_doc
class AutoencoderRegressor(_Regression, CustomModules, EncoderDecoder):
    """Dense encoder-decoder that learns to map ``X`` to targets ``y``.

    An autoencoder trained on pairs: the encoder reads an input, the decoder
    writes the target (a clean version of a noisy row, the colour of a grey
    image, an image without its watermark). Where ``MLPRegressor`` learns the
    same kind of mapping, this one has a code of ``n_components`` values in
    the middle, which ``transform`` returns. Targets may have any width, and
    images come back as images: ``predict`` returns arrays shaped like the
    ``y`` given to ``fit``. For images see
    :class:`ConvolutionalAutoencoderRegressor`.

    Parameters
    ----------
    n_components : int, default=8
        Size of the code.
    {dense_parameters}
    {training_parameters}
    {custom_module_parameters} With this regressor the decoder maps codes to
        the targets' width.

    Attributes
    ----------
    {regressor_attributes}

    See Also
    --------
    ConvolutionalAutoencoderRegressor : The same for images.
    DenoisingAutoencoder : Learns to denoise from clean data alone, adding
        the noise itself.
    sklearn.neural_network.MLPRegressor : A regressor without a code.

    Notes
    -----
    {regressor_notes}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderRegressor
    >>> clean = load_digits().data / 16
    >>> noisy = np.clip(clean + np.random.RandomState(0).normal(0, 0.3, clean.shape), 0, 1)
    >>> model = AutoencoderRegressor(n_components=16, max_iter=20, random_state=0)
    >>> denoised = model.fit(noisy, clean).predict(noisy)
    >>> denoised.shape
    (1797, 64)
    >>> bool(np.mean((denoised - clean) ** 2) < np.mean((noisy - clean) ** 2))
    True
    >>> model.transform(noisy).shape
    (1797, 16)
    """

    _parameter_constraints: dict = {
        **EncoderDecoder._parameter_constraints,
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

    def _model_builder(self, n_features: int, loss: str) -> partial:
        builder = super()._model_builder(n_features, loss)
        if builder.func is ComposedAutoencoder:  # the user's decoder sets the width
            return builder
        return partial(builder.func, *builder.args, **builder.keywords, n_outputs=self.n_outputs_)


@fill_doc
class ConvolutionalAutoencoderRegressor(_Regression, ConvolutionalArchitecture, EncoderDecoder):
    """Convolutional encoder-decoder that maps images to images.

    The layers of :class:`ConvolutionalAutoencoder`, trained on pairs of
    images of the same height and width: noisy to clean, watermarked to
    clean, grey to colour (the number of channels may differ). ``predict``
    returns images shaped like the ``y`` given to ``fit`` (or flat rows when
    ``y`` was flat).

    Parameters
    ----------
    n_components : int or None, default=None
        Size of the code, a dense layer after the last feature map. None (the
        default) keeps the last feature map itself as the code, which keeps
        where things are in the image, as image-to-image mappings need.
    {conv_parameters}
    {training_parameters}

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the input images.
    {regressor_attributes}

    See Also
    --------
    AutoencoderRegressor : The dense model.
    ConvolutionalDenoisingAutoencoder : Learns to denoise from clean images
        alone, adding the noise itself.

    Notes
    -----
    {regressor_notes} Targets that are images of the inputs' height and width,
    with any number of channels (arrays ``(n, height, width)``,
    ``(n, height, width, channels)`` or flat rows of
    ``height * width * channels`` values), come out of the decoder's last
    convolution. Any other targets (a few numbers per image, or images of
    another size) come out of one dense layer from the code instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConvolutionalAutoencoderRegressor
    >>> clean = load_digits().images / 16          # (1797, 8, 8)
    >>> rng = np.random.RandomState(0)
    >>> noisy = np.clip(clean + rng.normal(0, 0.3, clean.shape), 0, 1)
    >>> model = ConvolutionalAutoencoderRegressor(filters=(16,), max_iter=5, random_state=0)
    >>> model.fit(noisy, clean).predict(noisy).shape
    (1797, 8, 8)
    """

    _parameter_constraints: dict = {
        **EncoderDecoder._parameter_constraints,
        **ConvolutionalArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        n_components=None,
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

    def _model_builder(self, n_features: int, loss: str) -> partial:
        builder = super()._model_builder(n_features, loss)
        height, width = self.image_shape_[:2]
        shape = self.target_shape_
        if (
            len(shape) >= 2
            and shape[:2] == (height, width)
            or len(shape) < 2
            and (self.n_outputs_ % (height * width) == 0)
        ):
            output = {"output_channels": self.n_outputs_ // (height * width)}
        else:  # not images of the inputs' size: a dense layer from the code
            output = {"n_outputs": self.n_outputs_}
        return partial(builder.func, *builder.args, **builder.keywords, **output)
