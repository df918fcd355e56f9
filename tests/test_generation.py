"""Generation and interpolation: interpolate (linear or spherical) and the VAEs' sample."""

import numpy as np
import pytest

import skae
from skae._base import _interpolate_codes

FAST = {"n_components": 4, "max_iter": 5, "random_state": 0}


@pytest.fixture(scope="module")
def models(digits):
    X_train = digits[0]
    return {
        "ae": skae.Autoencoder(hidden_layer_sizes=(16,), **FAST).fit(X_train),
        "vae": skae.VariationalAutoencoder(hidden_layer_sizes=(16,), **FAST).fit(X_train),
    }


def slerp(a, b, t):
    angle = np.arccos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))
    return (np.sin((1 - t) * angle) * a + np.sin(t * angle) * b) / np.sin(angle)


@pytest.mark.parametrize("name, path", [("ae", "linear"), ("vae", "spherical")])
def test_interpolate_decodes_the_path_between_two_codes(models, digits, name, path):
    model, X = models[name], digits[1]
    decoded = model.interpolate(X[0], X[1], n_steps=7)
    a, b = model.transform(X[:2])
    steps = np.linspace(0, 1, 7)
    if path == "linear":
        codes = [(1 - t) * a + t * b for t in steps]
    else:
        codes = [slerp(a, b, t) for t in steps]
    np.testing.assert_allclose(decoded, model.inverse_transform(np.array(codes)), atol=1e-5)
    np.testing.assert_allclose(decoded[0], model.inverse_transform(a[None])[0], atol=1e-5)
    np.testing.assert_allclose(decoded[-1], model.inverse_transform(b[None])[0], atol=1e-5)


def test_spherical_paths_keep_the_norm_of_codes_of_equal_norm():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 0.0, 3.0])
    steps = np.linspace(0, 1, 5)[:, None]
    spherical = _interpolate_codes(a, b, steps, "spherical")
    np.testing.assert_allclose(np.linalg.norm(spherical, axis=1), 3.0)
    linear = _interpolate_codes(a, b, steps, "linear")
    assert np.linalg.norm(linear[2]) < 2.2  # the chord cuts towards the origin
    # Codes in the same direction: the straight line.
    np.testing.assert_allclose(_interpolate_codes(a, 2 * a, steps, "spherical")[2], 1.5 * a)


def test_convolutional_models_interpolate_between_images(digits):
    images = digits[0].reshape(-1, 8, 8)
    model = skae.ConvolutionalVariationalAutoencoder(filters=(4,), **FAST).fit(images)
    strip = model.interpolate(images[0], images[1], n_steps=4, method="linear")
    assert strip.shape == (4, 64) and np.isfinite(strip).all()


def test_interpolate_refuses_bad_arguments(models, digits):
    model, X = models["ae"], digits[1]
    with pytest.raises(ValueError, match="n_steps"):
        model.interpolate(X[0], X[1], n_steps=1)
    with pytest.raises(ValueError, match="one sample of 64 values"):
        model.interpolate(X[:2], X[1])
    with pytest.raises(ValueError, match="method"):
        model.interpolate(X[0], X[1], method="cubic")


def test_vae_samples_look_like_the_data(digits):
    # Decoded prior draws land where the data is: closer to the training
    # images than uniform noise of the same range is.
    X = digits[0]
    vae = skae.VariationalAutoencoder(hidden_layer_sizes=(64,), n_components=4, max_iter=60)
    samples = vae.set_params(random_state=0).fit(X).sample(200, random_state=0)
    noise = np.random.RandomState(0).uniform(0, 1, samples.shape)

    def distance_to_data(points):
        return np.mean([np.min(np.sum((X - p) ** 2, axis=1)) for p in points])

    assert distance_to_data(samples) < 0.5 * distance_to_data(noise)
