"""A progress bar over epochs (tqdm), silent unless asked for."""

from tqdm.auto import tqdm


class EpochProgress:
    """Context manager showing epoch, training loss and validation score.

    Parameters
    ----------
    total : int
        Most epochs the fit may run.
    description : str
        Shown before the bar, usually the estimator's class name.
    enabled : bool
        When False nothing is printed (``verbose=0``).
    """

    def __init__(self, total: int, description: str, enabled: bool):
        self._bar = tqdm(total=total, desc=description, unit="epoch", disable=not enabled)

    def update(self, **metrics: float) -> None:
        """Advance one epoch and show ``metrics``."""
        self._bar.set_postfix({name: f"{value:.5g}" for name, value in metrics.items()})
        self._bar.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._bar.close()
