"""Input and parameter checks with messages that name the problem.

Everything is checked here, in the scikit-learn shell, before it reaches JAX.
"""

import math
from numbers import Integral

import jax
import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import validate_data

from . import _engine
from ._streaming import (
    CHUNK_BYTES,
    IntegerRows,
    RowsReadAsFloat32,
    SparseRows,
    is_integer_memmap,
    is_memory_mapped,
    row_blocks,
)

FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_positive_ints(name: str, value) -> tuple[int, ...]:
    """Return ``value`` (an int or a sequence of ints) as a tuple of positive ints.

    ``name`` is the parameter's name, used in the error message.
    """
    sizes = value
    if isinstance(sizes, Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints; got {value!r}.") from None
    for size in sizes:
        if not isinstance(size, Integral) or isinstance(size, bool):
            raise TypeError(f"{name} must hold ints; got {value!r}.")
        if size < 1:
            raise ValueError(f"{name} must hold positive sizes; got {value!r}.")
    return tuple(int(size) for size in sizes)


class PositiveInts(HasMethods):
    """A scikit-learn parameter constraint: a sequence of positive ints.

    Used in ``_parameter_constraints`` (beside ``Interval(Integral, 1, None)``
    for a single int), so that a bad ``hidden_layer_sizes``, ``filters`` or
    ``image_shape`` raises scikit-learn's ``InvalidParameterError`` at ``fit``.
    It subclasses ``HasMethods`` only because scikit-learn's ``make_constraint``
    accepts its own constraint classes, not any ``_Constraint``.

    Parameters
    ----------
    lengths : tuple of int or None
        Allowed lengths; None allows any length from ``min_length``.
    min_length : int
        Fewest entries.
    """

    def __init__(self, lengths: tuple[int, ...] | None = None, min_length: int = 0):
        super().__init__(["__iter__"])
        self.lengths = lengths
        self.min_length = min_length

    def is_satisfied_by(self, val) -> bool:
        if isinstance(val, str | bytes) or not hasattr(val, "__iter__"):
            return False
        try:
            check_positive_ints("value", val)
        except (TypeError, ValueError):
            return False
        n = len(tuple(val))
        return n in self.lengths if self.lengths else n >= self.min_length

    def __str__(self) -> str:
        if self.lengths:
            size = " or ".join(str(n) for n in self.lengths)
            return f"a sequence of {size} positive ints"
        if self.min_length:
            return "a non-empty sequence of positive ints"
        return "a sequence of positive ints (possibly empty)"


def check_unit_interval(low: float, high: float, loss: str, input_name: str = "X") -> None:
    """Raise when cross-entropy is asked of data (``X``, or targets ``y``) outside [0, 1]."""
    if low < 0.0 or high > 1.0:
        origin = "loss='auto' chose 'bce' at fit, so it" if loss == "auto" else "loss='bce'"
        raise ValueError(
            f"{origin} needs {input_name} in [0, 1]; got min={low:.4g}, max={high:.4g}. "
            f"Scale {input_name} (for example with MinMaxScaler(clip=True)) or use loss='mse'."
        )


def resolve_output_activation(output_activation: str, loss: str) -> str:
    """``output_activation`` with ``"auto"`` resolved for ``loss`` (and aliases unified)."""
    if output_activation == "auto":
        output_activation = "sigmoid" if loss == "bce" else "identity"
    return "sigmoid" if output_activation == "logistic" else output_activation


def resolve_loss(
    loss: str, output_activation: str, low: float, high: float, input_name: str = "X"
) -> tuple[str, str]:
    """Turn ``"auto"`` settings into ``(loss, output_activation)`` for data in [low, high].

    ``loss="auto"`` is cross-entropy with a sigmoid output when the data lies in
    [0, 1] and squared error otherwise.
    """
    if loss == "auto":
        loss = "bce" if low >= 0.0 and high <= 1.0 else "mse"
    output_activation = resolve_output_activation(output_activation, loss)
    if loss == "bce":
        if output_activation != "sigmoid":
            raise ValueError(
                "loss='bce' needs a sigmoid output (output_activation='auto' or "
                f"'sigmoid'); got output_activation={output_activation!r}."
            )
        check_unit_interval(low, high, loss, input_name)
    return loss, output_activation


def validate_rows(estimator, X, reset: bool):
    """``X`` checked by scikit-learn as rows of float features (sets ``n_features_in_``).

    Returns a float array, or what skae reads a chunk at a time without copying
    X whole: a memmap, a ``scipy.sparse`` CSR matrix, a memmap of integers as
    :class:`IntegerRows`, or rows skae itself made (:class:`RowsReadAsFloat32`).
    Finiteness is left to :func:`check_finite_float32`.
    """
    if isinstance(X, RowsReadAsFloat32):  # rows skae made, checked by their maker
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        return X
    check_has_columns(X, type(estimator).__name__)
    if is_integer_memmap(X):  # converted a chunk at a time, not whole
        X = validate_data(estimator, X, reset=reset, dtype=None, ensure_all_finite=False)
        return IntegerRows(X)
    return validate_data(
        estimator,
        X,
        reset=reset,
        accept_sparse="csr",  # densified a chunk at a time (skae._streaming.SparseRows)
        dtype=[np.float64, np.float32],
        ensure_all_finite=False,
    )


def check_has_columns(X, estimator_name: str) -> None:
    """Refuse a 2-D input without columns (a frame with an index only).

    scikit-learn's own message for such a frame ("at least one array or dtype
    is required") does not name the fault.
    """
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2 and shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={tuple(shape)}) while a minimum of 1 "
            f"is required by {estimator_name}."
        )


