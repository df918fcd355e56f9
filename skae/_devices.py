"""Data parallelism over several devices, on ``jax.sharding``.

Training on several devices splits each minibatch over them and keeps a copy
of the weights on each: the mesh has one axis, ``"batch"``. The data set and
the training state are replicated on every device, each device gathers its
part of the (globally shuffled) minibatch from its own copy, and XLA's SPMD
partitioner sums the gradients across devices (an all-reduce) before the
optimizer's update, which every device then applies to its copy. The
minibatches, the shuffle and so the result are those of training on one
device, up to the order of floating-point sums.
"""

from numbers import Integral

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

BATCH_AXIS = "batch"


def resolve_devices(devices) -> tuple:
    """The devices a fit trains on: ``()`` for JAX's default device.

    ``devices`` is None (the default device), ``"auto"`` (every device of the
    default backend), an int ``k`` (its first ``k``) or a list of device ids
    (``jax.Device.id``) or devices. A single device that is the default one
    counts as None.
    """
    if devices is None:
        return ()
    available = jax.devices()
    if isinstance(devices, str):  # "auto", the only string the parameter checks let through
        chosen = tuple(available)
    elif isinstance(devices, Integral):
        if devices > len(available):
            raise ValueError(
                f"devices={devices} asks for more devices than the {len(available)} "
                f"{available[0].platform} device(s) JAX sees."
            )
        chosen = tuple(available[:devices])
    else:
        by_id = {device.id: device for device in available}
        chosen = tuple(by_id.get(device, device) for device in devices)
        wrong = [device for device in chosen if not isinstance(device, jax.Device)]
        if wrong or not chosen:
            raise TypeError(
                "devices must be None, 'auto', a number of devices, or a non-empty list of "
                f"device ids (of {sorted(by_id)}) or jax.Device; got {devices!r}."
            )
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"devices lists a device more than once: {devices!r}.")
    return () if chosen == (available[0],) else chosen


def batch_mesh(devices) -> Mesh | None:
    """A one-axis mesh over ``devices`` (the result of :func:`resolve_devices`), or None.

    The devices of each process sit side by side, in process order, so that a
    process's rows form one block of a batch split over several processes
    (see ``skae._multihost``).
    """
    if not devices:
        return None
    return Mesh(np.array(sorted(devices, key=lambda d: d.process_index)), (BATCH_AXIS,))


def replicate(tree, mesh: Mesh):
    """``tree`` with a copy of every array on each device of ``mesh``."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def split_batch(tree, mesh: Mesh):
    """Inside a jitted function: lay ``tree``'s arrays out split by rows over ``mesh``."""
    return jax.lax.with_sharding_constraint(tree, NamedSharding(mesh, PartitionSpec(BATCH_AXIS)))


def rows_per_device_multiple(rows: int, mesh: Mesh | None) -> int:
    """``rows`` rounded up to a multiple of the number of devices (padding rows are masked)."""
    if mesh is None:
        return rows
    return -(-rows // mesh.size) * mesh.size
