"""Fit several skae estimators together, one program per architecture.

Each member is an ordinary skae estimator: an ensemble's clone with its own
``random_state``, or a search's candidate for one cross-validation fold.
Their fits are checked and planned one by one exactly as ``fit`` would
(:meth:`EncoderDecoder._plan_fit`); members with the same training program
have their states, hyper-parameters (learning rate, penalties, noise...) and
data stacked, and :func:`skae._training.train_members` trains an epoch of all
of them in one jitted call (``jax.vmap``). Each member then records its own
fitted state, as after its own ``fit``: a member trained here ends with the
weights it would have trained alone.
"""

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from . import _streaming, _training, _widths
from ._base import _pad_rows


def fit_together(members: list, X, y=None, share_widths: bool = False) -> list:
    """Fit every estimator of ``members``; one compiled program per group of equal ones.

    ``X`` (and ``y``, for regressors) is one data set for all members, or a
    list of one per member (cross-validation folds). Members are grouped by
    their training program (architecture, batch layout, objective) and
    ``max_iter``; each group trains in one program, a member alone in its
    group (or on a device mesh) trains by its own ``fit``. When X is read a
    chunk at a time (a memmap, the detector's standardised rows), a group
    trains on each chunk as it is read (one pass over the file per epoch),
    except members that hold out validation rows, or on folds, which train
    one after another by their own ``fit``. With ``share_widths``, dense
    members that differ only in their layers' widths train in the program of
    the widest, the narrower ones padded with zero masks (``skae._widths``;
    not for X read a chunk at a time). A member whose
    training diverges keeps the weights of its best epoch, as after its own
    ``fit``; the others are not affected. Returns the members, fitted.
    """
    one_data_set = not isinstance(X, list)
    Xs = [X] * len(members) if one_data_set else X
    ys = y if isinstance(y, list) else [y] * len(members)
    streamed = any(_streaming.reads_in_chunks(X_i) for X_i in Xs)
    if streamed and not one_data_set:
        _fit_one_by_one(members, Xs, ys)
        return members
    plans = [
        member._plan_fit(X_i, y_i, incremental=False, continuing=False)
        for member, X_i, y_i in zip(members, Xs, ys)
    ]
    groups = {}
    for i, (member, plan) in enumerate(zip(members, plans)):
        groups.setdefault((member._epoch_config(plan), member.max_iter), []).append(i)
    train_plans = plans
    if share_widths and not streamed:
        groups, train_plans = _widths.merge_groups(members, plans, Xs, ys, groups)
    for (config, _), indices in groups.items():
        group = [members[i] for i in indices]
        group_plans = [plans[i] for i in indices]
        if len(indices) == 1 or config.mesh is not None:
            for i in indices:
                members[i].fit(Xs[i], ys[i])
        elif streamed and any(plan.X_val is not None for plan in group_plans):
            _fit_one_by_one(group, [Xs[i] for i in indices], [ys[i] for i in indices])
        elif streamed:
            _record_group(group, group_plans, _train_streamed_group(group, group_plans))
        else:
            parts = [train_plans[i] for i in indices]
            results = _train_in_parts(group, parts, config, one_data_set)
            for result, plan, trained in zip(results, group_plans, parts):
                if trained is not plan:  # padded to wider layers: back to its own
                    result.state = _widths.cut_to(result.state, plan.state)
            _record_group(group, group_plans, results)
    return members


def _train_in_parts(members: list, plans: list, config, one_data_set: bool):
    """The results of a group trained in parts, one thread per part, in the group's order."""
    parts = _parts_for_cores(len(members))

    def train_part(part):
        return _train_group(
            [members[i] for i in part], [plans[i] for i in part], config, one_data_set
        )

    with ThreadPoolExecutor(len(parts)) as pool:
        results = [result for part in pool.map(train_part, parts) for result in part]
    return results[: len(members)]  # without the repeated members that filled the last part


