"""Compilation: the first fit's compile time per architecture, and the persistent cache.

Two measurements, each started from a fresh Python process (a new session, as
a user or a joblib worker starts one):

1. Per architecture, on scikit-learn's digits: the first ``fit`` (which
   compiles the training and inference programs) against a second fit of a
   clone in the same process (which reuses them); the difference is the
   compile time.
2. ``GridSearchCV`` over 40 small fits (8 candidates x 5 folds of
   ``Autoencoder`` on digits): ``n_jobs=1``; ``n_jobs=2`` as it is (each
   worker compiles anew); and ``n_jobs=2`` after
   ``skae.enable_compilation_cache``, once with an empty cache (filling it)
   and once more with the cache filled (a second session).

Targets: with a filled cache, ``GridSearchCV(n_jobs=2)`` takes at most 0.8x
the time it takes without the cache (where each worker compiles again, which
makes it slower than ``n_jobs=1`` on 2 cores), and no longer than
``n_jobs=1``. Exits 1 when one is missed.

Usage: python benchmarks/bench_compile.py
"""

import json
import subprocess
import sys
import tempfile
import time

ARCHITECTURES = {
    "Autoencoder (64-128-8)": "skae.Autoencoder()",
    "Autoencoder (64-256-128-32)": "skae.Autoencoder(32, hidden_layer_sizes=(256, 128))",
    "ConvolutionalAutoencoder": "skae.ConvolutionalAutoencoder(image_shape=(8, 8))",
    "VariationalAutoencoder": "skae.VariationalAutoencoder()",
    "DenoisingAutoencoder": "skae.DenoisingAutoencoder()",
    "ContractiveAutoencoder": "skae.ContractiveAutoencoder()",
    "AutoencoderOutlierDetector": "skae.AutoencoderOutlierDetector()",
}

FIRST_FIT = """
import json, sys, time, warnings
import skae
from sklearn.base import clone
from sklearn.datasets import load_digits
warnings.simplefilter("ignore")
X = load_digits().data / 16
model = {model}
model.set_params(**({{"max_iter": 5}} if "max_iter" in model.get_params() else {{}}))
times = []
for estimator in (model, clone(model)):
    start = time.perf_counter()
    estimator.fit(X).score_samples(X[:10])
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""

SEARCH = """
import json, sys, time, warnings
start = time.perf_counter()
import skae
if sys.argv[1] != "none":
    skae.enable_compilation_cache(sys.argv[1])
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
warnings.simplefilter("ignore")
X = load_digits().data / 16
grid = {"learning_rate_init": [1e-3, 3e-3], "alpha": [1e-5, 1e-4, 1e-3, 1e-2]}
search = GridSearchCV(
    skae.Autoencoder(max_iter=20, random_state=0), grid, cv=5, n_jobs=int(sys.argv[2])
)
search.fit(X)
print(json.dumps(time.perf_counter() - start))
"""


def run(code: str, *args: str):
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    import jax

    print(f"jax {jax.__version__}, backend: {jax.default_backend()}")
    print("\n1. First fit of each architecture (5 epochs on digits; fresh process each)")
    print(f"{'architecture':<30} {'first fit s':>11} {'clone s':>8} {'compile s':>9}")
    for name, model in ARCHITECTURES.items():
        first, second = run(FIRST_FIT.format(model=model))
        print(f"{name:<30} {first:>11.2f} {second:>8.2f} {first - second:>9.2f}")

    print("\n2. GridSearchCV, 8 candidates x 5 folds, from a fresh process (seconds)")
    with tempfile.TemporaryDirectory() as cache:
        times = {
            "n_jobs=1": run(SEARCH, "none", "1"),
            "n_jobs=2": run(SEARCH, "none", "2"),
            "n_jobs=2, empty cache": run(SEARCH, cache, "2"),
            "n_jobs=2, filled cache": run(SEARCH, cache, "2"),
        }
    for name, seconds in times.items():
        print(f"{name:<24} {seconds:6.2f} s  ({seconds / times['n_jobs=1']:.2f}x n_jobs=1)")
    cached = times["n_jobs=2, filled cache"]
    against_uncached, against_serial = cached / times["n_jobs=2"], cached / times["n_jobs=1"]
    print(f"\nn_jobs=2, filled cache / without: {against_uncached:.2f}x (target <= 0.8)")
    print(f"n_jobs=2, filled cache / n_jobs=1: {against_serial:.2f}x (target <= 1.0)")
    ok = against_uncached <= 0.8 and against_serial <= 1.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    start = time.perf_counter()
    status = main()
    print(f"(ran in {time.perf_counter() - start:.0f} s)")
    sys.exit(status)
