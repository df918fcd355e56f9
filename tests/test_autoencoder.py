"""What a scikit-learn user does with Autoencoder, and that it works."""

import pickle
import warnings

import jax
import numpy as np
import optax
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder
from skae._base import validation_split
from skae._optimizers import FLAT_UPDATE_MAX_WEIGHTS, OPTIMIZERS
from skae._variables import build_model, to_host


def reconstruction_mse(model, X):
    return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))


def test_beats_pca_on_digits(digits):
    X_train, X_test, _, _ = digits
    pca = PCA(n_components=8).fit(X_train)
    ae = Autoencoder(n_components=8, random_state=0).fit(X_train)
    assert reconstruction_mse(ae, X_test) < reconstruction_mse(pca, X_test)


def test_pipeline_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(
        MinMaxScaler(),
        Autoencoder(max_iter=15, random_state=0),
        LogisticRegression(max_iter=500),
    )
    search = GridSearchCV(pipe, {"autoencoder__n_components": [2, 8, 16, 32]}, cv=3)
    search.fit(X_train, y_train)
    assert search.best_params_["autoencoder__n_components"] in (8, 16, 32)
    assert search.score(X_test, y_test) > 0.8


def test_codes_like_pca(digits):
    X_train = digits[0]
    codes = Autoencoder(n_components=2, max_iter=5, random_state=0).fit_transform(X_train)
    assert codes.shape == (len(X_train), 2)
    assert codes.dtype == np.float64


def test_outlier_scores_rank_noise_below_digits(digits):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(max_iter=30, random_state=0).fit(X_train)
    noise = np.random.RandomState(0).uniform(size=X_test.shape)
    errors_test = -ae.score_samples(X_test)
    errors_noise = -ae.score_samples(noise)
    assert np.median(errors_noise) > np.percentile(errors_test, 95)
    assert ae.score(X_test) == pytest.approx(np.mean(ae.score_samples(X_test)))


def test_loss_auto_and_outputs(digits, small_X):
    X_train = digits[0]
    ae = Autoencoder(max_iter=2, random_state=0).fit(X_train)
    assert (ae.reconstruction_loss_, ae.out_activation_) == ("bce", "sigmoid")
    reconstruction = ae.inverse_transform(ae.transform(X_train))
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1
    ae = Autoencoder(max_iter=2, random_state=0).fit(small_X)
    assert (ae.reconstruction_loss_, ae.out_activation_) == ("mse", "identity")


def test_pickle_round_trip_gives_identical_transform(digits):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(max_iter=3, random_state=0).fit(X_train)
    restored = pickle.loads(pickle.dumps(ae))
    assert "_device" not in restored.__dict__
    np.testing.assert_array_equal(restored.transform(X_test), ae.transform(X_test))
    np.testing.assert_array_equal(restored.score_samples(X_test), ae.score_samples(X_test))
    # Fitted weights are host NumPy arrays.
    leaves = [leaf for layer in ae.params_["encoder"]["layers"].values() for leaf in layer.values()]
    assert all(type(leaf) is np.ndarray for leaf in leaves)


def test_pickled_model_keeps_training(digits):
    X_train = digits[0]
    ae = Autoencoder(max_iter=3, random_state=0).fit(X_train)
    restored = pickle.loads(pickle.dumps(ae))
    restored.partial_fit(X_train)
    ae.partial_fit(X_train)
    np.testing.assert_allclose(restored.loss_curve_, ae.loss_curve_, rtol=1e-6)


def test_same_seed_same_weights(digits):
    X_train = digits[0]
    first = Autoencoder(max_iter=3, random_state=0).fit(X_train)
    second = clone(first).fit(X_train)
    other = Autoencoder(max_iter=3, random_state=1).fit(X_train)
    kernel = ("encoder", "layers", 0, "kernel")

    def get(model):
        node = model.params_
        for key in kernel:
            node = node[key]
        return node

    np.testing.assert_array_equal(get(first), get(second))
    assert not np.array_equal(get(first), get(other))


def test_partial_fit_lowers_the_loss(digits):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(random_state=0)
    ae.partial_fit(X_train)
    first_score = ae.score(X_test)
    for _ in range(5):
        ae.partial_fit(X_train)
    assert ae.n_iter_ == 6
    assert len(ae.loss_curve_) == 6
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert ae.score(X_test) > first_score


