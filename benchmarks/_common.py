"""Helpers shared by the benchmark scripts: data loading and the result table."""

import sys
from pathlib import Path

import numpy as np


def load_images(path: str, flatten: bool = True):
    """``(x_train, x_test)`` scaled to [0, 1] from an MNIST-style ``.npz``.

    Exits with status 0 and a message when the file is absent, so that a machine
    without the data skips the benchmark cleanly.
    """
    if not Path(path).exists():
        print(f"skipped: data file {path} not found")
        sys.exit(0)
    with np.load(path) as data:
        x_train = data["x_train"].astype(np.float32) / 255.0
        x_test = data["x_test"].astype(np.float32) / 255.0
    if flatten:
        x_train = x_train.reshape(len(x_train), -1)
        x_test = x_test.reshape(len(x_test), -1)
    return x_train, x_test


def print_table(rows: list[dict]) -> None:
    """Print ``rows`` (dicts with the same keys) as an aligned text table."""
    columns = list(rows[0])
    cells = [[_format(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
