"""Input and parameter checks with messages that name the problem.

Everything is checked here, in the scikit-learn shell, before it reaches JAX.
"""

from numbers import Integral


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


def check_unit_interval(low: float, high: float, loss: str) -> None:
    """Raise when cross-entropy is asked of data outside [0, 1]."""
    if low < 0.0 or high > 1.0:
        origin = "loss='auto' chose 'bce' at fit, so it" if loss == "auto" else "loss='bce'"
        raise ValueError(
            f"{origin} needs X in [0, 1]; got min={low:.4g}, max={high:.4g}. "
            "Scale X (for example with MinMaxScaler(clip=True)) or use loss='mse'."
        )


def resolve_loss(loss: str, output_activation: str, low: float, high: float) -> tuple[str, str]:
    """Turn ``"auto"`` settings into ``(loss, output_activation)`` for data in [low, high].

    ``loss="auto"`` is cross-entropy with a sigmoid output when the data lies in
    [0, 1] and squared error otherwise.
    """
    if loss == "auto":
        loss = "bce" if low >= 0.0 and high <= 1.0 else "mse"
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
        check_unit_interval(low, high, loss)
    return loss, output_activation
