"""skops.io round trips with skae.skops_trusted_types(); pickle and joblib keep working."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skae

sio = pytest.importorskip("skops.io")
pytestmark = pytest.mark.slow  # fits six estimators and a pipeline

FAST = {"max_iter": 3, "random_state": 0}
ESTIMATORS = [
    skae.Autoencoder(n_components=4, **FAST),
    skae.ConvolutionalAutoencoder(filters=(4,), **FAST),
    skae.VariationalAutoencoder(n_components=2, **FAST),
    skae.SparseAutoencoder(sparsity="kl", **FAST),
    skae.AutoencoderOutlierDetector(n_estimators=2, random_state=0),
    skae.AutoencoderRegressor(loss="mse", **FAST),
]


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:300] / 16


def _fit(estimator, X):
    regressor = isinstance(estimator, skae.AutoencoderRegressor)
    return estimator.fit(X, 10 * X[:, :3]) if regressor else estimator.fit(X)


def _outputs(estimator, X):
    methods = ["transform", "score_samples", "predict"]
    return [getattr(estimator, name)(X) for name in methods if hasattr(estimator, name)]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_skops_round_trip_with_the_documented_trusted_types(estimator, X, tmp_path):
    fitted = _fit(estimator, X)
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)
    assert set(sio.get_untrusted_types(file=path)) <= set(skae.skops_trusted_types())
    loaded = sio.load(path, trusted=skae.skops_trusted_types())
    for before, after in zip(_outputs(fitted, X), _outputs(loaded, X)):
        np.testing.assert_array_equal(before, after)
    # The optimizer state comes back too: training continues where it stopped.
    loaded_copy, pickled = loaded, pickle.loads(pickle.dumps(fitted))
    if not isinstance(fitted, skae.AutoencoderOutlierDetector):
        _partial_fit(loaded_copy, X)
        _partial_fit(pickled, X)
        np.testing.assert_array_equal(_outputs(loaded_copy, X)[0], _outputs(pickled, X)[0])


def _partial_fit(estimator, X):
    if isinstance(estimator, skae.AutoencoderRegressor):
        return estimator.partial_fit(X, 10 * X[:, :3])
    return estimator.partial_fit(X)


def test_skops_round_trip_of_a_pipeline(tmp_path):
    X, y = load_digits(return_X_y=True)
    pipeline = make_pipeline(
        MinMaxScaler(), skae.Autoencoder(n_components=8, **FAST), LogisticRegression(max_iter=300)
    ).fit(X, y)
    path = tmp_path / "pipeline.skops"
    sio.dump(pipeline, path)
    loaded = sio.load(path, trusted=skae.skops_trusted_types())
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


def test_skops_refuses_untrusted_files(X, tmp_path):
    path = tmp_path / "model.skops"
    sio.dump(_fit(skae.Autoencoder(**FAST), X), path)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)


def test_joblib_keeps_working(X, tmp_path):
    model = _fit(skae.Autoencoder(**FAST), X)
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").transform(X), model.transform(X)
    )
