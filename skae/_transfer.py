"""Starting a model from another one's trained layers (transfer learning).

The estimators' ``init_weights`` takes a fitted skae estimator (inside
scikit-learn's ``FrozenEstimator``, so that ``clone`` keeps it fitted) or its
weights (a ``params_`` dict); ``init_layers`` says which layers to copy and
``freeze`` whether they then stay fixed while the others train.
"""

from collections.abc import Mapping

import jax
import numpy as np
from flax import nnx
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator


def source_weights(init_weights) -> Mapping:
    """The weights (a ``params_``-shaped dict) that ``init_weights`` stands for."""
    if isinstance(init_weights, FrozenEstimator):
        init_weights = init_weights.estimator
    if isinstance(init_weights, Mapping):
        return init_weights
    if hasattr(init_weights, "fit"):
        if not hasattr(init_weights, "params_"):
            raise NotFittedError(
                f"init_weights is an unfitted {type(init_weights).__name__}. clone() (and "
                "so every GridSearchCV or cross_val_score fold) turns a fitted estimator "
                "given as a parameter into an unfitted copy: wrap it in "
                "sklearn.frozen.FrozenEstimator, or pass its params_."
            )
        return init_weights.params_
    raise TypeError(
        "init_weights must be a fitted skae estimator (wrap it in "
        "sklearn.frozen.FrozenEstimator so that clone keeps it fitted) or its params_ "
        f"dict; got {type(init_weights).__name__}."
    )


def transfer(params: nnx.State, source: Mapping, parts: tuple[str, ...] | None):
    """``(params with the layers ``parts`` taken from ``source``, the parts copied)``.

    ``parts`` are top-level names of the model's weights (``"encoder"``...);
    None copies every layer. A part the model has but ``source`` lacks, or whose
    weights differ in structure or shape, raises a ValueError naming it.
    """
    target = nnx.to_pure_dict(params)
    names = tuple(target) if parts is None else tuple(name for name in parts if name in target)
    # The encoder's layers first: they are the ones init_layers="encoder" meets.
    names = tuple(sorted(names, key=lambda name: "decoder" in name))
    missing = [name for name in names if name not in source]
    if missing:
        raise ValueError(
            f"init_weights has no layers {', '.join(map(repr, missing))} to start from; "
            f"it has {sorted(map(str, source))}."
        )
    differences = [
        difference
        for name in names
        for difference in _differences(name, target[name], source[name])
    ]
    if differences:
        raise ValueError(
            "init_weights' layers do not fit this model: "
            + "; ".join(differences[:4])
            + ("; ..." if len(differences) > 4 else "")
            + ". Give the new estimator the same architecture for these layers."
        )
    for name in names:
        target[name] = jax.tree.map(
            lambda leaf: jax.device_put(np.asarray(leaf, np.float32)), source[name]
        )
    copied = jax.tree.map(lambda leaf: leaf, params)  # a copy to fill in
    nnx.replace_by_pure_dict(copied, target)
    return copied, names


def _differences(name: str, wanted, given) -> list[str]:
    """How the weights ``given`` for layers ``name`` differ from those ``wanted``."""
    wanted_shapes, given_shapes = _shapes(wanted), _shapes(given)
    return [
        f"{name}{path}: {given_shapes.get(path, 'missing')} given, {shape} needed"
        for path, shape in wanted_shapes.items()
        if given_shapes.get(path) != shape
    ] + [f"{name}{path}: not in this model" for path in given_shapes.keys() - wanted_shapes.keys()]


def _shapes(tree) -> dict[str, tuple[int, ...]]:
    """``{path: shape}`` of a nested dict of arrays (list indices as ints or strings)."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {
        "".join(f"[{getattr(part, 'key', part)}]" for part in path): np.shape(leaf)
        for path, leaf in leaves
    }


def keep_frozen(new_params, old_params, frozen: tuple[str, ...]):
    """``new_params`` with the top-level layers ``frozen`` taken from ``old_params``."""

    def pick(path, new, old):
        return old if path[0].key in frozen else new

    return jax.tree_util.tree_map_with_path(pick, new_params, old_params)
