"""Plots of fitted autoencoders, following scikit-learn's ``Display`` conventions.

Each display is built ``from_estimator`` (or ``from_predictions`` from
values you already have), draws with :meth:`plot`, and keeps what it drew:
``figure_``, ``ax_`` (or ``axes_``) and the artists. Single-panel displays
draw on an ``ax``; displays of several panels draw into a ``figure``, which
may be one of ``Figure.subfigures()``, so that several displays share one
saved image. matplotlib is needed
(``pip install "skae[plots]"``) and imported only when something is drawn.

- :class:`LossCurveDisplay`: training loss (and validation score) per epoch;
- :class:`ReconstructionDisplay`: images above their reconstructions;
- :class:`LatentSpaceDisplay`: 2-D codes coloured by label, PCA beside them;
- :class:`OutlierScoresDisplay`: histogram of scores with the threshold, the
  most outlying images under it;
- :class:`FeatureErrorDisplay`: per-feature (or per-pixel) errors of one sample;
- :class:`SamplesDisplay`: a VAE's samples and an interpolation strip.
"""

import math

import numpy as np
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            'skae.plotting needs matplotlib: pip install matplotlib (or "skae[plots]").'
        ) from None
    return plt


def _figure(figure, figsize):
    """``figure`` (a Figure or a SubFigure to draw into), or a new figure of ``figsize``."""
    return _pyplot().figure(figsize=figsize) if figure is None else figure


def _image_shape(image_shape, estimator, n_features: int) -> tuple[int, ...]:
    """``(height, width)`` or ``(height, width, channels)`` of flat rows of images."""
    if image_shape is None:
        image_shape = getattr(estimator, "image_shape_", None)
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"Rows of {n_features} values are not square images: give image_shape."
            )
        image_shape = (side, side)
    image_shape = tuple(int(size) for size in image_shape)
    return image_shape[:2] if image_shape[2:] == (1,) else image_shape


def _show_images(axes, images, image_shape, value_range=None, cmap="gray") -> list:
    """Draw each image on its axes (no ticks); returns the AxesImage artists.

    ``value_range`` ``(low, high)`` puts every image on one intensity scale
    (so that a faint reconstruction looks faint); colour images are clipped
    to it and rescaled to [0, 1], as ``imshow`` needs. None: each image on
    its own scale.
    """
    artists = []
    for ax, image in zip(axes, images):
        image = np.reshape(np.asarray(image, dtype=float), image_shape)
        if value_range is None:
            artists.append(ax.imshow(image, cmap=cmap))
        elif image.ndim == 3:
            low, high = value_range
            artists.append(ax.imshow((np.clip(image, low, high) - low) / (high - low)))
        else:
            artists.append(ax.imshow(image, cmap=cmap, vmin=value_range[0], vmax=value_range[1]))
        ax.set_xticks([])
        ax.set_yticks([])
    return artists


def _value_range(images) -> tuple[float, float]:
    """The range of ``images``, widened where it is empty (a constant image)."""
    low, high = float(np.min(images)), float(np.max(images))
    return (low, high) if high > low else (low - 0.5, low + 0.5)


