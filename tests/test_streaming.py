"""Memory-mapped data trains in chunks, never copied whole (skae._streaming)."""

import numpy as np
import pytest

import skae
from skae import _engine, _streaming


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


def test_a_memmap_is_refused_with_early_stopping(memmapped_digits):
    with pytest.raises(ValueError, match="copy a memory-mapped X"):
        skae.Autoencoder(early_stopping=True).fit(memmapped_digits)
