"""Safe model files: :func:`save` and :func:`load`.

A pickle runs code from the file when it is loaded; a skae model file holds
only data. One file, three parts:

- a fixed preamble: 8 magic bytes, the header's length (8 bytes, little-endian)
  and its SHA-256 digest (32 bytes);
- the header (JSON): the format's version and, for each part below, its offset,
  length and SHA-256 digest;
- the config (JSON): the estimator's class (one of skae's), its parameters and
  its fitted attributes, arrays replaced by references to
- the weights (safetensors): every array, weights, optimizer state and Flax
  state (batch statistics, random streams) included.

Loading checks every digest, decodes JSON and safetensors only, looks classes up
in skae's own registry (never importing a module) and checks the weights'
shapes against the architecture before it builds anything, so a tampered,
truncated or inconsistent file gives a ``ValueError``, never a half-loaded
model. Parameters that are Python objects (an Optax transformation, a Flax
module) are stored by parameter name and supplied at load through
``custom_objects``, as Keras does.
"""

import dataclasses
import hashlib
import json
import math
import os
import struct
from functools import cache, partial

import jax
import numpy as np
from flax import nnx
from sklearn.base import BaseEstimator

from . import _variables

MAGIC = b"\x89SKAE\r\n\x1a"
FORMAT_VERSION = 1
_PREAMBLE = struct.Struct("<8sQ32s")  # magic, header length, header SHA-256


def save(estimator, path) -> None:
    """Write a skae estimator to ``path`` as a safe model file.

    The file holds the estimator's class, parameters and fitted attributes
    (JSON) and its arrays (safetensors), each part with a SHA-256 checksum;
    :func:`load` reads it back without running code from it. An unfitted
    estimator is saved with its parameters only.

    Parameters
    ----------
    estimator : skae estimator
        Any skae autoencoder or :class:`AutoencoderOutlierDetector`.
    path : str or path-like
        The file to write (``.skae`` by convention).

    See Also
    --------
    load : Read the file back.

    Notes
    -----
    Parameters that are Python objects, such as an Optax transformation given
    as ``optimizer`` or Flax modules given as ``encoder``/``decoder``, are
    stored by the parameter's name only; pass them to :func:`load` in
    ``custom_objects``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> import skae
    >>> X = load_digits().data / 16
    >>> model = skae.Autoencoder(n_components=4, max_iter=3, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.skae")
    >>> skae.save(model, path)
    >>> loaded = skae.load(path)
    >>> bool(np.array_equal(loaded.transform(X), model.transform(X)))
    True
    """
    _check_saveable(estimator)
    arrays: dict[str, np.ndarray] = {}
    config = {
        "skae_version": _skae_version(),
        "estimator": _encode_estimator(estimator, arrays, ""),
    }
    config_bytes = json.dumps(config, allow_nan=False).encode()
    weights_bytes = _safetensors().save(arrays)
    parts, offset = {}, 0
    for name, data in (("config", config_bytes), ("weights", weights_bytes)):
        parts[name] = {"offset": offset, "length": len(data), "sha256": _digest(data)}
        offset += len(data)
    header = json.dumps(
        {"format": "skae", "format_version": FORMAT_VERSION, "parts": parts}
    ).encode()
    with open(path, "wb") as file:
        file.write(_PREAMBLE.pack(MAGIC, len(header), hashlib.sha256(header).digest()))
        file.write(header)
        file.write(config_bytes)
        file.write(weights_bytes)


