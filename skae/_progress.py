"""Progress over epochs (tqdm), silent unless asked for.

``verbose=1``: a bar for ``fit``, ended at the epoch training stopped at, with
the best epoch kept; no bar for ``partial_fit``, whose calls are one epoch of
a stream each. ``verbose=2`` also prints a line per epoch (``partial_fit``
included).
"""

from tqdm.auto import tqdm


class EpochProgress:
    """Context manager showing epoch, training loss and validation score.

    Parameters
    ----------
    total : int
        Most epochs the fit may run.
    description : str
        Shown before the bar, usually the estimator's class name.
    verbose : int
        0 prints nothing; 1 a bar; 2 a bar and a line per epoch.
    first_epoch : int
        Epochs the model was trained for before (numbering of the lines).
    stream : bool
        A ``partial_fit`` call: no bar, the lines only (``verbose=2``).
    """

    def __init__(
        self, total: int, description: str, verbose: int, first_epoch: int = 0, stream=False
    ):
        self.description = description
        self.verbose = int(verbose)
        self.epoch = first_epoch
        disable = self.verbose < 1 or stream
        self._bar = tqdm(total=total, desc=description, unit="epoch", disable=disable)

    def update(self, **metrics: float) -> None:
        """Advance one epoch and show ``metrics``."""
        self.epoch += 1
        shown = {name: f"{value:.5g}" for name, value in metrics.items()}
        self._bar.set_postfix(shown)
        self._bar.update(1)
        if self.verbose >= 2:
            values = ", ".join(f"{name}={value}" for name, value in shown.items())
            tqdm.write(f"{self.description} epoch {self.epoch}: {values}")

    def finish(self, outcome: str, best_epoch: int | None) -> None:
        """End the bar where training ended, saying why and which epoch is kept."""
        if self._bar.disable:
            return
        if outcome != "max_iter":  # stopped early, diverged or interrupted
            self._bar.total = self._bar.n
        note = {"converged": "stopped: no improvement", "diverged": "diverged"}.get(outcome)
        note = note or ("interrupted" if outcome == "interrupted" else "done")
        if best_epoch is not None:
            note += f", best epoch {best_epoch} kept"
        self._bar.set_postfix_str(f"{self._bar.postfix}, {note}" if self._bar.postfix else note)
        self._bar.refresh()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._bar.close()
