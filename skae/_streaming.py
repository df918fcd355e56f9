"""Training on data larger than memory: an epoch streamed chunk by chunk to the device.

Three sources: a memmap and a ``scipy.sparse`` matrix (:func:`memmap_chunks`;
rows of the kinds in :class:`RowsReadAsFloat32` are converted one chunk at a
time: a sparse matrix's, a memmap of integers', the outlier detector's
standardised rows) and an iterable of chunks (:class:`ChunkStream`, read in
its own order). A NumPy memmap
(``np.load(path, mmap_mode="r")``, ``np.memmap``) is never copied whole: each
epoch visits it in chunks of consecutive rows, in a new random order of
chunks, and runs :func:`skae._engine.run_epoch` on each chunk, which shuffles
the chunk's rows on the device. So what is shuffled is the order of the
chunks and the rows within each; rows of different chunks never share a
minibatch. With chunks of tens of thousands of rows, as here, that mixes well
unless the file is sorted (by label, by time): shuffle such a file once
before training.

Only a few chunks live in memory at once: the one the device trains on, the
next one, which the host prepares meanwhile (JAX dispatches asynchronously),
and no more: before preparing a chunk the loop waits for the one two places
back. Chunks whose number of batches rounds up to the same power of two
share one compiled program.
"""

import mmap
from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np
from scipy import sparse

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


class RowsReadAsFloat32:
    """Rows that the fit and inference code read as it reads a memmap's.

    A slice of rows (``X[start:stop]``) comes back as a dense float32 array, so
    that only a chunk is ever converted (``read(rows, dtype)`` reads it in
    another dtype); an array of row indices (a validation split) selects rows
    and keeps their kind. ``dtype`` is that of the results. A single row index
    is refused, so that NumPy cannot read these rows one by one as a sequence
    (``np.asarray`` on them raises instead). ``extremes``, once checked, holds
    each feature's minimum and maximum (``skae._validation``).
    """

    extremes = None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows):
        if isinstance(rows, slice):
            return self.read(rows, np.float32)
        if np.ndim(rows) == 0:
            raise TypeError(
                f"{type(self).__name__} is read by slices of rows or arrays of row indices, "
                "not one row at a time."
            )
        return self._like(self._source[rows])

    def _like(self, source):
        """Rows of this kind read from ``source``."""
        return type(self)(source)


class SparseRows(RowsReadAsFloat32):
    """A ``scipy.sparse`` matrix of rows, densified a slice at a time."""

    def __init__(self, matrix):
        # ``dtype`` is the source's, which results come back in, as for dense X.
        self.dtype = matrix.dtype if matrix.dtype == np.float64 else np.dtype(np.float32)
        self.matrix = self._source = sparse.csr_matrix(matrix, dtype=self.dtype)
        self.shape, self.ndim = self.matrix.shape, 2

    def read(self, rows: slice, dtype):
        return self.matrix[rows].toarray().astype(dtype, copy=False)


class IntegerRows(RowsReadAsFloat32):
    """A memory-mapped array of integers (``uint8`` pixels...), converted a slice at a time.

    NumPy would convert the whole file to float64 (eight bytes per ``uint8``
    value) before any check. Results come back in float64, as scikit-learn
    returns them for integer input.
    """

    dtype = np.dtype(np.float64)

    def __init__(self, array):
        self._source = array
        self.shape, self.ndim = array.shape, array.ndim

    def read(self, rows: slice, dtype):
        return np.asarray(self._source[rows], dtype=dtype)


class StandardisedRows(RowsReadAsFloat32):
    """Rows standardised as they are read, ``(X - center) / scale``, a slice at a time.

    ``X`` is an array, a memmap or other :class:`RowsReadAsFloat32`; no
    standardised copy of it is ever made whole. The outlier detector trains
    its members on these when X is read a chunk at a time (a memmap, a sparse
    matrix).
    """

    def __init__(self, rows, center: np.ndarray, scale: np.ndarray):
        self._source, self.center, self.scale = rows, center, scale
        self.dtype = np.dtype(np.float64 if rows.dtype == np.float64 else np.float32)
        self.shape, self.ndim = rows.shape, rows.ndim

    def _like(self, source):
        return type(self)(source, self.center, self.scale)

    def read(self, rows: slice, dtype):
        block = read_rows(self._source, rows, np.float64)
        return ((block - self.center) / self.scale).astype(dtype, copy=False)


