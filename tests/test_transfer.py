"""Starting a model from another one's trained layers: init_weights, init_layers, freeze."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, train_test_split

import skae

pytestmark = pytest.mark.slow  # trains a source model and several targets

# Exactly max_iter epochs: no early stop on a flat loss.
EXACT = {"hidden_layer_sizes": (32,), "n_components": 8, "tol": 0.0, "n_iter_no_change": 1000}


@pytest.fixture(scope="module")
def source_and_target():
    """An autoencoder fitted on digits 0-4; digits 5-9 split for a new model."""
    X, y = load_digits(return_X_y=True)
    X = X / 16
    source = skae.Autoencoder(max_iter=40, random_state=0, **EXACT).fit(X[y < 5])
    X_train, X_test = train_test_split(X[y >= 5], test_size=0.3, random_state=0)
    return source, X_train, X_test


def test_trained_layers_reach_the_scratch_models_epoch_10_loss_in_5_epochs(source_and_target):
    source, X_train, X_test = source_and_target
    scratch = skae.Autoencoder(max_iter=10, random_state=1, **EXACT).fit(X_train)
    started = skae.Autoencoder(
        init_weights=FrozenEstimator(source), max_iter=5, random_state=1, **EXACT
    ).fit(X_train)
    assert scratch.n_iter_ == 10 and started.n_iter_ == 5
    assert -started.score(X_test) <= -scratch.score(X_test)


def test_frozen_layers_stay_bitwise_identical_while_the_others_train(source_and_target):
    source, X_train, _ = source_and_target
    model = skae.Autoencoder(
        init_weights=FrozenEstimator(source),
        init_layers="encoder",
        freeze=True,
        random_state=0,
        **EXACT,
    )
    model.partial_fit(X_train)
    decoder_after_one_epoch = model.params_["decoder"]
    for _ in range(2):
        model.partial_fit(X_train)
    for name, frozen in _leaves(model.params_["encoder"]):
        np.testing.assert_array_equal(frozen, dict(_leaves(source.params_["encoder"]))[name])
    changed = [
        not np.array_equal(after, dict(_leaves(decoder_after_one_epoch))[name])
        for name, after in _leaves(model.params_["decoder"])
    ]
    assert all(changed)


def test_unfrozen_copied_layers_keep_training(source_and_target):
    source, X_train, _ = source_and_target
    model = skae.Autoencoder(init_weights=source.params_, max_iter=3, random_state=0, **EXACT)
    model.fit(X_train)
    kernel = model.params_["encoder"]["layers"][0]["kernel"]
    assert not np.array_equal(kernel, source.params_["encoder"]["layers"][0]["kernel"])


def test_the_weights_dict_and_the_estimator_start_alike(source_and_target):
    source, X_train, X_test = source_and_target
    by_estimator = skae.Autoencoder(
        init_weights=FrozenEstimator(source), max_iter=2, random_state=0, **EXACT
    ).fit(X_train)
    by_weights = skae.Autoencoder(
        init_weights=source.params_, max_iter=2, random_state=0, **EXACT
    ).fit(X_train)
    np.testing.assert_array_equal(by_estimator.transform(X_test), by_weights.transform(X_test))


def test_clones_and_grid_search_folds_start_from_the_trained_layers(source_and_target):
    source, X_train, _ = source_and_target
    model = skae.Autoencoder(
        init_weights=FrozenEstimator(source),
        init_layers="encoder",
        freeze=True,
        max_iter=2,
        random_state=0,
        **EXACT,
    )
    search = GridSearchCV(model, {"learning_rate_init": [1e-3, 3e-3]}, cv=2).fit(X_train)
    best_kernel = search.best_estimator_.params_["encoder"]["layers"][0]["kernel"]
    np.testing.assert_array_equal(best_kernel, source.params_["encoder"]["layers"][0]["kernel"])
    # A fitted estimator passed as it is becomes unfitted in a clone.
    bare = clone(skae.Autoencoder(init_weights=source, **EXACT))
    with pytest.raises(NotFittedError, match="FrozenEstimator"):
        bare.fit(X_train)


def test_a_regressor_starts_from_an_autoencoders_encoder(source_and_target):
    source, X_train, X_test = source_and_target
    row_means = X_train.reshape(-1, 8, 8).mean(axis=2)
    regressor = skae.AutoencoderRegressor(
        init_weights=FrozenEstimator(source),
        init_layers="encoder",
        freeze=True,
        max_iter=60,
        learning_rate_init=1e-2,
        random_state=0,
        **EXACT,
    ).fit(X_train, row_means)
    np.testing.assert_array_equal(regressor.transform(X_test), source.transform(X_test))
    assert regressor.score(X_train, row_means) > 0.5


def test_layers_that_do_not_fit_are_refused_clearly(source_and_target):
    source, X_train, _ = source_and_target
    other = skae.Autoencoder(
        init_weights=FrozenEstimator(source), hidden_layer_sizes=(16,), n_components=8
    )
    with pytest.raises(
        ValueError, match=r"do not fit this model: encoder.*\(64, 32\) given, \(64, 16\) needed"
    ):
        other.fit(X_train)
    assert not hasattr(other, "params_")
    conv = skae.ConvolutionalAutoencoder(init_weights=FrozenEstimator(source))
    with pytest.raises(ValueError, match="has no layers 'encoder_convs'"):
        conv.fit(X_train)
    with pytest.raises(ValueError, match="nothing left to train"):
        skae.Autoencoder(init_weights=source.params_, freeze=True, **EXACT).fit(X_train)


def test_convolutional_encoder_transfers(source_and_target):
    _, X_train, X_test = source_and_target
    conv_source = skae.ConvolutionalAutoencoder(filters=(4,), max_iter=3, random_state=0)
    conv_source.fit(X_train)
    model = skae.ConvolutionalAutoencoder(
        filters=(4,),
        init_weights=FrozenEstimator(conv_source),
        init_layers="encoder",
        freeze=True,
        max_iter=2,
        random_state=1,
    ).fit(X_train)
    np.testing.assert_array_equal(model.transform(X_test), conv_source.transform(X_test))


def test_a_model_started_from_another_saves_and_loads(source_and_target, tmp_path):
    source, X_train, X_test = source_and_target
    model = skae.Autoencoder(
        init_weights=FrozenEstimator(source), max_iter=2, random_state=0, **EXACT
    ).fit(X_train)
    skae.save(model, tmp_path / "model.skae")
    loaded = skae.load(tmp_path / "model.skae")
    np.testing.assert_array_equal(loaded.transform(X_test), model.transform(X_test))


def _leaves(tree, prefix=""):
    """``(path, array)`` of a nested dict of arrays."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", value
