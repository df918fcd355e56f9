"""Fit several skae estimators of one architecture together, in one program.

Each member is an ordinary skae estimator (a clone with its own
``random_state``). Their fits are checked and planned one by one exactly as
``fit`` would (:meth:`EncoderDecoder._plan_fit`), their training states are
stacked, and :func:`skae._training.train_members` trains an epoch of all of
them in one jitted call (``jax.vmap`` over the stacked states and keys). Each
member then records its own fitted state, as after its own ``fit``: a member
trained here ends with the weights it would have trained alone.
"""

import warnings

import jax
import jax.numpy as jnp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from . import _training
from ._base import _pad_rows


def fit_together(members: list, X) -> list:
    """Fit every estimator of ``members`` on ``X``; one compiled program when possible.

    Members whose programs differ (another architecture, batch layout or
    objective) are fitted one after the other instead. A member whose training
    diverges keeps the weights of its best epoch, as after its own ``fit``; the
    others are not affected. Returns the members, fitted.
    """
    plans = [member._plan_fit(X, None, incremental=False, continuing=False) for member in members]
    configs = [member._epoch_config(plan) for member, plan in zip(members, plans)]
    if len(members) == 1 or any(config != configs[0] for config in configs[1:]):
        for member in members:
            member.fit(X)
        return members

    config, first = configs[0], plans[0]
    n_rows = config.batch_size * config.n_batches
    # Without early stopping every member trains on all of X: one copy.
    shared_data = all(plan.X_val is None for plan in plans)
    if shared_data:
        data = (_pad_rows(first.X_train, n_rows), None)
    else:  # each member its own validation split
        data = (jnp.stack([_pad_rows(plan.X_train, n_rows) for plan in plans]), None)
    states = _training.stack([plan.state for plan in plans])
    validation_scores = None
    if first.X_val is not None:
        validation_scores = [m._validation_scorer(p) for m, p in zip(members, plans)]
    results = _training.train_members(
        config,
        states,
        data,
        len(first.X_train),
        first.hyper,
        [jax.random.key(plan.seed) for plan in plans],
        n_epochs=members[0].max_iter,
        stoppings=[_training.EarlyStopping(m.tol, m.n_iter_no_change) for m in members],
        shared_data=shared_data,
        validation_scores=validation_scores,
    )
    diverged = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for member, plan, result in zip(members, plans, results):
            try:
                member._record_fit(plan, result, incremental=False, continuing=False)
            except FloatingPointError:
                diverged += 1
    if diverged:
        warnings.warn(
            f"Training diverged for {diverged} of {len(members)} members; they keep the "
            "weights of their best epoch. Lower learning_rate_init or scale X.",
            UserWarning,
            stacklevel=3,
        )
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        warnings.warn(
            f"Maximum iterations ({members[0].max_iter}) reached and the optimization "
            "hasn't converged yet for some members.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return members


def member_seeds(random_state, n_members: int) -> list[int]:
    """``random_state`` values for the members, drawn from the ensemble's."""
    seeds = check_random_state(random_state).randint(2**31 - 1, size=n_members)
    return [int(seed) for seed in seeds]
