"""Piecewise-constant intensities: the period factor of msm's ``pci``.

With cut points ``t_1 < ... < t_m`` the intensities are ``q_rs(t) = q_rs exp(beta_rs,p)`` in period
``p`` (``[-Inf, t_1)``, ``[t_1, t_2)``, ..., ``[t_m, Inf)``; the first period is the reference), a
covariate ``timeperiod`` on every transition.  As msm does, every subject followed across a cut gets
a censored observation there (its state is unknown, but it is alive: any transient state), so the
transition probability over an interval spanning cuts is the product of the periods' exponentials,
``P(t_0, t_2) = expm((t_1 - t_0) Q_1) expm((t_2 - t_1) Q_2)``, summed over the unknown state at the
cut by the forward algorithm (``_hmm``).

References
----------
Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
Statistical Software, 38(8), 1-29 (section 2.7 and msm's ``pci``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.linalg

from progression.exceptions import ParameterError, StatisticalWarning

from ._data import _times


def check_cuts(pci, times: pd.Series) -> np.ndarray:
    """Cut points inside the range of the observation times, sorted; the others dropped with a warning
    (msm warns too, and fits a time-homogeneous model when none is left)."""
    cuts = np.atleast_1d(np.asarray(pci, dtype=float))
    if cuts.ndim != 1 or not np.isfinite(cuts).all():
        raise ParameterError(f"pci must be a sequence of finite cut times; found {pci!r}")
    if len(np.unique(cuts)) != len(cuts):
        raise ParameterError(f"pci: cut times must be distinct; found {list(cuts)}")
    t = _times(times)
    lo, hi = float(np.min(t)), float(np.max(t))
    outside = cuts[(cuts <= lo) | (cuts >= hi)]
    if len(outside):
        warnings.warn(
            f"pci: cut times {[float(c) for c in outside]} are outside the observation times ({lo:g} to {hi:g}) "
            "and are ignored", StatisticalWarning, stacklevel=4)
    return np.sort(cuts[(cuts > lo) & (cuts < hi)])


def piecewise_pmatrix(qmatrices: Sequence[np.ndarray], cuts: Sequence[float], t1: float, t2: float) -> np.ndarray:
    """``P(t1, t2)`` of a chain whose generator is ``qmatrices[p]`` in period p between ``cuts``
    (msm ``pmatrix.piecewise.msm``)."""
    cuts = np.asarray(cuts, dtype=float)
    if len(qmatrices) != len(cuts) + 1:
        raise ParameterError(f"piecewise: {len(cuts)} cut points need {len(cuts) + 1} intensity matrices; "
                             f"found {len(qmatrices)}")
    if t2 < t1:
        raise ParameterError(f"piecewise: t2 ({t2}) is before t1 ({t1})")
    edges = np.r_[t1, cuts[(cuts > t1) & (cuts < t2)], t2]
    p = np.eye(len(qmatrices[0]))
    for a, b in zip(edges[:-1], edges[1:]):
        period = int(np.searchsorted(cuts, a, side="right"))
        p = p @ scipy.linalg.expm((b - a) * np.asarray(qmatrices[period]))
    return p


class PiecewiseMethods:
    """Methods of a model fitted with ``pci``: intensities and probabilities period by period."""

    def period_qmatrices(self, covariates="mean") -> list[np.ndarray]:
        """The intensity matrix of each period (others covariates as ``covariates``)."""
        cuts = getattr(self, "pci_", None)
        if cuts is None or len(cuts) == 0:
            return [self.qmatrix(covariates=covariates, ci="none").to_numpy()]
        base = {} if isinstance(covariates, str) and covariates == "mean" else dict(covariates)
        if "timeperiod" in base:
            raise ParameterError("covariates: the period is set by the times of a piecewise model, not 'timeperiod'")
        levels = next(c.levels for c in self._panel.covariates if c.column == "timeperiod")
        return [self._q_at(self.params_.to_numpy(), self._design_row({**base, "timeperiod": level}))
                for level in levels]

    def pmatrix_piecewise(self, t1: float, t2: float, covariates="mean") -> pd.DataFrame:
        """Transition probabilities from time ``t1`` to ``t2`` across the periods of a ``pci`` model
        (msm ``pmatrix.msm(t, t1)`` / ``pmatrix.piecewise.msm``).

        Parameters
        ----------
        t1, t2 : float
            Start and end, on the time scale of the data (the cut points' scale).
        covariates : "mean" or dict, default="mean"
            Values of the other covariates.

        Returns
        -------
        pandas.DataFrame
            K x K matrix labelled with the states.
        """
        self._fitted()
        cuts = getattr(self, "pci_", None)
        cuts = [] if cuts is None else cuts
        p = piecewise_pmatrix(self.period_qmatrices(covariates), cuts, float(t1), float(t2))
        return self._spec.frame(p)
