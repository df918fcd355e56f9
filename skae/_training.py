"""The epoch loop: a driver that knows the engine, not the estimator.

:func:`train` runs epochs of :func:`skae._engine.run_epoch` until a stopping
rule says so, and returns the state to keep with the history of the run. It
takes values (the engine's configuration, a state, the data, a scorer and a
progress callback), never an estimator, so a single fit, an ensemble of models
trained in one program, a streamed or a sharded fit are this same loop with
another state or data source.

What it keeps:

- with ``keep_best=True`` (``fit``), the state of the best epoch: the lowest
  training loss, or the best validation score when a validation scorer is
  given. Weights, optimizer state and model state are kept together, so a later
  ``partial_fit`` resumes the optimizer from the weights it belongs to;
- with ``keep_best=False`` (``partial_fit``), the state after the last epoch;
- when training diverges, the state it would have kept had it stopped just
  before the bad epoch (the best one, or for ``partial_fit`` the state it
  started from), never weights from a diverging epoch;
- on Ctrl-C, what it would have kept at the end of the last full epoch.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import jax
import numpy as np

from . import _engine


@dataclass
class EarlyStopping:
    """scikit-learn's MLP rule for stopping, on a score where higher is better.

    An epoch improves when its score beats the best by more than ``tol``;
    training stops after ``n_iter_no_change`` epochs in a row without
    improvement (``MLPRegressor``'s ``_update_no_improvement_count``).
    """

    tol: float
    n_iter_no_change: int
    best_score: float = -float("inf")
    no_improvement_count: int = 0

    def update(self, score: float) -> tuple[bool, bool]:
        """Record an epoch's score; return ``(is the best so far, stop now)``."""
        if score < self.best_score + self.tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        is_best = score > self.best_score
        if is_best:
            self.best_score = score
        return is_best, self.no_improvement_count > self.n_iter_no_change


@dataclass
class TrainingResult:
    """What :func:`train` returns.

    Attributes
    ----------
    state : TrainState
        The state to keep (see the module's docstring).
    losses : list of float
        Training loss of each completed epoch.
    validation_scores : list of float
        Validation score of each completed epoch (empty without a scorer).
    best_score : float or None
        Best score seen (minus the loss, or the validation score).
    best_epoch : int or None
        Number, counted from 1 within this call, of the epoch whose state is kept.
    outcome : {"converged", "max_iter", "diverged", "interrupted"}
        Why training stopped.
    """

    state: _engine.TrainState
    losses: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_score: float | None = None
    best_epoch: int | None = None
    outcome: str = "max_iter"


def train(
    config: _engine.EpochConfig,
    state: _engine.TrainState,
    data,
    n_samples: int | tuple[int, ...],
    hyper: dict,
    key: jax.Array,
    *,
    first_epoch: int,
    n_epochs: int,
    stopping: EarlyStopping,
    keep_best: bool = True,
    validation_score: Callable | None = None,
    on_epoch: Callable | None = None,
    epoch: Callable | None = None,
) -> TrainingResult:
    """Train for up to ``n_epochs`` epochs from ``state``.

    Parameters
    ----------
    config : EpochConfig
        The engine's static configuration.
    state : TrainState
        Where training starts.
    data : pytree of device arrays
        ``(inputs, targets)`` padded to ``config.batch_size * config.n_batches`` rows.
    n_samples : int or tuple of int
        Number of real rows in ``data``, or of each process's block of rows
        (see :func:`skae._engine.run_epoch`).
    hyper : dict of scalar arrays
        Traced hyper-parameters (learning rate, penalties...).
    key : PRNG key
        Epoch ``i`` (counted over the model's whole life, from ``first_epoch``)
        uses ``fold_in(key, i)``, so continuing a fit never repeats a shuffle.
    first_epoch : int
        Number of epochs the model was trained for before this call.
    n_epochs : int
        Most epochs to run.
    stopping : EarlyStopping
        The stopping rule; with ``keep_best`` it also decides the best epoch.
    keep_best : bool
        Keep the best epoch's state and stop by the rule (``fit``), or the
        last state and never stop early (``partial_fit``).
    validation_score : callable, optional
        ``validation_score(state) -> float``, higher is better; when given it
        replaces minus the training loss as the score.
    on_epoch : callable, optional
        ``on_epoch(loss, validation_score_or_None)`` after each epoch (progress).
    epoch : callable, optional
        ``epoch(state, key) -> (state, EpochMetrics)``, run instead of
        :func:`skae._engine.run_epoch` on ``data`` (a streamed epoch, see
        ``skae._streaming``).
    """
    n_rows = jax.device_put(np.asarray(n_samples, np.int32))
    result = TrainingResult(state)
    kept = state
    try:
        for epoch_number in range(first_epoch, first_epoch + n_epochs):
            if epoch_number == first_epoch or epoch_number % KEYS_AT_ONCE == 0:
                block = epoch_number - epoch_number % KEYS_AT_ONCE
                upcoming_keys = _epoch_keys(key, block)
            epoch_key = upcoming_keys[epoch_number % KEYS_AT_ONCE]
            if epoch is None:
                state, metrics = _engine.run_epoch(config, state, data, n_rows, epoch_key, hyper)
            else:
                state, metrics = epoch(state, epoch_key)
            finite, loss = jax.device_get((metrics.finite, metrics.loss))
            if not finite:
                result.outcome = "diverged"
                break
            loss = float(loss)
            result.losses.append(loss)
            score = -loss
            if validation_score is not None:
                score = validation_score(state)
                result.validation_scores.append(score)
            if on_epoch is not None:
                on_epoch(loss, score if validation_score is not None else None)
            is_best, stop = stopping.update(score)
            if is_best or not keep_best:
                kept = state
                result.best_epoch = len(result.losses)
            if stop and keep_best:
                result.outcome = "converged"
                break
    except KeyboardInterrupt:
        result.outcome = "interrupted"
    result.state = kept
    if result.losses:
        result.best_score = stopping.best_score
    return result


def train_members(
    config: _engine.EpochConfig,
    states: _engine.TrainState,
    data,
    n_samples: list[int],
    hyper: dict,
    keys: list,
    *,
    n_epochs: int,
    stoppings: list,
    shared_data: bool = True,
    validation_scores: list | None = None,
    epochs: Callable | None = None,
) -> list[TrainingResult]:
    """:func:`train` for an ensemble: one program trains an epoch of every member.

    ``states`` are the members' states stacked along a first axis, and so are
    the values of ``hyper``; ``n_samples`` lists each member's number of real
    rows; ``keys`` their base keys (member ``i`` uses ``fold_in(keys[i],
    epoch)``, as a single fit with its seed would). Each member has its own stopping rule and
    optional validation scorer (``validation_scores[i](state_i)``); a member
    that stops or diverges keeps its best state while the others go on, and
    the loop ends when every member has stopped or after ``n_epochs``.
    ``epochs(states, keys) -> (states, EpochMetrics)``, when given, runs an
    epoch instead of :func:`skae._engine.run_epochs` on ``data`` (a streamed
    epoch, see ``skae._streaming``). Returns one :class:`TrainingResult` per
    member, its state unstacked.
    """
    n_members = len(keys)
    n_rows = jax.device_put(np.asarray(n_samples, np.int32))  # one per member
    results = [TrainingResult(None) for _ in range(n_members)]
    active = [True] * n_members
    kept = states
    try:
        for epoch in range(n_epochs):
            if epoch % KEYS_AT_ONCE == 0:
                upcoming_keys = _epoch_keys(tuple(keys), epoch)
            epoch_keys = upcoming_keys[epoch % KEYS_AT_ONCE]
            if epochs is None:
                states, metrics = _engine.run_epochs(
                    config, states, data, n_rows, epoch_keys, hyper, shared_data
                )
            else:
                states, metrics = epochs(states, epoch_keys)
            finite, losses = jax.device_get((metrics.finite, metrics.loss))
            keep = [False] * n_members
            members = unstack(states, n_members) if validation_scores is not None else None
            for i in range(n_members):
                if not active[i]:
                    continue
                if not finite[i]:
                    results[i].outcome, active[i] = "diverged", False
                    continue
                loss = float(losses[i])
                results[i].losses.append(loss)
                score = -loss
                if validation_scores is not None:
                    score = validation_scores[i](members[i])
                    results[i].validation_scores.append(score)
                keep[i], stop = stoppings[i].update(score)
                if stop:
                    results[i].outcome, active[i] = "converged", False
            kept = _select_members(np.asarray(keep), states, kept)
            if not any(active):
                break
    except KeyboardInterrupt:
        for i in range(n_members):
            if active[i]:
                results[i].outcome = "interrupted"
    for result, state, stopping in zip(results, unstack(kept, n_members), stoppings):
        result.state = state
        if result.losses:
            result.best_score = stopping.best_score
    return results


# Epoch keys are drawn this many at a time, by one small program: drawn op by
# op, each epoch's would cost a small model about as much as its training.
KEYS_AT_ONCE = 32


@partial(jax.jit, compiler_options=_engine.ONE_OFF)
def _epoch_keys(keys, first) -> tuple:
    """Keys of epochs ``first`` to ``first + KEYS_AT_ONCE - 1``, one per epoch.

    ``keys`` is a model's key, whose epoch ``i`` uses ``fold_in(key, i)``, or
    a tuple of an ensemble's members' keys, each epoch's stacked in one array.
    """
    # One vectorised fold over the epochs: 32 separate folds compile 4x slower.
    epochs = first + jax.numpy.arange(KEYS_AT_ONCE)
    if isinstance(keys, tuple):
        fold = jax.vmap(jax.vmap(jax.random.fold_in, (0, None)), (None, 0))
        drawn = fold(jax.numpy.stack(keys), epochs)
    else:
        drawn = jax.vmap(jax.random.fold_in, (None, 0))(keys, epochs)
    return tuple(drawn[offset] for offset in range(KEYS_AT_ONCE))


def stack(trees: list):
    """Trees of one structure stacked leaf by leaf along a new first axis.

    Stacked on the host and copied to the device once: a jitted stack would
    compile a program for every architecture, which costs a small fit more
    than the copies do.
    """
    return jax.tree.map(_stack_leaves, *trees)


def _stack_leaves(*leaves):
    if _is_key(leaves[0]):
        return jax.numpy.stack(leaves)  # typed keys have no host form
    return jax.device_put(np.stack([np.asarray(leaf) for leaf in leaves]))


def unstack(stacked, n_members: int) -> list:
    """The inverse of :func:`stack`: ``n_members`` trees, sliced on the host (no compilation)."""
    host = jax.tree.map(lambda leaf: leaf if _is_key(leaf) else np.asarray(leaf), stacked)
    return [jax.device_put(jax.tree.map(lambda leaf, i=i: leaf[i], host)) for i in range(n_members)]


def _is_key(leaf) -> bool:
    return jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def _select_members(keep: np.ndarray, new, old):
    """Stacked ``new`` for the members where ``keep`` is true, else ``old``."""
    if not keep.any():
        return old
    if keep.all():  # the usual case while the losses fall: no program to compile or run
        return new
    return _select_stacked(jax.numpy.asarray(keep), new, old)


@partial(jax.jit, compiler_options=_engine.ONE_OFF)
def _select_stacked(keep, new, old):
    def pick(new_leaf, old_leaf):
        if _is_key(new_leaf):
            return new_leaf
        shape = (len(keep),) + (1,) * (new_leaf.ndim - 1)
        return jax.numpy.where(keep.reshape(shape), new_leaf, old_leaf)

    return jax.tree.map(pick, new, old)
