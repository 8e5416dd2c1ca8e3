"""Equality constraints and fixed values of the parameters (msm ``qconstraint``, ``constraint``,
``econstraint``, ``fixedpars``).

The full parameter vector (log intensities, covariate effects term by term, misclassification
logits, initial-probability logits) is an affine function of the free parameters,
``theta = A phi + b``: parameters constrained to be equal share one free parameter, fixed ones are
constants in ``b``.  The likelihood, its gradient ``A' g`` and Hessian ``A' H A`` are those of the
full model, so the optimiser and the standard errors (``Cov(theta) = A Cov(phi) A'``; zero for fixed
parameters) need nothing else.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from progression.exceptions import ParameterError


@dataclass(frozen=True)
class ParameterMap:
    """``theta = A @ phi + b``."""

    a: np.ndarray
    b: np.ndarray

    @property
    def n_free(self) -> int:
        return self.a.shape[1]

    def full(self, phi: np.ndarray) -> np.ndarray:
        return self.a @ phi + self.b

    def free(self, theta: np.ndarray) -> np.ndarray:
        """Free parameters from a full vector that satisfies the constraints (first of each tie)."""
        first = np.argmax(self.a != 0, axis=0)
        return theta[first]

    @property
    def fixed(self) -> np.ndarray:
        return ~(self.a != 0).any(axis=1)


def parameter_map(
    labels: Sequence[tuple],
    start: np.ndarray,
    *,
    blocks: Mapping[str, slice],
    transitions: Sequence[tuple[Hashable, Hashable]],
    terms: Sequence[str],
    qconstraint: Sequence[int] | None = None,
    constraint: Mapping[str, Sequence[int]] | None = None,
    econstraint: Sequence[int] | None = None,
    fixedpars: bool | Sequence | None = None,
) -> ParameterMap:
    """Build the map of free to full parameters.

    Parameters
    ----------
    labels : sequence of tuple
        (term, from, to) of every full parameter, in order.
    start : ndarray
        Full starting values; fixed parameters keep them, tied ones take the first of their group.
    blocks : mapping
        Slices of the full vector: ``"baseline"``, ``"misc"`` (and the covariate block after the
        baseline, one slice of ``len(transitions)`` per term).
    qconstraint : sequence of int, optional
        One label per allowed transition (row by row); equal labels give equal baseline intensities.
    constraint : mapping {term: sequence of int}, optional
        Per covariate term, one label per allowed transition; equal labels give equal effects.
    econstraint : sequence of int, optional
        One label per misclassification probability; equal labels give equal logits.
    fixedpars : True or sequence, optional
        ``True`` fixes every parameter at its start; otherwise positions in the full vector (0-based)
        or labels ``(term, from, to)``.
    """
    n = len(labels)
    group = np.arange(n)
    n_trans = len(transitions)

    def tie(block: slice, values, name: str, length: int):
        values = list(values)
        if len(values) != length:
            raise ParameterError(f"{name} must have one label per parameter ({length}); found {len(values)}")
        idx = np.arange(n)[block]
        firsts: dict = {}
        for i, v in zip(idx, values):
            group[i] = firsts.setdefault(v, i)

    if qconstraint is not None:
        tie(blocks["baseline"], qconstraint, "qconstraint", n_trans)
    if constraint:
        unknown = [t for t in constraint if t not in terms]
        if unknown:
            raise ParameterError(f"constraint: {unknown} are not covariate terms of the model; terms are {list(terms)}")
        for term, values in constraint.items():
            j = list(terms).index(term)
            start_at = blocks["baseline"].stop + j * n_trans
            tie(slice(start_at, start_at + n_trans), values, f"constraint['{term}']", n_trans)
    if econstraint is not None:
        if "misc" not in blocks:
            raise ParameterError("econstraint needs an ematrix (a misclassification model)")
        misc = blocks["misc"]
        tie(misc, econstraint, "econstraint", misc.stop - misc.start)
    fixed = np.zeros(n, dtype=bool)
    if fixedpars is True:
        fixed[:] = True
    elif fixedpars is not None and fixedpars is not False:
        index = {tuple(label): i for i, label in enumerate(labels)}
        for item in fixedpars:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not 0 <= item < n:
                    raise ParameterError(f"fixedpars: position {item} is outside the {n} parameters (0-based)")
                fixed[item] = True
            elif tuple(item) in index:
                fixed[index[tuple(item)]] = True
            else:
                raise ParameterError(
                    f"fixedpars: {item!r} is neither a position nor a parameter label; labels are e.g. {labels[:3]}"
                )
        fixed = np.isin(group, group[fixed])  # fixing one of a tied group fixes the group
    leaders = [g for g in dict.fromkeys(group[~fixed])]
    a = np.zeros((n, len(leaders)))
    for col, leader in enumerate(leaders):
        a[(group == leader) & ~fixed, col] = 1.0
    b = np.where(fixed, start[group], 0.0)
    return ParameterMap(a, b)


class ConstrainedLikelihood:
    """A likelihood of the full parameters seen through a :class:`ParameterMap`."""

    def __init__(self, lik, pmap: ParameterMap):
        self.lik, self.map = lik, pmap
        self.n_params = pmap.n_free

    def minus2loglik(self, phi: np.ndarray) -> float:
        return self.lik.minus2loglik(self.map.full(phi))

    def minus2loglik_and_gradient(self, phi: np.ndarray):
        value, grad = self.lik.minus2loglik_and_gradient(self.map.full(phi))
        return value, self.map.a.T @ grad

    def hessian(self, phi: np.ndarray) -> np.ndarray:
        theta = self.map.full(phi)
        if hasattr(self.lik, "hessian_along"):
            return self.lik.hessian_along(theta, self.map.a)
        a = self.map.a
        return a.T @ self.lik.hessian(theta) @ a
