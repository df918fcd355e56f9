"""The score contract: one meaning for every estimator, defined for every finite input.

``score_samples`` of the non-variational estimators is minus the row mean of
``reconstruction_error``: squared error of the decoded mean in the input's
units, plus the squared distance outside the training range. The VAEs score
with their ELBO. Rows that leave the training range, as test rows do after a
``MinMaxScaler`` fitted on the training part, are data, never an error.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skae

SMALL = {"n_components": 4, "max_iter": 20, "random_state": 0}


def small(cls):
    if "filters" in cls().get_params():
        return cls(image_shape=(8, 8), filters=(8,), **SMALL)
    return cls(hidden_layer_sizes=(32,), **SMALL)


# The autoencoders (the estimators that score their input); the outlier
# detector's scores are tested in test_outliers.py.
ESTIMATORS = [
    getattr(skae, name)
    for name in skae.__all__
    if hasattr(getattr(skae, name), "score_samples") and name != "AutoencoderOutlierDetector"
]
VARIATIONAL = {skae.VariationalAutoencoder, skae.ConvolutionalVariationalAutoencoder}


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda cls: cls.__name__)
def fitted(request, digits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return small(request.param).fit(digits[0])


def test_reconstruction_error_is_what_score_samples_averages(fitted, digits):
    X_test = digits[1]
    errors = fitted.reconstruction_error(X_test)
    assert errors.shape == X_test.shape and (errors >= 0).all()
    reconstruction = fitted.inverse_transform(fitted.transform(X_test))
    # Inside the training range it is the squared error of the decoded mean.
    inside = (X_test >= fitted.data_min_) & (X_test <= fitted.data_max_)
    np.testing.assert_allclose(
        errors[inside], ((X_test - reconstruction) ** 2)[inside], rtol=1e-5, atol=1e-7
    )
    if type(fitted) not in VARIATIONAL:
        np.testing.assert_allclose(errors.mean(axis=1), -fitted.score_samples(X_test), rtol=1e-6)


@pytest.mark.parametrize("where", ["every feature", "one feature at a time"])
def test_scores_fall_as_rows_leave_the_training_range(fitted, digits, where):
    X_test = digits[1]
    n, width = X_test.shape

    def shifted(c):
        if where == "every feature":
            return X_test + c
        # Each row once per feature, that feature moved by c: (width * n, width).
        moved = np.repeat(X_test[None], width, axis=0)
        moved[np.arange(width), :, np.arange(width)] += c
        return moved.reshape(-1, width)

    scores = [fitted.score_samples(shifted(c)) for c in (0.0, 0.5, 2.0, 8.0)]
    assert all(np.isfinite(s).all() for s in scores)
    means = [s.mean() for s in scores]
    assert means[0] > means[1] > means[2] > means[3], means
    for lower, higher in zip(scores[1:], scores[2:]):  # a larger shift never scores higher
        assert np.mean(higher <= lower) >= 0.95


def test_loss_auto_never_refuses_data_later(digits):
    X_train, X_test = digits[0], digits[1]
    scaler = MinMaxScaler().fit(X_train[:, 10:20])
    train, test = scaler.transform(X_train[:, 10:20]), scaler.transform(X_test[:, 10:20])
    assert test.min() < 0 or test.max() > 1 or train.max() > 1  # leaves the training range
    model = skae.Autoencoder(max_iter=5, random_state=0).fit(train)
    assert model.reconstruction_loss_ == "bce"
    for X in (train, test, test * 3 - 1):
        assert np.isfinite(model.score_samples(X)).all()
        assert np.isfinite(model.reconstruction_error(X)).all()
        assert np.isfinite(model.inverse_transform(model.transform(X))).all()
    model.partial_fit(test * 3 - 1)  # continued training on values outside [0, 1]
    assert np.isfinite(model.transform(test)).all()
    # MinMaxScaler's own output can exceed 1 by a rounding error.
    assert np.isfinite(model.score_samples(np.full((1, 10), 1.0000000000000002))).all()
    with pytest.raises(ValueError, match="loss='bce' needs X in"):  # explicit: fit may refuse
        skae.Autoencoder(loss="bce", max_iter=1).fit(test * 3 - 1)


def test_cross_validated_pipeline_scores_are_finite(digits):
    X = digits[0][:, 10:30]
    pipe = make_pipeline(MinMaxScaler(), skae.Autoencoder(max_iter=5, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, cv=3)
    assert np.isfinite(scores).all()


def test_scores_are_in_the_same_units_whatever_the_loss(digits):
    X_train, X_test = digits[0], digits[1]
    scores = {}
    for loss in ("bce", "mse"):
        model = skae.Autoencoder(loss=loss, max_iter=20, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train)
        reconstruction = model.inverse_transform(model.transform(X_test))
        scores[loss] = model.score(X_test)
        # Test rows a little outside the training range add a small range term.
        assert scores[loss] == pytest.approx(-np.mean((X_test - reconstruction) ** 2), rel=1e-3)
    # Both are mean squared errors of digits: the same order of magnitude.
    assert 0.2 < scores["bce"] / scores["mse"] < 5
