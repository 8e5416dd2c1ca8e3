"""Internal consistency of an instrument estimated from the items in the data (Cronbach's alpha).

WHO-5 and Brief INSPIRE-O declare no reliability in the registry, yet the Jacobson-Truax reliable
change index needs one. Cronbach's alpha of the baseline items is the usual stand-in: it equals the
reliability of the sum score when the items are parallel (tau-equivalent with equal error variances)
and is a lower bound otherwise (Lord & Novick 1968), so a reliable-change threshold built on it errs
on the wide side. :func:`reliability_table` sets the estimate beside the declared value of each
instrument and says which one the reliable change index uses.

Examples
--------
>>> from progression.datasets import load_example
>>> table = reliability_table(load_example("assessments"), ["WHO5", "QPR15"])
>>> table[["instrument", "n", "k", "alpha", "reliability"]].round(3)
  instrument     n   k  alpha  reliability
0       WHO5  1390   5  0.853        0.853
1      QPR15   756  15  0.906        0.890
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from progression._validation import check_choice, check_columns, check_level
from progression.exceptions import DataContractError
from progression.recovery.instruments import Instrument, get_instrument

__all__ = ["cronbach_alpha", "instrument_alpha", "reliability_table"]


def cronbach_alpha(items, *, cl: float | None = None) -> dict[str, float]:
    """Cronbach's alpha of a respondents x items matrix, with Feldt's confidence interval.

    alpha = k / (k - 1) * (1 - sum_i s_i^2 / s_X^2), with s_i^2 the item variances and s_X^2 the
    variance of the sum over the k items (both with ddof=1). Rows with a missing item are dropped
    (complete cases).

    Parameters
    ----------
    items : DataFrame or 2-D array
        One row per respondent, one column per item.
    cl : float, optional
        Give a confidence level (e.g. 0.95) to add Feldt's interval.

    Returns
    -------
    dict
        ``alpha``, ``n`` (complete respondents), ``k`` (items) and, with ``cl``, ``conf_low`` and
        ``conf_high``.

    Raises
    ------
    DataContractError
        Fewer than 2 items, fewer than 3 complete respondents, or a sum score without variance.

    Notes
    -----
    Feldt's interval: (1 - a_hat) / (1 - a) follows an F distribution with n - 1 and (n - 1)(k - 1)
    degrees of freedom, so with tail t = (1 - cl)/2 the limits are 1 - (1 - a_hat) F_{1 - t} and
    1 - (1 - a_hat) F_{t}.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika, 16,
    297-334. Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson reliability
    coefficient twenty. Psychometrika, 30, 357-370.

    Examples
    --------
    >>> out = cronbach_alpha([[1, 2, 3], [2, 2, 4], [3, 4, 4], [4, 5, 5]], cl=0.95)
    >>> print(f"{out['alpha']:.3f} ({out['conf_low']:.3f} to {out['conf_high']:.3f}), n = {out['n']}")
    0.939 (0.596 to 0.996), n = 4
    """
    if cl is not None:
        check_level(cl)
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
    if cl is not None:
        df1, df2 = n - 1, (n - 1) * (k - 1)
        tail = (1 - cl) / 2
        out["conf_low"] = float(1 - (1 - a_hat) * stats.f.ppf(1 - tail, df1, df2))
        out["conf_high"] = float(1 - (1 - a_hat) * stats.f.ppf(tail, df1, df2))
    return out


def instrument_alpha(
    assessments: pd.DataFrame,
    instrument: str | Instrument | Mapping[str, Any],
    *,
    occasion: str = "first",
    cl: float | None = 0.95,
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
    instrument : str, Instrument or mapping
        The instrument whose items are used.
    occasion : {"first", "all"}, default="first"
        ``"first"``: each person's first assessment of the instrument; ``"all"``: every occasion.
    cl : float or None, default 0.95
        Confidence level of Feldt's interval (None: no interval).

    Returns
    -------
    dict
        As :func:`cronbach_alpha`, plus ``instrument``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> out = instrument_alpha(load_example("assessments"), "WHO5")
    >>> print(out["instrument"], out["k"], round(out["alpha"], 2))
    WHO5 5 0.85
    """
    ins = get_instrument(instrument)
    check_choice(occasion, ("first", "all"), name="occasion")
    check_columns(assessments, {"person_col": person_col, "date_col": date_col, "instrument_col": instrument_col,
                                "item_col": item_col, "score_col": score_col}, name="instrument_alpha")
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
    return {"instrument": ins.name, **cronbach_alpha(wide, cl=cl)}


def reliability_table(assessments: pd.DataFrame, instruments: Sequence[str], *, prefer: str = "declared",
                      cl: float = 0.95) -> pd.DataFrame:
    """Reliability per instrument: the declared value, Cronbach's alpha of the baseline items, and the one used.

    Parameters
    ----------
    assessments : DataFrame
        Long assessment format.
    instruments : sequence of str
        Registered instrument names.
    prefer : {"declared", "alpha"}, default "declared"
        ``"declared"``: the instrument's declared reliability where it has one (e.g. QPR-15's 0.89), else
        alpha from the data; ``"alpha"``: alpha from the data for every instrument, so that r_xx and
        s_pre come from the same population.
    cl : float, default 0.95
        Confidence level of Feldt's interval.

    Returns
    -------
    DataFrame
        ``instrument``, ``n`` (citizens with every baseline item answered), ``k``, ``alpha``,
        ``conf_low``, ``conf_high`` (Feldt), ``declared``, ``reliability`` (used) and ``source``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> table = reliability_table(load_example("assessments"), ["QPR15"], prefer="declared")
    >>> table[["instrument", "declared", "reliability"]]
      instrument  declared  reliability
    0      QPR15      0.89         0.89
    """
    prefer = check_choice(prefer, ("declared", "alpha"), name="prefer")
    rows = []
    for name in instruments:
        ins = get_instrument(name)
        est = instrument_alpha(assessments, ins, cl=cl)
        declared = ins.reliability_value
        use_declared = prefer == "declared" and declared is not None
        rows.append({**est, "declared": np.nan if declared is None else declared,
                     "reliability": declared if use_declared else est["alpha"],
                     "source": (f"declared: {ins.reliability['source']}" if use_declared
                                else "Cronbach's alpha of the baseline items in these data")})
    return pd.DataFrame(rows, columns=["instrument", "n", "k", "alpha", "conf_low", "conf_high", "declared",
                                       "reliability", "source"])
