"""BatchedGridSearchCV: GridSearchCV's results, with the candidates trained together."""

import jax
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skae
from skae import _engine
from skae.model_selection import BatchedGridSearchCV

GRID = {"learning_rate_init": [1e-3, 3e-3], "alpha": [1e-4, 1e-2]}


def both(estimator, grid, X, y=None, **search):
    plain = GridSearchCV(estimator, grid, **search).fit(X, y)
    batched = BatchedGridSearchCV(estimator, grid, **search).fit(X, y)
    return plain, batched


def assert_same_search(plain, batched):
    for column in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(  # NaN where a fit failed, in both
            batched.cv_results_[column], plain.cv_results_[column], rtol=1e-4
        )
    assert batched.cv_results_["params"] == plain.cv_results_["params"]
    assert batched.best_params_ == plain.best_params_


def test_same_results_as_grid_search_with_the_candidates_trained_together(digits, monkeypatch):
    estimator = skae.Autoencoder(max_iter=8, random_state=0)
    models_per_call = []
    run_epochs = _engine.run_epochs

    def counted(config, states, *args):
        models_per_call.append(len(jax.tree.leaves(states)[0]))
        return run_epochs(config, states, *args)

    monkeypatch.setattr(_engine, "run_epochs", counted)
    plain, batched = both(estimator, GRID, digits[0], cv=2, return_train_score=True)
    assert_same_search(plain, batched)
    np.testing.assert_allclose(
        batched.cv_results_["mean_train_score"], plain.cv_results_["mean_train_score"], rtol=1e-4
    )
    # 4 candidates x 2 folds, 8 epochs each, in programs of 4 or 8 models (one per core).
    assert sum(models_per_call) == 8 * 8 and min(models_per_call) >= 4
    np.testing.assert_allclose(
        batched.best_estimator_.transform(digits[1]),
        plain.best_estimator_.transform(digits[1]),
        rtol=1e-4,
        atol=1e-6,
    )


def test_candidates_of_other_shapes_and_traced_settings(digits):
    # n_components changes the shape: two programs; noise level and seeds are traced.
    grid = {"n_components": [4, 8], "noise_level": [0.1, 0.3], "random_state": [0, 1]}
    estimator = skae.DenoisingAutoencoder(max_iter=5)
    assert_same_search(*both(estimator, grid, digits[0], cv=KFold(2, shuffle=True, random_state=0)))


def test_regressor_with_targets_and_early_stopping(digits):
    X, y = digits[0], digits[0][:, :10]
    estimator = skae.AutoencoderRegressor(max_iter=6, early_stopping=True, random_state=0)
    assert_same_search(*both(estimator, {"learning_rate_init": [1e-3, 1e-2]}, X, y, cv=2))


def test_pipelines_and_object_parameters_fall_back_to_one_fit_at_a_time(digits):
    pipeline = make_pipeline(MinMaxScaler(), skae.Autoencoder(max_iter=3, random_state=0))
    grid = {"autoencoder__alpha": [1e-4, 1e-2]}
    assert_same_search(*both(pipeline, grid, digits[0], cv=2))


def test_shaped_like_grid_search(digits):
    search = BatchedGridSearchCV(skae.Autoencoder(max_iter=2), GRID, cv=2)
    assert "n_jobs" not in search.get_params() and clone(search).param_grid == GRID
    # A bad candidate fails as in GridSearchCV (error_score), the others are trained together.
    grid = {"alpha": [-1.0, 1e-4]}
    with pytest.warns(FitFailedWarning, match="fits failed"):
        plain, batched = both(skae.Autoencoder(max_iter=2, random_state=0), grid, digits[0], cv=2)
    assert np.isnan(batched.cv_results_["mean_test_score"][0])
    assert_same_search(plain, batched)