def test_partial_fit_on_a_stream_of_batches_carries_the_optimizer_state(digits):
    X_train = digits[0]
    ae = Autoencoder(random_state=0)
    for batch in np.array_split(X_train, 5):  # 270 rows: two minibatches each
        ae.partial_fit(batch)
    assert ae.n_iter_ == 5
    adam = ae._device["state"].opt_state.inner_state[0]
    assert int(adam.count) == 10  # Adam's step count went on across the calls


def test_warm_start_continues(digits):
    X_train = digits[0]
    ae = Autoencoder(max_iter=5, warm_start=True, random_state=0).fit(X_train)
    losses = list(ae.loss_curve_)
    ae.fit(X_train)
    assert ae.n_iter_ == 10
    assert ae.loss_curve_[:5] == losses
    # It goes on from the last weights: better than any epoch of the first fit but the last.
    assert ae.loss_curve_[5] < losses[-2]


def test_early_stopping_keeps_best_validation_weights(digits):
    X_train = digits[0]
    ae = Autoencoder(
        early_stopping=True, n_iter_no_change=3, tol=1e-3, max_iter=300, random_state=0
    ).fit(X_train)
    assert ae.n_iter_ < 300
    assert len(ae.validation_scores_) == ae.n_iter_
    assert ae.best_validation_score_ == max(ae.validation_scores_)
    assert ae.best_loss_ is None
    _, val_rows = validation_split(len(X_train), ae.validation_fraction, ae._seed)
    X_val = X_train[val_rows]
    assert ae.score(X_val) == pytest.approx(ae.best_validation_score_, rel=1e-5)


def test_stops_on_training_loss_without_early_stopping(small_X):
    ae = Autoencoder(tol=10.0, n_iter_no_change=2, max_iter=100, random_state=0).fit(small_X)
    assert ae.n_iter_ == 4  # the first epoch, then 3 > n_iter_no_change without gain
    assert ae.validation_scores_ is None
    assert ae.best_loss_ == min(ae.loss_curve_)


def test_single_hidden_layer_and_deep(small_X):
    shallow = Autoencoder(n_components=3, hidden_layer_sizes=(), max_iter=2).fit(small_X)
    assert set(shallow.params_["encoder"]["layers"]) == {0}
    deep = Autoencoder(n_components=3, hidden_layer_sizes=(16, 8), max_iter=2).fit(small_X)
    assert set(deep.params_["decoder"]["layers"]) == {0, 1, 2}
    assert deep.params_["decoder"]["layers"][2]["kernel"].shape == (16, 5)


def test_optax_transformation_as_optimizer(small_X):
    ae = Autoencoder(optimizer=optax.sgd(0.01, momentum=0.9), max_iter=5, random_state=0)
    ae.fit(small_X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert np.array_equal(clone(ae).fit(small_X).transform(small_X), ae.transform(small_X))
    # Its own learning rate is the one used: zero leaves the initial weights.
    frozen = Autoencoder(optimizer=optax.sgd(0.0), max_iter=2, random_state=0).fit(small_X)
    _, initial, _ = build_model(frozen._model_builder_, frozen._seed)
    for a, b in zip(jax.tree.leaves(frozen.params_), jax.tree.leaves(to_host(initial))):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["adamw", "sgd", "adadelta", "rmsprop", "lamb"])
