"""Fitted state, the epoch loop and custom modules keep the promises they make.

Each test here failed on the code before the reliability fixes: divergence
through the gradient, a model rebuilt from changed parameters, a failed fit
that looked fitted, best weights with another epoch's optimizer state, Optax
optimizers that could not be pickled, Flax state other than parameters.
"""

import functools
import pickle
import subprocess
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import skae
from skae import _engine, _variables
from skae._losses import l2_penalty


def leaves(tree):
    return [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]


def assert_same_tree(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(leaves(a), leaves(b)):
        np.testing.assert_array_equal(x, y)


@pytest.fixture
def epochs(monkeypatch):
    """Record the state and loss each epoch returns; ``epochs.loss_for`` can overwrite
    an epoch's reported loss and ``epochs.fail_at`` turns an epoch into a divergence,
    a Ctrl-C or one with worse weights."""
    real_run_epoch = _engine.run_epoch

    class Recorder:
        states, losses = [], []
        loss_for: dict = {}
        fail_at: dict = {}

        def __call__(self, config, state, data, n_samples, key, hyper):
            epoch = len(self.states) + 1
            if self.fail_at.get(epoch) == "interrupt":
                raise KeyboardInterrupt
            new_state, metrics = real_run_epoch(config, state, data, n_samples, key, hyper)
            if self.fail_at.get(epoch) == "diverge":
                return new_state, metrics._replace(finite=jnp.asarray(False))
            if self.fail_at.get(epoch) == "perturb":  # finite, but worse weights
                params = jax.tree.map(lambda p: 1.5 * p, new_state.params)
                new_state = new_state._replace(params=params)
            loss = self.loss_for.get(epoch, float(metrics.loss))
            self.states.append(new_state)
            self.losses.append(loss)
            return new_state, metrics._replace(loss=jnp.asarray(loss))

    recorder = Recorder()
    recorder.states, recorder.losses = [], []
    recorder.loss_for, recorder.fail_at = {}, {}
    monkeypatch.setattr(_engine, "run_epoch", recorder)
    return recorder


# ------------------------------------------------------------- 1. divergence
class NaNGradientEncoder(nnx.Module):
    """Finite codes, NaN gradient: d/dt sqrt(t - t) = inf * 0."""

    def __init__(self, n_features, n_components, *, rngs):
        self.linear = nnx.Linear(n_features, n_components, rngs=rngs)
        self.trap = nnx.Param(jnp.ones(()))

    def __call__(self, x):
        return self.linear(x) + jnp.sqrt(self.trap[...] - self.trap[...])


def test_nan_gradient_with_finite_loss_stops_training(small_X):
    model = skae.Autoencoder(
        encoder=functools.partial(NaNGradientEncoder, 5, 2),
        decoder=functools.partial(nnx.Linear, 2, 5),
        max_iter=5,
        random_state=0,
    )
    with pytest.raises(FloatingPointError, match="diverged at epoch 1"):
        model.fit(small_X)
    # One consistent set of weights: the initial ones, not a mix.
    _, initial, _ = _variables.build_model(model._model_builder_, model._seed)
    assert_same_tree(model.params_, _variables.to_host(initial))
    assert model.n_iter_ == 0
    assert np.isfinite(model.transform(small_X)).all()


def test_engine_reports_a_nan_gradient_with_a_finite_loss(small_X):
    graphs, params, model_state = _variables.build_model(
        functools.partial(
            skae._models.dense.ComposedAutoencoder,
            encoder=functools.partial(NaNGradientEncoder, 5, 2),
            decoder=functools.partial(nnx.Linear, 2, 5),
        ),
        0,
    )
    spec = skae._optimizers.OptimizerSpec("adam")
    state = _engine.init_state(params, spec, 1e-3, model_state)
    config = _engine.EpochConfig(
        graphs.train, skae._objectives.Reconstruction("mse", "identity"), spec, 20, 3
    )
    data = (skae._base._pad_rows(small_X, 60), None)
    hyper = {"learning_rate": jnp.float32(1e-3), "alpha": jnp.float32(1e-4)}
    _, metrics = _engine.run_epoch(config, state, data, jnp.int32(60), jax.random.key(0), hyper)
    # The first step's loss is finite; its NaN gradient is caught all the same.
    assert not bool(metrics.finite)


def test_divergence_keeps_the_best_epoch_with_its_optimizer_state(small_X, epochs):
    epochs.loss_for = {3: 10.0}  # epoch 3 is worse than epoch 2
    epochs.fail_at = {4: "diverge"}
    model = skae.Autoencoder(max_iter=10, random_state=0)
    with pytest.raises(FloatingPointError, match="diverged at epoch 4.*best epoch"):
        model.fit(small_X)
    assert model.n_iter_ == 3
    best = epochs.states[1]
    assert_same_tree(model.params_, _variables.to_host(best.params))
    assert_same_tree(model._device["state"].opt_state, best.opt_state)
    assert np.isfinite(model.transform(small_X)).all()


def test_ctrl_c_keeps_the_best_epoch(small_X, epochs):
    epochs.loss_for = {3: 10.0}
    epochs.fail_at = {4: "interrupt"}
    model = skae.Autoencoder(max_iter=10, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 3 epochs"):
        model.fit(small_X)
    assert_same_tree(model.params_, _variables.to_host(epochs.states[1].params))


# ------------------------------------------------- 4. best weights, their state
def test_fit_keeps_the_best_training_epoch_and_partial_fit_resumes_from_it(small_X, epochs):
    epochs.loss_for = {4: 10.0, 5: 10.0}
    model = skae.Autoencoder(max_iter=5, random_state=0).fit(small_X)
    best = epochs.states[2]
    assert model.best_loss_ == epochs.losses[2]
    assert_same_tree(model.params_, _variables.to_host(best.params))
    adam_steps = int(best.opt_state.inner_state[0].count)
    model.partial_fit(small_X)
    assert int(model._device["state"].opt_state.inner_state[0].count) == adam_steps + 1


def test_early_stopping_keeps_the_best_validation_epoch_state(digits, epochs):
    epochs.fail_at = {5: "perturb", 6: "perturb", 7: "perturb", 8: "perturb"}
    model = skae.Autoencoder(
        early_stopping=True, n_iter_no_change=2, max_iter=50, random_state=0
    ).fit(digits[0])
    assert model.n_iter_ == 7  # three epochs without improvement after the 4th
    assert int(np.argmax(model.validation_scores_)) == 3
    assert_same_tree(model._device["state"], epochs.states[3])


# ------------------------------------------------------ 2. what was fitted
def test_set_params_after_fit_changes_neither_transform_nor_pickle(digits):
    X_train, X_test = digits[0], digits[1]
    model = skae.Autoencoder(max_iter=3, random_state=0).fit(X_train)
    codes = model.transform(X_test)
    model.set_params(activation="tanh", n_components=3, hidden_layer_sizes=(7,))
    np.testing.assert_array_equal(model.transform(X_test), codes)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).transform(X_test), codes)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"activation": "tanh"}, "activation: 'relu' -> 'tanh'"),
        ({"n_components": 3}, "n_components: 8 -> 3"),
        ({"hidden_layer_sizes": (7,)}, r"hidden_layer_sizes: \(128,\) -> \(7,\)"),
        ({"loss": "mse"}, "trained with loss='bce'"),
        ({"output_activation": "identity"}, "output_activation='sigmoid'"),
    ],
)
@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_continuing_with_another_model_is_a_clear_error(digits, change, message, method):
    X_train = digits[0]
    model = skae.Autoencoder(max_iter=2, random_state=0).fit(X_train)
    params_before = model.params_
    model.set_params(**change)
    with pytest.raises(ValueError, match=message):
        if method == "warm_start":
            model.set_params(warm_start=True).fit(X_train)
        else:
            model.partial_fit(X_train)
    assert model.params_ is params_before


