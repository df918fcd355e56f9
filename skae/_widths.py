"""Dense models of different widths trained in one program, through zero masks.

An ensemble whose members differ only in the widths of their layers (the
outlier detector's wide and narrow members) would compile one training
program per architecture. Instead, each member is padded to the widest
layers of its family: its weights fill the leading corner of every array,
zeros the rest, and a 0/1 mask of the same shapes (``hyper["param_mask"]``,
read by :func:`skae._engine.batch_objective`) multiplies the weights in the
model. A padded unit's weights then get no gradient and stay zero, so it adds
nothing to any output: the member trains exactly as it would at its own
widths (up to the order of floating-point sums), in the program of the
widest one (Ding, Zhao and Akoglu, "Hyperparameter sensitivity in deep
outlier detection", NeurIPS 2022, train their hyper-ensemble so). After
training, each member's weights are cut back to its own shapes.
"""

import dataclasses
from numbers import Integral

import jax
import numpy as np
from sklearn.base import clone


def layer_widths(member) -> tuple[int, tuple[int, ...]] | None:
    """``(n_components, hidden_layer_sizes)`` of a dense member, else None."""
    params = member.get_params(deep=False)
    code, hidden = params.get("n_components"), params.get("hidden_layer_sizes")
    if not isinstance(code, Integral) or not isinstance(hidden, (tuple, list)):
        return None
    if not all(isinstance(width, Integral) for width in hidden):
        return None
    return int(code), tuple(int(width) for width in hidden)


def merge_groups(members: list, plans: list, Xs: list, ys: list, groups: dict):
    """Groups of members that differ only in their layers' widths, merged.

    ``groups`` maps ``(EpochConfig, max_iter)`` to member indices, as
    :func:`skae._ensemble.fit_together` forms them. Groups of dense members
    of one class and depth are padded to their family's widest layers; those
    whose padded programs are then the same become one group. Returns the new
    groups and the plans to train with: a padded member's plan holds its
    weights padded (:func:`padded_plan`), the others' are as given.
    """
    families = {}
    for key, indices in groups.items():
        widths = layer_widths(members[indices[0]])
        if widths is not None and key[0].mesh is None:
            family = (type(members[indices[0]]), len(widths[1]), key[1])
            families.setdefault(family, []).append(key)
    merged, train_plans = dict(groups), list(plans)
    for keys in families.values():
        if len(keys) < 2:
            continue
        widths = [layer_widths(members[groups[key][0]]) for key in keys]
        code = max(width[0] for width in widths)
        hidden = tuple(max(layer) for layer in zip(*(width[1] for width in widths)))
        by_program = {}
        for key in keys:
            first = groups[key][0]
            if layer_widths(members[first]) == (code, hidden):
                wide_plan = plans[first]  # already the widest
            else:
                widest = clone(members[first])
                widest.set_params(n_components=code, hidden_layer_sizes=hidden)
                wide_plan = widest._plan_fit(
                    Xs[first], ys[first], incremental=False, continuing=False
                )
            if all(_fits_inside(plans[i].state, wide_plan.state) for i in groups[key]):
                # The configuration reads no width: the member's own gives the widest's.
                program = (members[first]._epoch_config(wide_plan), key[1])
                by_program.setdefault(program, []).append((key, wide_plan))
        for program, entries in by_program.items():
            if len(entries) < 2:
                continue
            for key, wide_plan in entries:
                for i in merged.pop(key):
                    train_plans[i] = padded_plan(plans[i], wide_plan)
                    merged.setdefault(program, []).append(i)
    return merged, train_plans


def padded_plan(plan, wide_plan):
    """``plan`` with its state padded to ``wide_plan``'s shapes and the mask in its hyper."""
    mask = jax.tree.map(_corner_ones, plan.state.params, wide_plan.state.params)
    return dataclasses.replace(
        plan,
        graphs=wide_plan.graphs,
        state=jax.tree.map(_padded, plan.state, wide_plan.state),
        hyper={**plan.hyper, "param_mask": mask},
    )


def cut_to(state, like):
    """``state``'s arrays cut to the leading corner of ``like``'s shapes (on the host)."""
    return jax.tree.map(lambda leaf, small: jax.device_put(_corner(leaf, small.shape)), state, like)


def _fits_inside(small, wide) -> bool:
    """Whether every array of ``small`` fits in the corner of ``wide``'s (no PRNG keys)."""
    if jax.tree.structure(small) != jax.tree.structure(wide):
        return False
    return all(
        a.dtype == b.dtype
        and not jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key)
        and a.ndim == b.ndim
        and all(m <= n for m, n in zip(a.shape, b.shape))
        for a, b in zip(jax.tree.leaves(small), jax.tree.leaves(wide))
    )


def _corner(array, shape):
    return np.asarray(array)[tuple(slice(0, n) for n in shape)]


def _padded(small, wide):
    out = np.zeros(wide.shape, small.dtype)
    out[tuple(slice(0, n) for n in small.shape)] = np.asarray(small)
    return out


def _corner_ones(small, wide):
    return _padded(np.ones(small.shape, np.float32), wide)