def test_named_optimizers_train(small_X, optimizer):
    ae = Autoencoder(optimizer=optimizer, learning_rate_init=0.01, max_iter=10, random_state=0)
    ae.fit(small_X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    # The named optimizer is the one whose state the model carries: element-wise
    # ones over all weights as one vector, LAMB (per-layer trust ratios) layer by layer.
    state = ae._device["state"].opt_state
    expected = optax.inject_hyperparams(OPTIMIZERS[optimizer])(learning_rate=0.01)
    if optimizer != "lamb":
        expected = optax.flatten(expected)
    assert jax.tree.structure(state) == jax.tree.structure(
        expected.init(ae._device["state"].params)
    )


def test_a_large_model_is_updated_layer_by_layer():
    # Above FLAT_UPDATE_MAX_WEIGHTS, gathering the gradients into one vector
    # would cost more than it saves: the state is Optax's, layer by layer.
    X = np.random.RandomState(0).uniform(size=(20, 256)).astype(np.float32)
    ae = Autoencoder(hidden_layer_sizes=(200,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    params = ae._device["state"].params
    assert sum(leaf.size for leaf in jax.tree.leaves(params)) > FLAT_UPDATE_MAX_WEIGHTS
    expected = optax.inject_hyperparams(optax.adam)(learning_rate=0.001).init(params)
    assert jax.tree.structure(ae._device["state"].opt_state) == jax.tree.structure(expected)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_named_optimizer_updates_as_optax_does_layer_by_layer(small_X, optimizer):
    # Updating all weights as one vector is the same arithmetic as Optax's
    # transformation applied to the layers one by one.
    named = Autoencoder(optimizer=optimizer, learning_rate_init=0.01, max_iter=5, random_state=0)
    given = clone(named).set_params(optimizer=OPTIMIZERS[optimizer](0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        named.fit(small_X), given.fit(small_X)
    for a, b in zip(jax.tree.leaves(named.params_), jax.tree.leaves(given.params_)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_feature_names_and_pandas_output(digits):
    pd = pytest.importorskip("pandas")
    X_train = pd.DataFrame(digits[0], columns=[f"pixel{i}" for i in range(64)])
    ae = Autoencoder(n_components=3, max_iter=2, random_state=0).set_output(transform="pandas")
    codes = ae.fit_transform(X_train)
    assert list(codes.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert list(ae.feature_names_in_) == list(X_train.columns)
    assert list(ae.get_feature_names_out()) == list(codes.columns)


def test_float32_in_float32_out(digits):
    X32 = digits[0].astype(np.float32)
    ae = Autoencoder(max_iter=2, random_state=0).fit(X32)
    assert ae.transform(X32).dtype == np.float32
    assert ae.inverse_transform(ae.transform(X32)).dtype == np.float32
    assert ae.score_samples(X32).dtype == np.float32


def test_verbose_shows_progress_and_quiet_prints_nothing(small_X, capfd):
    Autoencoder(max_iter=3, verbose=0, random_state=0).fit(small_X)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    Autoencoder(max_iter=3, verbose=1, random_state=0).fit(small_X)
    out, err = capfd.readouterr()
    assert "Autoencoder" in err and "loss=" in err and "3/3" in err


def test_polars_output_and_input(digits):
    pl = pytest.importorskip("polars")
    X = digits[1]
    frame = pl.DataFrame(X, schema=[f"pixel{i}" for i in range(X.shape[1])])
    model = Autoencoder(n_components=3, max_iter=2, random_state=0).set_output(transform="polars")
    codes = model.fit(frame).transform(frame)
    assert isinstance(codes, pl.DataFrame)
    assert codes.columns == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert list(model.feature_names_in_[:2]) == ["pixel0", "pixel1"]
    np.testing.assert_array_equal(
        codes.to_numpy(), model.set_output(transform="default").transform(X)
    )


def test_early_stop_ends_the_bar_where_training_stopped(small_X, capfd):
    model = Autoencoder(max_iter=200, tol=10.0, n_iter_no_change=2, verbose=1, random_state=0)
    model.fit(small_X)
    _, err = capfd.readouterr()
    last = err.strip().splitlines()[-1] if "\n" in err.strip() else err.strip().split("\r")[-1]
    assert model.n_iter_ < 200
    assert f"{model.n_iter_}/{model.n_iter_}" in last and "/200" not in last
    best = int(np.argmin(model.loss_curve_)) + 1  # the epoch of best_loss_
    assert "stopped: no improvement" in last and f"best epoch {best} kept" in last


def test_partial_fit_shows_no_bar_and_verbose_2_prints_epoch_lines(small_X, capfd):
    model = Autoencoder(max_iter=3, verbose=1, random_state=0)
    for _ in range(3):
        model.partial_fit(small_X)
    out, err = capfd.readouterr()
    assert out == "" and "1/1" not in err
    Autoencoder(max_iter=3, verbose=2, random_state=0).fit(small_X)
    out, err = capfd.readouterr()
    lines = [line for line in out.splitlines() if "epoch" in line]
    assert [line.split(":")[0] for line in lines] == [f"Autoencoder epoch {i}" for i in (1, 2, 3)]
    assert "3/3" in err


def test_repr_of_an_estimator_with_module_instances_is_short():
    from flax import nnx

    rngs = nnx.Rngs(0)
    model = Autoencoder(encoder=nnx.Linear(64, 4, rngs=rngs), decoder=nnx.Linear(4, 64, rngs=rngs))
    text = repr(model)
    assert text == "Autoencoder(decoder=Linear(...), encoder=Linear(...))"
    assert isinstance(model.encoder, nnx.Linear)  # the estimator itself is unchanged
