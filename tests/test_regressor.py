"""The paired-data regressors: X in, targets y out, on the shared engine."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skae
from skae.datasets import add_gaussian_noise, add_watermark, load_colour_patches, to_grey

FAST = {"max_iter": 5, "random_state": 0}


def psnr(predicted, target) -> float:
    """Peak signal-to-noise ratio in dB for data range 1."""
    error = np.mean(np.square(np.asarray(predicted, float) - np.asarray(target, float)))
    return float(10 * np.log10(1.0 / error))


@pytest.fixture(scope="module")
def digit_images():
    return load_digits().images[:400] / 16


def test_predict_has_the_shape_of_y(digit_images):
    X = digit_images.reshape(len(digit_images), -1)
    model = skae.AutoencoderRegressor(n_components=4, **FAST)
    assert model.fit(X, X[:, 0]).predict(X).shape == (400,)
    assert model.fit(X, X[:, :5]).predict(X).shape == (400, 5)
    assert model.fit(X, digit_images).predict(X).shape == (400, 8, 8)
    assert model.transform(X).shape == (400, 4)
    assert model.target_shape_ == (8, 8) and model.n_outputs_ == 64


def test_convolutional_regressor_maps_images_to_images_of_other_channels():
    colour = load_colour_patches(size=8)[:300]
    grey = to_grey(colour)
    model = skae.ConvolutionalAutoencoderRegressor(filters=(4,), **FAST).fit(grey, colour)
    assert model.predict(grey).shape == (300, 8, 8, 3)
    assert model.params_["output_conv"]["kernel"].shape[-1] == 3
    flat = model.fit(grey, colour.reshape(300, -1)).predict(grey)
    assert flat.shape == (300, 192)


def test_convolutional_regressor_takes_targets_that_are_not_images(digit_images):
    # A few numbers per image come out of a dense layer from the code.
    y = np.stack([digit_images.mean(axis=(1, 2)), digit_images[:, :4].mean(axis=(1, 2))], axis=1)
    model = skae.ConvolutionalAutoencoderRegressor(filters=(4,), n_components=3, **FAST)
    assert model.fit(digit_images, y).predict(digit_images).shape == (400, 2)
    assert model.params_["to_outputs"]["kernel"].shape == (3, 2)


def test_score_is_r2_of_the_flattened_targets(digit_images):
    noisy = add_gaussian_noise(digit_images, 0.2, random_state=0)
    model = skae.ConvolutionalAutoencoderRegressor(filters=(4,), **FAST).fit(noisy, digit_images)
    expected = r2_score(digit_images.reshape(400, -1), model.predict(noisy).reshape(400, -1))
    assert model.score(noisy, digit_images) == pytest.approx(expected)


def test_targets_of_any_scale_train_alike(digit_images):
    # Squared-error targets are standardised for training: prices in
    # thousands fit as well as values near 1, and predictions come back in
    # the targets' units.
    X = digit_images.reshape(400, -1)
    y = X[:, 20:30] * 3 + X[:, 40:50]
    small = skae.AutoencoderRegressor(n_components=8, loss="mse", **FAST).fit(X, y)
    large = skae.AutoencoderRegressor(n_components=8, loss="mse", **FAST).fit(X, 1e4 * y + 5e4)
    assert large.score(X, 1e4 * y + 5e4) == pytest.approx(small.score(X, y), abs=1e-3)
    np.testing.assert_allclose(large.predict(X), 1e4 * small.predict(X) + 5e4, rtol=1e-4)


def test_transformers_still_ignore_y(digit_images):
    # A Pipeline passes class labels to every step's fit.
    X = digit_images.reshape(400, -1)
    labels = load_digits().target[:400]
    with_labels = skae.Autoencoder(n_components=4, **FAST).fit(X, labels)
    without = skae.Autoencoder(n_components=4, **FAST).fit(X)
    np.testing.assert_array_equal(with_labels.transform(X), without.transform(X))


def test_bad_targets_get_clear_errors(digit_images):
    X = digit_images.reshape(400, -1)
    model = skae.AutoencoderRegressor(**FAST)
    with pytest.raises(ValueError, match="requires y"):
        model.fit(X, None)
    with pytest.raises(ValueError, match="different numbers of samples"):
        model.fit(X, X[:-1])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.fit(X, np.where(X > 0.5, np.nan, X))
    with pytest.raises(ValueError, match=r"needs y in \[0, 1\]"):
        skae.AutoencoderRegressor(loss="bce", **FAST).fit(X, X * 2)
    model.fit(X, X[:, :3])
    with pytest.raises(ValueError, match="fitted with 3"):
        model.partial_fit(X, X[:, :4])
    assert model.n_outputs_ == 3  # the rejected call left the model as it was


def test_early_stopping_scores_are_validation_r2(digit_images):
    noisy = add_gaussian_noise(digit_images, 0.2, random_state=0)
    model = skae.ConvolutionalAutoencoderRegressor(
        filters=(4,), early_stopping=True, max_iter=8, random_state=0
    ).fit(noisy, digit_images)
    assert len(model.validation_scores_) == model.n_iter_
    assert max(model.validation_scores_) == model.best_validation_score_ <= 1.0
    assert model.validation_scores_[-1] > model.validation_scores_[0]


def test_in_a_pipeline_with_cross_validation(digit_images):
    X, row_means = digit_images.reshape(400, -1), digit_images.mean(axis=2)
    model = skae.AutoencoderRegressor(n_components=8, max_iter=30, random_state=0)
    scores = cross_val_score(make_pipeline(StandardScaler(), model), X, row_means, cv=3)
    assert np.isfinite(scores).all() and (scores > 0).all()


def test_saved_and_pickled_regressors_predict_the_same(digit_images, tmp_path):
    noisy = add_gaussian_noise(digit_images, 0.2, random_state=0)
    model = skae.ConvolutionalAutoencoderRegressor(filters=(4,), **FAST).fit(noisy, digit_images)
    skae.save(model, tmp_path / "model.skae")
    for copy in (skae.load(tmp_path / "model.skae"), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(copy.predict(noisy), model.predict(noisy))
        np.testing.assert_array_equal(copy.transform(noisy), model.transform(noisy))
    # The targets' standardisation travels with the model.
    X = noisy.reshape(400, -1)
    scaled = skae.AutoencoderRegressor(loss="mse", **FAST).fit(X, 100 * X[:, 0])
    skae.save(scaled, tmp_path / "scaled.skae")
    np.testing.assert_array_equal(skae.load(tmp_path / "scaled.skae").predict(X), scaled.predict(X))


# --------------------------------------------- what the regressors are for
def _baselines(X_train, Y_train, X_test, Y_test, identity):
    """PSNR of the identity mapping and of Ridge(alpha=1.0) from X to Y."""
    flat = lambda A: A.reshape(len(A), -1)  # noqa: E731
    ridge = Ridge(alpha=1.0).fit(flat(X_train), flat(Y_train)).predict(flat(X_test))
    return psnr(identity, Y_test), psnr(ridge, flat(Y_test))


@pytest.mark.slow
def test_watermark_removal_on_digits_beats_identity_and_ridge():
    clean_train, clean_test = train_test_split(
        load_digits().images / 16, test_size=0.3, random_state=0
    )
    # Five stamped copies of each training image, the mark in a new place each time.
    Y_train = np.concatenate([clean_train] * 5)
    X_train = add_watermark(Y_train, random_state=0)
    X_test = add_watermark(clean_test, random_state=1)
    identity, ridge = _baselines(X_train, Y_train, X_test, clean_test, X_test)
    model = skae.AutoencoderRegressor(
        n_components=64, hidden_layer_sizes=(256,), loss="mse", max_iter=300, random_state=0
    ).fit(X_train.reshape(len(X_train), -1), Y_train)
    achieved = psnr(model.predict(X_test.reshape(len(X_test), -1)), clean_test)
    assert achieved >= max(identity, ridge) + 1.0, (achieved, identity, ridge)


@pytest.mark.slow
def test_colourisation_of_sample_image_patches_beats_identity_and_ridge():
    colour = load_colour_patches(size=16)
    train, test = train_test_split(colour, test_size=0.3, random_state=0)
    grey_train, grey_test = to_grey(train), to_grey(test)
    identity, ridge = _baselines(grey_train, train, grey_test, test, np.repeat(grey_test, 3, -1))
    model = skae.ConvolutionalAutoencoderRegressor(
        filters=(32,), batch_size=32, max_iter=20, random_state=0
    )
    achieved = psnr(model.fit(grey_train, train).predict(grey_test), test)
    assert achieved >= max(identity, ridge) + 0.5, (achieved, identity, ridge)


def _load(folder, name, n_train, n_test):
    with np.load(folder / f"{name}.npz") as data:
        return data["x_train"][:n_train] / 255.0, data["x_test"][:n_test] / 255.0


@pytest.mark.slow
def test_denoising_mnist_beats_identity_and_ridge(shared_data):
    clean_train, clean_test = _load(shared_data, "mnist", 5000, 1000)
    X_train = add_gaussian_noise(clean_train, 0.3, random_state=0)
    X_test = add_gaussian_noise(clean_test, 0.3, random_state=1)
    identity, ridge = _baselines(X_train, clean_train, X_test, clean_test, X_test)
    model = skae.ConvolutionalAutoencoderRegressor(
        filters=(16,), batch_size=64, max_iter=8, random_state=0
    )
    achieved = psnr(model.fit(X_train, clean_train).predict(X_test), clean_test)
    assert achieved >= max(identity, ridge) + 1.0, (achieved, identity, ridge)


@pytest.mark.slow
def test_watermark_removal_on_fashion_mnist_beats_identity_and_ridge(shared_data):
    clean_train, clean_test = _load(shared_data, "fashion_mnist", 8000, 1000)
    X_train = add_watermark(clean_train, random_state=0)  # the text "skae"
    X_test = add_watermark(clean_test, random_state=1)
    identity, ridge = _baselines(X_train, clean_train, X_test, clean_test, X_test)
    model = skae.ConvolutionalAutoencoderRegressor(
        filters=(32,), batch_size=32, learning_rate_init=2e-3, max_iter=12, random_state=0
    )
    achieved = psnr(model.fit(X_train, clean_train).predict(X_test), clean_test)
    assert achieved >= max(identity, ridge) + 1.0, (achieved, identity, ridge)
