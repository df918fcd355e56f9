"""scikit-learn's own estimator checks, with small and fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import skae

SMALL = {"n_components": 2, "max_iter": 3}
FAST_REGRESSION = {**SMALL, "max_iter": 20, "batch_size": 16, "learning_rate_init": 1e-2}

ESTIMATORS = [
    skae.Autoencoder(hidden_layer_sizes=(4,), **SMALL),
    skae.ConvolutionalAutoencoder(filters=(4,), **SMALL),
    skae.DenoisingAutoencoder(hidden_layer_sizes=(4,), **SMALL),
    skae.ConvolutionalDenoisingAutoencoder(filters=(4,), noise="masking", **SMALL),
    skae.SparseAutoencoder(hidden_layer_sizes=(4,), sparsity="kl", **SMALL),
    skae.ContractiveAutoencoder(hidden_layer_sizes=(4,), **SMALL),
    skae.VariationalAutoencoder(hidden_layer_sizes=(4,), **SMALL),
    skae.ConvolutionalVariationalAutoencoder(filters=(4,), **SMALL),
    # A regressor must reach R^2 > 0.5 on scikit-learn's regression check data.
    skae.AutoencoderRegressor(hidden_layer_sizes=(4,), **FAST_REGRESSION),
    skae.ConvolutionalAutoencoderRegressor(filters=(4,), **FAST_REGRESSION),
    skae.AutoencoderOutlierDetector(
        skae.Autoencoder(hidden_layer_sizes=(4,), **SMALL), n_estimators=2
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_every_public_estimator_is_checked():
    assert {type(e).__name__ for e in ESTIMATORS} == {
        n for n in skae.__all__ if isinstance(getattr(skae, n), type)
    }
