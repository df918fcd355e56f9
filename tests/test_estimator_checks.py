"""scikit-learn's own estimator checks, with small and fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import Autoencoder


@parametrize_with_checks([Autoencoder(n_components=2, hidden_layer_sizes=(4,), max_iter=5)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
