"""BatchedGridSearchCV against plain GridSearchCV on the same grid, in one run.

The grid: ``Autoencoder(n_components=8, max_iter=50)`` on scikit-learn's
digits (scaled to [0, 1]), 4 learning rates x 4 alphas = 16 candidates,
``cv=3``: 48 fits. Both searches run twice and the second (warm: programs
compiled) run is timed, so the ratio compares training, not compilation; the
first runs' times are printed too. Also prints the largest relative
difference between the two searches' mean test scores (each fit is the same
computation in another order of floating-point sums, which training
amplifies over the epochs) and whether they pick the same candidate.

Target: BatchedGridSearchCV at least 4x faster than GridSearchCV, warm, on
CPU. Exits 1 when it is missed.

Usage: python benchmarks/bench_search.py
"""

import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skae import Autoencoder
from skae.model_selection import BatchedGridSearchCV

GRID = {"learning_rate_init": [1e-3, 3e-3, 1e-2, 3e-2], "alpha": [1e-5, 1e-4, 1e-3, 1e-2]}


def timed_search(search_class, X):
    """``(first run s, second run s, fitted search)``."""
    times = []
    for _ in range(2):
        search = search_class(Autoencoder(n_components=8, max_iter=50, random_state=0), GRID, cv=3)
        start = time.perf_counter()
        search.fit(X)
        times.append(time.perf_counter() - start)
    return times[0], times[1], search


def main() -> int:
    import jax

    warnings.simplefilter("ignore", ConvergenceWarning)
    X = load_digits().data / 16
    print(f"jax {jax.__version__}, backend: {jax.default_backend()}")
    print("16 candidates x 3 folds of Autoencoder(n_components=8, max_iter=50) on digits")
    batched_first, batched, batched_search = timed_search(BatchedGridSearchCV, X)
    plain_first, plain, plain_search = timed_search(GridSearchCV, X)
    print(f"{'search':<22} {'first run s':>11} {'second run s':>12}")
    print(f"{'GridSearchCV':<22} {plain_first:>11.2f} {plain:>12.2f}")
    print(f"{'BatchedGridSearchCV':<22} {batched_first:>11.2f} {batched:>12.2f}")
    ours = batched_search.cv_results_["mean_test_score"]
    theirs = plain_search.cv_results_["mean_test_score"]
    difference = np.max(np.abs(ours - theirs) / np.abs(theirs))
    same_best = batched_search.best_params_ == plain_search.best_params_
    print(f"\nlargest relative difference of mean test scores: {difference:.2e}")
    print(f"same best candidate: {same_best} ({batched_search.best_params_})")
    speedup = plain / batched
    print(f"speed-up, second runs: {speedup:.2f}x (target >= 4)")
    ok = speedup >= 4
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