def read_rows(X, rows: slice, dtype) -> np.ndarray:
    """``X[rows]`` as a dense array of ``dtype``: an array's, a memmap's or a
    :class:`RowsReadAsFloat32`'s rows (read in ``dtype``, not through float32)."""
    if isinstance(X, RowsReadAsFloat32):
        return X.read(rows, dtype)
    return np.asarray(X[rows], dtype=dtype)


def reads_in_chunks(X) -> bool:
    """True for data the host reads a chunk at a time: a memmap or :class:`RowsReadAsFloat32`."""
    return isinstance(X, RowsReadAsFloat32) or is_memory_mapped(X)


def reads_a_file(X) -> bool:
    """True when reading rows of ``X`` reads a file: a memmap, or rows made from one."""
    if isinstance(X, RowsReadAsFloat32):
        return reads_a_file(X._source)
    return is_memory_mapped(X)


def is_integer_memmap(X) -> bool:
    """True for a memory-mapped array of integers or booleans, which :class:`IntegerRows` reads."""
    return is_memory_mapped(X) and np.dtype(X.dtype).kind in "biu"


def row_blocks(X, rows: int, dtype=None):
    """``X[0:rows]``, ``X[rows:2 * rows]``, ...: consecutive blocks of ``rows`` rows.

    With ``dtype``, each block is a dense array of that dtype (:func:`read_rows`).
    """
    starts = range(0, len(X), rows)
    if dtype is None:
        return (X[start : start + rows] for start in starts)
    return (read_rows(X, slice(start, start + rows), dtype) for start in starts)