def load(path, *, custom_objects: dict | None = None):
    """Read an estimator written by :func:`save`.

    Nothing in the file is executed, unpickled or imported: classes come from
    skae's own list, Python objects from ``custom_objects``.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    custom_objects : dict, optional
        The Python objects the estimator's parameters held when it was saved,
        by parameter name (``{"optimizer": my_optax_transformation,
        "encoder": MyEncoder, "decoder": MyDecoder}``).

    Returns
    -------
    estimator : skae estimator
        Fitted as it was saved: ``transform``, ``score_samples`` and the
        other methods give bitwise the same results, and ``partial_fit``
        continues with the saved optimizer state.

    Raises
    ------
    ValueError
        When the file is not a skae model file, was written by a newer format
        version, is truncated or altered (a checksum differs), holds weights
        whose shapes disagree with its architecture, or needs an object that
        ``custom_objects`` does not give.

    Examples
    --------
    See :func:`save`.
    """
    with open(path, "rb") as file:
        content = file.read()
    name = os.fspath(path)
    custom_objects = custom_objects or {}
    try:
        config, arrays = _read_parts(content, name)
        missing = {k: v for k, v in _object_names(config).items() if k not in custom_objects}
        if missing:
            listed = ", ".join(f"{key!r}: <the {kind}>" for key, kind in sorted(missing.items()))
            raise ValueError(
                f"The model in {name} was saved with Python objects as parameters; pass "
                f"them to skae.load(..., custom_objects={{{listed}}})."
            )
        return _decode_estimator(config["estimator"], arrays, custom_objects)
    except ValueError:
        raise
    except Exception as error:  # whatever else a malformed file makes fail
        raise ValueError(f"{name} is not a valid skae model file: {error!r}") from None


# ------------------------------------------------------------------ the file


def _read_parts(content: bytes, name: str) -> tuple[dict, dict]:
    if len(content) < _PREAMBLE.size or not content.startswith(MAGIC):
        raise ValueError(f"{name} is not a skae model file (no skae preamble).")
    _, header_length, header_digest = _PREAMBLE.unpack_from(content)
    header_bytes = content[_PREAMBLE.size : _PREAMBLE.size + header_length]
    if len(header_bytes) != header_length:
        raise ValueError(f"{name} is truncated: its header is incomplete.")
    if hashlib.sha256(header_bytes).digest() != header_digest:
        raise ValueError(f"{name} is corrupted or was altered: the header's checksum differs.")
    header = json.loads(header_bytes)
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{name} was written in skae model format version {version}; this skae "
            f"reads versions up to {FORMAT_VERSION}. Upgrade skae to load it."
        )
    body = content[_PREAMBLE.size + header_length :]
    parts = {}
    for part in ("config", "weights"):
        entry = header["parts"][part]
        data = body[entry["offset"] : entry["offset"] + entry["length"]]
        if len(data) != entry["length"]:
            raise ValueError(f"{name} is truncated: its {part} part is incomplete.")
        if _digest(data) != entry["sha256"]:
            raise ValueError(
                f"{name} is corrupted or was altered: the {part} part's checksum differs."
            )
        parts[part] = data
    return json.loads(parts["config"]), _safetensors().load(parts["weights"])


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - a dependency, absent only in odd installs
        raise ImportError(
            "skae.save and skae.load need the safetensors package: pip install safetensors"
        ) from None
    return safetensors.numpy


def _skae_version() -> str:
    from . import __version__

    return __version__


def skops_trusted_types() -> list[str]:
    """The types to trust when loading skae estimators with ``skops.io``.

    ``skops.io.load(path, trusted=skae.skops_trusted_types())`` loads a file
    that ``skops.io.dump`` wrote from a fitted skae estimator, or from a
    Pipeline holding them: skae's estimator classes, its model classes (the
    fitted architecture), its training objectives (small dataclasses) and
    ``functools.partial``, which holds the architecture's class and
    settings; weights and optimizer state are NumPy arrays. An estimator
    whose ``optimizer`` is an Optax object (not a name) pickles it by value,
    which a safe loader must refuse: save those with :func:`skae.save` and
    ``custom_objects``.

    Returns
    -------
    types : list of str
        Fully qualified type names, sorted.

    Examples
    --------
    >>> import skae
    >>> "skae._autoencoder.Autoencoder" in skae.skops_trusted_types()
    True
    """
    names = {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _registry().values()
        if cls.__module__.startswith("skae")
    }
    return sorted(names | {"functools.partial"})


# ----------------------------------------------------------- what is stored


