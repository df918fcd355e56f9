"""AutoencoderOutlierDetector: IsolationForest's contract, and its ensemble in one program."""

import pickle
import time
import warnings

import jax
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skae
from skae import _engine
from skae._outliers import narrow_autoencoder, wide_masking_autoencoder

SMALL_MEMBER = skae.Autoencoder(2, hidden_layer_sizes=(8,), loss="mse", max_iter=5, tol=0.0)


def memmap_of(X, tmp_path):
    """``X`` saved to a .npy file and opened memory-mapped."""
    np.save(tmp_path / "X.npy", X)
    return np.load(tmp_path / "X.npy", mmap_mode="r")


@pytest.fixture(scope="module")
def blobs():
    """300 Gaussian inliers in 6-D, the first 15 rows shifted far: outliers."""
    X = np.random.RandomState(0).normal(size=(300, 6))
    X[:15] += 5
    labels = np.r_[np.ones(15), np.zeros(285)]
    return X, labels


@pytest.fixture(scope="module")
def detector(blobs):
    return skae.AutoencoderOutlierDetector(random_state=0).fit(blobs[0])


def test_predict_decision_function_and_scores_agree(detector, blobs):
    X, labels = blobs
    scores = detector.score_samples(X)
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    predictions = detector.predict(X)
    assert set(np.unique(predictions)) <= {-1, 1}
    np.testing.assert_array_equal(predictions == -1, detector.decision_function(X) < 0)
    assert roc_auc_score(labels, -scores) > 0.95
    assert np.mean(predictions[:15] == -1) > 0.9 and np.mean(predictions[15:] == 1) > 0.9
    np.testing.assert_allclose(detector.reconstruction_error(X).mean(axis=1), -scores)


def test_a_memmap_is_scored_a_block_at_a_time(detector, blobs, tmp_path, monkeypatch):
    X = blobs[0].astype(np.float32)
    memmapped = memmap_of(X, tmp_path)
    blocks = []
    combined_errors = skae._outliers._combined_errors

    def recording(members, error_scales, kinds, rows):
        blocks.append(len(rows))
        return combined_errors(members, error_scales, kinds, rows)

    monkeypatch.setattr(skae._outliers, "CHUNK_BYTES", 70 * 6 * 8)  # blocks of 70 rows
    monkeypatch.setattr(skae._outliers, "_combined_errors", recording)
    scores = detector.score_samples(memmapped)
    assert blocks == [70, 70, 70, 70, 20]  # never a standardised copy of all rows
    np.testing.assert_allclose(scores, detector.score_samples(X), rtol=1e-6)
    np.testing.assert_array_equal(detector.predict(memmapped), detector.predict(X))
    errors = detector.reconstruction_error(memmapped)
    assert errors.shape == X.shape and errors.dtype == np.float32
    np.testing.assert_allclose(errors.mean(axis=1), -scores, rtol=1e-6)


