"""skae.save / skae.load: round trips, and files that must be refused."""

import functools
import hashlib
import json
import pickle

import numpy as np
import optax
import pytest
from flax import nnx

import skae
from skae._persistence import _PREAMBLE, FORMAT_VERSION, MAGIC

SMALL = {"n_components": 2, "max_iter": 3, "random_state": 0}

ESTIMATORS = [
    skae.Autoencoder(hidden_layer_sizes=(8,), **SMALL),
    skae.ConvolutionalAutoencoder(filters=(4,), **SMALL),
    skae.DenoisingAutoencoder(hidden_layer_sizes=(8,), **SMALL),
    skae.ConvolutionalDenoisingAutoencoder(filters=(4,), noise="masking", **SMALL),
    skae.SparseAutoencoder(hidden_layer_sizes=(8,), sparsity="kl", **SMALL),
    skae.ContractiveAutoencoder(hidden_layer_sizes=(8,), **SMALL),
    skae.VariationalAutoencoder(hidden_layer_sizes=(8,), **SMALL),
    skae.ConvolutionalVariationalAutoencoder(filters=(4,), **SMALL),
    skae.AutoencoderOutlierDetector(
        skae.Autoencoder(hidden_layer_sizes=(8,), n_components=2, max_iter=3),
        n_estimators=2,
        random_state=0,
    ),
    skae.AutoencoderRegressor(hidden_layer_sizes=(8,), loss="mse", **SMALL),
    skae.ConvolutionalAutoencoderRegressor(filters=(4,), **SMALL),
]
REGRESSORS = {"AutoencoderRegressor", "ConvolutionalAutoencoderRegressor"}


def _name(estimator):
    return type(estimator).__name__


@pytest.fixture(scope="module")
def X():
    from sklearn.datasets import load_digits

    return load_digits().data[:200] / 16.0


@pytest.fixture(scope="module")
def fitted(X):
    # The dense regressor learns 10 pixels, its targets standardised (mse);
    # the convolutional one the images themselves.
    targets = {"AutoencoderRegressor": 16 * X[:, :10], "ConvolutionalAutoencoderRegressor": X}
    return {_name(e): e.fit(X, targets.get(_name(e))) for e in ESTIMATORS}


def test_every_public_estimator_round_trips():
    public = {name for name in skae.__all__ if isinstance(getattr(skae, name), type)}
    assert public == {_name(estimator) for estimator in ESTIMATORS}


@pytest.mark.parametrize("name", [_name(estimator) for estimator in ESTIMATORS])
def test_round_trip_gives_bitwise_identical_results(name, fitted, X, tmp_path):
    model = fitted[name]
    path = tmp_path / "model.skae"
    skae.save(model, path)
    loaded = skae.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    if name in REGRESSORS:
        assert np.array_equal(loaded.predict(X), model.predict(X))
        assert np.array_equal(loaded.transform(X), model.transform(X))
        return
    assert np.array_equal(loaded.score_samples(X), model.score_samples(X))
    assert np.array_equal(loaded.reconstruction_error(X), model.reconstruction_error(X))
    if hasattr(model, "transform"):
        assert np.array_equal(loaded.transform(X), model.transform(X))
        assert np.array_equal(
            loaded.inverse_transform(model.transform(X)),
            model.inverse_transform(model.transform(X)),
        )
    else:
        assert np.array_equal(loaded.predict(X), model.predict(X))
        assert loaded.offset_ == model.offset_
    # The file is not a pickle, and loading it never unpickles.
    assert not path.read_bytes().startswith(b"\x80")


def test_partial_fit_continues_with_the_saved_optimizer_state(X, tmp_path):
    model = skae.Autoencoder(hidden_layer_sizes=(8,), n_components=3, random_state=0)
    for _ in range(3):
        model.partial_fit(X)
    skae.save(model, tmp_path / "model.skae")
    loaded = skae.load(tmp_path / "model.skae")
    model.partial_fit(X)
    loaded.partial_fit(X)
    # With a fresh Adam state the next step would differ (bias correction restarts).
    assert np.array_equal(loaded.transform(X), model.transform(X))
    assert loaded.loss_curve_ == model.loss_curve_


def test_unfitted_estimator_and_fitted_details_round_trip(X, tmp_path):
    import pandas as pd

    unfitted = skae.Autoencoder(hidden_layer_sizes=[8, 4], random_state=np.random.RandomState(3))
    skae.save(unfitted, tmp_path / "unfitted.skae")
    loaded = skae.load(tmp_path / "unfitted.skae")
    assert loaded.hidden_layer_sizes == [8, 4]
    assert loaded.random_state.randint(1000) == np.random.RandomState(3).randint(1000)
    assert not hasattr(loaded, "params_")

    frame = pd.DataFrame(X[:, :6], columns=[f"pixel{i}" for i in range(6)])
    model = skae.Autoencoder(n_components=2, max_iter=2, random_state=0)
    model.set_output(transform="pandas").fit(frame)
    skae.save(model, tmp_path / "frame.skae")
    loaded = skae.load(tmp_path / "frame.skae")
    assert list(loaded.feature_names_in_) == list(frame.columns)
    assert loaded.transform(frame).equals(model.transform(frame))
    assert loaded.loss_curve_ == model.loss_curve_


def test_python_objects_are_supplied_at_load(X, tmp_path):
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
    model = skae.Autoencoder(n_components=2, optimizer=optimizer, max_iter=2, random_state=0)
    model.fit(X)
    skae.save(model, tmp_path / "model.skae")
    with pytest.raises(ValueError, match="custom_objects=\\{'optimizer'"):
        skae.load(tmp_path / "model.skae")
    loaded = skae.load(tmp_path / "model.skae", custom_objects={"optimizer": optimizer})
    assert np.array_equal(loaded.transform(X), model.transform(X))
    model.partial_fit(X)
    loaded.partial_fit(X)
    assert np.array_equal(loaded.transform(X), model.transform(X))


