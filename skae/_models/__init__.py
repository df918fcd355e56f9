"""Flax NNX modules used by skae's estimators.

Every autoencoder module exposes ``encode(x) -> code`` and
``decode(code) -> raw output``. The decoder returns the output *before* the
output activation: the loss applies it (a sigmoid cross-entropy is computed from
logits for numerical stability) and so does ``inverse_transform``.

``layer_outputs(x) -> {name: output}`` gives every layer's output, from the
input to the output, for ``layer_activations``: the last entry, ``output``,
is the raw output too, and ``code`` the code.
"""