def chunk_rows(n_features: int, batch_size: int) -> int:
    """Rows per chunk: at most about :data:`CHUNK_BYTES`, a power of two of batches.

    A power of two, because a stream's epoch layout rounds the number of
    batches up to one (``skae._engine.epoch_layout``): a chunk fills its program.
    """
    batches = max(1, CHUNK_BYTES // (4 * max(n_features, 1) * batch_size))
    return batch_size << (batches.bit_length() - 1)


def memmap_chunks(X, Y, chunk: int):
    """``chunks(key)``: ``(X rows, Y rows or None)`` of consecutive rows, in a random order."""
    starts = np.arange(0, len(X), chunk)

    def chunks(key):
        for index in np.asarray(jax.random.permutation(key, len(starts))):
            rows = slice(int(starts[index]), int(starts[index]) + chunk)
            yield X[rows], None if Y is None else Y[rows]

    return chunks


def is_chunk_stream(X) -> bool:
    """True for an iterable of chunks: iterable, and not array-like (lists are data)."""
    return (
        isinstance(X, Iterable)
        and not isinstance(X, str | bytes | list | tuple | dict | np.ndarray)
        and not hasattr(X, "__array__")
        and not hasattr(X, "shape")
        and not sparse.issparse(X)
    )


class ChunkStream:
    """A re-iterable of 2-D arrays (chunks of rows of any sizes), checked by one pass.

    ``check(chunk, first)`` validates a chunk and returns ``(float32 rows,
    per-feature minimum, per-feature maximum)``. The pass records the number
    of rows and each feature's range; training then iterates the source once
    per epoch, in its own order, checking each chunk again.
    """

    def __init__(self, source, check):
        if iter(source) is source:
            raise TypeError(
                "X is an iterator (such as a generator), which yields its chunks only once; "
                "training reads them once to check them and once per epoch. Pass an object "
                "whose __iter__ starts over, such as a class whose __iter__ yields the chunks."
            )
        self.source, self._check = source, check
        self.n_rows, self.data_min, self.data_max = 0, None, None
        for rows, low, high in self._checked():
            self.n_rows += len(rows)
            first = self.data_min is None
            self.data_min = low if first else np.minimum(self.data_min, low)
            self.data_max = high if first else np.maximum(self.data_max, high)
        if not self.n_rows:
            raise ValueError("The iterable of chunks yielded no rows.")

    def __len__(self) -> int:
        return self.n_rows

    def _checked(self):
        for position, chunk in enumerate(self.source):
            yield self._check(chunk, position == 0 and self.data_min is None)

    def chunks(self, key):
        """``(rows, None)`` per chunk, in the source's order (``key`` is not used)."""
        n_rows = 0
        for rows, _, _ in self._checked():
            n_rows += len(rows)
            yield rows, None
        if n_rows != self.n_rows:
            raise ValueError(
                f"The iterable of chunks yielded {n_rows} rows in this epoch and "
                f"{self.n_rows} when it was first read: it must yield the same chunks each time."
            )


class InferenceChunks:
    """An iterable of chunks read once for inference, each chunk checked as an array is.

    :meth:`blocks` yields the checked chunks' rows in blocks of at most
    ``rows`` rows; after the pass, ``len()`` is the number of rows read and
    ``dtype`` the chunks' common float type, in which results come back.
    """

    def __init__(self, source, check):
        self.source, self._check = source, check
        self.n_rows, self.dtype = 0, np.dtype(np.float32)

    def __len__(self) -> int:
        return self.n_rows

    def blocks(self, rows: int):
        for chunk in self.source:
            X = self._check(chunk)
            self.dtype = np.result_type(self.dtype, X.dtype)
            for block in row_blocks(X, rows):
                self.n_rows += len(block)
                yield block
        if not self.n_rows:
            raise ValueError("The iterable of chunks yielded no rows.")


def streamed_epoch(config_for, pad, chunks, n_samples: int, hyper, n_members=None):
    """``epoch(state, key) -> (state, EpochMetrics)`` over ``chunks(key)``, chunk by chunk.

    Parameters
    ----------
    config_for : callable
        ``config_for(n_rows) -> EpochConfig`` for a chunk of ``n_rows`` rows.
    pad : callable
        ``pad(rows, n_rows)``: host rows as a float32 device array of ``n_rows`` rows.
    chunks : callable
        ``chunks(key)`` yields ``(X rows, Y rows or None)`` for one epoch.
    n_samples : int
        Rows per epoch.
    hyper : dict of scalar arrays
    n_members : int, optional
        Train that many models of one architecture, stacked (an ensemble, see
        :func:`skae._engine.run_epochs`): ``state``, ``key`` and the values of
        ``hyper`` have one entry per model. All train on each chunk as it is
        read, in the order of chunks the first model's key draws, so the file
        is read once per epoch and the first model trains as it would alone;
        each model shuffles a chunk's rows by its own key.
    """
    shape = () if n_members is None else (n_members,)

    def epoch(state, key):
        if n_members is None:
            order_key, chunk_key = jax.random.split(key)
        else:
            order_key = jax.random.split(key[0])[0]
            chunk_key = jax.vmap(lambda member_key: jax.random.split(member_key)[1])(key)
        loss_sum, finite, in_flight = jnp.zeros(shape, jnp.float32), jnp.ones(shape, bool), []
        for position, (X_rows, Y_rows) in enumerate(chunks(order_key)):
            n_rows = len(X_rows)
            config = config_for(n_rows)
            padded = config.batch_size * config.n_batches
            data = (pad(X_rows, padded), None if Y_rows is None else pad(Y_rows, padded))
            rows = jnp.full(shape, n_rows, jnp.int32)
            if n_members is None:
                keys = jax.random.fold_in(chunk_key, position)
                state, metrics = _engine.run_epoch(config, state, data, rows, keys, hyper)
            else:
                keys = jax.vmap(jax.random.fold_in, (0, None))(chunk_key, position)
                state, metrics = _engine.run_epochs(config, state, data, rows, keys, hyper, True)
            loss_sum = loss_sum + metrics.loss * n_rows
            finite = finite & metrics.finite
            in_flight.append(metrics.loss)
            if len(in_flight) > 1:  # at most two chunks on the device at once
                jax.block_until_ready(in_flight.pop(0))
        return state, _engine.EpochMetrics(loss_sum / n_samples, finite)

    return epoch