@pytest.mark.parametrize("optimizer", ["sgd", "adamw", "lion"])
def test_partial_fit_after_changing_the_optimizer_starts_it_afresh(digits, optimizer):
    X_train = digits[0]
    model = skae.Autoencoder(max_iter=2, random_state=0).fit(X_train)
    model.set_params(optimizer=optimizer).partial_fit(X_train)
    expected = jax.eval_shape(
        lambda p: model._optimizer_spec().init(p, jnp.float32(0)), model._device["state"].params
    )
    assert jax.tree.structure(model._device["state"].opt_state) == jax.tree.structure(expected)
    assert model.n_iter_ == 3
    assert np.isfinite(model.transform(X_train)).all()


def test_warm_start_runs_the_checks_of_a_fresh_fit(digits):
    X_train = digits[0]
    model = skae.Autoencoder(loss="bce", max_iter=2, warm_start=True, random_state=0)
    model.fit(X_train)
    with pytest.raises(ValueError, match=r"loss='bce' needs X in \[0, 1\]"):
        model.fit(X_train * 2)
    assert model.n_iter_ == 2  # refused before training: the model is as it was
    denoiser = skae.DenoisingAutoencoder(max_iter=2, warm_start=True, random_state=0)
    denoiser.fit(X_train)
    with pytest.raises(InvalidParameterError, match="noise_level"):
        denoiser.set_params(noise="masking", noise_level=1.5).fit(X_train)