@cache
def _registry() -> dict[str, type]:
    """The classes a file may name: skae's estimators, models and objectives."""
    from sklearn.frozen import FrozenEstimator  # init_weights=FrozenEstimator(fitted model)

    import skae

    from . import _objectives
    from ._models.conv import ConvAutoencoder
    from ._models.dense import ComposedAutoencoder, DenseAutoencoder

    classes = [
        getattr(skae, name) for name in skae.__all__ if isinstance(getattr(skae, name), type)
    ]
    classes += [DenseAutoencoder, ComposedAutoencoder, ConvAutoencoder, FrozenEstimator]
    classes += [
        value
        for value in vars(_objectives).values()
        if isinstance(value, type) and dataclasses.is_dataclass(value)
    ]
    return {cls.__name__: cls for cls in classes}


def _check_saveable(estimator) -> None:
    registry = _registry()
    if registry.get(type(estimator).__name__) is not type(estimator):
        raise TypeError(
            f"skae.save writes skae estimators; got {type(estimator).__name__}. Use joblib "
            "or skops.io for other objects (a Pipeline holding skae estimators, for example)."
        )


# Attributes that are caches, rebuilt on demand, never stored.
_CACHES = ("_device",)


def _encode_estimator(estimator, arrays: dict, path: str) -> dict:
    params = estimator.get_params(deep=False)
    attributes = {
        name: value
        for name, value in vars(estimator).items()
        if name not in params and name not in _CACHES
    }
    # vars(), not getattr: a FrozenEstimator forwards attributes to its estimator.
    device = vars(estimator).get("_device")
    if device is not None:  # the optimizer state lives in the device copy
        attributes["_optimizer_state"] = device["state"].opt_state
    optimizer_state = attributes.pop("_optimizer_state", None)
    encoded = {
        "class": type(estimator).__name__,
        "params": {
            name: _encode(value, arrays, f"{path}{name}", name) for name, value in params.items()
        },
        "attributes": {
            name: _encode(value, arrays, f"{path}{name}", name)
            for name, value in attributes.items()
        },
    }
    if optimizer_state is not None:
        leaves = jax.tree.leaves(optimizer_state)
        encoded["optimizer_state"] = [
            _encode(np.asarray(leaf), arrays, f"{path}_optimizer_state/{i}", "")
            for i, leaf in enumerate(leaves)
        ]
    return encoded


