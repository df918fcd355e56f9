"""Input and parameter checks with messages that name the problem.

Everything is checked here, in the scikit-learn shell, before it reaches JAX.
"""

from numbers import Integral

import numpy as np


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


def data_in_unit_interval(X: np.ndarray) -> bool:
    """True when every value of ``X`` lies in [0, 1]."""
    return bool(X.min() >= 0.0 and X.max() <= 1.0)


def check_unit_interval(X: np.ndarray, loss: str) -> None:
    """Raise when cross-entropy is asked of data outside [0, 1]."""
    if not data_in_unit_interval(X):
        origin = "loss='auto' chose 'bce' at fit, so it" if loss == "auto" else "loss='bce'"
        raise ValueError(
            f"{origin} needs X in [0, 1]; got min={X.min():.4g}, max={X.max():.4g}. "
            "Scale X (for example with MinMaxScaler(clip=True)) or use loss='mse'."
        )


def resolve_loss(loss: str, output_activation: str, X: np.ndarray) -> tuple[str, str]:
    """Turn ``"auto"`` settings into ``(loss, output_activation)`` for data ``X``.

    ``loss="auto"`` is cross-entropy with a sigmoid output when ``X`` lies in
    [0, 1] and squared error otherwise.
    """
    if loss == "auto":
        loss = "bce" if data_in_unit_interval(X) else "mse"
    if output_activation == "auto":
        output_activation = "sigmoid" if loss == "bce" else "identity"
    if output_activation == "logistic":
        output_activation = "sigmoid"
    if loss == "bce":
        if output_activation != "sigmoid":
            raise ValueError(
                "loss='bce' needs a sigmoid output (output_activation='auto' or "
                f"'sigmoid'); got output_activation={output_activation!r}."
            )
        check_unit_interval(X, loss)
    return loss, output_activation