def test_a_memmap_is_fitted_without_a_standardised_copy(detector, blobs, tmp_path, monkeypatch):
    X = blobs[0].astype(np.float32)
    memmapped = memmap_of(X, tmp_path)
    trained_on = []
    fit_together = skae._outliers.fit_together

    def recording(members, rows, **options):
        trained_on.append(rows)
        return fit_together(members, rows, **options)

    blocks, row_blocks = [], skae._outliers.row_blocks

    def recording_blocks(rows, n_rows, dtype=None):
        for block in row_blocks(rows, n_rows, dtype):
            blocks.append(len(block))
            yield block

    monkeypatch.setattr(skae._outliers, "fit_together", recording)
    monkeypatch.setattr(skae._outliers, "row_blocks", recording_blocks)
    monkeypatch.setattr(skae._outliers, "CHUNK_BYTES", 70 * 6 * 8)  # statistics by 70 rows
    streamed = skae.AutoencoderOutlierDetector(random_state=0).fit(memmapped)
    assert isinstance(trained_on[0], skae._streaming.StandardisedRows)
    assert blocks and max(blocks) == 70  # mean, deviation and scores: never all rows at once
    np.testing.assert_allclose(streamed.center_, blobs[0].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(streamed.scale_, blobs[0].std(axis=0), rtol=1e-6)
    # Streamed, each member sees its rows in another order (skae._streaming), and
    # the wide members mask other features of them: close, not equal.
    close = np.isclose(streamed.score_samples(X), detector.score_samples(X), rtol=0.1)
    assert close.mean() > 0.99
    assert streamed.offset_ == pytest.approx(detector.offset_, rel=0.1)
    assert roc_auc_score(blobs[1], -streamed.score_samples(memmapped)) > 0.99


def test_a_sparse_matrix_is_scored_as_its_dense_rows(blobs):
    X = np.where(np.abs(blobs[0]) < 1, 0.0, blobs[0])  # about a third of the values zero
    matrix = sparse.csr_matrix(X)
    dense = skae.AutoencoderOutlierDetector(random_state=0).fit(X)
    fitted = skae.AutoencoderOutlierDetector(random_state=0).fit(matrix)
    np.testing.assert_allclose(fitted.center_, dense.center_, rtol=1e-6)  # read as float32
    scores = fitted.score_samples(matrix)
    assert scores.dtype == np.float64
    # Streamed, each member sees its rows in another order (skae._streaming), and
    # the wide members mask other features of them: close, not equal.
    np.testing.assert_allclose(scores, dense.score_samples(X), rtol=0.1)
    np.testing.assert_allclose(fitted.score_samples(X), scores, rtol=1e-6)
    assert roc_auc_score(blobs[1], -scores) > 0.99
    assert (fitted.predict(sparse.csc_matrix(X)) == fitted.predict(X)).all()


def test_the_default_members_are_wide_masking_and_narrow_ones_in_turn(detector):
    members = detector.estimators_
    assert all(isinstance(member, skae.DenoisingAutoencoder) for member in members)
    assert [member.noise for member in members] == ["masking"] * 4
    assert [member.noise_level for member in members] == [0.1, 0.0, 0.1, 0.0]
    wide, narrow = members[:2]  # 6 features
    assert (wide.n_components, wide.hidden_layer_sizes) == (6, (64,))
    assert (narrow.n_components, narrow.hidden_layer_sizes) == (1, (3,))


def test_each_member_counts_in_units_of_its_median_training_error(detector, blobs):
    X = blobs[0]
    standardised = (X - detector.center_) / detector.scale_
    errors = [member.reconstruction_error(standardised) for member in detector.estimators_]
    medians = [np.median(member_errors.mean(axis=1)) for member_errors in errors]
    np.testing.assert_allclose(detector.error_scales_, medians)
    assert max(medians) > 2 * min(medians)  # the narrow members' errors are larger
    # Members of a kind are averaged; each row takes the kind with the larger
    # mean error, here the wide kind for some rows and the narrow for others.
    np.testing.assert_array_equal(detector.estimator_kinds_, [0, 1, 0, 1])
    wide = (errors[0] / medians[0] + errors[2] / medians[2]) / 2
    narrow = (errors[1] / medians[1] + errors[3] / medians[3]) / 2
    narrow_is_worse = narrow.mean(axis=1) > wide.mean(axis=1)
    assert 0 < narrow_is_worse.sum() < len(X)
    expected = np.where(narrow_is_worse[:, None], narrow, wide)
    np.testing.assert_allclose(detector.reconstruction_error(X), expected, rtol=1e-6)
    training_scores = -np.maximum(wide.mean(axis=1), narrow.mean(axis=1))
    np.testing.assert_allclose(detector.score_samples(X), training_scores, rtol=1e-6)


def test_members_of_one_given_estimator_are_averaged(blobs):
    X = blobs[0]
    detector = skae.AutoencoderOutlierDetector(SMALL_MEMBER, n_estimators=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
    np.testing.assert_array_equal(detector.estimator_kinds_, [0, 0, 0])
    standardised = (X - detector.center_) / detector.scale_
    expected = np.mean(
        [
            m.reconstruction_error(standardised) / scale
            for m, scale in zip(detector.estimators_, detector.error_scales_)
        ],
        axis=0,
    )
    np.testing.assert_allclose(detector.reconstruction_error(X), expected, rtol=1e-6)


def test_the_narrow_members_catch_shifted_rows_the_wide_ones_restore(detector, blobs):
    # The 15 rows shifted by 5 in every feature are in the training data: the
    # wide members learn to restore them from each other.
    X, labels = blobs
    wide_only = skae.AutoencoderOutlierDetector(wide_masking_autoencoder(6), random_state=0)
    assert roc_auc_score(labels, -wide_only.fit(X).score_samples(X)) < 0.97
    assert roc_auc_score(labels, -detector.score_samples(X)) > 0.99
    assert (detector.predict(X[:15]) == -1).all()


def test_the_wide_members_catch_rows_that_break_how_features_depend():
    # Pairs of features that follow each other; 15 rows break every pair while
    # each value stays in its usual range. A narrow code (3 values for 6
    # factors) reconstructs no row well, so those rows do not stand out.
    rng = np.random.RandomState(0)
    factors = rng.normal(size=(400, 6))
    X = np.repeat(factors, 2, axis=1) + 0.1 * rng.normal(size=(400, 12))
    X[:15, 1::2] = rng.normal(size=(15, 6))
    labels = np.r_[np.ones(15), np.zeros(385)]
    narrow_only = skae.AutoencoderOutlierDetector(narrow_autoencoder(12), random_state=0)
    assert roc_auc_score(labels, -narrow_only.fit(X).score_samples(X)) < 0.7
    detector = skae.AutoencoderOutlierDetector(random_state=0).fit(X)
    assert roc_auc_score(labels, -detector.score_samples(X)) > 0.8
    forest = IsolationForest(random_state=0).fit(X)
    assert roc_auc_score(labels, -forest.score_samples(X)) < 0.7


def test_contamination_auto_is_a_robust_z_score_of_three(detector, blobs):
    scores = detector.score_samples(blobs[0])
    median = np.median(scores)
    mad = np.median(np.abs(scores - median))
    assert detector.offset_ == pytest.approx(median - 3 * 1.4826 * mad)


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.2, 0.5])
def test_contamination_flags_that_share_of_training_rows(blobs, contamination):
    X = blobs[0]
    detector = skae.AutoencoderOutlierDetector(
        SMALL_MEMBER, n_estimators=2, contamination=contamination, random_state=0
    ).fit(X)
    n_flagged = np.sum(detector.predict(X) == -1)
    assert abs(n_flagged - contamination * len(X)) <= 1
    np.testing.assert_array_equal(detector.fit_predict(X), detector.predict(X))


