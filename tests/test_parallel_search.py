"""Searches across processes: joblib's process workers and a Dask cluster give GridSearchCV's
results, with each worker's threads set not to oversubscribe the cores."""

import os
import subprocess
import sys

import pytest

SEARCH = """
import os, sys, warnings
import joblib, numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
import skae

def search(n_jobs):
    grid = {"alpha": [1e-4, 1e-2], "n_components": [4, 8]}
    estimator = skae.Autoencoder(max_iter=3, random_state=0)
    fitted = GridSearchCV(estimator, grid, cv=2, n_jobs=n_jobs).fit(load_digits().data / 16)
    return fitted.cv_results_["mean_test_score"]

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    serial = search(1)
    if sys.argv[1] == "processes":
        parallel = search(2)  # joblib's default process backend (loky)
    else:
        from distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
            with Client(cluster), joblib.parallel_backend("dask"):
                parallel = search(-1)
    np.testing.assert_allclose(parallel, serial, rtol=1e-6)
    print("ok")
"""


@pytest.mark.slow  # fresh processes compile anew
@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_parallel_searches_give_the_serial_results(backend, tmp_path):
    if backend == "dask":
        pytest.importorskip("distributed")
    script = tmp_path / "search.py"
    script.write_text(SEARCH)
    # One XLA thread per worker process, as the user guide says to set it.
    env = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}
    result = subprocess.run(
        [sys.executable, str(script), backend],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-1] == "ok"
