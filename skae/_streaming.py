"""Training on data larger than memory: an epoch streamed chunk by chunk to the device.

A NumPy memmap (``np.load(path, mmap_mode="r")``, ``np.memmap``) is never
copied whole: each epoch visits it in chunks of consecutive rows, in a new
random order of chunks, and runs :func:`skae._engine.run_epoch` on each chunk,
which shuffles the chunk's rows on the device. So what is shuffled is the
order of the chunks and the rows within each; rows of different chunks never
share a minibatch. With chunks of tens of thousands of rows, as here, that
mixes well unless the file is sorted (by label, by time): shuffle such a file
once before training.

Only a few chunks live in memory at once: the one the device trains on, the
next one, which the host prepares meanwhile (JAX dispatches asynchronously),
and no more: before preparing a chunk the loop waits for the one two places
back. Full chunks share one compiled program; the last, shorter one has its
own.
"""

import mmap

import jax
import jax.numpy as jnp
import numpy as np

from . import _engine

# Rows per chunk: about this many bytes of float32 per chunk.
CHUNK_BYTES = 64 * 2**20


def is_memory_mapped(X) -> bool:
    """True when ``X`` is (a view of) a memory-mapped file."""
    while X is not None:
        if isinstance(X, np.memmap | mmap.mmap):
            return True
        X = getattr(X, "base", None)
    return False


def chunk_rows(n_features: int, batch_size: int) -> int:
    """Rows per chunk: at most about :data:`CHUNK_BYTES`, a power of two of batches.

    A power of two, because a stream's epoch layout rounds the number of
    batches up to one (``skae._engine.epoch_layout``): a chunk fills its program.
    """
    batches = max(1, CHUNK_BYTES // (4 * max(n_features, 1) * batch_size))
    return batch_size << (batches.bit_length() - 1)


def streamed_epoch(config_for, pad, X, Y, hyper, chunk: int):
    """``epoch(state, key) -> (state, EpochMetrics)`` over ``X`` (and ``Y``) in chunks.

    Parameters
    ----------
    config_for : callable
        ``config_for(n_rows) -> EpochConfig`` for a chunk of ``n_rows`` rows.
    pad : callable
        ``pad(rows, n_rows)``: host rows as a float32 device array of ``n_rows`` rows.
    X, Y : array-like
        Inputs, and targets or None; sliced, never copied whole.
    hyper : dict of scalar arrays
    chunk : int
        Rows per chunk.
    """
    n_samples = len(X)
    starts = np.arange(0, n_samples, chunk)

    def epoch(state, key):
        order_key, chunk_key = jax.random.split(key)
        order = np.asarray(jax.random.permutation(order_key, len(starts)))
        loss_sum, finite, in_flight = jnp.zeros((), jnp.float32), jnp.ones((), bool), []
        for position, index in enumerate(order):
            rows = slice(int(starts[index]), int(starts[index]) + chunk)
            n_rows = len(X[rows])
            config = config_for(n_rows)
            padded = config.batch_size * config.n_batches
            data = (pad(X[rows], padded), None if Y is None else pad(Y[rows], padded))
            state, metrics = _engine.run_epoch(
                config,
                state,
                data,
                jnp.asarray(n_rows, jnp.int32),
                jax.random.fold_in(chunk_key, position),
                hyper,
            )
            loss_sum = loss_sum + metrics.loss * n_rows
            finite = finite & metrics.finite
            in_flight.append(metrics.loss)
            if len(in_flight) > 1:  # at most two chunks on the device at once
                jax.block_until_ready(in_flight.pop(0))
        return state, _engine.EpochMetrics(loss_sum / n_samples, finite)

    return epoch
