"""An outlier detector shaped like ``IsolationForest``, made of autoencoders."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _as_finite
from ._denoising import DenoisingAutoencoder
from ._ensemble import fit_together, member_seeds
from ._streaming import (
    CHUNK_BYTES,
    SparseRows,
    StandardisedRows,
    read_rows,
    reads_a_file,
    reads_in_chunks,
    row_blocks,
)
from ._validation import check_finite_float32, validate_rows

# The robust z-score below the median training score that contamination="auto"
# flags, with the MAD scaled to a standard deviation (normal consistency).
AUTO_THRESHOLD_Z = 3.0
MAD_TO_STD = 1.4826
# No feature's standard deviation is taken below this share of the median one.
SCALE_FLOOR = 0.1
# Caps on the default members' widths: on wide data (784 pixels) a 128-32 model
# ranked outliers better than a 392-196 one, and fits in a third of the time
# (benchmarks/RESULTS.md).
MAX_HIDDEN, MAX_CODE = 128, 32
# The wide member's hidden layer has at least this many units, however few the features.
MIN_WIDE_HIDDEN = 64
# The share of each sample's features the wide member learns to restore.
MASKING_NOISE = 0.1
EPOCHS = 30


def narrow_autoencoder(n_features: int) -> DenoisingAutoencoder:
    """The detector's narrow member for ``n_features`` inputs.

    A code too small to reconstruct what leaves the data's structure (a shape,
    the correlations between features): one hidden layer of half the width
    (at most 128 units) and a code of a quarter (at most 32), squared error,
    a fixed number of epochs. No noise: it is a plain autoencoder, written as
    a :class:`DenoisingAutoencoder` with masking noise of level 0 (which
    trains exactly as an :class:`Autoencoder`) so that it trains in the wide
    members' program, padded to their widths (``skae._widths``).
    """
    return DenoisingAutoencoder(
        n_components=min(max(1, n_features // 4), MAX_CODE),
        hidden_layer_sizes=(min(max(2, n_features // 2), MAX_HIDDEN),),
        noise="masking",
        noise_level=0.0,
        loss="mse",
        max_iter=EPOCHS,
        tol=0.0,
        n_iter_no_change=EPOCHS,
    )


def wide_masking_autoencoder(n_features: int) -> DenoisingAutoencoder:
    """The detector's wide member for ``n_features`` inputs.

    A code as wide as the input (at most 32) and a hidden layer of at least 64
    units (half the width, at most 128), trained to restore the features that
    masking noise zeroes (10% of each sample's) from the others: it learns how
    the features depend on each other, and the noise, not a narrow code, keeps
    it from copying its inputs.
    """
    return DenoisingAutoencoder(
        n_components=min(n_features, MAX_CODE),
        hidden_layer_sizes=(min(max(MIN_WIDE_HIDDEN, n_features // 2), MAX_HIDDEN),),
        noise="masking",
        noise_level=MASKING_NOISE,
        loss="mse",
        max_iter=EPOCHS,
        tol=0.0,
        n_iter_no_change=EPOCHS,
    )


DEFAULT_KINDS = (wide_masking_autoencoder, narrow_autoencoder)


def default_members(n_features: int, n_estimators: int) -> tuple[list, np.ndarray]:
    """The detector's own members, wide and narrow autoencoders in turn (starting
    wide), and each one's kind (0: wide, 1: narrow).

    The two kinds miss different outliers, and together they ranked outliers
    better than either kind alone (see the detector's Notes).
    """
    kinds = np.arange(n_estimators) % len(DEFAULT_KINDS)
    return [DEFAULT_KINDS[kind](n_features) for kind in kinds], kinds


class AutoencoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detection by reconstruction error, like ``IsolationForest``.

    Fits ``n_estimators`` autoencoders (different seeds; one compiled program
    trains all the members, those of narrower layers padded to the widest
    with zero masks) on the standardised training
    data, which may hold some outliers. A sample's outlier score is its
    reconstruction error: each standardised feature's squared error (so in
    units of that feature's variance: features with large values do not drown
    the others), divided by the member's median training error (so that each
    member weighs alike), averaged over the members of each kind (members
    built alike, which differ only in their seeds) and over the features;
    with several kinds (the default's two), the kind with the largest mean
    gives the score, since each kind flags outliers the other misses and an
    average would dilute them. ``score_samples`` is minus that score (higher
    is more normal), and ``predict`` flags the samples whose score falls
    below ``offset_``.

    Parameters
    ----------
    estimator : skae autoencoder or None, default=None
        The member model, cloned ``n_estimators`` times with different
        ``random_state``. None: the detector's own members, sized from the
        number of features, a wide denoising autoencoder with masking noise
        and a narrow autoencoder in turn (see Notes).
    n_estimators : int, default=4
        Number of members.
    contamination : "auto" or float in (0, 0.5], default="auto"
        Share of outliers expected in the training data: a float flags that
        share of the training samples; ``"auto"`` puts the threshold at a robust
        z-score of 3 below the median training score (the median minus 3 times
        1.4826 times the median absolute deviation).
    scale : bool, default=True
        Standardise the features (subtract the training mean, divide by the
        training standard deviation, floored at a tenth of the median feature's,
        so that near-constant features do not blow up) before the members see
        them.
    random_state : int, RandomState instance or None, default=None
        Seeds the members.

    Attributes
    ----------
    estimators_ : list of fitted skae autoencoders
    center_, scale_ : ndarray of shape (`n_features_in_`,) or None
        The standardisation (None with ``scale=False``).
    error_scales_ : ndarray of shape (`n_estimators`,)
        Each member's median training error (mean squared error of a training
        sample); its errors are divided by it.
    estimator_kinds_ : ndarray of shape (`n_estimators`,)
        Each member's kind: 0 (wide) and 1 (narrow) for the default members,
        0 for all members of a given ``estimator``.
    offset_ : float
        ``decision_function = score_samples - offset_``; negative for outliers.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    sklearn.ensemble.IsolationForest : The same interface with trees.

    Notes
    -----
    The default members alternate between two kinds, starting with the wide
    one (four members: two of each), each trained 30 epochs with
    squared error. A model fitted on contaminated data must not learn to
    reconstruct its outliers too, and the two kinds keep from it in two ways
    (Ding, Zhao and Akoglu, "Hyperparameter sensitivity in deep outlier
    detection", NeurIPS 2022, on why no single setting suits every data set):

    - wide: a :class:`DenoisingAutoencoder` with a code of
      ``min(n_features, 32)`` and one hidden layer of
      ``min(max(64, n_features // 2), 128)`` units, trained to restore the
      10% of each sample's features that masking noise zeroes from the
      others. It learns how the features depend on each other, and flags
      samples that break those dependencies.
    - narrow: a plain autoencoder with one hidden layer of
      ``max(2, n_features // 2)`` units (at most 128) and a code of
      ``max(1, n_features // 4)`` (at most 32). It flags samples that leave
      the low-dimensional structure its code spans. It is a
      :class:`DenoisingAutoencoder` with masking noise of level 0, which
      trains exactly as an :class:`Autoencoder`, so that it trains in the
      wide members' program.

    Measured on 40 real tabular data sets and on ``bench_outliers.py``'s
    tasks, the mix ranked outliers better than either kind alone, and taking
    the larger of the two kinds' mean errors better than averaging all
    members (``benchmarks/RESULTS.md``).

    A memory-mapped ``X`` (``np.load(path, mmap_mode="r")``) or a sparse
    matrix is never standardised whole: its mean and standard deviation are
    computed a block of rows at a time, the members train on it as any model
    trains on a memmap (a chunk at a time, see the user guide), all of them
    on each chunk as it is read, and every method scores it a block at a
    time.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 8))
    >>> X[:5] += 6  # five outliers
    >>> detector = AutoencoderOutlierDetector(random_state=0).fit(X)
    >>> bool((detector.predict(X[:5]) == -1).all())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [None, HasMethods(["fit", "reconstruction_error"])],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "scale": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_estimators=4,
        contamination="auto",
        scale=True,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.contamination = contamination
        self.scale = scale
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the members on ``X`` and set the threshold.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; it may hold some outliers.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = self._checked_rows(X, reset=True)
        if self.estimator is None:
            bases, kinds = default_members(X.shape[1], self.n_estimators)
        else:
            bases, kinds = [self.estimator] * self.n_estimators, np.zeros(self.n_estimators, int)
        if any(getattr(base, "early_stopping", False) for base in bases) and reads_a_file(X):
            # Members hold out validation rows, which a file's rows give only as a copy.
            X = np.array(read_rows(X, slice(0, len(X)), X.dtype))
        center, spread = _standardisation(X) if self.scale else (None, None)
        if center is None:
            X_scaled = X
        elif reads_in_chunks(X):  # the members read it a chunk at a time too
            X_scaled = StandardisedRows(X, center, spread)
        else:
            X_scaled = (X - center) / spread
        members = [
            clone(base).set_params(random_state=seed)
            for base, seed in zip(bases, member_seeds(self.random_state, self.n_estimators))
        ]
        with warnings.catch_warnings():
            if self.estimator is None:  # the default trains a fixed number of epochs
                warnings.simplefilter("ignore", ConvergenceWarning)
            fit_together(members, X_scaled, share_widths=True)
        self.estimators_, self.center_, self.scale_ = members, center, spread
        self.estimator_kinds_ = kinds
        # One pass over the training rows gives each member's scale and the
        # threshold (in float64: errors past float32's range leave it finite).
        row_errors = _member_row_errors(members, self._standardised_blocks(X))
        medians = np.median(row_errors, axis=1)
        self.error_scales_ = np.where(medians > 0, medians, 1.0)
        scaled = row_errors / self.error_scales_[:, None]
        scores = -np.max([scaled[kinds == kind].mean(axis=0) for kind in np.unique(kinds)], axis=0)
        if self.contamination == "auto":
            median = np.median(scores)
            mad = np.median(np.abs(scores - median))
            self.offset_ = float(median - AUTO_THRESHOLD_Z * MAD_TO_STD * mad)
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified a block at a time
        return tags

    def _checked_rows(self, X, reset: bool):
        """``X`` checked: a float array, or rows read a chunk at a time (a memmap,
        a sparse matrix as ``SparseRows``, a memmap of integers as ``IntegerRows``)."""
        X = validate_rows(self, X, reset)
        checked, _, _ = check_finite_float32(X, type(self).__name__)
        return checked if isinstance(checked, SparseRows) else X

    def _errors_by_block(self, X):
        """Each block of rows' ``_combined_errors`` (an iterator).

        ``X`` is checked (:meth:`_checked_rows`). Blocks of about ``CHUNK_BYTES``
        are standardised one at a time, so that scoring a memmap or a sparse
        matrix never holds a dense standardised copy of it. The errors come in
        ``X``'s float dtype (a ValueError if they overflow it).
        """
        name = type(self).__name__
        for block in self._standardised_blocks(X):
            errors = _combined_errors(
                self.estimators_, self.error_scales_, self.estimator_kinds_, block
            )
            yield _as_finite(errors, X.dtype, name)

    def _standardised_blocks(self, X):
        """``X``'s rows standardised in float64 (as they are with ``scale=False``),
        a block of about ``CHUNK_BYTES`` at a time."""
        rows = max(1, CHUNK_BYTES // (8 * X.shape[1]))  # float64 errors
        dtype = X.dtype if self.center_ is None else np.float64
        for block in row_blocks(X, rows, dtype):
            yield block if self.center_ is None else (block - self.center_) / self.scale_

    def reconstruction_error(self, X):
        """Each feature's contribution to a sample's outlier score.

        The members' squared reconstruction errors of the standardised
        features (see :meth:`Autoencoder.reconstruction_error`), each member's
        divided by its median training error (``error_scales_``), averaged
        over the members of each kind; each sample's are those of the kind
        whose mean over the features is the largest (``estimator_kinds_``).
        The row mean is ``-score_samples(X)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        return np.concatenate(list(self._errors_by_block(self._checked_rows(X, reset=False))))

    def score_samples(self, X):
        """Minus the outlier score: higher is more normal, as ``IsolationForest``'s.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        blocks = self._errors_by_block(self._checked_rows(X, reset=False))
        return -np.concatenate([errors.mean(axis=1) for errors in blocks])

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1)


def _standardisation(X) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, standard deviation floored at a tenth of the median one)`` per feature.

    Rows read a chunk at a time (a memmap, ``SparseRows``) are read twice, a
    block at a time, in float64.
    """
    if reads_in_chunks(X):
        rows = max(1, CHUNK_BYTES // (8 * X.shape[1]))

        center = sum(block.sum(axis=0) for block in row_blocks(X, rows, np.float64)) / len(X)
        squares = (((block - center) ** 2).sum(axis=0) for block in row_blocks(X, rows, np.float64))
        spread = np.sqrt(sum(squares) / len(X))
    else:
        center, spread = X.mean(axis=0), X.std(axis=0)
    floor = SCALE_FLOOR * float(np.median(spread))
    return center, np.maximum(spread, floor if floor > 0 else 1.0)


def _member_row_errors(members, blocks) -> np.ndarray:
    """Each member's mean squared error of each row of ``blocks``: (members, rows), float64.

    Its median over the training rows is the unit the member's errors are
    counted in (``error_scales_``): members of different kinds (a narrow code,
    masking noise) reconstruct their training data to different degrees, and
    each should weigh alike in the detector's score.
    """
    row_errors = [[] for _ in members]
    for block in blocks:
        for member, errors in zip(members, row_errors):
            errors.append(member.reconstruction_error(block).mean(axis=1, dtype=np.float64))
    return np.array([np.concatenate(errors) for errors in row_errors])


def _combined_errors(members, error_scales, kinds, X) -> np.ndarray:
    """The detector's per-feature errors of ``X`` (float64).

    Each member's squared errors are divided by its ``error_scales`` value and
    averaged over the members of each kind; each row then takes the errors of
    the kind whose mean over the features is the largest. Summed member by
    member: one member's errors in memory at a time, not all.
    """
    combined, worst = None, None
    for kind in np.unique(kinds):
        of_kind = [(m, scale) for m, scale, k in zip(members, error_scales, kinds) if k == kind]
        errors = np.zeros(X.shape)
        for member, scale in of_kind:
            errors += member.reconstruction_error(X) / scale
        errors /= len(of_kind)
        rows = errors.mean(axis=1)
        if combined is None:
            combined, worst = errors, rows
        else:
            higher = rows > worst
            combined[higher], worst = errors[higher], np.maximum(worst, rows)
    return combined
