"""The training engine: compilation, batching, divergence and interruption."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import skae._base
from skae import Autoencoder, _engine
from skae._models.dense import DenseAutoencoder
from skae._objectives import Reconstruction
from skae._optimizers import OptimizerSpec


def test_bucket_rounds_up_by_at_most_an_eighth():
    for n in range(1, 5000):
        assert n <= _engine.bucket(n) <= 1.125 * n
    assert {_engine.bucket(n) for n in range(1409, 1537)} == {1536}


@pytest.fixture
def compilations():
    """A list that grows by one for every XLA compilation while the test runs:
    the compiled function's name (``jit(name)``; None on jax too old to give it)."""
    events = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(kwargs.get("fun_name"))

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield events
    # Public since jax 0.8.1; on older jax the listener stays, appending to a list
    # that nobody reads.
    if hasattr(jax.monitoring, "unregister_event_duration_listener"):
        jax.monitoring.unregister_event_duration_listener(listener)


def test_clones_and_folds_do_not_compile_again(digits, compilations):
    X = digits[0]
    Autoencoder(n_components=5, max_iter=2, random_state=0).fit(X[:1000]).transform(X[:10])
    epochs, encodes = _engine.run_epoch._cache_size(), _engine.encode._cache_size()
    compilations.clear()
    model = Autoencoder(n_components=5, max_iter=2, learning_rate_init=0.01, random_state=1)
    # A clone, another seed, another learning rate, folds a few samples apart.
    for n in (960, 985, 999):
        clone(model).fit(X[:n]).transform(X[:n])
    assert _engine.run_epoch._cache_size() == epochs
    assert _engine.encode._cache_size() == encodes
    if jax.default_backend() == "cpu":
        assert compilations == []  # nothing at all, not even a helper program
    # Another architecture compiles once more.
    Autoencoder(n_components=6, max_iter=2).fit(X[:1000])
    assert _engine.run_epoch._cache_size() == epochs + 1


def test_small_epochs_compile_for_speed_of_compilation(digits, monkeypatch):
    # A small model on the digits is compile-bound: its epoch program is the
    # one compiled with SMALL_TRAINING; past SMALL_EPOCH_WORK, with XLA's defaults.
    X = digits[0]
    calls = []

    def recorded(name):
        program = getattr(_engine.run_epoch, name)
        return lambda *args: (calls.append(name), program(*args))[1]

    for name in ("_small", "_large"):
        monkeypatch.setattr(_engine.run_epoch, name, recorded(name))
    Autoencoder(n_components=5, max_iter=1, random_state=0).fit(X)
    assert calls == ["_small"]
    monkeypatch.setattr(_engine, "SMALL_EPOCH_WORK", 64 * len(X))  # under one weight per value
    Autoencoder(n_components=5, max_iter=1, random_state=0).fit(X)
    assert calls == ["_small", "_large"]


def test_epoch_keys_fold_the_epoch_number_into_each_key():
    # Drawn 32 epochs at a time, a fit's epoch e key is fold_in(key, e), and an
    # ensemble's is each member's, stacked: the keys its own fit would use.
    from skae._training import KEYS_AT_ONCE, _epoch_keys

    keys = (jax.random.key(3), jax.random.key(7))
    for first in (0, KEYS_AT_ONCE, 5 * KEYS_AT_ONCE):
        alone = _epoch_keys(keys[0], first)
        stacked = _epoch_keys(keys, first)
        assert len(alone) == len(stacked) == KEYS_AT_ONCE
        for offset in (0, 1, KEYS_AT_ONCE - 1):
            expected = [jax.random.fold_in(key, first + offset) for key in keys]
            data = jax.random.key_data
            np.testing.assert_array_equal(data(alone[offset]), data(expected[0]))
            np.testing.assert_array_equal(data(stacked[offset]), data(jnp.stack(expected)))


@pytest.mark.parametrize(
    "args, options",
    [
        ((37, (64,), 32, "relu"), {}),
        ((13, (6, 4), 3, "tanh"), {}),
        ((10, (8,), 2, "relu"), {"variational": True, "gaussian_scale": True}),
        ((12, (16,), 4, "relu"), {"n_outputs": 5}),
    ],
)
def test_dense_models_start_from_flaxs_weights_bit_for_bit(args, options, monkeypatch):
    # skae._variables draws a dense model's weights without compiling Flax's
    # initialisation for its architecture; they must be the very same numbers.
    from functools import partial

    from skae import _variables

    builder = partial(DenseAutoencoder, *args, **options)
    flax_initialize = _variables._initialize

    def refused(*args):
        raise AssertionError("Flax's initialisation program was used")

    monkeypatch.setattr(_variables, "_initialize", refused)
    _, params, _ = _variables.build_model(builder, 5)
    flax_params, _ = flax_initialize(_variables._hashable(builder), jnp.int32(5))
    ours, theirs = nnx.to_pure_dict(params), nnx.to_pure_dict(flax_params)
    assert jax.tree.structure(ours) == jax.tree.structure(theirs)
    for mine, flax_value in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(flax_value))


def test_a_new_number_of_features_compiles_no_initialisation(digits, compilations):
    from skae import _variables

    X = digits[0]
    Autoencoder(n_components=5, max_iter=1, random_state=0).fit(X[:, :30])
    initializations = _variables._initialize._cache_size()
    draws = _variables._truncated_normal_draws._cache_size()
    compilations.clear()
    Autoencoder(n_components=5, max_iter=1, random_state=0).fit(X[:, :31])
    assert _variables._initialize._cache_size() == initializations
    assert _variables._truncated_normal_draws._cache_size() == draws  # same lengths
    if None not in compilations:
        # Nor anything else but the architecture's own optimizer state and epoch:
        # no copy program per new shape (jnp.asarray of a host array compiles one).
        assert set(compilations) <= {"jit(_epoch)", "jit(_init_state)"}


