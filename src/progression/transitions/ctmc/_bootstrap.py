"""Bootstrap of a fitted model: refit on resampled citizens (or transitions) and summarise any statistic.

A citizen contributes a whole sequence of dependent observations, so the resampling unit is the
citizen (Efron & Tibshirani 1993, cluster bootstrap): ``n`` citizens drawn with replacement, each
keeping all of their observations under a new identifier.  msm's ``boot.msm`` resamples the
intervals between observations of models without misclassification or censoring
(``resample="transition"``), which ignores that dependence; it is offered for comparison.

Replicates are cut into fixed chunks on the named random stream ``ctmc.bootstrap`` of ``seed``
(:func:`progression._parallel.map_chunks`), so the result is the same for any ``n_jobs``.

References
----------
Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.

Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
Statistical Software, 38(8), 1-29 (``boot.msm``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from progression._parallel import map_chunks
from progression._tidy import percentile_interval
from progression._validation import check_choice, check_positive_int
from progression.exceptions import ConvergenceError, ParameterError, StatisticalWarning

RESAMPLE = ("citizen", "transition")


def default_statistic(model) -> pd.Series:
    """Intensities and hazard ratios (the ``estimate`` column of ``summary``), then the misclassification
    probabilities."""
    table = model.summary() if callable(model.summary) else model.summary  # a property or a method
    out = pd.Series(table["estimate"].to_numpy(),
                    index=[f"{t}:{a}->{b}" for t, a, b in zip(table["term"], table["from_state"], table["to_state"])])
    if getattr(model, "ematrix_", None) is not None:
        e = model.ematrix(ci="none")
        lik = model._lik
        extra = pd.Series([e.iloc[r, c] for r, c in zip(lik.misc.rows, lik.misc.cols)],
                          index=[f"misc:{e.index[r]}->{e.columns[c]}" for r, c in zip(lik.misc.rows, lik.misc.cols)])
        out = pd.concat([out, extra])
    return out


def _refit(template, data: pd.DataFrame):
    from ._model import MultiStateModel

    call = dict(template["call"])
    model = MultiStateModel(**template["settings"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        warnings.filterwarnings("ignore", message="(overflow|invalid value|divide by zero) encountered",
                                category=RuntimeWarning)
        return model.fit(data, **call)


def _chunk(size: int, seed: int, template: dict, statistic: Callable, names: list) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = template["data"]
    subject = template["call"]["subject"]
    out = np.full((size, len(names)), np.nan)
    for b in range(size):
        units = template["groups"] if template["resample"] == "citizen" else template["pairs"]
        drawn = rng.integers(0, len(units), len(units))
        rows = np.concatenate([units[i] for i in drawn])
        sample = data.iloc[rows].reset_index(drop=True)
        sample[subject] = np.repeat(np.arange(len(drawn)), [len(units[i]) for i in drawn])
        try:
            value = pd.Series(statistic(_refit(template, sample)))
        except (ConvergenceError, np.linalg.LinAlgError, ValueError):
            continue
        out[b] = value.reindex(names).to_numpy(dtype=float)
    return out


class BootstrapMethods:
    """The bootstrap of a fitted model."""

    def bootstrap(self, *, n_boot: int = 1000, seed: int = 0, statistic: Callable | None = None,
                  resample: str = "citizen", cl: float | None = None, n_jobs: int = 1, chunk_size: int = 25,
                  return_replicates: bool = False):
        """Bootstrap the model: refit on resampled data and summarise a statistic (msm ``boot.msm``).

        Parameters
        ----------
        n_boot : int, default=1000
            Replicates.
        seed : int, default=0
            Seed; replicates come from its named stream ``ctmc.bootstrap``.
        statistic : callable, optional
            ``statistic(model)`` returning a labelled Series (or array) of numbers; default the
            intensities, hazard ratios and misclassification probabilities. With ``n_jobs > 1`` it
            must be importable (a module-level function).
        resample : {"citizen", "transition"}, default="citizen"
            Draw whole citizens with all their observations, or (as msm does for models without
            misclassification or censoring) the intervals between consecutive observations.
        cl : float, optional
            Confidence level of the percentile limits; default the model's ``cl``.
        n_jobs : int, default=1
            Parallel workers; the replicates do not depend on it.
        chunk_size : int, default=25
            Replicates per chunk (fixes the random streams).
        return_replicates : bool, default=False
            Also return the replicates (one row each; NaN where a refit failed).

        Returns
        -------
        pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
            Index: the statistic's labels; ``estimate`` (on the data), ``std_error`` (bootstrap
            standard deviation), ``conf_low``, ``conf_high`` (percentile limits), ``n_boot``
            (successful refits).

        Raises
        ------
        ParameterError
            ``resample="transition"`` for a model with misclassification or cut points.
        """
        self._fitted()
        check_positive_int(n_boot, name="n_boot")
        check_choice(resample, RESAMPLE, name="resample")
        if resample == "transition" and (self.ematrix_ is not None or self.pci_):
            raise ParameterError("resample='transition' needs a model without misclassification or cut points "
                                 "(their observations of a citizen are not independent); use 'citizen'")
        statistic = default_statistic if statistic is None else statistic
        estimate = pd.Series(statistic(self))
        names = list(estimate.index)
        data = self._fit_data.reset_index(drop=True)
        call = {k: v for k, v in self._fit_call.items()}
        call["qmatrix"] = self.qmatrix(ci="none")  # start from the estimates
        if call.get("ematrix") is not None:
            call["ematrix"] = self.ematrix(ci="none")
        template = {"data": data, "call": call, "resample": resample,
                    "settings": {"center": self.center, "cl": self.cl, "max_iter": self.max_iter, "tol": self.tol}}
        subject, time = call["subject"], call["time"]
        ordered = data.sort_values([subject, time], kind="stable")
        if resample == "citizen":
            template["groups"] = list(ordered.groupby(subject, sort=False).indices.values())
            template["groups"] = [ordered.index.to_numpy()[g] for g in template["groups"]]
        else:
            idx = ordered.index.to_numpy()
            same = ordered[subject].to_numpy()[1:] == ordered[subject].to_numpy()[:-1]
            template["pairs"] = [idx[[i, i + 1]] for i in np.flatnonzero(same)]
        parts = map_chunks(_chunk, n_boot, seed=seed, name="ctmc.bootstrap", chunk_size=chunk_size, n_jobs=n_jobs,
                           args=(template, statistic, names))
        reps = np.vstack(parts)
        ok = np.isfinite(reps).all(axis=1)
        if (~ok).any():
            warnings.warn(f"bootstrap: {int((~ok).sum())} of {n_boot} refits failed and are left out",
                          StatisticalWarning, stacklevel=2)
        low, high = percentile_interval(reps[ok], cl=self.cl if cl is None else cl)
        table = pd.DataFrame({"estimate": estimate.to_numpy(dtype=float), "std_error": reps[ok].std(axis=0, ddof=1),
                              "conf_low": low, "conf_high": high, "n_boot": int(ok.sum())}, index=names)
        if return_replicates:
            return table, pd.DataFrame(reps, columns=names)
        return table
