import gc
import os
from pathlib import Path

import jax
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# The tests compile far more than they train (small models, a few epochs), and
# XLA's backend optimisations cost more compile time than they save there:
# without them the suite runs about a third faster. Read when JAX starts its
# backend, which importing it does not do; subprocesses inherit it. A level
# set in the environment wins (.ci/run runs one subset at XLA's default, 3).
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = " ".join(
        [os.environ.get("XLA_FLAGS", ""), "--xla_backend_optimization_level=0"]
    ).strip()


@pytest.fixture(autouse=True, scope="module")
def release_compiled_programs():
    """Drop JAX's compiled programs after each test module.

    Every XLA CPU executable keeps memory mappings; the whole suite compiles
    thousands of programs, which in one process reach the kernel's limit on
    mappings (vm.max_map_count, 65530 by default) and crash XLA's compiler
    with a segmentation fault. Programs are not shared across modules anyway.
    """
    yield
    jax.clear_caches()
    gc.collect()


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], split into (X_train, X_test, y_train, y_test)."""
    data = load_digits()
    return train_test_split(data.data / 16.0, data.target, random_state=0)


@pytest.fixture(scope="session")
def shared_data():
    """The folder of mnist.npz and fashion_mnist.npz: $SKAE_DATA_DIR or ../shared/data.

    Tests that need it skip when it is absent.
    """
    folder = Path(os.environ.get("SKAE_DATA_DIR", Path(__file__).parents[2] / "shared" / "data"))
    if not (folder / "mnist.npz").exists():
        pytest.skip(f"no MNIST data in {folder}")
    return folder


@pytest.fixture
def small_X():
    """A small Gaussian data set for fast fits."""
    return np.random.RandomState(0).normal(size=(60, 5))