# ------------------------------------------------------ 3. a failed fit
def test_failed_fit_leaves_an_unfitted_estimator_unfitted(small_X):
    model = skae.Autoencoder(max_iter=2)
    before = dict(vars(model))
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.where(small_X > 1, np.nan, small_X))
    assert vars(model) == before
    with pytest.raises(NotFittedError):
        model.transform(small_X)


@pytest.mark.parametrize(
    "bad_fit",
    [
        lambda model, X: model.fit(np.full((10, 7), np.nan)),  # bad data, another width
        lambda model, X: model.set_params(hidden_layer_sizes=(0,)).fit(X),  # bad parameter
        lambda model, X: model.set_params(batch_size=0).partial_fit(X),
        lambda model, X: model.set_params(early_stopping=True).fit(X[:1]),  # too few rows
    ],
    ids=["data", "parameter", "partial_fit", "too-few-rows"],
)
def test_failed_fit_leaves_a_fitted_estimator_as_it_was(small_X, bad_fit):
    model = skae.Autoencoder(max_iter=2, random_state=0).fit(small_X)

    def fitted_state():
        return {k: v for k, v in vars(model).items() if k.endswith("_") or k.startswith("_")}

    codes, state = model.transform(small_X), fitted_state()
    with pytest.raises(ValueError):
        bad_fit(model, small_X)
    assert fitted_state() == state
    np.testing.assert_array_equal(model.transform(small_X), codes)


def test_failed_convolutional_fit_keeps_the_image_shape(digits):
    images = digits[0].reshape(-1, 8, 8)
    model = skae.ConvolutionalAutoencoder(2, filters=(4,), max_iter=1, random_state=0)
    model.fit(images)
    with pytest.raises(ValueError, match="needs rows of 49"):
        model.set_params(image_shape=(7, 7)).fit(digits[0])
    assert model.image_shape_ == (8, 8, 1)


# ------------------------------------------------------ 5. pickling optimizers
def test_pickle_with_an_optax_chain_and_a_schedule(small_X):
    schedule = optax.exponential_decay(1e-2, transition_steps=5, decay_rate=0.5)
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))
    model = skae.Autoencoder(optimizer=optimizer, max_iter=3, random_state=0).fit(small_X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(small_X), model.transform(small_X))
    # Training continues identically: the schedule's step count came along.
    restored.partial_fit(small_X)
    model.partial_fit(small_X)
    np.testing.assert_array_equal(restored.transform(small_X), model.transform(small_X))


# ------------------------------------------------------- 6. VAE output activation
def test_vae_gaussian_likelihood_trains_the_model_it_decodes():
    X = 0.9 + 0.02 * np.random.RandomState(0).normal(size=(400, 4))
    vae = skae.VariationalAutoencoder(
        2,
        hidden_layer_sizes=(16,),
        loss="mse",
        output_activation="sigmoid",
        beta=0.1,
        learning_rate_init=1e-2,
        max_iter=60,
        random_state=0,
    ).fit(X)
    reconstruction = vae.inverse_transform(vae.transform(X))
    # Trained on raw outputs but decoded through a sigmoid, it returned ~0.71.
    assert np.mean((reconstruction - X) ** 2) < 0.005


# -------------------------------------------------- 7. dropout and batch norm
class RegularisedEncoder(nnx.Module):
    def __init__(self, n_features, n_components, *, rngs):
        self.hidden = nnx.Linear(n_features, 32, rngs=rngs)
        self.norm = nnx.BatchNorm(32, rngs=rngs)
        self.dropout = nnx.Dropout(0.5, rngs=rngs)
        self.code = nnx.Linear(32, n_components, rngs=rngs)

    def __call__(self, x):
        return self.code(self.dropout(nnx.relu(self.norm(self.hidden(x)))))


