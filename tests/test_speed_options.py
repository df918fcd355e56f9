"""Options for speed: mixed precision, and the persistent compilation cache."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import skae

FAST = {"max_iter": 3, "random_state": 0}


@pytest.mark.parametrize(
    "estimator",
    [
        skae.Autoencoder(**FAST),
        skae.VariationalAutoencoder(**FAST),
        skae.ConvolutionalAutoencoder(image_shape=(8, 8), filters=(4,), **FAST),
        skae.AutoencoderRegressor(**FAST),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_bfloat16_trains_in_bfloat16_and_keeps_float32_weights(estimator, digits):
    X = digits[0]
    y = X[:, :8] if isinstance(estimator, skae.AutoencoderRegressor) else None
    full = estimator.fit(X, y)
    full_curve, full_score = full.loss_curve_, full.score(X, y)
    mixed = estimator.set_params(compute_dtype="bfloat16").fit(X, y)
    # The arithmetic changed (float32 training is deterministic on CPU, so any
    # difference comes from the type), by about bfloat16's precision, not more.
    assert mixed.loss_curve_ != full_curve
    np.testing.assert_allclose(mixed.loss_curve_, full_curve, rtol=0.03)
    np.testing.assert_allclose(mixed.score(X, y), full_score, rtol=0.1)
    leaves = jax.tree.leaves((mixed.params_, mixed._device["state"].opt_state))
    assert {leaf.dtype for leaf in leaves if np.issubdtype(leaf.dtype, np.floating)} == {
        np.dtype("float32")
    }


def test_unknown_compute_dtype_is_refused(digits):
    with pytest.raises(ValueError, match="compute_dtype"):
        skae.Autoencoder(compute_dtype="float16").fit(digits[0])


FIT_AND_COUNT = """
import sys, jax, skae
from sklearn.datasets import load_digits
events = []
jax.monitoring.register_event_listener(lambda name, **kwargs: events.append(name))
if sys.argv[1] == "enable":
    skae.enable_compilation_cache(sys.argv[2])
skae.Autoencoder(max_iter=2, random_state=0).fit(load_digits().data / 16)
print(events.count("/jax/compilation_cache/cache_hits"),
      events.count("/jax/compilation_cache/cache_misses"))
"""


def run_python(code, *args, env=None):
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


@pytest.mark.slow  # three fresh Python processes
def test_a_second_process_reads_compiled_programs_from_the_cache(tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("JAX_")}
    cache = str(tmp_path / "cache")
    hits, misses = map(int, run_python(FIT_AND_COUNT, "enable", cache, env=env))
    assert hits == 0 and misses > 0 and len(os.listdir(cache)) == misses
    hits, misses = map(int, run_python(FIT_AND_COUNT, "enable", cache, env=env))
    assert hits > 0 and misses == 0
    # Processes started after enabling it (joblib's workers) inherit the cache.
    child = "import jax; print(jax.config.jax_compilation_cache_dir)"
    parent = (
        "import subprocess, sys, skae\n"
        f"skae.enable_compilation_cache({cache!r})\n"
        f"print(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, "
        "text=True).stdout)"
    )
    assert run_python(parent, env=env) == [cache]