def test_rows_outside_the_training_range_score_lower_not_raise(detector, blobs):
    X = blobs[0][15:]
    scores = [detector.score_samples(X + c).mean() for c in (0.0, 2.0, 8.0)]
    assert scores[0] > scores[1] > scores[2]


def test_clone_pickle_and_pipeline(detector, blobs):
    X = blobs[0]
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(restored.score_samples(X), detector.score_samples(X))
    assert clone(detector).get_params()["random_state"] == 0
    pipe = make_pipeline(
        MinMaxScaler(), skae.AutoencoderOutlierDetector(SMALL_MEMBER, n_estimators=2)
    )
    pipe.set_params(autoencoderoutlierdetector__random_state=0).fit(X)
    assert pipe.predict(X[:20]).shape == (20,)
    assert np.isfinite(pipe.score_samples(X * 3 - 1)).all()  # rows far outside the range


def test_vae_and_convolutional_members(digits):
    X = digits[0][:300]
    for member in (
        skae.VariationalAutoencoder(2, hidden_layer_sizes=(16,), max_iter=3),
        skae.ConvolutionalAutoencoder(2, image_shape=(8, 8), filters=(4,), max_iter=3),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            detector = skae.AutoencoderOutlierDetector(
                member, n_estimators=2, scale=False, random_state=0
            ).fit(X)
        assert np.isfinite(detector.score_samples(digits[1])).all()


def test_members_read_a_memmap_once_per_epoch_together(digits, tmp_path, monkeypatch):
    X = digits[0][:300].astype(np.float32)
    memmapped = memmap_of(X, tmp_path)
    member = skae.Autoencoder(4, hidden_layer_sizes=(16,), max_iter=3, tol=0.0)
    detector = skae.AutoencoderOutlierDetector(member, n_estimators=3, random_state=0)
    passes, memmap_chunks = [], skae._streaming.memmap_chunks

    def counting(X, Y, chunk):
        chunks = memmap_chunks(X, Y, chunk)
        return lambda key: passes.append(1) or chunks(key)

    reads, read = [], skae._streaming.StandardisedRows.read

    def recording(self, rows, dtype):
        reads.append(rows)
        return read(self, rows, dtype)

    monkeypatch.setattr(skae._streaming, "memmap_chunks", counting)
    monkeypatch.setattr(skae._streaming.StandardisedRows, "read", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(memmapped)
    assert len(passes) == 3  # one pass over the file per epoch, not one per member
    assert len(reads) == 1 + 3  # checked once for all members, then the 3 epochs' chunk
    monkeypatch.undo()
    # The first member trains as it would alone; the others on the same chunk order.
    alone = clone(member).set_params(random_state=detector.estimators_[0].random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        alone.fit(skae._streaming.StandardisedRows(memmapped, detector.center_, detector.scale_))
    for ours, theirs in zip(
        jax.tree.leaves(detector.estimators_[0].params_), jax.tree.leaves(alone.params_)
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_rows_read_in_chunks_are_standardised_in_float64(tmp_path):
    rng = np.random.RandomState(0)
    X = 1.6e9 + rng.normal(scale=50.0, size=(200, 3)).round()  # large values, small spread
    integers = memmap_of(X.astype(np.int64), tmp_path)
    in_memory = skae.AutoencoderOutlierDetector(SMALL_MEMBER, n_estimators=2, random_state=0)
    streamed = clone(in_memory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory.fit(X)
        streamed.fit(integers)
        dense = clone(in_memory).fit(X - 1.6e9 + 1e6)  # values of 1e6 in a sparse matrix
        from_sparse = clone(in_memory).fit(sparse.csr_matrix(X - 1.6e9 + 1e6))
    np.testing.assert_allclose(streamed.scale_, in_memory.scale_, rtol=1e-9)
    np.testing.assert_allclose(from_sparse.scale_, dense.scale_, rtol=1e-9)
    scores = streamed.score_samples(integers)  # read in float64, then standardised
    np.testing.assert_allclose(scores, in_memory.score_samples(X), rtol=0.05)


def test_members_diverge_and_stop_early_on_a_memmap_as_in_memory(digits, tmp_path, monkeypatch):
    X = digits[0][:300].astype(np.float32)
    memmapped = memmap_of(X, tmp_path)
    real_run_epochs, calls = _engine.run_epochs, []

    def second_member_diverges_at_epoch_3(config, states, data, n, keys, hyper, shared):
        new, metrics = real_run_epochs(config, states, data, n, keys, hyper, shared)
        calls.append(1)  # one chunk per epoch
        if len(calls) == 3:
            metrics = metrics._replace(finite=metrics.finite.at[1].set(False))
        return new, metrics

    monkeypatch.setattr(_engine, "run_epochs", second_member_diverges_at_epoch_3)
    member = skae.Autoencoder(4, hidden_layer_sizes=(16,), max_iter=6, tol=0.0)
    detector = skae.AutoencoderOutlierDetector(member, n_estimators=3, random_state=0)
    with pytest.warns(UserWarning, match="diverged for 1 of 3 members"):  # not raised
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            detector.fit(memmapped)
    assert [m.n_iter_ for m in detector.estimators_] == [6, 2, 6]
    assert np.isfinite(detector.score_samples(memmapped)).all()
    monkeypatch.undo()

    # Members that hold out validation rows get them: a memmap is then read into memory.
    stopping = skae.Autoencoder(2, hidden_layer_sizes=(8,), early_stopping=True, max_iter=3)
    for rows in (memmapped, sparse.csr_matrix(X)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = skae.AutoencoderOutlierDetector(stopping, n_estimators=2).fit(rows)
        assert all(len(m.validation_scores_) == 3 for m in fitted.estimators_)


def test_members_that_diverged_leave_a_finite_threshold(blobs):
    X = blobs[0].astype(np.float32)
    member = skae.Autoencoder(
        2, hidden_layer_sizes=(4,), max_iter=5, learning_rate_init=100.0, optimizer="sgd"
    )
    detector = skae.AutoencoderOutlierDetector(member, n_estimators=2, random_state=0)
    with pytest.warns(UserWarning, match="diverged"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            detector.fit(X)
    assert np.isfinite(detector.offset_)
    # Their weights exploded in the first epoch: they keep their initial ones,
    # so their scores stay finite in float32.
    assert [m.n_iter_ for m in detector.estimators_] == [0, 0]
    assert np.isfinite(detector.score_samples(X)).all()


def test_errors_beyond_float32_leave_a_finite_threshold_and_raise_when_scored(blobs, monkeypatch):
    # Errors past float32's range (members with huge weights): the threshold
    # comes from float64 errors (each member's over its median), and scoring
    # float32 rows whose scaled errors still pass that range raises a clear
    # error instead of returning infinities.
    member_errors = skae.Autoencoder.reconstruction_error
    monkeypatch.setattr(
        skae.Autoencoder, "reconstruction_error", lambda *args: 1e39 * member_errors(*args)
    )
    errors = skae._outliers._combined_errors
    monkeypatch.setattr(skae._outliers, "_combined_errors", lambda *args: 1e39 * errors(*args))
    X = blobs[0].astype(np.float32)
    detector = skae.AutoencoderOutlierDetector(SMALL_MEMBER, n_estimators=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
    assert np.isfinite(detector.offset_)
    with pytest.raises(ValueError, match="overflow float32"):
        detector.score_samples(X)
    assert np.isfinite(detector.score_samples(X.astype(np.float64))).all()


def test_a_convolutional_member_reads_a_memmap_as_flat_rows(digits, tmp_path):
    X = digits[0][:300].astype(np.float32)
    memmapped = memmap_of(X, tmp_path)
    member = skae.ConvolutionalAutoencoder(2, image_shape=(8, 8), filters=(4,), max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector = skae.AutoencoderOutlierDetector(member, n_estimators=2, random_state=0)
        detector.fit(memmapped)
    assert detector.estimators_[0].image_shape_ == (8, 8, 1)
    assert np.isfinite(detector.score_samples(memmapped)).all()
    rows = skae._streaming.StandardisedRows(memmapped, detector.center_, detector.scale_)
    with pytest.raises(TypeError, match="not one row at a time"):
        np.asarray(rows)  # never read row by row as a sequence


# -------------------------------------------------------------------- ensemble
def test_a_member_trained_in_the_ensemble_ends_as_trained_alone(digits, monkeypatch):
    X = digits[0]
    # On two cores, three members train in two threads of one program: the
    # second part repeats the last member, whose second result is dropped.
    monkeypatch.setattr(skae._ensemble.os, "cpu_count", lambda: 2)
    assert skae._ensemble._parts_for_cores(3) == [[0, 1], [2, 2]]
    assert skae._ensemble._parts_for_cores(5) == [[0, 1, 2], [3, 4, 4]]
    member = skae.Autoencoder(4, hidden_layer_sizes=(16,), max_iter=5, tol=0.0)
    detector = skae.AutoencoderOutlierDetector(member, n_estimators=3, scale=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
        for trained in detector.estimators_:
            alone = clone(trained).fit(X)  # the same random_state, on its own
            for a, b in zip(jax.tree.leaves(trained.params_), jax.tree.leaves(alone.params_)):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
            assert trained.loss_curve_ == pytest.approx(alone.loss_curve_, rel=1e-4)


def test_ensemble_of_eight_is_one_program_and_cheap(digits):
    X = digits[0]
    member = skae.Autoencoder(8, hidden_layer_sizes=(32,), loss="mse", max_iter=20, tol=0.0)
    events = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(event)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clone(member).set_params(random_state=0).fit(X)
        one = time.perf_counter() - start
        jax.monitoring.register_event_duration_secs_listener(listener)
        programs = _engine.run_epochs._cache_size()
        start = time.perf_counter()
        skae.AutoencoderOutlierDetector(member, n_estimators=8, scale=False, random_state=0).fit(X)
        eight = time.perf_counter() - start
    epoch_programs = _engine.run_epochs._cache_size() - programs
    print(f"one member {one:.2f} s, eight members {eight:.2f} s")
    assert epoch_programs == 1  # one program trains an epoch of all eight
    assert eight < 3 * one


def test_early_stopping_and_divergence_are_per_member(digits, monkeypatch):
    X = digits[0]
    member = skae.Autoencoder(
        4, hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=2, tol=1e-3, max_iter=60
    )
    detector = skae.AutoencoderOutlierDetector(member, n_estimators=3, scale=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
    epochs = [m.n_iter_ for m in detector.estimators_]
    assert len(set(epochs)) > 1  # each member stopped when its own score stalled
    for m in detector.estimators_:
        assert m.best_validation_score_ == max(m.validation_scores_)

    # A member that diverges keeps its best epoch; the others train on.
    real_run_epochs = _engine.run_epochs

    def second_member_diverges_at_epoch_3(config, states, data, n, keys, hyper, shared):
        new, metrics = real_run_epochs(config, states, data, n, keys, hyper, shared)
        calls.append(1)
        if len(calls) == 3:
            metrics = metrics._replace(finite=metrics.finite.at[1].set(False))
        return new, metrics

    calls = []
    monkeypatch.setattr(_engine, "run_epochs", second_member_diverges_at_epoch_3)
    monkeypatch.setattr(skae._ensemble.os, "cpu_count", lambda: 1)  # one program call per epoch
    member = skae.Autoencoder(4, hidden_layer_sizes=(16,), max_iter=6, tol=0.0)
    with pytest.warns(UserWarning, match="diverged for 1 of 3 members"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            diverging = skae.AutoencoderOutlierDetector(
                member, n_estimators=3, scale=False, random_state=0
            ).fit(X)
    assert [m.n_iter_ for m in diverging.estimators_] == [6, 2, 6]
    assert np.isfinite(diverging.score_samples(X)).all()