@pytest.fixture(scope="module")
def regularised(digits):
    model = skae.Autoencoder(
        encoder=functools.partial(RegularisedEncoder, 64, 8),
        decoder=functools.partial(nnx.Linear, 8, 64),
        loss="mse",
        alpha=0.0,
        max_iter=20,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(digits[0])


def test_dropout_and_batch_norm_train_in_training_mode(regularised, digits):
    X_train = digits[0]
    # Dropout is on in training: the training loss is well above the loss
    # of the same weights in evaluation mode.
    assert regularised.loss_curve_[-1] > 1.1 * -regularised.score(X_train)
    # Batch statistics were updated towards the hidden layer's mean.
    hidden = X_train @ regularised.params_["encoder"]["hidden"]["kernel"]
    hidden += regularised.params_["encoder"]["hidden"]["bias"]
    running_mean = regularised.model_state_["encoder"]["norm"]["mean"]
    assert np.corrcoef(running_mean, hidden.mean(axis=0))[0, 1] > 0.95


def test_dropout_and_batch_norm_infer_in_evaluation_mode(regularised, digits):
    X_test = digits[1]
    codes = regularised.transform(X_test)
    np.testing.assert_array_equal(regularised.transform(X_test), codes)  # no dropout
    # Running statistics, not the batch's: a row's code does not depend on the others.
    np.testing.assert_allclose(regularised.transform(X_test[:3]), codes[:3], rtol=1e-5, atol=1e-6)
    restored = pickle.loads(pickle.dumps(regularised))
    np.testing.assert_array_equal(restored.transform(X_test), codes)
    np.testing.assert_array_equal(restored.score_samples(X_test), regularised.score_samples(X_test))


def test_dropout_follows_random_state(digits):
    encoder = RegularisedEncoder(64, 4, rngs=nnx.Rngs(0))  # an instance: same initial weights

    def fit(seed):
        model = skae.Autoencoder(
            encoder=encoder,
            decoder=nnx.Linear(4, 64, rngs=nnx.Rngs(1)),
            max_iter=2,
            random_state=seed,
        )
        return model.fit(digits[0]).transform(digits[1])

    np.testing.assert_array_equal(fit(0), fit(0))
    assert not np.array_equal(fit(0), fit(1))


# ------------------------------------------------- 8. sparse custom encoders
def test_kl_sparsity_applies_the_sigmoid_code_to_a_custom_encoder(digits):
    from tests.test_variants import UserDecoder, UserEncoder

    model = skae.SparseAutoencoder(
        sparsity="kl",
        sparsity_weight=0.1,
        encoder=functools.partial(UserEncoder, 64, 32),
        decoder=functools.partial(UserDecoder, 32, 64),
        max_iter=60,
        random_state=0,
    ).fit(digits[0])
    codes = model.transform(digits[1])
    assert codes.min() > 0 and codes.max() < 1
    assert codes.mean() == pytest.approx(0.05, rel=0.5)


# ------------------------------------------------------ 9. L2 on every weight
class NamedWeights(nnx.Module):
    def __init__(self, n_in, n_out, *, rngs):
        self.w = nnx.Param(jax.random.normal(rngs.params(), (n_in, n_out)))
        self.offset = nnx.Param(jnp.zeros((n_out,)))

    def __call__(self, x):
        return x @ self.w[...] + self.offset[...]


def test_alpha_penalises_every_weight_matrix_whatever_its_name(small_X):
    assert (
        float(l2_penalty({"w": jnp.ones((2, 3)), "b": jnp.ones(3), "k": jnp.ones((1, 1, 2, 2))}))
        == 10
    )

    def weight_norm(alpha):
        model = skae.Autoencoder(
            encoder=functools.partial(NamedWeights, 5, 2),
            decoder=functools.partial(NamedWeights, 2, 5),
            alpha=alpha,
            learning_rate_init=0.05,
            max_iter=100,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(small_X)
        return np.linalg.norm(model.params_["encoder"]["w"])

    assert weight_norm(alpha=10.0) < 0.8 * weight_norm(alpha=0.0)


# --------------------------------------------------- 10. memory and import
def test_inference_chunks_are_sized_by_bytes():
    from skae._base import ACTIVATION_FACTOR, INFERENCE_BYTES, inference_rows

    narrow, wide = inference_rows(64), inference_rows(224 * 224 * 3)
    assert wide < narrow
    for width, rows in [(64, narrow), (224 * 224 * 3, wide)]:
        assert rows & (rows - 1) == 0  # a power of two: few programs
        assert rows * width * 4 * ACTIVATION_FACTOR <= INFERENCE_BYTES.get("cpu") or rows == 1


def test_import_does_not_start_jax_backends():
    code = (
        "import skae\n"
        "from jax._src import xla_bridge\n"
        "assert not xla_bridge.backends_are_initialized()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------- 11. parameters
@pytest.mark.parametrize(
    "estimator, params",
    [
        (skae.ConvolutionalAutoencoder, {"filters": ()}),
        (skae.ConvolutionalAutoencoder, {"image_shape": (8,)}),
        (skae.Autoencoder, {"hidden_layer_sizes": (8, 0)}),
        (skae.DenoisingAutoencoder, {"noise": "salt_and_pepper", "noise_level": 1.5}),
    ],
)
def test_bad_shapes_and_levels_are_invalid_parameters(estimator, params, digits):
    name = list(params)[-1]
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        estimator(**params).fit(digits[0])


def test_batch_size_larger_than_the_data_warns(small_X):
    with pytest.warns(UserWarning, match="batch_size=100 larger than the 60 training samples"):
        skae.Autoencoder(batch_size=100, max_iter=1).fit(small_X)


# ---------------------------------------------------------- 12. image shapes
def test_convolutional_fallback_shape_warns_and_channels_first_is_refused():
    X = np.random.RandomState(0).uniform(size=(20, 30))
    with pytest.warns(UserWarning, match=r"one-row image of shape \(1, 30, 1\)"):
        model = skae.ConvolutionalAutoencoder(2, filters=(4,), max_iter=1).fit(X)
    assert model.image_shape_ == (1, 30, 1)
    with pytest.raises(ValueError, match="channels-first.*np.moveaxis"):
        skae.ConvolutionalAutoencoder(max_iter=1).fit(np.zeros((5, 3, 8, 8)))


def test_nan_at_transform_gives_the_imputer_hint(small_X):
    model = skae.Autoencoder(max_iter=1).fit(small_X)
    with pytest.raises(ValueError, match="NaN.*SimpleImputer"):
        model.transform(np.where(small_X > 1, np.nan, small_X))


# ------------------------------------------------------- convergence warning
def test_convergence_warning_only_when_max_iter_stops_fit(small_X):
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        skae.Autoencoder(max_iter=3, tol=0.0).fit(small_X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        skae.Autoencoder(max_iter=50, tol=10.0, n_iter_no_change=2).fit(small_X)
        skae.Autoencoder().partial_fit(small_X)


# ------------------------------------------------ partial_fit, fit, warm start
def test_partial_fit_then_fit_starts_anew_and_fit_then_partial_fit_continues(small_X):
    model = skae.Autoencoder(max_iter=3, random_state=0)
    model.partial_fit(small_X).partial_fit(small_X)
    fresh = skae.Autoencoder(max_iter=3, random_state=0).fit(small_X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(small_X)  # warm_start=False: a new model, as a fresh estimator's
    np.testing.assert_array_equal(model.transform(small_X), fresh.transform(small_X))
    assert model.n_iter_ == 3
    fresh.partial_fit(small_X)
    assert fresh.n_iter_ == 4 and len(fresh.loss_curve_) == 4


def test_warm_start_with_early_stopping_continues_and_extends_the_scores(digits):
    X_train = digits[0]
    model = skae.Autoencoder(early_stopping=True, warm_start=True, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
        first = list(model.validation_scores_)
        model.fit(X_train)
    assert model.validation_scores_[:3] == first
    assert len(model.validation_scores_) == 6
    assert model.validation_scores_[3] > first[0]  # continued, not restarted
    assert model.best_validation_score_ == max(model.validation_scores_)


class NormalisingEncoder(nnx.Module):
    """BatchNorm straight on the inputs, remembering only the last batch (momentum 0)."""

    def __init__(self, n_features, n_components, *, rngs):
        self.norm = nnx.BatchNorm(n_features, momentum=0.0, rngs=rngs)
        self.code = nnx.Linear(n_features, n_components, rngs=rngs)

    def __call__(self, x):
        return self.code(self.norm(x))


def test_batch_statistics_never_see_padding_rows():
    # 250 rows in batches of 200: the epoch's last batch has 50 real rows and
    # 150 places of padding; its statistics must be those of real rows.
    X = 5.0 + np.random.RandomState(0).normal(size=(250, 3))
    model = skae.Autoencoder(
        encoder=functools.partial(NormalisingEncoder, 3, 2),
        decoder=functools.partial(nnx.Linear, 2, 3),
        batch_size=200,
        max_iter=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    np.testing.assert_allclose(model.model_state_["encoder"]["norm"]["mean"], 5.0, atol=0.5)
