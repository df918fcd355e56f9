"""Training on several processes (hosts) at once, each holding its own rows.

After ``jax.distributed.initialize`` every process sees the devices of all
processes, and an estimator with ``devices="auto"`` trains one model on all of
them. Each process calls ``fit`` with its own rows (its shard of the data set).
The processes first agree on what a fit reads from the whole data set: the
number of rows of each process, the range of each feature and the seed. The
training data then becomes one global array split by rows: process ``p``'s
rows, padded to the largest shard, fill the ``p``-th block of rows, on that
process's devices. The epoch program is the one-host program of
``skae._devices``: it shuffles the real rows of all blocks together (the same
key on every process), and each step gathers its minibatch from the devices
that hold the rows. So the result is that of one host training on the shards
put end to end, up to the order of floating-point sums, and every process ends
with the same weights.
"""

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding, PartitionSpec

from ._devices import BATCH_AXIS


def spans_processes(mesh) -> bool:
    """True when ``mesh`` (or None) holds devices of more than one process."""
    return mesh is not None and len({d.process_index for d in mesh.devices.flat}) > 1


def agree(n_rows: int, n_features: int, data_min, data_max, target_range, seed: int):
    """What a fit reads from the whole data set, the same on every process.

    Parameters
    ----------
    n_rows, n_features : int
        The shape of this process's rows.
    data_min, data_max : ndarray of shape (n_features,)
        The range of each feature over this process's rows.
    target_range : tuple of float
        ``(low, high)`` of this process's targets.
    seed : int
        This process's seed; process 0's is used by all.

    Returns
    -------
    rows_per_process : tuple of int
    data_min, data_max : ndarray
    target_range : tuple of float
    seed : int
    """
    shapes = multihost_utils.process_allgather(np.array([n_rows, n_features], np.int32))
    if len(set(shapes[:, 1].tolist())) > 1:
        raise ValueError(
            "Every process must pass rows with the same number of features; got "
            f"{shapes[:, 1].tolist()} features on processes 0 to {len(shapes) - 1}."
        )
    # One gather for all the statistics: [min per feature, max per feature, low, high].
    local = np.concatenate([data_min, data_max, target_range]).astype(np.float32)
    gathered = multihost_utils.process_allgather(local)
    data_min = gathered[:, :n_features].min(axis=0)
    data_max = gathered[:, n_features : 2 * n_features].max(axis=0)
    target_range = (float(gathered[:, -2].min()), float(gathered[:, -1].max()))
    seed = int(multihost_utils.broadcast_one_to_all(np.int32(seed)))
    return tuple(shapes[:, 0].tolist()), data_min, data_max, target_range, seed


def mean_and_std(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and standard deviation over the rows of every process."""
    counts = multihost_utils.process_allgather(np.array(len(rows), np.float32))
    means = multihost_utils.process_allgather(rows.mean(axis=0, dtype=np.float32))
    mean = (counts[:, None] * means).sum(axis=0) / counts.sum()
    squares = multihost_utils.process_allgather(np.square(rows - mean).sum(axis=0))
    return mean, np.sqrt(squares.sum(axis=0) / counts.sum())


def global_rows(local_rows: np.ndarray, mesh, n_rows: int) -> jax.Array:
    """This process's rows as its block of a global ``n_rows``-row array split over ``mesh``.

    The block (``n_rows`` over the number of processes) is this process's rows
    followed by zero padding.
    """
    block = n_rows // jax.process_count()
    padded = np.zeros((block, *local_rows.shape[1:]), np.float32)
    padded[: len(local_rows)] = local_rows
    sharding = NamedSharding(mesh, PartitionSpec(BATCH_AXIS))
    return jax.make_array_from_process_local_data(sharding, padded, (n_rows, *padded.shape[1:]))


def local_copy(tree):
    """``tree`` with arrays replicated over several processes replaced by this process's copy."""

    def local(leaf):
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            return leaf.addressable_data(0)
        return leaf

    return jax.tree.map(local, tree)
