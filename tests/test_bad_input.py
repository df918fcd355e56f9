"""Bad input gets a clear ValueError or TypeError, never a JAX traceback."""

import numpy as np
import pytest

from skae import Autoencoder

X = np.random.RandomState(0).uniform(size=(30, 4))


def fit(X=X, **params):
    return Autoencoder(**{"max_iter": 2, "random_state": 0, **params}).fit(X)


@pytest.mark.parametrize(
    "data, error, message",
    [
        (np.where(np.eye(30, 4) > 0, np.nan, X), ValueError, "NaN"),
        (np.where(np.eye(30, 4) > 0, np.inf, X), ValueError, "infinity"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert string"),
        (X + 1j, ValueError, "Complex data not supported"),
        (np.empty((0, 4)), ValueError, "0 sample"),
        (np.empty((3, 0)), ValueError, "0 feature"),
        (X.reshape(30, 2, 2), ValueError, "dim 3"),
        (X[0], ValueError, "Expected 2D array"),
    ],
    ids=["nan", "inf", "strings", "complex", "no-samples", "no-features", "3d", "1d"],
)
def test_bad_training_data(data, error, message):
    with pytest.raises(error, match=message):
        fit(data)


def test_wrong_number_of_features_at_transform():
    ae = fit()
    with pytest.raises(ValueError, match="X has 3 features, but Autoencoder is expecting 4"):
        ae.transform(X[:, :3])
    with pytest.raises(ValueError, match="X has 3 features"):
        ae.score_samples(X[:, :3])
    with pytest.raises(ValueError, match="codes of 8 columns"):
        ae.inverse_transform(X[:, :3])


def test_nan_at_transform():
    ae = fit()
    with pytest.raises(ValueError, match="NaN"):
        ae.transform(np.full((2, 4), np.nan))


def test_bce_needs_unit_interval():
    with pytest.raises(ValueError, match=r"loss='bce' needs X in \[0, 1\]; got min=.*max=1.977"):
        fit(X * 2, loss="bce")
    ae = fit()  # loss="auto" picks bce for X in [0, 1], and never refuses data later
    assert ae.reconstruction_loss_ == "bce"
    assert np.isfinite(ae.score_samples(X * 2)).all()
    with pytest.raises(ValueError, match="needs a sigmoid output"):
        fit(loss="bce", output_activation="relu")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"optimizer": "adamm"}, "'optimizer' parameter"),
        ({"optimizer": 3}, "'optimizer' parameter"),
        ({"activation": "rellu"}, "'activation' parameter"),
        ({"output_activation": "soft"}, "'output_activation' parameter"),
        ({"loss": "l1"}, "'loss' parameter"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"n_components": 2.5}, "'n_components' parameter"),
        ({"hidden_layer_sizes": (8, 0)}, "'hidden_layer_sizes' parameter"),
        ({"hidden_layer_sizes": (8, "a")}, "'hidden_layer_sizes' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"learning_rate_init": 0.0}, "'learning_rate_init' parameter"),
        ({"learning_rate_init": -1.0}, "'learning_rate_init' parameter"),
        ({"alpha": -1.0}, "'alpha' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
        ({"tol": -1.0}, "'tol' parameter"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fit(**params)


def test_early_stopping_needs_enough_samples():
    with pytest.raises(ValueError, match="early_stopping=True.*no training or no validation"):
        fit(X[:1], early_stopping=True)


def test_warm_start_with_another_architecture():
    ae = fit(warm_start=True)
    ae.set_params(n_components=3)
    with pytest.raises(ValueError, match=r"warm_start=True continues.*n_components: 8 -> 3"):
        ae.fit(X)


def test_unfitted_model():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Autoencoder().transform(X)
