"""Spells to person-period panels: the three period rules on hand-built spells, censoring, I/O."""

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.panel import PANEL_COLUMNS, build_panel, infer_period, read_panel
from progression.staircase import EXIT_STATUSES, STATUSES, Staircase

NaT = None


def _spells(rows):
    frame = pd.DataFrame(rows, columns=["person_id", "paragraph", "municipality", "start_date", "end_date"])
    frame.insert(0, "spell_id", range(len(frame)))
    for col in ("start_date", "end_date"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


SPELLS = _spells([
    # 1: three steps in 2020; SEL85 longest (244 days), SEL108 highest, SEL82 at the year end
    (1, "SEL85", 101, "2020-01-01", "2020-08-31"),
    (1, "SEL108", 101, "2020-09-01", "2020-10-15"),
    (1, "SEL82a", 101, "2020-10-16", NaT),
    # 2: overlapping SEL85 spells (union 121 days) against 153 days of SEL107; nothing at the year end
    (2, "SEL85", 147, "2020-01-01", "2020-04-30"),
    (2, "SEL85", 147, "2020-02-01", "2020-04-30"),
    (2, "SEL107", 147, "2020-05-01", "2020-09-30"),
    # 3: same-day change on 31 December; an open spell would not matter here
    (3, "SEL85", 265, "2020-01-01", "2020-12-31"),
    (3, "SEL108", 265, "2020-12-31", "2021-03-01"),
    # 4: on SEL85 since 2019, dies 15 June 2021; a move before the window does not censor
    (4, "SEL85", 751, "2019-06-01", NaT),
    # 5: preventive support, moves municipality 1 February 2021
    (5, "SEL82b", 169, "2020-03-01", NaT),
    # 6: only a side service: never in the panel
    (6, "SEL103", 657, "2020-01-01", NaT),
    # 7: left services before the window: in the panel on no step, with the old municipality
    (7, "SEL85", 851, "2015-01-01", "2016-06-30"),
    # 8: died before the window
    (8, "SEL108", 101, "2015-01-01", NaT),
    # 9: open long-term residential care; side service on top
    (9, "SEL108", 461, "2020-05-01", NaT),
    (9, "SEL104", 461, "2020-05-01", NaT),
    # 10: emigrates on the day a new spell starts
    (10, "SEL85", 101, "2020-02-01", "2020-12-31"),
    (10, "SEL107", 101, "2021-04-01", NaT),
])
PERSONS = pd.DataFrame({
    "person_id": range(1, 11),
    "death_date": pd.to_datetime([NaT, NaT, NaT, "2021-06-15", NaT, NaT, NaT, "2018-01-01", NaT, NaT]),
    "emigration_date": pd.to_datetime([NaT] * 9 + ["2021-04-01"]),
})
MOVES = pd.DataFrame({
    "person_id": [4, 5],
    "move_date": pd.to_datetime(["2019-09-01", "2021-02-01"]),
    "from_municipality": [751, 169],
    "to_municipality": [265, 101],
})

EXPECTED_2020 = {  # person -> step in 2020 under highest / end / longest
    1: ("SEL108", "SEL82", "SEL85"),
    2: ("SEL107", "none", "SEL107"),
    3: ("SEL108", "SEL108", "SEL85"),
    4: ("SEL85", "SEL85", "SEL85"),
    5: ("SEL82", "SEL82", "SEL82"),
    7: ("none", "none", "none"),
    9: ("SEL108", "SEL108", "SEL108"),
    10: ("SEL85", "SEL85", "SEL85"),
}


def _yearly(rule, **kwargs):
    return build_panel(SPELLS, PERSONS, MOVES, start=2020, end=2021, period="year", rule=rule, **kwargs)


@pytest.mark.parametrize("k, rule", list(enumerate(["highest", "end", "longest"])))
def test_three_rules_on_hand_built_spells(k, rule):
    panel = _yearly(rule)
    got = panel[panel.period == "2020-01-01"].set_index("person_id")["step"].astype(str).to_dict()
    assert got == {person: steps[k] for person, steps in EXPECTED_2020.items()}


def test_second_year_and_censoring():
    panel = _yearly("highest").set_index(["person_id", "period"])
    y21 = pd.Timestamp("2021-01-01")
    # step held until death, status carries the event; nothing after it
    assert panel.loc[(4, y21), ["step", "status"]].tolist() == ["SEL85", "died"]
    assert panel.loc[(5, y21), ["step", "status"]].tolist() == ["SEL82", "moved"]
    # emigration on the day the SEL107 spell starts: that day counts, then the panel ends
    assert panel.loc[(10, y21), ["step", "status"]].tolist() == ["SEL107", "emigrated"]
    assert panel.loc[(1, y21), "step"] == "SEL82" and panel.loc[(9, y21), "step"] == "SEL108"
    assert panel.loc[(2, y21), "step"] == "none" and panel.loc[(2, y21), "status"] == "observed"
    assert panel.loc[(7, y21), "municipality"] == 851
    persons = panel.index.get_level_values("person_id")
    assert 6 not in persons and 8 not in persons


def test_end_rule_takes_the_last_observed_day_of_a_censored_period():
    panel = _yearly("end").set_index(["person_id", "period"])
    # person 3 holds nothing on 31 December 2021: none; person 10 emigrates on a SEL107 day
    assert panel.loc[(3, pd.Timestamp("2021-01-01")), "step"] == "none"
    assert panel.loc[(10, pd.Timestamp("2021-01-01")), "step"] == "SEL107"


def test_censoring_never_becomes_a_step():
    panel = _yearly("highest")
    assert list(panel.columns) == list(PANEL_COLUMNS)
    assert set(panel.step.cat.categories) == set(Staircase.from_params().steps)
    assert not set(panel.step.astype(str)) & set(EXIT_STATUSES)
    assert set(panel.status.astype(str)) <= set(STATUSES)
    # an exit status only on a person's last row, and at most once
    last = panel.groupby("person_id").tail(1).index
    exits = panel.index[panel.status != "observed"]
    assert set(exits) <= set(last)


def test_rows_are_consecutive_periods_without_gaps():
    panel = _yearly("highest")
    years = panel.period.dt.year
    assert (years.groupby(panel.person_id).diff().dropna() == 1).all()
    assert panel.groupby("person_id").size().to_dict() == {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 7: 2, 9: 2, 10: 2}


def test_monthly_same_day_change_and_partial_first_month():
    spells = _spells([
        (1, "SEL85", 101, "2020-02-10", "2020-03-14"),
        (1, "SEL108", 101, "2020-03-15", "2020-04-30"),
    ])
    for rule, march in (("highest", "SEL108"), ("end", "SEL108"), ("longest", "SEL108")):
        panel = build_panel(spells, start="2020-01-01", end="2020-06-30", period="month", rule=rule)
        steps = panel.set_index("period")["step"].astype(str)
        assert steps.index[0] == pd.Timestamp("2020-02-01")  # enters in the month of the first spell
        assert steps["2020-03-01"] == march
        assert steps["2020-02-01"] == "SEL85" and steps["2020-05-01"] == "none"
        assert len(steps) == 5
    # longest in March with a 14/17-day split the other way round
    spells.loc[0, "end_date"] = pd.Timestamp("2020-03-17")
    spells.loc[1, "start_date"] = pd.Timestamp("2020-03-18")
    panel = build_panel(spells, start=2020, end=2020, period="month", rule="longest")
    assert panel.set_index("period").loc["2020-03-01", "step"] == "SEL85"


def test_quarters_start_on_quarter_days():
    panel = build_panel(SPELLS, PERSONS, MOVES, start=2020, end=2021, period="quarter")
    assert set(panel.period.dt.month) == {1, 4, 7, 10}
    assert (panel.period.dt.day == 1).all()
    assert infer_period(panel.period) == "quarter"
    p1 = panel[panel.person_id == 1].set_index("period")["step"].astype(str)
    assert p1[["2020-07-01", "2020-10-01", "2021-01-01"]].tolist() == ["SEL108", "SEL108", "SEL82"]


def test_side_services_never_decide_the_step():
    spells = _spells([(1, "SEL104", 101, "2020-01-01", NaT), (1, "SEL85", 101, "2020-06-01", "2020-06-30")])
    panel = build_panel(spells, start=2020, end=2021, period="year")
    assert panel.step.astype(str).tolist() == ["SEL85", "none"]


def test_unknown_paragraph_is_an_error_naming_it():
    spells = _spells([(1, "SEL85", 101, "2020-01-01", NaT), (2, "SEL999", 101, "2020-01-01", NaT)])
    with pytest.raises(DataContractError, match=r"'SEL999' \(1 rows\)"):
        build_panel(spells, start=2020, end=2021)


def test_bad_inputs():
    with pytest.raises(DataContractError, match="lacks column.*end_date"):
        build_panel(SPELLS.drop(columns="end_date"), start=2020, end=2021)
    with pytest.raises(ParameterError, match="period must be one of"):
        build_panel(SPELLS, start=2020, end=2021, period="week")
    with pytest.raises(ParameterError, match="is before start"):
        build_panel(SPELLS, start=2021, end=2020)
    backwards = SPELLS.copy()
    backwards.loc[0, "end_date"] = pd.Timestamp("2019-01-01")
    with pytest.raises(DataContractError, match="end_date before start_date"):
        build_panel(backwards, start=2020, end=2021)


def test_parquet_in_and_out_and_chunks_agree(tmp_path):
    for name, frame in (("spells", SPELLS), ("persons", PERSONS), ("moves", MOVES)):
        frame.to_parquet(tmp_path / f"{name}.parquet")
    in_memory = _yearly("highest")
    path = build_panel(tmp_path / "spells.parquet", tmp_path / "persons.parquet", tmp_path / "moves.parquet",
                       start=2020, end=2021, output=tmp_path / "panel.parquet", n_chunks=3)
    back = read_panel(path).sort_values(["person_id", "period"], ignore_index=True)
    pd.testing.assert_frame_equal(back, in_memory, check_categorical=True)
    assert back.attrs["period"] == "year"


@pytest.mark.parametrize("seed, period", [(3, "quarter"), (4, "month"), (5, "year")])
def test_random_spells_match_a_day_by_day_reference(seed, period):
    """Against a brute-force day-level computation of the three rules, with deaths censoring."""
    rng = np.random.default_rng(seed)
    n = 300
    stairs = Staircase.from_params()
    paragraphs = ["SEL82a", "SEL85", "SEL107", "ABL105", "SEL108", "SEL103"]
    start = pd.Timestamp("2018-06-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
    length = pd.to_timedelta(rng.integers(0, 200, n), "D")
    spells = _spells(list(zip(rng.integers(1, 40, n), rng.choice(paragraphs, n), [101] * n, start,
                              start + length)))
    death = pd.Series(pd.Timestamp("2019-03-01") + pd.to_timedelta(rng.integers(0, 700, 40), "D"))
    persons = pd.DataFrame({"person_id": range(1, 41), "death_date": death.where(rng.random(40) < 0.3),
                            "emigration_date": pd.NaT})
    window = pd.Timestamp("2019-01-01"), pd.Timestamp("2020-12-31")
    reference = _day_reference(spells, persons, stairs, *window, period)
    for rule in ("highest", "end", "longest"):
        panel = build_panel(spells, persons, start=2019, end=2020, period=period, rule=rule)
        got = panel.set_index(["person_id", "period"])[["step", "status"]].astype(str).sort_index()
        expected = reference[rule]
        expected.index = expected.index.set_levels(expected.index.levels[1].astype(got.index.levels[1].dtype),
                                                   level=1)
        pd.testing.assert_frame_equal(got, expected.sort_index(), check_dtype=False)


def _day_reference(spells, persons, stairs, start, end, period):
    """Step and status per person-period by brute force over days."""
    days = pd.date_range(start, end)
    freq = {"month": "M", "quarter": "Q", "year": "Y"}[period]
    period_of_day = days.to_period(freq).start_time
    name = dict(zip(stairs.levels, stairs.steps))
    death = persons.set_index("person_id")["death_date"]
    rows_out = {"highest": [], "end": [], "longest": []}
    for person, rows in spells.groupby("person_id"):
        rows = rows[rows.paragraph.map(stairs.paragraphs.get).notna()]
        if rows.empty or rows.start_date.min() > end:
            continue
        entry = max(rows.start_date.min(), start)
        exit_ = min(death.get(person, pd.NaT), end) if pd.notna(death.get(person, pd.NaT)) else end
        if exit_ < entry:
            continue
        held = {}
        for r in rows.itertuples():
            step = stairs.paragraphs[r.paragraph]
            held[step] = held.get(step, np.zeros(len(days), bool)) | ((days >= r.start_date) & (days <= r.end_date))
        top = np.full(len(days), -1.0)
        for step, mask in held.items():
            top[mask] = np.maximum(top[mask], stairs.level_of(step))
        observed = (days >= entry) & (days <= exit_)
        last_period = period_of_day[observed][-1]
        for q in period_of_day[observed].unique():
            in_q = (period_of_day == q) & observed
            status = "died" if q == last_period and exit_ < end else "observed"
            days_on = {stairs.level_of(s): m[in_q].sum() for s, m in held.items() if m[in_q].any()}
            highest = top[in_q].max()
            last = top[np.flatnonzero(in_q)[-1]]
            longest = max(days_on.items(), key=lambda kv: (kv[1], kv[0]))[0] if days_on else -1
            for rule, level in (("highest", highest), ("end", last), ("longest", longest)):
                rows_out[rule].append((person, q, name[level] if level >= 0 else "none", status))
    return {rule: pd.DataFrame(r, columns=["person_id", "period", "step", "status"]).set_index(["person_id", "period"])
            for rule, r in rows_out.items()}


def test_data_panel_builds_into_the_run_folder_and_reads_back(tmp_path):
    from progression.panel import data_panel

    spells = pd.DataFrame({"person_id": [1, 2], "paragraph": ["SEL85", "SEL108"], "municipality": [101, 101],
                           "start_date": pd.to_datetime(["2020-03-01", "2021-01-01"]), "end_date": pd.NaT})
    persons = pd.DataFrame({"person_id": [1, 2], "death_date": pd.NaT, "emigration_date": pd.NaT})
    spells.to_parquet(tmp_path / "spells.parquet")
    persons.to_parquet(tmp_path / "persons.parquet")
    with pytest.raises(FileNotFoundError, match="panel_year_end.parquet"):
        data_panel(tmp_path, rule="end", build=False)
    built = data_panel(tmp_path, rule="end", start=2020, end=2022)
    assert (tmp_path / "panel_year_end.parquet").exists() and len(built) == 5
    assert data_panel(tmp_path, rule="end", build=False).equals(built)


def test_the_national_panel_follows_citizens_across_moves(tmp_path):
    """A move ends a citizen's record in the municipal panel, not in the national one (the projection's):
    citizens who never moved have the same rows in both, and no step loses citizens in the national stock."""
    from progression.datasets import example_params, load_example
    from progression.panel import data_panel
    from progression.transitions.projection import current_stock

    params = example_params()
    for name in ("spells", "persons", "moves"):
        load_example(name).to_parquet(tmp_path / f"{name}.parquet", index=False)
    municipal = data_panel(tmp_path, start=2010, end=2024, staircase=params.staircase)
    national = data_panel(tmp_path, start=2010, end=2024, moves=False, staircase=params.staircase)
    assert (tmp_path / "panel_year_national.parquet").exists()
    assert (national["status"].astype(str) != "moved").all()
    movers = set(load_example("moves")["person_id"])
    stayers = lambda p: p[~p["person_id"].isin(movers)].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(stayers(municipal), stayers(national))
    assert (current_stock(national) >= current_stock(municipal)).all()
    assert current_stock(national).drop("none").sum() > 1.2 * current_stock(municipal).drop("none").sum()