def check_finite_float32(X, estimator_name: str, input_name: str = "X", per_feature=False):
    """``(X as float32, min, max)``; raises on NaN, infinity or float32 overflow.

    Everything runs in float32, so a float64 value beyond float32's range
    (about 3.4e38) is refused like an infinity. ``min`` and ``max`` are those
    of all values, or with ``per_feature=True`` arrays of each feature's
    (column's, or pixel's for images). Both come from one pass per extreme:
    NaN and infinities carry through them to the check. On an accelerator the
    data goes to the device once and is checked there, which saves passes
    over it on the host; on the CPU, NumPy checks it, so no program is
    compiled for the data's shape.
    """
    if sparse.issparse(X):
        X32, low, high = _check_sparse(X, estimator_name, input_name)
    elif isinstance(X, RowsReadAsFloat32) or is_memory_mapped(X):  # never whole on a device
        X32, low, high = _check_memmap(X, estimator_name, input_name)
    else:
        X32, low, high = _check_array(X, estimator_name, input_name)
    if not per_feature:
        low, high = float(np.min(low)), float(np.max(high))
    return X32, low, high


def _check_array(X, estimator_name: str, input_name: str):
    """:func:`check_finite_float32` of an array, per feature."""
    X = np.asarray(X)
    if X.dtype == np.float64 and X.size and np.nanmax(np.abs(X), initial=0.0) > FLOAT32_MAX:
        has_nan, has_inf = bool(np.isnan(X).any()), True
        X32 = low = high = None
    else:
        X32 = np.asarray(X, dtype=np.float32)
        if not len(X32):
            low = high = np.zeros(X32.shape[1:], np.float32)
        elif jax.default_backend() == "cpu":
            low, high = X32.min(axis=0), X32.max(axis=0)
        else:
            X32 = jax.device_put(X32)
            low, high = (np.asarray(extreme) for extreme in _engine.feature_ranges(X32))
        has_nan = bool(np.isnan(low).any() or np.isnan(high).any())
        has_inf = bool(np.isinf(low).any() or np.isinf(high).any())
    _raise_if_not_finite(has_nan, has_inf, estimator_name, input_name)
    return X32, low, high


def _check_memmap(X, estimator_name: str, input_name: str):
    """:func:`check_finite_float32` of a memmap (or rows read as float32): chunk by
    chunk on the host, not copied (nor put whole on an accelerator).

    Returns ``X`` itself; its chunks become float32 as they are read. Rows
    skae made remember their extremes, so the members of an ensemble given the
    same rows read them once for this check, not once each.
    """
    if getattr(X, "extremes", None) is not None:
        low, high = X.extremes
    else:
        rows = max(1, CHUNK_BYTES // (8 * max(1, math.prod(X.shape[1:]))))
        extremes = [
            (np.min(chunk, axis=0), np.max(chunk, axis=0))
            for chunk in map(np.asarray, row_blocks(X, rows))
        ]
        low = np.min([chunk_low for chunk_low, _ in extremes], axis=0)
        high = np.max([chunk_high for _, chunk_high in extremes], axis=0)
        if isinstance(X, RowsReadAsFloat32):
            X.extremes = (low, high)
    has_nan = bool(np.isnan(low).any() or np.isnan(high).any())
    has_inf = bool(np.nanmax(np.abs([low, high]), initial=0.0) > FLOAT32_MAX)
    _raise_if_not_finite(has_nan, has_inf, estimator_name, input_name)
    return X, low.astype(np.float32), high.astype(np.float32)


def _check_sparse(X, estimator_name: str, input_name: str):
    """:func:`check_finite_float32` of a sparse matrix: its rows as ``SparseRows``."""
    values = X.tocsr().data
    has_nan = bool(np.isnan(values).any())
    has_inf = bool(np.nanmax(np.abs(values), initial=0.0) > FLOAT32_MAX)
    _raise_if_not_finite(has_nan, has_inf, estimator_name, input_name)
    rows = SparseRows(X)
    # The stored values' extremes, and zero for a column with an implicit zero.
    low = rows.matrix.min(axis=0).toarray().ravel()
    high = rows.matrix.max(axis=0).toarray().ravel()
    return rows, low, high


def _raise_if_not_finite(has_nan: bool, has_inf: bool, estimator_name: str, input_name: str):
    if has_nan:
        raise ValueError(
            f"Input {input_name} contains NaN. {estimator_name} does not accept missing values; "
            "impute them first (for example with sklearn.impute.SimpleImputer in a "
            "Pipeline) or drop the rows that have them."
        )
    if has_inf:
        raise ValueError(
            f"Input {input_name} contains infinity or a value too large for float32 (|x| > "
            f"{FLOAT32_MAX:.4g}), the precision {estimator_name} computes in."
        )