def _encode(value, arrays: dict, path: str, name: str):
    """``value`` as JSON, its arrays moved to ``arrays`` under ``path``-based keys.

    ``name`` is the parameter or keyword that holds the value: a Python object
    is stored as that name, for ``custom_objects`` to supply at load.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray | jax.Array):
        array = np.asarray(value)
        if array.dtype == object:  # feature names
            return {"__strings__": [str(item) for item in array.tolist()]}
        arrays[path] = np.array(array, order="C")  # ascontiguousarray makes 0-d arrays 1-d
        return {"__array__": path}
    if type(value) in (list, tuple):  # not a NamedTuple such as an Optax transformation
        items = [_encode(item, arrays, f"{path}/{i}", name) for i, item in enumerate(value)]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        return {
            "__dict__": [
                [key, _encode(item, arrays, f"{path}/{key}", str(key))]
                for key, item in value.items()
            ]
        }
    registry = _registry()
    if isinstance(value, BaseEstimator) and registry.get(type(value).__name__) is type(value):
        return {"__estimator__": _encode_estimator(value, arrays, f"{path}/")}
    if isinstance(value, type) and registry.get(value.__name__) is value:
        return {"__class__": value.__name__}
    if dataclasses.is_dataclass(value) and registry.get(type(value).__name__) is type(value):
        fields = {
            field.name: _encode(getattr(value, field.name), arrays, f"{path}/{field.name}", name)
            for field in dataclasses.fields(value)
        }
        return {"__dataclass__": type(value).__name__, "fields": fields}
    if isinstance(value, partial):
        return {
            "__partial__": {
                "func": _encode(value.func, arrays, f"{path}/func", name),
                "args": _encode(list(value.args), arrays, f"{path}/args", name),
                "keywords": _encode(value.keywords, arrays, f"{path}/keywords", name),
            }
        }
    if isinstance(value, np.random.RandomState):
        return {"__random_state__": _encode(value.get_state(), arrays, f"{path}/state", name)}
    kind = type(value) if not isinstance(value, type) else value
    return {"__object__": name, "type": f"{kind.__module__}.{kind.__qualname__}"}


def _decode(value, arrays: dict, custom_objects: dict):
    if not isinstance(value, dict):
        if isinstance(value, list):
            return [_decode(item, arrays, custom_objects) for item in value]
        return value
    if "__array__" in value:
        return np.array(arrays[value["__array__"]])
    if "__float__" in value:
        return float(value["__float__"])
    if "__strings__" in value:
        return np.asarray(value["__strings__"], dtype=object)
    if "__tuple__" in value:
        return tuple(_decode(item, arrays, custom_objects) for item in value["__tuple__"])
    if "__dict__" in value:
        return {key: _decode(item, arrays, custom_objects) for key, item in value["__dict__"]}
    if "__estimator__" in value:
        return _decode_estimator(value["__estimator__"], arrays, custom_objects)
    if "__class__" in value:
        return _registered(value["__class__"])
    if "__dataclass__" in value:
        fields = {k: _decode(v, arrays, custom_objects) for k, v in value["fields"].items()}
        return _registered(value["__dataclass__"])(**fields)
    if "__partial__" in value:
        parts = value["__partial__"]
        func = _decode(parts["func"], arrays, custom_objects)
        args = _decode(parts["args"], arrays, custom_objects)
        return partial(func, *args, **_decode(parts["keywords"], arrays, custom_objects))
    if "__random_state__" in value:
        state = np.random.RandomState()
        state.set_state(_decode(value["__random_state__"], arrays, custom_objects))
        return state
    if "__object__" in value:
        return custom_objects[value["__object__"]]  # checked by load
    raise ValueError(f"Unknown entry in the model file: {sorted(value)}")


def _object_names(config) -> dict[str, str]:
    """``{name: type}`` of the Python objects a decoded config needs."""
    if isinstance(config, list):
        return {k: v for item in config for k, v in _object_names(item).items()}
    if not isinstance(config, dict):
        return {}
    if "__object__" in config:
        return {config["__object__"]: config["type"]}
    return {k: v for item in config.values() for k, v in _object_names(item).items()}


def _registered(name: str) -> type:
    registry = _registry()
    if name not in registry:
        raise ValueError(f"The model file names a class skae does not have: {name!r}.")
    return registry[name]


def _decode_estimator(encoded: dict, arrays: dict, custom_objects: dict):
    cls = _registered(encoded["class"])
    if not issubclass(cls, BaseEstimator):
        raise ValueError(f"The model file's estimator class {cls.__name__!r} is not an estimator.")
    params = {k: _decode(v, arrays, custom_objects) for k, v in encoded["params"].items()}
    attributes = {k: _decode(v, arrays, custom_objects) for k, v in encoded["attributes"].items()}
    estimator = cls(**params)
    estimator._validate_params()
    if "params_" in attributes:
        _check_weights(cls.__name__, attributes)
    if "optimizer_state" in encoded:
        leaves = [_decode(leaf, arrays, custom_objects) for leaf in encoded["optimizer_state"]]
        attributes["_optimizer_state"] = leaves  # fitted to the optimizer on first use
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator


def _check_weights(class_name: str, attributes: dict) -> None:
    """Raise unless the weights have the shapes of the recorded architecture."""
    _, params, model_state = _variables.abstract_model(attributes["_model_builder_"])
    for kind, abstract in (("params_", params), ("model_state_", model_state)):
        if _shapes(nnx.to_pure_dict(abstract)) != _shapes(attributes[kind]):
            raise ValueError(
                f"The {class_name} in the model file holds weights ({kind}) whose shapes "
                "disagree with its architecture; the file is inconsistent."
            )


def _shapes(tree) -> dict:
    """``{path: shape}`` of a tree of arrays or abstract arrays (PRNG keys as their data)."""

    def shape(leaf):
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.eval_shape(jax.random.key_data, leaf)
        return tuple(leaf.shape)

    return {
        jax.tree_util.keystr(path): shape(leaf)
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree)
    }
