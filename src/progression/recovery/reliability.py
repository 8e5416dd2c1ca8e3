"""Internal consistency of an instrument estimated from the items in the data (Cronbach's alpha).

WHO-5 and Brief INSPIRE-O declare no reliability in the registry, yet the Jacobson-Truax reliable
change index needs one. Cronbach's alpha of the baseline items is the usual stand-in: it equals the
reliability of the sum score when the items are parallel (tau-equivalent with equal error variances)
and is a lower bound otherwise (Lord & Novick 1968), so a reliable-change threshold built on it errs
on the wide side.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from progression.exceptions import DataContractError, ParameterError
from progression.recovery.instruments import Instrument, _require_columns, get_instrument

__all__ = ["cronbach_alpha", "instrument_alpha"]


def cronbach_alpha(items, *, alpha: float | None = None) -> dict[str, float]:
    """Cronbach's alpha of a respondents x items matrix, with Feldt's confidence interval.

    alpha = k / (k - 1) * (1 - sum_i s_i^2 / s_X^2), with s_i^2 the item variances and s_X^2 the
    variance of the sum over the k items (both with ddof=1). Rows with a missing item are dropped
    (complete cases).

    Parameters
    ----------
    items : DataFrame or 2-D array
        One row per respondent, one column per item.
    alpha : float, optional
        Give a two-sided level (e.g. 0.05) to add Feldt's interval: (1 - a_hat) / (1 - a) follows an
        F distribution with n - 1 and (n - 1)(k - 1) degrees of freedom, so the limits are
        1 - (1 - a_hat) F_{1 - alpha/2} and 1 - (1 - a_hat) F_{alpha/2}.

    Returns
    -------
    dict
        ``alpha``, ``n`` (complete respondents), ``k`` (items) and, with ``alpha``, ``conf_low`` and
        ``conf_high``.

    Raises
    ------
    DataContractError
        Fewer than 2 items, fewer than 3 complete respondents, or a sum score without variance.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika, 16,
    297-334. Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson reliability
    coefficient twenty. Psychometrika, 30, 357-370.
    """
    if alpha is not None and not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie in (0, 1); got {alpha!r}")
    x = np.asarray(items, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise DataContractError(f"cronbach_alpha: need a respondents x items matrix with at least 2 items; "
                                f"got shape {x.shape}")
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    if n < 3:
        raise DataContractError(f"cronbach_alpha: need at least 3 respondents with every item answered; got {n}")
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        raise DataContractError("cronbach_alpha: the sum score has no variance, so alpha is undefined")
    a_hat = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var)
    out = {"alpha": float(a_hat), "n": int(n), "k": int(k)}
    if alpha is not None:
        df1, df2 = n - 1, (n - 1) * (k - 1)
        out["conf_low"] = float(1 - (1 - a_hat) * stats.f.ppf(1 - alpha / 2, df1, df2))
        out["conf_high"] = float(1 - (1 - a_hat) * stats.f.ppf(alpha / 2, df1, df2))
    return out


def instrument_alpha(
    assessments: pd.DataFrame,
    instrument: str | Instrument | Mapping[str, Any],
    *,
    occasion: str = "first",
    alpha: float = 0.05,
    person_col: str = "person_id",
    date_col: str = "assessment_date",
    instrument_col: str = "instrument",
    item_col: str = "item",
    score_col: str = "score",
) -> dict[str, float]:
    """Cronbach's alpha of one instrument's items at each person's first (baseline) assessment.

    Using one occasion per person keeps the respondents independent. Missing codes (e.g. VUM 9, not
    relevant) count as missing, so only occasions with every item answered enter (complete cases).

    Parameters
    ----------
    assessments : DataFrame
        Long format, one row per person x date x instrument x item.
    occasion : {"first", "all"}, default="first"
        ``"first"``: each person's first assessment of the instrument; ``"all"``: every occasion.

    Returns
    -------
    dict
        As :func:`cronbach_alpha`, plus ``instrument``.
    """
    ins = get_instrument(instrument)
    if occasion not in ("first", "all"):
        raise ParameterError(f"occasion must be 'first' or 'all'; got {occasion!r}")
    _require_columns(assessments, {"person_col": person_col, "date_col": date_col, "instrument_col": instrument_col,
                                   "item_col": item_col, "score_col": score_col}, "instrument_alpha")
    rows = assessments.loc[assessments[instrument_col] == ins.name, [person_col, date_col, item_col, score_col]]
    if rows.empty:
        raise DataContractError(f"instrument_alpha: no rows with {instrument_col} == {ins.name!r}")
    if occasion == "first":
        rows = rows[rows[date_col] == rows.groupby(person_col)[date_col].transform("min")]
    values = pd.to_numeric(rows[score_col], errors="coerce")
    values = values.where(~values.isin(ins.missing_codes))
    wide = rows.assign(_v=values, _item=rows[item_col].astype(str)).set_index([person_col, date_col, "_item"])["_v"]
    if wide.index.duplicated().any():
        dups = wide.index[wide.index.duplicated()].tolist()[:5]
        raise DataContractError(f"instrument_alpha({ins.name}): repeated ({person_col}, {date_col}, {item_col}) "
                                f"rows, e.g. {dups}")
    wide = wide.unstack("_item")
    if ins.items is not None:
        wide = wide.reindex(columns=list(ins.items))
    return {"instrument": ins.name, **cronbach_alpha(wide, alpha=alpha)}
