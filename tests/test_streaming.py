"""Memory-mapped data trains in chunks, never copied whole (skae._streaming)."""

import jax
import numpy as np
import pytest

import skae
from skae import _engine, _streaming
from skae._validation import check_finite_float32


@pytest.fixture
def memmapped_digits(digits, tmp_path, monkeypatch):
    """Training digits, twice, in a .npy opened with mmap_mode; chunks of 400 rows."""
    monkeypatch.setattr(_streaming, "CHUNK_BYTES", 500 * 64 * 4)  # 2 batches of 200
    path = tmp_path / "digits.npy"
    np.save(path, np.tile(digits[0], (2, 1)).astype(np.float32))
    return np.load(path, mmap_mode="r")


def test_a_memmap_trains_chunk_by_chunk(memmapped_digits, digits, monkeypatch):
    chunks_seen = []
    run_epoch = _engine.run_epoch

    def recording(config, state, data, n_samples, key, hyper):
        chunks_seen.append(int(n_samples))
        return run_epoch(config, state, data, n_samples, key, hyper)

    monkeypatch.setattr(_engine, "run_epoch", recording)
    streamed = skae.Autoencoder(max_iter=3, random_state=0).fit(memmapped_digits)
    n_rows = len(memmapped_digits)
    sizes = sorted([400] * (n_rows // 400) + [n_rows % 400])
    n_chunks = len(sizes)
    epochs = [chunks_seen[i : i + n_chunks] for i in range(0, 3 * n_chunks, n_chunks)]
    assert len(chunks_seen) == 3 * n_chunks and all(sorted(epoch) == sizes for epoch in epochs)
    assert len({tuple(epoch) for epoch in epochs}) > 1  # the chunks' order changes
    # It learns as well as training on the rows in memory (same data, other minibatches).
    in_memory = skae.Autoencoder(max_iter=3, random_state=0).fit(np.array(memmapped_digits))
    np.testing.assert_allclose(streamed.loss_curve_, in_memory.loss_curve_, rtol=0.02)
    np.testing.assert_allclose(streamed.score(digits[1]), in_memory.score(digits[1]), rtol=0.05)
    np.testing.assert_array_equal(streamed.data_max_, in_memory.data_max_)
    # partial_fit streams one epoch; transform and scores read it in chunks too.
    before = len(chunks_seen)
    streamed.partial_fit(memmapped_digits)
    assert streamed.n_iter_ == 4 and len(chunks_seen) == before + n_chunks
    assert streamed.transform(memmapped_digits).shape == (len(memmapped_digits), 8)


def test_a_float32_memmap_is_checked_on_the_host(memmapped_digits, monkeypatch):
    # Checking an array on an accelerator puts it on the device: a memmap must stay a memmap.
    with monkeypatch.context() as patched:
        patched.setattr(jax, "default_backend", lambda: "gpu")
        checked, low, high = check_finite_float32(memmapped_digits, "Autoencoder", per_feature=True)
    assert checked is memmapped_digits
    np.testing.assert_array_equal(low, np.min(memmapped_digits, axis=0))
    np.testing.assert_array_equal(high, np.max(memmapped_digits, axis=0))


def test_a_float64_memmap_streams_too(memmapped_digits, tmp_path, monkeypatch):
    path = tmp_path / "digits64.npy"
    np.save(path, np.asarray(memmapped_digits, dtype=np.float64))
    X64 = np.load(path, mmap_mode="r")
    streamed = []
    memmap_chunks = _streaming.memmap_chunks

    def recording(X, *args):
        streamed.append(_streaming.is_memory_mapped(X))
        return memmap_chunks(X, *args)

    monkeypatch.setattr(_streaming, "memmap_chunks", recording)
    from_64 = skae.Autoencoder(max_iter=2, random_state=0).fit(X64)
    from_32 = skae.Autoencoder(max_iter=2, random_state=0).fit(memmapped_digits)
    assert streamed == [True, True]  # never converted whole: streamed like the float32 file
    for a, b in zip(jax.tree.leaves(from_64.params_), jax.tree.leaves(from_32.params_)):
        np.testing.assert_array_equal(a, b)
    assert from_64.transform(X64).dtype == np.float64
    np.testing.assert_allclose(from_64.score_samples(X64), from_32.score_samples(memmapped_digits))


def test_an_integer_memmap_is_converted_chunk_by_chunk(memmapped_digits, tmp_path, monkeypatch):
    # uint8 pixels, as images are stored: never converted to float64 whole.
    pixels = np.rint(np.asarray(memmapped_digits) * 16).astype(np.uint8)  # 0..16
    np.save(tmp_path / "digits_uint8.npy", pixels)
    np.save(tmp_path / "digits_float32.npy", pixels.astype(np.float32))
    X8 = np.load(tmp_path / "digits_uint8.npy", mmap_mode="r")
    X32 = np.load(tmp_path / "digits_float32.npy", mmap_mode="r")
    read = []
    getitem = _streaming.IntegerRows.__getitem__

    def recording(self, rows):
        result = getitem(self, rows)
        if isinstance(result, np.ndarray):
            read.append(result.shape)
        return result

    monkeypatch.setattr(_streaming.IntegerRows, "__getitem__", recording)
    monkeypatch.setattr(skae._base, "inference_rows", lambda width: 256)
    monkeypatch.setattr(skae._validation, "CHUNK_BYTES", _streaming.CHUNK_BYTES)
    from_uint8 = skae.Autoencoder(max_iter=2, random_state=0).fit(X8)
    assert read and max(rows for rows, _ in read) <= 400  # checked, then trained, by chunks
    from_32 = skae.Autoencoder(max_iter=2, random_state=0).fit(X32)
    for a, b in zip(jax.tree.leaves(from_uint8.params_), jax.tree.leaves(from_32.params_)):
        np.testing.assert_array_equal(a, b)
    assert from_uint8.n_features_in_ == 64 and from_uint8.data_max_.max() == 16
    read.clear()
    codes = from_uint8.transform(X8)
    assert max(rows for rows, _ in read) == 256
    assert codes.dtype == np.float64  # as scikit-learn returns results for integer X
    np.testing.assert_allclose(codes, from_32.transform(X32), rtol=1e-6)
    np.testing.assert_allclose(from_uint8.score_samples(X8), from_32.score_samples(X32), rtol=1e-6)
    # Images as a (n, 8, 8) uint8 file train the convolutional model the same way.
    images = tmp_path / "images_uint8.npy"
    np.save(images, np.asarray(X8).reshape(-1, 8, 8))
    conv = skae.ConvolutionalAutoencoder(max_iter=1, random_state=0)
    assert conv.fit(np.load(images, mmap_mode="r")).image_shape_ == (8, 8, 1)
    with pytest.raises(ValueError, match="early_stopping"):
        skae.Autoencoder(early_stopping=True).fit(X8)


def test_sparse_input_is_densified_chunk_by_chunk(memmapped_digits, digits, monkeypatch):
    from scipy import sparse

    densified = []
    getitem = _streaming.SparseRows.__getitem__

    def recording(self, rows):
        result = getitem(self, rows)
        if isinstance(result, np.ndarray):
            densified.append(len(result))
        return result

    monkeypatch.setattr(_streaming.SparseRows, "__getitem__", recording)
    monkeypatch.setattr(skae._base, "inference_rows", lambda width: 256)
    X = sparse.csr_matrix(memmapped_digits)  # mostly zeros, as sparse data is
    from_sparse = skae.Autoencoder(max_iter=2, random_state=0).fit(X)
    assert densified and max(densified) == 400  # one chunk of the memmap's size at a time
    # The same model as from the same rows in a memmap, which streams the same chunks.
    from_memmap = skae.Autoencoder(max_iter=2, random_state=0).fit(memmapped_digits)
    for a, b in zip(jax.tree.leaves(from_sparse.params_), jax.tree.leaves(from_memmap.params_)):
        np.testing.assert_array_equal(a, b)
    densified.clear()
    for method in ("transform", "score_samples", "reconstruction_error"):
        np.testing.assert_allclose(
            getattr(from_sparse, method)(X), getattr(from_memmap, method)(memmapped_digits)
        )
    assert max(densified) == 256
    assert from_sparse.transform(X.astype(np.float64)).dtype == np.float64
    # Early stopping's held-out rows stay sparse; a regressor takes sparse X too.
    regressor = skae.AutoencoderRegressor(max_iter=3, early_stopping=True, random_state=0)
    regressor.fit(X, memmapped_digits[:, :3])
    assert regressor.predict(sparse.csc_matrix(X[:5])).shape == (5, 3)


def test_a_memmap_is_refused_with_early_stopping(memmapped_digits):
    with pytest.raises(ValueError, match="copy a memory-mapped X"):
        skae.Autoencoder(early_stopping=True).fit(memmapped_digits)


class Chunks:
    """The documented protocol: an object whose ``__iter__`` yields the chunks anew."""

    def __init__(self, X, sizes):
        self.X, self.sizes = X, sizes

    def __iter__(self):
        start = 0
        for size in self.sizes:
            yield self.X[start : start + size]
            start += size


def test_an_iterable_of_chunks_of_any_sizes_trains_one_epoch_per_pass(digits, monkeypatch):
    X = digits[0]
    sizes = [300, 451, 123, len(X) - 874]
    calls = []
    run_epoch = _engine.run_epoch

    def recording(config, state, data, n_samples, key, hyper):
        calls.append((int(n_samples), config.batch_size * config.n_batches))
        return run_epoch(config, state, data, n_samples, key, hyper)

    monkeypatch.setattr(_engine, "run_epoch", recording)
    streamed = skae.Autoencoder(max_iter=4, random_state=0).fit(Chunks(X, sizes))
    # Each epoch visits the chunks in their order; the sizes round up to 1, 2 or
    # 4 batches of 200 rows (a power of two): three programs for four sizes.
    assert [n for n, _ in calls] == sizes * 4
    assert {padded for _, padded in calls} == {200, 400, 800}
    assert streamed.n_features_in_ == 64 and streamed.n_iter_ == 4
    np.testing.assert_array_equal(streamed.data_min_, X.min(axis=0))
    in_memory = skae.Autoencoder(max_iter=4, random_state=0).fit(X)
    np.testing.assert_allclose(streamed.score(digits[1]), in_memory.score(digits[1]), rtol=0.1)


def test_bad_streams_get_clear_errors(digits):
    X = digits[0]
    with pytest.raises(TypeError, match="iterator"):
        skae.Autoencoder(max_iter=2).fit(chunk for chunk in (X[:100], X[100:]))
    with pytest.raises(TypeError, match="not an iterable of chunks"):
        skae.AutoencoderRegressor(max_iter=2).fit(Chunks(X, [100, 100]), X[:200, :3])
    with_nan = X[:100].copy()
    with_nan[5, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        skae.Autoencoder(max_iter=2).fit(Chunks(np.vstack([X[:100], with_nan]), [100, 100]))
    narrow = Chunks(X[:, :10], [100])
    with pytest.raises(ValueError, match="features"):
        skae.Autoencoder(max_iter=2).fit(X[:100]).partial_fit(narrow)

    class Shrinking(Chunks):
        def __iter__(self):
            yield from super().__iter__()
            self.sizes = self.sizes[:-1]  # the next pass yields fewer rows

    with pytest.raises(ValueError, match="same chunks"):
        skae.Autoencoder(max_iter=2).fit(Shrinking(X, [100, 100, 100]))


def test_inference_reads_any_iterable_of_chunks_once(digits):
    X = digits[0]
    model = skae.Autoencoder(max_iter=2, random_state=0).fit(X)
    regressor = skae.AutoencoderRegressor(max_iter=2, random_state=0).fit(X, X[:, :3])

    def chunks(dtype=np.float64):  # a generator: read once, rows of any number
        return (X[start : start + 300].astype(dtype) for start in range(0, len(X), 300))

    np.testing.assert_array_equal(model.transform(chunks()), model.transform(X))
    np.testing.assert_array_equal(model.score_samples(chunks()), model.score_samples(X))
    np.testing.assert_array_equal(regressor.predict(chunks()), regressor.predict(X))
    assert model.transform(chunks(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="no rows"):
        model.transform(iter([]))
    with pytest.raises(ValueError, match="64 features"):
        model.transform(iter([X[:5, :10]]))