def _parts_for_cores(n_members: int) -> list[list[int]]:
    """Member indices split into equal parts, one per CPU core, to train in parallel threads.

    On a CPU, XLA runs one program on one core, however many models it
    batches; two programs dispatched from two threads use two cores. The
    parts are equal so that they share one compiled program: where the
    members do not divide evenly, the last part repeats its last member
    (its result is dropped), which costs a core that would otherwise wait.
    On an accelerator, which one program fills better, there is one part.
    """
    import jax

    n_cores = (os.cpu_count() or 1) if jax.default_backend() == "cpu" else 1
    size = -(-n_members // min(n_cores, n_members))
    n_parts = -(-n_members // size)
    indices = list(range(n_members)) + [n_members - 1] * (size * n_parts - n_members)
    return [indices[start : start + size] for start in range(0, len(indices), size)]


def _train_group(members: list, plans: list, config, one_data_set: bool) -> list:
    """Train members whose plans share ``config`` and ``max_iter`` in one program.

    Returns their ``TrainingResult``; :func:`_record_group` records them.
    """
    first = plans[0]
    n_rows = config.batch_size * config.n_batches
    # One data set without early stopping: every member trains on all of it, one copy.
    shared_data = one_data_set and all(plan.X_val is None for plan in plans)
    sources = plans[:1] if shared_data else plans

    def rows_of(arrays):
        padded = [_pad_rows(array, n_rows) for array in arrays]
        return padded[0] if shared_data else jnp.stack(padded)

    data = (rows_of([plan.X_train for plan in sources]), None)
    if first.Y_train is not None:
        data = (data[0], rows_of([plan.Y_train for plan in sources]))
    validation_scores = None
    if first.X_val is not None:
        validation_scores = [m._validation_scorer(p) for m, p in zip(members, plans)]
    return _training.train_members(
        config,
        _training.stack([plan.state for plan in plans]),
        data,
        [len(plan.X_train) for plan in plans],
        _training.stack([plan.hyper for plan in plans]),
        [jax.random.key(plan.seed) for plan in plans],
        n_epochs=members[0].max_iter,
        stoppings=[_training.EarlyStopping(m.tol, m.n_iter_no_change) for m in members],
        shared_data=shared_data,
        validation_scores=validation_scores,
    )


def _train_streamed_group(members: list, plans: list) -> list:
    """Train members on one X read a chunk at a time, all on each chunk as it is read.

    One pass over the file per epoch for the whole group (see
    :func:`skae._streaming.streamed_epoch`); returns their ``TrainingResult``.
    """
    first = plans[0]
    X = first.X_train
    chunk = _streaming.chunk_rows(math.prod(X.shape[1:]), first.batch_size)
    hyper = _training.stack([plan.hyper for plan in plans])
    epochs = _streaming.streamed_epoch(
        lru_cache(partial(members[0]._epoch_config, first, stream=True)),
        _pad_rows,
        _streaming.memmap_chunks(X, first.Y_train, chunk),
        len(X),
        hyper,
        n_members=len(members),
    )
    return _training.train_members(
        None,
        _training.stack([plan.state for plan in plans]),
        None,
        [len(X)] * len(members),
        hyper,
        [jax.random.key(plan.seed) for plan in plans],
        n_epochs=members[0].max_iter,
        stoppings=[_training.EarlyStopping(m.tol, m.n_iter_no_change) for m in members],
        epochs=epochs,
    )


def _record_group(members: list, plans: list, results: list) -> None:
    """Each member records its result, as after its own ``fit``; one warning for all."""
    diverged = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for member, plan, result in zip(members, plans, results):
            try:
                member._record_fit(plan, result, incremental=False, continuing=False)
            except FloatingPointError:
                diverged += 1
    _warn_for_members(members, diverged, caught)


def _fit_one_by_one(members: list, Xs: list, ys: list) -> None:
    """Each member by its own ``fit`` (X read a chunk at a time), warned as one group.

    A member whose training diverges keeps its best epoch, as in a group; the
    others still train. Other warnings than ``ConvergenceWarning`` pass through,
    each once.
    """
    diverged = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for member, X, y in zip(members, Xs, ys):
            try:
                member.fit(X, y)
            except FloatingPointError:
                diverged += 1
    others = {  # each once, in order
        (w.category, str(w.message)): None
        for w in caught
        if not issubclass(w.category, ConvergenceWarning)
    }
    for category, message in others:
        warnings.warn(message, category, stacklevel=4)
    _warn_for_members(members, diverged, caught)


def _warn_for_members(members: list, diverged: int, caught: list) -> None:
    """One warning for the members that diverged, one if any reached ``max_iter``."""
    if diverged:
        warnings.warn(
            f"Training diverged for {diverged} of {len(members)} members; they keep the "
            "weights of their best epoch. Lower learning_rate_init or scale X.",
            UserWarning,
            stacklevel=5,
        )
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        warnings.warn(
            f"Maximum iterations ({members[0].max_iter}) reached and the optimization "
            "hasn't converged yet for some members.",
            ConvergenceWarning,
            stacklevel=5,
        )


def member_seeds(random_state, n_members: int) -> list[int]:
    """``random_state`` values for the members, drawn from the ensemble's."""
    seeds = check_random_state(random_state).randint(2**31 - 1, size=n_members)
    return [int(seed) for seed in seeds]
