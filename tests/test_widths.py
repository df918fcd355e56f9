"""Members that differ only in their layers' widths train in one program (skae._widths)."""

import warnings

import jax
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import skae
from skae import _engine
from skae._ensemble import fit_together


def assert_trained_as_alone(members, X):
    for trained in members:
        alone = clone(trained).fit(X)  # the same random_state, on its own
        for a, b in zip(jax.tree.leaves(trained.params_), jax.tree.leaves(alone.params_)):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        assert trained.loss_curve_ == pytest.approx(alone.loss_curve_, rel=1e-4)


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_members_of_several_widths_train_in_one_program_as_if_alone(digits, activation):
    # The logistic function is 0.5 at 0: a padded unit would feed the next
    # layer and get gradients if the mask did not hold its weights at zero.
    X = digits[0][:, :40]
    widths = [(6, (24, 12)), (3, (16, 8)), (4, (24, 4))]
    members = [
        skae.Autoencoder(
            code,
            hidden_layer_sizes=hidden,
            activation=activation,
            loss="mse",
            max_iter=5,
            tol=0.0,
            random_state=seed,
        )
        for seed, (code, hidden) in enumerate(widths)
    ]
    programs = _engine.run_epochs._cache_size()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_together(members, X, share_widths=True)
        assert _engine.run_epochs._cache_size() - programs == 1
        assert [(m.n_components_, m.hidden_layer_sizes) for m in members] == widths
        assert_trained_as_alone(members, X)


def test_members_of_other_programs_are_not_padded(digits):
    X = digits[0][:, :40]
    members = [
        skae.Autoencoder(4, hidden_layer_sizes=(16,), max_iter=3, random_state=0),
        skae.Autoencoder(4, hidden_layer_sizes=(16,), max_iter=3, random_state=1),
        skae.Autoencoder(2, hidden_layer_sizes=(8, 4), max_iter=3, random_state=2),  # deeper
        skae.SparseAutoencoder(2, hidden_layer_sizes=(8,), max_iter=3, random_state=3),
    ]
    programs = _engine.run_epochs._cache_size()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_together(members, X, share_widths=True)
        # The two equal members share a program; the others train alone (run_epoch).
        assert _engine.run_epochs._cache_size() - programs == 1
        assert_trained_as_alone(members, X)


def test_the_outlier_detectors_default_members_train_in_one_program(digits):
    X = digits[0][:, :37]  # a feature count no other test trains on
    programs = _engine.run_epochs._cache_size()
    detector = skae.AutoencoderOutlierDetector(random_state=0).fit(X)
    assert _engine.run_epochs._cache_size() - programs == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # A wide member and a narrow one, each as trained alone on the standardised rows.
        assert_trained_as_alone(detector.estimators_[:2], (X - detector.center_) / detector.scale_)
