"""The evaluation figures draw what their tidy inputs say."""

import numpy as np
import pandas as pd
import pytest

from progression.evaluation import EFFECT_COLUMNS
from progression.exceptions import DataContractError

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from progression.plots.evaluation import plot_effects, plot_event_study, plot_love  # noqa: E402


def effect_rows(methods, outcome="employment_weeks", centre=4.0):
    rows = []
    for k, method in enumerate(methods):
        estimate = centre + k
        rows.append(dict(outcome=outcome, method=method, estimand="ATT", estimate=estimate, std_error=0.5,
                         conf_low=estimate - 1, conf_high=estimate + 1, p_value=0.01, n_treated=100, n_control=200))
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_forest_plot_has_one_row_per_estimate_and_a_truth_line():
    results = effect_rows(["naive contrast (participant)", "IPW (Hájek)", "AIPW (cross-fitted)"])
    ax = plot_effects(results, truth=4.2)
    position = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks()))
    assert sorted(position, key=position.get, reverse=True) == list(results["method"])  # first row on top
    x_lines = [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert x_lines == [4.2]
    points = ax.containers[0].lines[0].get_xdata()
    np.testing.assert_allclose(points, results["estimate"])


def test_forest_plot_labels_outcomes_when_there_are_several():
    results = pd.concat([effect_rows(["IPW (Hájek)"]), effect_rows(["IPW (Hájek)"], outcome="psych_inpatient_days")])
    fig, ax = plt.subplots()
    assert plot_effects(results, ax=ax) is ax
    assert "IPW (Hájek) — psych_inpatient_days" in [t.get_text() for t in ax.get_yticklabels()]


def test_event_study_plot_draws_each_method_and_the_truth():
    times = np.arange(-3, 4)
    frames = []
    for method in ("event study (TWFE)", "Callaway–Sant'Anna"):
        est = np.where(times >= 0, 1 + 0.5 * times, 0.0)
        frames.append(pd.DataFrame({"event_time": times, "method": method, "estimate": est,
                                    "conf_low": est - 0.3, "conf_high": est + 0.3}))
    truth = pd.Series(np.where(times >= 0, 1 + 0.5 * times, 0.0), index=times)
    ax = plot_event_study(pd.concat(frames), truth=truth)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["truth", "event study (TWFE)", "Callaway–Sant'Anna"]
    assert len(ax.containers) == 2
    x_first = ax.containers[0].lines[0].get_xdata()
    assert np.all(x_first < times + 0.01) and np.all(x_first > times - 0.2)  # dodged to the left


def test_love_plot_shows_both_smds_and_the_threshold():
    balance = pd.DataFrame({"covariate": ["age", "severity", "sex_M"], "smd_unweighted": [-0.3, 0.5, 0.05],
                            "smd_weighted": [0.02, -0.01, 0.03]})
    ax = plot_love(balance, threshold=0.1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sex_M", "age", "severity"]
    unweighted, weighted = (c.get_offsets()[:, 0] for c in ax.collections)
    np.testing.assert_allclose(unweighted, [0.05, 0.3, 0.5])
    np.testing.assert_allclose(weighted, [0.03, 0.02, 0.01])
    assert 0.1 in [line.get_xdata()[0] for line in ax.get_lines()]


def test_plots_name_missing_columns():
    with pytest.raises(DataContractError, match=r"\['event_time'\] not found"):
        plot_event_study(effect_rows(["IPW (Hájek)"]))
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        plot_love([1, 2, 3])


def test_suppressed_estimates_are_drawn_as_such_not_left_out():
    results = effect_rows(["naive", "IPW", "AIPW"])
    results.loc[1, ["estimate", "conf_low", "conf_high"]] = np.nan
    ax = plot_effects(results)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["naive", "IPW", "AIPW"]
    assert "suppressed" in [t.get_text() for t in ax.get_legend().get_texts()]
    events = pd.DataFrame({"event_time": [-1, 0, 1], "method": "TWFE", "estimate": [0.0, np.nan, 0.2],
                           "conf_low": [0.0, np.nan, 0.1], "conf_high": [0.0, np.nan, 0.3]})
    ax = plot_event_study(events)
    assert "suppressed" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_panels_draw_one_panel_per_intervention_and_outcome_and_record_their_table():
    from progression.plots.evaluation import plot_effect_panels, plot_event_panels

    effects = pd.concat([effect_rows(["IPW", "AIPW"], outcome=o).assign(intervention=k, design="levels", truth=4.5)
                         for k in ("a", "b") for o in ("x", "y")], ignore_index=True)
    effects.attrs["progression.disclosed"] = "fund_effects"
    fig = plot_effect_panels(effects, ["x", "y", "z"])
    assert len(fig.axes) == 6 and not fig.axes[2].axison          # no estimate of z: an empty panel
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["IPW", "AIPW"]  # short names; design in table
    sources = dict(fig._progression_sources)                        # each panel, and the figure, record the table
    assert sources["plot_effect_panels"] == "fund_effects" and set(sources.values()) == {"fund_effects"}
    events = effects.assign(event_time=1)
    fig = plot_event_panels(events, truth=effects)
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == "a: x"