def test_epoch_visits_every_sample_once():
    """With a zero learning rate the epoch loss is the mean loss over all samples."""
    X = np.random.RandomState(0).uniform(size=(23, 4)).astype(np.float32)
    model = DenseAutoencoder(4, (6,), 2, "tanh", rngs=nnx.Rngs(0))
    graphdef, params = nnx.split(model, nnx.Param)
    objective = Reconstruction("mse", "identity")
    spec = OptimizerSpec("sgd")
    rows, n_batches = _engine.epoch_layout(len(X), batch_size=5)
    assert rows * n_batches >= 25  # the last partial batch of 3 is included
    config = _engine.EpochConfig(graphdef, objective, spec, rows, n_batches)
    hyper = {"learning_rate": jnp.float32(0.0), "alpha": jnp.float32(0.0)}
    state = _engine.init_state(params, spec, 0.0)
    padded = skae._base._pad_rows(X, rows * n_batches)
    _, metrics = _engine.run_epoch(
        config, state, (padded, padded), jnp.int32(len(X)), jax.random.key(0), hyper
    )
    variables = (params, state.model_state)
    expected = _engine.sample_losses(graphdef, objective, variables, (X, X), None, hyper).mean()
    assert float(metrics.loss) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("n_rows", [40, 5000])  # packed integer keys; float keys
def test_shuffle_puts_real_rows_first_in_a_uniform_order(n_rows):
    n_real = n_rows - 7
    is_real = jnp.arange(n_rows) < n_real
    shuffle = jax.jit(lambda key: _engine._shuffled_places(key, is_real, None))
    orders = np.stack([shuffle(jax.random.key(seed)) for seed in range(400)])
    assert (np.sort(orders[:, :n_real], axis=1) == np.arange(n_real)).all()
    assert (np.sort(orders[:, n_real:], axis=1) == np.arange(n_real, n_rows)).all()
    # Each row is first about equally often, and rows keep no trace of their order.
    first_counts = np.bincount(orders[:, 0], minlength=n_real)
    assert first_counts.max() <= 3 * 400 / n_real + 5
    positions = np.argsort(orders[:, :n_real], axis=1)
    assert abs(np.corrcoef(positions[:, 0], positions[:, 1])[0, 1]) < 0.2
    assert abs(positions[:, :2].mean() / (n_real - 1) - 0.5) < 0.06


def test_shuffle_of_blocks_orders_rows_as_one_block():
    # Rows laid out in blocks (one per process) come in the order of the same
    # rows laid out as one block: the order depends on rows' numbers, not places.
    key = jax.random.key(3)
    blocks = jnp.array([5, 3])  # two blocks of 8 places, with 5 and 3 real rows
    is_real, row_numbers, _ = _engine._real_rows(16, blocks)
    order = _engine._shuffled_places(key, is_real, row_numbers)
    one_block = _engine._shuffled_places(key, jnp.arange(16) < 8, None)
    assert np.array_equal(np.asarray(row_numbers)[np.asarray(order)[:8]], one_block[:8])


def test_divergence_raises_and_keeps_the_weights_before_it(small_X):
    # One batch per epoch: a gentle first epoch, then a learning rate of 1e6.
    schedule = optax.piecewise_constant_schedule(1e-3, {1: 1e9})
    ae = Autoencoder(optimizer=optax.sgd(schedule), max_iter=50, random_state=0)
    with pytest.raises(FloatingPointError, match="diverged at epoch 2.*learning_rate_init"):
        ae.fit(small_X * 1e3)
    # The first epoch was fine: the model keeps its weights, exactly those of
    # the same model trained for that one epoch.
    assert ae.n_iter_ == 1
    one_epoch = clone(ae).set_params(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one_epoch.fit(small_X * 1e3)
    for kept, first in zip(jax.tree.leaves(ae.params_), jax.tree.leaves(one_epoch.params_)):
        np.testing.assert_array_equal(kept, first)
    assert np.isfinite(ae.transform(small_X)).all()


def test_weights_that_explode_but_stay_finite_count_as_divergence():
    # SGD at learning rate 100 on standardised data: the first epoch's loss
    # stays finite (about 1e4 to 1e9) while the weights reach 1e7 to 1e11.
    # Kept, such weights made every later score overflow float32.
    X = np.random.RandomState(0).normal(size=(300, 6)).astype(np.float32)
    ae = Autoencoder(2, hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    ae.set_params(optimizer="sgd", learning_rate_init=100.0)
    with pytest.raises(FloatingPointError, match="diverged at epoch 1.*weights exploded"):
        ae.fit(X)
    assert ae.n_iter_ == 0  # its initial weights, as for any first epoch that diverges
    assert float(_engine.weights_norm(ae.params_)) < 10
    assert np.isfinite(ae.score_samples(X)).all()
    # A step size that trains does not trip the rule.
    gentle = clone(ae).set_params(learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gentle.fit(X)
    assert gentle.n_iter_ == 5


def test_inference_in_chunks_matches_row_by_row(small_X, monkeypatch):
    ae = Autoencoder(max_iter=2, random_state=0).fit(small_X)
    monkeypatch.setattr(skae._base, "INFERENCE_MAX_ROWS", {jax.default_backend(): 16})
    monkeypatch.setattr(skae._base, "INFERENCE_MAX_ROWS_ACCELERATOR", 16)
    whole = ae.transform(small_X)
    pieces = np.concatenate([ae.transform(small_X[i : i + 7]) for i in range(0, 60, 7)])
    np.testing.assert_array_equal(whole, pieces)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ae.score_samples(small_X).shape == (60,)