class LossCurveDisplay:
    """Training loss per epoch, and the validation score when there is one.

    Parameters
    ----------
    loss_curve : list of float
        ``loss_curve_`` of a fitted estimator.
    validation_scores : list of float, default=None
        ``validation_scores_`` (early stopping), drawn on a second y-axis:
        scores are in other units than the loss (higher is better).
    estimator_name : str, default=None

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of Line2D
        The loss line, then the validation line if any.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import Autoencoder
    >>> from skae.plotting import LossCurveDisplay
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(max_iter=5, random_state=0).fit(X)
    >>> display = LossCurveDisplay.from_estimator(ae)
    >>> len(display.lines_)
    1
    """

    def __init__(self, loss_curve, validation_scores=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None):
        """Plot the fitted ``estimator``'s ``loss_curve_`` and ``validation_scores_``."""
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            estimator.loss_curve_,
            getattr(estimator, "validation_scores_", None),
            type(estimator).__name__,
        )
        return display.plot(ax=ax)

    def plot(self, ax=None, *, label="training loss"):
        """Draw on ``ax`` (a new figure when None); returns the display.

        ``label`` names the loss line in the legend, which lists every line
        on ``ax``: plot several curves on one axes to compare them.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        self.lines_ = ax.plot(epochs, self.loss_curve, marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        handles = ax.get_lines()
        if self.validation_scores:
            twin = ax.twinx()
            self.lines_ += twin.plot(
                epochs, self.validation_scores, marker="s", color="C1", label="validation score"
            )
            twin.set_ylabel("validation score")
            handles = [*handles, self.lines_[-1]]
        ax.legend(handles, [line.get_label() for line in handles])
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ReconstructionDisplay:
    """Images in the top row, their reconstructions (or predictions) below.

    One row per set of images, one column per image, all on the intensity
    scale of the top row: the classic "originals above reconstructions"
    figure, or inputs, targets and several models' predictions for paired
    images (noisy, clean, denoised).

    Parameters
    ----------
    images : array-like of shape (n_images, n_features), or an array of images
        The top row.
    reconstructions : array-like of the same shape, or dict of str to array-like
        One row below the images, or one row per entry (label -> images).
    image_shape : tuple of int
        ``(height, width)`` or ``(height, width, channels)``.
    images_label : str, default="original"
        The top row's label.

    Attributes
    ----------
    axes_ : ndarray of Axes, shape (n_rows, n_images)
    figure_ : matplotlib Figure
    images_ : list of AxesImage
        Row by row: the top row first.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import Autoencoder
    >>> from skae.plotting import ReconstructionDisplay
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(max_iter=5, random_state=0).fit(X)
    >>> ReconstructionDisplay.from_estimator(ae, X, n_images=4).axes_.shape
    (2, 4)
    >>> rows = {"PCA": X[:4] * 0.9, "skae": X[:4]}
    >>> display = ReconstructionDisplay.from_predictions(X[:4], rows)
    >>> [row[0].get_ylabel() for row in display.axes_]
    ['original', 'PCA', 'skae']
    """

    def __init__(self, images, reconstructions, image_shape, images_label="original"):
        self.images = images
        self.reconstructions = reconstructions
        self.image_shape = image_shape
        self.images_label = images_label

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, n_images=10, image_shape=None, figure=None):
        """Reconstruct the first ``n_images`` rows of ``X``.

        A regressor's rows are its inputs (where they have the targets' size),
        the targets ``y`` when given, and its ``predict``.
        """
        X = np.asarray(X)[:n_images]
        if hasattr(estimator, "predict") and not hasattr(estimator, "inverse_transform"):
            predicted = estimator.predict(X)
            rows = {"input": X} if np.size(X[0]) == np.size(predicted[0]) else {}
            if y is not None:
                rows["target"] = np.asarray(y)[:n_images]
            rows["predicted"] = predicted
            if image_shape is None and len(getattr(estimator, "target_shape_", ())) >= 2:
                image_shape = estimator.target_shape_
        else:
            reconstructed = estimator.inverse_transform(estimator.transform(X))
            rows = {"original": X, "reconstructed": reconstructed}
        shape = _image_shape(image_shape, estimator, np.size(next(reversed(rows.values()))[0]))
        label = next(iter(rows))
        images = rows.pop(label)
        return cls(images, rows, shape, label).plot(figure=figure)

    @classmethod
    def from_predictions(
        cls, images, reconstructions, *, image_shape=None, images_label="original", figure=None
    ):
        """Show ``images`` above ``reconstructions`` you computed (an array or a dict of rows).

        Images given as arrays of images (not flat rows) bring their shape.
        """
        images = np.asarray(images)
        if image_shape is None and images.ndim >= 3:
            image_shape = images.shape[1:]
        shape = _image_shape(image_shape, None, np.size(images[0]))
        return cls(images, reconstructions, shape, images_label).plot(figure=figure)

    def plot(self, *, figure=None):
        """Draw into ``figure`` (a Figure or SubFigure; a new figure when None).

        Returns the display.
        """
        rows = self.reconstructions
        if not isinstance(rows, dict):
            rows = {"reconstructed": rows}
        rows = {self.images_label: self.images, **rows}
        n_images = len(self.images)
        for label, images in rows.items():
            if np.shape(images)[0] != n_images:
                raise ValueError(
                    f"Row {label!r} holds {np.shape(images)[0]} images; the top row {n_images}."
                )
        value_range = _value_range(self.images)
        fig = _figure(figure, (1.2 * n_images, 1.3 * len(rows)))
        axes = fig.subplots(len(rows), n_images, squeeze=False)
        self.images_ = []
        for row_axes, (label, images) in zip(axes, rows.items()):
            self.images_ += _show_images(row_axes, images, self.image_shape, value_range)
            row_axes[0].set_ylabel(label)
        self.axes_, self.figure_ = axes, fig
        return self


class LatentSpaceDisplay:
    """The first two code values of each sample, coloured by label.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_components)
    labels : array-like of shape (n_samples,), default=None
    pca_codes : array-like of shape (n_samples, 2), default=None
        Drawn in a second panel, for comparison.

    Attributes
    ----------
    axes_ : list of Axes
        One panel, or two with ``pca_codes``.
    figure_ : matplotlib Figure
    scatters_ : list of PathCollection

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import Autoencoder
    >>> from skae.plotting import LatentSpaceDisplay
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(n_components=2, max_iter=5, random_state=0).fit(X)
    >>> y = load_digits().target
    >>> len(LatentSpaceDisplay.from_estimator(ae, X, y, with_pca=True).axes_)
    2
    """

    def __init__(self, codes, labels=None, pca_codes=None):
        self.codes = codes
        self.labels = labels
        self.pca_codes = pca_codes

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, with_pca=False, figure=None):
        """Encode ``X``; with ``with_pca=True`` also ``PCA(2)`` of ``X`` beside it."""
        codes = estimator.transform(X)
        pca_codes = None
        if with_pca:
            flat = np.reshape(np.asarray(X, dtype=float), (len(codes), -1))
            pca_codes = PCA(n_components=2).fit_transform(flat)
        return cls(codes, y, pca_codes).plot(figure=figure)

    def plot(self, *, figure=None):
        """Draw into ``figure`` (a Figure or SubFigure; a new figure when None).

        Returns the display.
        """
        panels = [("autoencoder code", self.codes)]
        if self.pca_codes is not None:
            panels.append(("PCA", self.pca_codes))
        fig = _figure(figure, (4.5 * len(panels), 4))
        axes = fig.subplots(1, len(panels), squeeze=False)
        self.scatters_ = []
        for ax, (title, values) in zip(axes[0], panels):
            values = np.asarray(values)
            second = values[:, 1] if values.shape[1] > 1 else np.zeros(len(values))
            colours = {} if self.labels is None else {"c": self.labels, "cmap": "tab10"}
            scatter = ax.scatter(values[:, 0], second, s=8, **colours)
            self.scatters_.append(scatter)
            ax.set(title=title, xlabel="component 1", ylabel="component 2")
        if self.labels is not None:
            fig.colorbar(self.scatters_[-1], ax=list(axes[0]), label="label")
        self.axes_, self.figure_ = list(axes[0]), fig
        return self


class OutlierScoresDisplay:
    """Histogram of outlier scores with the threshold; the most outlying images below.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        ``score_samples`` (higher is more normal).
    threshold : float, default=None
        ``offset_`` of a detector: samples scoring below it are outliers.
    images : array-like of shape (n_images, n_features), default=None
        The most outlying samples, most outlying first, shown as images.
    image_shape : tuple of int, default=None

    Attributes
    ----------
    ax_ : Axes
        The histogram.
    image_axes_ : list of Axes
        One per image (empty without images).
    figure_ : matplotlib Figure
    threshold_line_ : Line2D or None

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderOutlierDetector
    >>> from skae.plotting import OutlierScoresDisplay
    >>> X = load_digits().data / 16
    >>> detector = AutoencoderOutlierDetector(n_estimators=2, random_state=0).fit(X)
    >>> display = OutlierScoresDisplay.from_estimator(detector, X, n_images=3)
    >>> len(display.image_axes_), display.threshold_line_ is not None
    (3, True)
    """

    def __init__(self, scores, threshold=None, images=None, image_shape=None):
        self.scores = scores
        self.threshold = threshold
        self.images = images
        self.image_shape = image_shape

    @classmethod
    def from_estimator(cls, estimator, X, *, n_images=0, image_shape=None, figure=None):
        """Score ``X``; show the ``n_images`` most outlying samples as images."""
        scores = estimator.score_samples(X)
        images = None
        if n_images:
            order = np.argsort(scores)[:n_images]
            images = np.reshape(np.asarray(X), (len(scores), -1))[order]
            image_shape = _image_shape(image_shape, estimator, images.shape[1])
        threshold = getattr(estimator, "offset_", None)
        return cls(scores, threshold, images, image_shape).plot(figure=figure)

    @classmethod
    def from_predictions(cls, scores, *, threshold=None, figure=None):
        """Plot scores you computed."""
        return cls(scores, threshold).plot(figure=figure)

    def plot(self, *, figure=None):
        """Draw into ``figure`` (a Figure or SubFigure; a new figure when None).

        Returns the display.
        """
        n_images = 0 if self.images is None else len(self.images)
        fig = _figure(figure, (max(6, 1.2 * n_images), 4.5 if n_images else 3.5))
        grid = fig.add_gridspec(2 if n_images else 1, max(n_images, 1), height_ratios=None)
        ax = fig.add_subplot(grid[0, :])
        ax.hist(self.scores, bins=50)
        ax.set(xlabel="score_samples (higher = more normal)", ylabel="samples")
        self.threshold_line_ = None
        if self.threshold is not None:
            self.threshold_line_ = ax.axvline(
                self.threshold, color="C3", linestyle="--", label="threshold (offset_)"
            )
            ax.legend()
        self.image_axes_ = [fig.add_subplot(grid[1, i]) for i in range(n_images)]
        if n_images:
            _show_images(self.image_axes_, self.images, self.image_shape)
            self.image_axes_[0].set_ylabel("most outlying")
        self.ax_, self.figure_ = ax, fig
        return self


class FeatureErrorDisplay:
    """The squared reconstruction error of each feature (or pixel) of one sample.

    Parameters
    ----------
    errors : array-like of shape (n_features,)
        A row of ``reconstruction_error``.
    feature_names : array-like of str, default=None
        Bar labels (tabular data).
    image_shape : tuple of int, default=None
        Show the errors as an image (a heat map of the pixels) instead of bars.

    Attributes
    ----------
    ax_ : Axes
    figure_ : matplotlib Figure
    artist_ : BarContainer or AxesImage

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import Autoencoder
    >>> from skae.plotting import FeatureErrorDisplay
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(max_iter=5, random_state=0).fit(X)
    >>> FeatureErrorDisplay.from_estimator(ae, X[0], image_shape=(8, 8)).artist_.get_array().shape
    (8, 8)
    """

    def __init__(self, errors, feature_names=None, image_shape=None):
        self.errors = errors
        self.feature_names = feature_names
        self.image_shape = image_shape

    @classmethod
    def from_estimator(cls, estimator, x, *, image_shape=None, ax=None):
        """The per-feature errors of the one sample ``x`` (a row, or one image)."""
        row = np.reshape(np.asarray(x), (1, -1))
        errors = estimator.reconstruction_error(row)[0]
        names = getattr(estimator, "feature_names_in_", None)
        if image_shape is not None or hasattr(estimator, "image_shape_"):
            image_shape = _image_shape(image_shape, estimator, len(errors))
        return cls(errors, names, image_shape).plot(ax=ax)

    def plot(self, ax=None):
        """Draw on ``ax`` (a new figure when None); returns the display."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        errors = np.asarray(self.errors)
        if self.image_shape is not None:
            self.artist_ = ax.imshow(errors.reshape(self.image_shape), cmap="magma")
            ax.figure.colorbar(self.artist_, ax=ax, label="squared error")
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            names = (
                [str(name) for name in self.feature_names]
                if self.feature_names is not None
                else [str(i) for i in range(len(errors))]
            )
            self.artist_ = ax.bar(range(len(errors)), errors)
            ax.set_xticks(range(len(errors)), names, rotation=90)
            ax.set(xlabel="feature", ylabel="squared error")
        ax.set_title("reconstruction error per feature")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class SamplesDisplay:
    """A variational autoencoder's samples, and an interpolation strip.

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features)
    image_shape : tuple of int
    interpolation : array-like of shape (n_steps, n_features), default=None

    Attributes
    ----------
    axes_ : ndarray of Axes, shape (n_rows, n_columns)
    figure_ : matplotlib Figure
    images_ : list of AxesImage

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> from skae.plotting import SamplesDisplay
    >>> X = load_digits().data / 16
    >>> vae = VariationalAutoencoder(max_iter=5, random_state=0).fit(X)
    >>> SamplesDisplay.from_estimator(vae, n_samples=4, x_a=X[0], x_b=X[1]).axes_.shape
    (2, 8)
    """

    def __init__(self, samples, image_shape, interpolation=None):
        self.samples = samples
        self.image_shape = image_shape
        self.interpolation = interpolation

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        n_samples=8,
        x_a=None,
        x_b=None,
        n_steps=8,
        image_shape=None,
        random_state=None,
        figure=None,
    ):
        """``estimator.sample(n_samples)``, and ``interpolate(x_a, x_b)`` when both are given."""
        samples = estimator.sample(n_samples, random_state=random_state)
        interpolation = None
        if x_a is not None and x_b is not None:
            interpolation = estimator.interpolate(x_a, x_b, n_steps=n_steps)
        shape = _image_shape(image_shape, estimator, samples.shape[1])
        return cls(samples, shape, interpolation).plot(figure=figure)

    def plot(self, *, figure=None):
        """Draw into ``figure`` (a Figure or SubFigure; a new figure when None).

        Returns the display.
        """
        rows = [("samples", self.samples)]
        if self.interpolation is not None:
            rows.append(("interpolation", self.interpolation))
        n_columns = max(len(images) for _, images in rows)
        fig = _figure(figure, (1.2 * n_columns, 1.4 * len(rows)))
        axes = fig.subplots(len(rows), n_columns, squeeze=False)
        self.images_ = []
        for row_axes, (label, images) in zip(axes, rows):
            clipped = np.clip(images, 0, 1)
            self.images_ += _show_images(row_axes, clipped, self.image_shape, (0.0, 1.0))
            row_axes[0].set_ylabel(label)
            for ax in row_axes[len(images) :]:
                ax.set_axis_off()
        self.axes_, self.figure_ = axes, fig
        return self
