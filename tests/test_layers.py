"""Every layer's output: layer_activations, get_layer_names, get_layer_feature_names_out."""

from functools import partial

import numpy as np
import pytest
from flax import nnx
from sklearn.linear_model import LogisticRegression

import skae

FAST = {"max_iter": 5, "random_state": 0}


@pytest.fixture(scope="module")
def dense(digits):
    X_train = digits[0]
    return skae.Autoencoder(hidden_layer_sizes=(32, 16), n_components=4, **FAST).fit(X_train)


def test_dense_layers_from_input_to_output(dense, digits):
    X = digits[1]
    assert dense.get_layer_names() == [
        "encoder.0",
        "encoder.1",
        "code",
        "decoder.0",
        "decoder.1",
        "output",
    ]
    widths = [dense.layer_activations(X, name).shape[1] for name in dense.get_layer_names()]
    assert widths == [32, 16, 4, 16, 32, 64]
    np.testing.assert_array_equal(dense.layer_activations(X, "code"), dense.transform(X))
    reconstruction = dense.inverse_transform(dense.transform(X))
    np.testing.assert_allclose(dense.layer_activations(X, -1), reconstruction, rtol=1e-6)
    np.testing.assert_array_equal(
        dense.layer_activations(X, 0), dense.layer_activations(X, "encoder.0")
    )


def test_a_hidden_layer_is_the_activation_of_its_weights(dense, digits):
    X = digits[1]
    first = dense.params_["encoder"]["layers"][0]
    expected = np.maximum(X @ first["kernel"] + first["bias"], 0)  # relu
    np.testing.assert_allclose(dense.layer_activations(X, "encoder.0"), expected, atol=1e-5)
    assert list(dense.get_layer_feature_names_out("encoder.0")[:2]) == [
        "encoder.0_0",
        "encoder.0_1",
    ]


def test_a_hidden_layer_feeds_a_classifier(digits):
    X_train, X_test, y_train, y_test = digits
    model = skae.Autoencoder(hidden_layer_sizes=(64,), max_iter=30, random_state=0).fit(X_train)
    hidden = LogisticRegression(max_iter=2000).fit(model.layer_activations(X_train, 0), y_train)
    assert hidden.score(model.layer_activations(X_test, 0), y_test) > 0.9


def test_convolutional_maps_are_flattened_and_named(digits):
    X = digits[1]
    model = skae.ConvolutionalAutoencoder(filters=(4, 6), n_components=3, **FAST).fit(digits[0])
    names = model.get_layer_names()
    assert names == [
        "encoder.0",
        "encoder.1",
        "code",
        "decoder.dense",
        "decoder.0",
        "decoder.1",
        "output",
    ]
    # 8x8 images: 4x4x4 after the first level, 2x2x6 after the second.
    assert model.layer_activations(X, "encoder.0").shape == (len(X), 64)
    assert model.layer_activations(X, "encoder.1").shape == (len(X), 24)
    columns = model.get_layer_feature_names_out("encoder.1")
    assert len(columns) == 24 and columns[0] == "encoder.1_y0_x0_c0" and columns[1].endswith("c1")
    np.testing.assert_array_equal(model.layer_activations(X, "code"), model.transform(X))


def test_variational_code_is_the_posterior_mean(digits):
    model = skae.VariationalAutoencoder(hidden_layer_sizes=(16,), n_components=2, **FAST)
    model.fit(digits[0])
    np.testing.assert_array_equal(
        model.layer_activations(digits[1], "code"), model.transform(digits[1])
    )


class Encoder(nnx.Module):
    def __init__(self, *, rngs):
        self.hidden = nnx.Linear(64, 12, rngs=rngs)
        self.out = nnx.Linear(12, 3, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.hidden(x)))


def test_custom_modules_give_their_flax_paths(digits):
    X = digits[1]
    model = skae.Autoencoder(encoder=Encoder, decoder=partial(nnx.Linear, 3, 64), **FAST)
    model.fit(digits[0])
    assert model.get_layer_names() == [
        "encoder.hidden",
        "encoder.out",
        "encoder",
        "decoder",
        "code",
        "output",
    ]
    hidden = model.params_["encoder"]["hidden"]
    expected = X @ hidden["kernel"] + hidden["bias"]  # the submodule's own output
    np.testing.assert_allclose(model.layer_activations(X, "encoder.hidden"), expected, atol=1e-5)
    np.testing.assert_array_equal(model.layer_activations(X, "encoder"), model.transform(X))


def test_regressor_layers(digits):
    X = digits[1]
    model = skae.AutoencoderRegressor(hidden_layer_sizes=(16,), **FAST).fit(X, X[:, :5])
    assert model.get_layer_names()[-1] == "output"
    np.testing.assert_allclose(model.layer_activations(X, "output"), model.predict(X), rtol=1e-6)


def test_unknown_layers_are_refused_clearly(dense, digits):
    with pytest.raises(ValueError, match="not a layer of this model.*encoder.0"):
        dense.layer_activations(digits[1], "encoder.9")
    with pytest.raises(ValueError, match="out of range: this model has 6 layers"):
        dense.get_layer_feature_names_out(6)
