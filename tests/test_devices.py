"""Data-parallel training over several devices (``devices=``, on jax.sharding)."""

import subprocess
import sys

import jax
import pytest

import skae
from skae._devices import resolve_devices


def test_one_default_device_is_the_single_device_path():
    assert resolve_devices(None) == resolve_devices("auto") == resolve_devices(1) == ()
    assert resolve_devices([jax.devices()[0].id]) == ()


@pytest.mark.parametrize(
    "devices, error, message",
    [
        (len(jax.devices()) + 1, ValueError, "more devices than"),
        (["gpu:0"], TypeError, "device ids"),
        ([], TypeError, "non-empty"),
    ],
)
def test_bad_devices_are_refused_clearly(devices, error, message, digits):
    with pytest.raises(error, match=message):
        skae.Autoencoder(devices=devices, max_iter=1).fit(digits[0])


# Four CPU devices exist only if XLA is told so before JAX starts: a subprocess.
FOUR_DEVICES = """
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import pickle, warnings
import jax, numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
import skae, skae._engine as engine

warnings.simplefilter("ignore")
X = load_digits().data / 16
epochs = []
run_epoch = engine.run_epoch
engine.run_epoch = lambda *args: (epochs.append(args), run_epoch(*args))[1]
for make in (
    lambda **kw: skae.Autoencoder(batch_size=64, max_iter=4, random_state=0, **kw),
    lambda **kw: skae.ConvolutionalAutoencoder(
        image_shape=(8, 8), filters=(4,), batch_size=64, max_iter=2, random_state=0, **kw
    ),
    lambda **kw: skae.VariationalAutoencoder(batch_size=64, max_iter=3, random_state=0, **kw),
):
    one, four = make().fit(X), make(devices="auto").fit(X)
    for a, b in zip(jax.tree.leaves(one.params_), jax.tree.leaves(four.params_)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(one.loss_curve_, four.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(one.score_samples(X), four.score_samples(X), rtol=1e-4)
    weights = jax.tree.leaves(four._device["state"].params)[0]
    assert len(weights.sharding.device_set) == 4 and weights.sharding.is_fully_replicated

# Data parallel, not the same work four times: each device gets a quarter of
# a batch (16 of 64 rows) and the gradients are summed across devices.
sharded_epoch = next(args for args in epochs if args[0].mesh is not None)
program = run_epoch.lower(*sharded_epoch).compile().as_text()
assert "all-reduce" in program and "f32[16,64]" in program, program[:2000]

# Device ids keep the estimator clonable and picklable; a batch of 30 rows on
# two devices is rounded up to 15 rows each.
two = skae.Autoencoder(batch_size=30, max_iter=2, devices=[2, 3], random_state=0).fit(X)
assert clone(two).devices == [2, 3]
assert pickle.loads(pickle.dumps(two)).transform(X[:3]).shape == (3, 8)
assert {d.id for d in jax.tree.leaves(two._device["state"].params)[0].sharding.device_set} == {2, 3}
print("ok")
"""


@pytest.mark.slow  # a fresh JAX with four CPU devices, twelve fits
def test_four_devices_train_the_single_device_model():
    result = subprocess.run(
        [sys.executable, "-c", FOUR_DEVICES], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["ok"]
