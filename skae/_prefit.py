"""Fits computed ahead, which ``fit`` takes instead of training (a batched search's).

:class:`skae.model_selection.BatchedGridSearchCV` trains every candidate on
every fold together (``skae._ensemble.fit_together``), then lets
scikit-learn's search machinery run as usual: when it calls ``fit`` on a
candidate with the parameters and training rows of a fit computed ahead,
``fit`` takes that fitted state instead of training again. The fits are only
offered inside :func:`offering`, in the thread that computed them.
"""

import hashlib
import threading
from contextlib import contextmanager

import numpy as np

_offered = threading.local()

_PLAIN = (str, int, float, bool, type(None), np.integer, np.floating, np.bool_)


def fit_key(estimator, X, y):
    """What identifies a fit: the class, the parameters and the data; None if unsure.

    Parameters that are objects (an Optax transformation, a Flax module) have
    no dependable value to compare, so such estimators are never taken ahead.
    """
    params = estimator.get_params(deep=False)
    for value in params.values():
        items = value if isinstance(value, tuple | list) else (value,)
        if not all(isinstance(item, _PLAIN) for item in items):
            return None
    return (type(estimator), repr(sorted(params.items())), _digest(X), _digest(y))


def _digest(values) -> str | None:
    if values is None:
        return None
    array = np.ascontiguousarray(np.asarray(values))
    names = getattr(values, "columns", None)
    header = f"{array.dtype}{array.shape}{None if names is None else list(names)}"
    return hashlib.sha256(header.encode() + array.tobytes()).hexdigest()


@contextmanager
def offering(fitted: dict):
    """Offer ``fitted`` (:func:`fit_key` -> fitted estimator) to ``fit`` in this block."""
    _offered.fits = fitted
    try:
        yield
    finally:
        _offered.fits = {}


def take(estimator, X, y):
    """The fitted estimator computed ahead for this fit, or None (each is taken once)."""
    fits = getattr(_offered, "fits", None)
    if not fits:
        return None
    key = fit_key(estimator, X, y)
    return None if key is None else fits.pop(key, None)