class _Encoder(nnx.Module):
    def __init__(self, n_in, n_out, *, rngs):
        self.linear = nnx.Linear(n_in, n_out, rngs=rngs)

    def __call__(self, x):
        return self.linear(x)


def test_custom_modules_are_supplied_at_load(X, tmp_path):
    model = skae.Autoencoder(
        encoder=functools.partial(_Encoder, 64, 3),
        decoder=functools.partial(_Encoder, 3, 64),
        max_iter=2,
        random_state=0,
    ).fit(X)
    skae.save(model, tmp_path / "model.skae")
    with pytest.raises(ValueError, match="'decoder': <the .*_Encoder>, 'encoder'"):
        skae.load(tmp_path / "model.skae")
    loaded = skae.load(
        tmp_path / "model.skae", custom_objects={"encoder": _Encoder, "decoder": _Encoder}
    )
    assert np.array_equal(loaded.transform(X), model.transform(X))


def test_only_skae_estimators_are_saved(tmp_path):
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="skae estimators"):
        skae.save(PCA(), tmp_path / "pca.skae")


# ----------------------------------------------------------- refused files


def _split(content: bytes):
    _, length, _ = _PREAMBLE.unpack_from(content)
    header = json.loads(content[_PREAMBLE.size : _PREAMBLE.size + length])
    body = content[_PREAMBLE.size + length :]
    parts = {
        name: body[entry["offset"] : entry["offset"] + entry["length"]]
        for name, entry in header["parts"].items()
    }
    return header, parts


def _join(header: dict, parts: dict) -> bytes:
    """A file with valid checksums for the given (possibly edited) header and parts."""
    offset = 0
    for name in ("config", "weights"):
        header["parts"][name] = {
            "offset": offset,
            "length": len(parts[name]),
            "sha256": hashlib.sha256(parts[name]).hexdigest(),
        }
        offset += len(parts[name])
    header_bytes = json.dumps(header).encode()
    preamble = _PREAMBLE.pack(MAGIC, len(header_bytes), hashlib.sha256(header_bytes).digest())
    return preamble + header_bytes + parts["config"] + parts["weights"]


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.skae"
    skae.save(fitted["Autoencoder"], path)
    return path.read_bytes()


def _load_bytes(content: bytes, tmp_path, **kwargs):
    path = tmp_path / "edited.skae"
    path.write_bytes(content)
    return skae.load(path, **kwargs)


def test_the_writer_is_reproduced_by_the_test_helpers(saved, tmp_path):
    header, parts = _split(saved)
    assert _load_bytes(_join(header, parts), tmp_path).n_components_ == 2


@pytest.mark.parametrize("region", ["magic", "length", "header", "config", "weights"])
def test_a_flipped_byte_anywhere_is_refused(saved, tmp_path, region):
    header, parts = _split(saved)
    _, length, _ = _PREAMBLE.unpack_from(saved)
    start = {
        "magic": 3,
        "length": 8,
        "header": _PREAMBLE.size + length // 2,
        "config": _PREAMBLE.size + length + len(parts["config"]) // 2,
        "weights": len(saved) - 5,  # inside the last weight array
    }[region]
    content = bytearray(saved)
    content[start] ^= 0x01
    with pytest.raises(ValueError, match="skae model file|corrupted|truncated"):
        _load_bytes(bytes(content), tmp_path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_a_truncated_file_is_refused(saved, tmp_path, keep):
    with pytest.raises(ValueError, match="skae model file|truncated"):
        _load_bytes(saved[: int(len(saved) * keep)], tmp_path)


def test_a_newer_format_version_is_refused(saved, tmp_path):
    header, parts = _split(saved)
    header["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(ValueError, match=f"version {FORMAT_VERSION + 1}.*Upgrade skae"):
        _load_bytes(_join(header, parts), tmp_path)


def _edit_config(saved, edit):
    header, parts = _split(saved)
    config = json.loads(parts["config"])
    edit(config["estimator"])
    parts["config"] = json.dumps(config).encode()
    return _join(header, parts)


def test_weights_that_disagree_with_the_architecture_are_refused(saved, tmp_path):
    def wider_code(estimator):
        keywords = estimator["attributes"]["_model_builder_"]["__partial__"]["keywords"]
        for pair in keywords["__dict__"]:
            if pair[0] == "n_components":
                pair[1] = 3

    with pytest.raises(ValueError, match="shapes disagree with its architecture"):
        _load_bytes(_edit_config(saved, wider_code), tmp_path)


def test_classes_outside_skae_and_bad_parameters_are_refused(saved, tmp_path):
    def other_class(estimator):
        estimator["attributes"]["_model_builder_"]["__partial__"]["func"] = {
            "__class__": "os.system"
        }

    with pytest.raises(ValueError, match="class skae does not have: 'os.system'"):
        _load_bytes(_edit_config(saved, other_class), tmp_path)

    def bad_parameter(estimator):
        estimator["params"]["n_components"] = -4

    with pytest.raises(ValueError, match="n_components"):
        _load_bytes(_edit_config(saved, bad_parameter), tmp_path)


def test_pickle_keeps_working(fitted, X):
    model = fitted["Autoencoder"]
    assert np.array_equal(pickle.loads(pickle.dumps(model)).transform(X), model.transform(X))
