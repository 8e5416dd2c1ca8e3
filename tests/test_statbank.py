"""Tests of the StatBank client and parsers: own fixtures in the API's formats, round trips, real samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.sources import statbank as sb

FIXTURES = Path(__file__).parent / "fixtures" / "statbank"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "dst_api_samples"


class RecordingTransport:
    """Serves fixture files by table name and records each request."""

    def __init__(self, responses: dict[tuple[str, str], Path | bytes]):
        self.responses = responses
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, url: str, payload: bytes) -> bytes:
        body = json.loads(payload.decode("utf-8"))
        self.calls.append((url, body))
        response = self.responses[(url.rsplit("/", 1)[-1], body["table"])]
        return response.read_bytes() if isinstance(response, Path) else response


def reference(name: str) -> Path:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"reference sample {name} not present")
    return path


# ---------------------------------------------------------------------------------------------
# time codes
# ---------------------------------------------------------------------------------------------

def test_time_codes_parse_to_period_columns():
    frame = sb.parse_time_codes(["2024", "2024H2", "2024K3", "2024Q3", "2024M11", "2024U01", "2024M02D29"])
    assert frame["year"].tolist() == [2024] * 7
    assert frame["period_type"].tolist() == ["Y", "H", "Q", "Q", "M", "W", "D"]
    assert frame["period"].tolist()[1:6] == [2, 3, 3, 11, 1]
    assert frame["period"].isna().tolist() == [True, False, False, False, False, False, True]
    starts = frame["period_start"].dt.strftime("%Y-%m-%d").tolist()
    # ISO week 1 of 2024 starts on Monday 1 January 2024
    assert starts == ["2024-01-01", "2024-07-01", "2024-07-01", "2024-07-01", "2024-11-01", "2024-01-01", "2024-02-29"]


@pytest.mark.parametrize("bad", ["24K1", "2024K5", "2024M13", "2024U54", "2023M02D29", "2024X1", ""])
def test_time_codes_reject_invalid(bad):
    with pytest.raises(DataContractError, match="not StatBank time codes"):
        sb.parse_time_codes(["2024", bad])


def test_time_code_round_trip():
    rng = np.random.default_rng(1)
    for _ in range(200):
        kind = rng.choice(["Y", "H", "Q", "M", "W"])
        year = int(rng.integers(1990, 2040))
        high = {"Y": 1, "H": 2, "Q": 4, "M": 12, "W": 52}[kind]
        period = None if kind == "Y" else int(rng.integers(1, high + 1))
        parsed = sb.parse_time_codes([sb.format_time_code(year, kind, period)]).iloc[0]
        assert (parsed["year"], parsed["period_type"]) == (year, kind)
        assert (pd.isna(parsed["period"]) and period is None) or parsed["period"] == period


def test_format_time_code_errors():
    with pytest.raises(ParameterError, match="period for period_type 'Q' must be in 1..4"):
        sb.format_time_code(2024, "Q", 5)
    assert sb.format_time_code(2024, "M", 1) == "2024M01"
    assert sb.format_time_code(2024, "Q", 1) == "2024K1"


# ---------------------------------------------------------------------------------------------
# CSV / BULK
# ---------------------------------------------------------------------------------------------

def _write_statbank_csv(frame: pd.DataFrame, decimal: str) -> str:
    """Write values the way the API does: ';', decimal comma or point, '..' for missing."""
    def cell(value):
        if np.isnan(value):
            return ".."
        text = repr(float(value))
        return text.replace(".", decimal)

    lines = ["OMRÅDE;TID;INDHOLD"]
    lines += [f"{a};{t};{cell(v)}" for a, t, v in frame[["area", "time", "value"]].itertuples(index=False)]
    return "\r\n".join(lines)


@pytest.mark.parametrize("decimal", [",", "."])
def test_csv_round_trip_decimal_and_suppressed(decimal):
    rng = np.random.default_rng(4)
    n = 300
    values = np.round(rng.normal(0, 1e4, n), int(rng.integers(0, 4)))
    values[rng.random(n) < 0.1] = np.nan
    times = [sb.format_time_code(int(y), "M", int(m)) for y, m in zip(rng.integers(2007, 2025, n), rng.integers(1, 13, n))]
    frame = pd.DataFrame({"area": rng.choice(["101", "825", "000"], n), "time": times, "value": values})
    parsed = sb.parse_csv(("\ufeff" + _write_statbank_csv(frame, decimal)).encode("utf-8"), decimal=decimal)
    assert len(parsed) == n  # nothing dropped
    np.testing.assert_array_equal(parsed["suppressed"].to_numpy(), np.isnan(values))
    np.testing.assert_array_equal(parsed["value"].to_numpy(), values)
    assert parsed["område"].tolist() == frame["area"].tolist()
    assert [sb.format_time_code(y, "M", p) for y, p in zip(parsed["year"], parsed["period"])] == times


def test_csv_rejects_unknown_tokens_with_row_numbers():
    text = "OMRÅDE;TID;INDHOLD\n101;2024;1,5\n101;2025;1.234,5\n101;2026;x"
    with pytest.raises(DataContractError, match=r"2 value\(s\).*row 1: '1.234,5'.*row 2: 'x'"):
        sb.parse_csv(text)


def test_csv_point_is_not_accepted_as_decimal_when_comma_expected():
    with pytest.raises(DataContractError, match="decimal ','"):
        sb.parse_csv("TID;INDHOLD\n2024;37.7")


def test_csv_missing_value_column_names_columns():
    with pytest.raises(DataContractError, match=r"'INDHOLD' not found; columns present: \['TID', 'VALUE'\]"):
        sb.parse_csv("TID;VALUE\n2024;1")


def test_csv_fixture_regk31():
    frame = sb.parse_csv((FIXTURES / "regk31_bulk_da.csv").read_bytes())
    assert list(frame.columns) == [
        "område", "funktion", "dranst", "art", "prisenhed", "tid", "year", "period_type", "period",
        "period_start", "value", "suppressed",
    ]
    assert len(frame) == 24
    flagged = frame.loc[frame["suppressed"]]
    assert flagged[["område", "funktion", "tid"]].values.tolist() == [["825", "52820", "2022"]]
    assert flagged["value"].isna().all()
    assert frame["område"].str.len().eq(3).all()  # codes keep their leading zeros


# ---------------------------------------------------------------------------------------------
# JSON-stat and tableinfo
# ---------------------------------------------------------------------------------------------

def test_jsonstat2_fixture_row_major_sparse_and_status():
    frame = sb.parse_jsonstat((FIXTURES / "jsonstat2_folk1a_en.json").read_bytes(), labels=True)
    assert len(frame) == 12
    # row-major: the last dimension (Tid) varies fastest
    assert frame["tid"].tolist()[:3] == ["2023K4", "2024K1", "2024K2"]
    assert frame[["område", "køn"]].iloc[6].tolist() == ["825", "1"]
    assert frame["value"].iloc[0] == 320101
    assert frame["suppressed"].tolist() == [False] * 7 + [True] + [False] * 4
    assert np.isnan(frame["value"].iloc[7])
    assert frame["status"].iloc[7] == ".."
    assert frame["område_label"].iloc[6] == "Læsø"
    assert frame.loc[frame["tid"] == "2023K4", "period"].eq(4).all()


def test_jsonstat_cell_count_mismatch_is_an_error():
    obj = json.loads((FIXTURES / "jsonstat2_folk1a_en.json").read_text(encoding="utf-8"))
    obj["value"] = [1, 2, 3]
    with pytest.raises(DataContractError, match="value has 3 entries; the dimensions give 12 cells"):
        sb.parse_jsonstat(obj)


def test_tableinfo_fixture():
    info = sb.parse_tableinfo((FIXTURES / "tableinfo_regk31_da.json").read_bytes())
    assert info["variable"].unique().tolist() == ["OMRÅDE", "FUNKTION", "DRANST", "ART", "PRISENHED", "Tid"]
    assert info.loc[info["variable"] == "Tid", "time"].all()
    assert info.loc[info["variable"] == "PRISENHED", "value_id"].tolist() == ["LOBM", "INDL"]
    assert info.loc[info["variable"] == "OMRÅDE", "value_id"].tolist() == ["000", "101", "825"]


# ---------------------------------------------------------------------------------------------
# client: request bodies, cache, errors
# ---------------------------------------------------------------------------------------------

def test_client_cache_and_request_body(tmp_path):
    transport = RecordingTransport({("tableinfo", "REGK31"): FIXTURES / "tableinfo_regk31_da.json"})
    client = sb.StatBankClient(cache_dir=tmp_path, transport=transport)
    first = client.tableinfo_frame("REGK31")
    second = client.tableinfo_frame("REGK31")
    pd.testing.assert_frame_equal(first, second)
    assert len(transport.calls) == 1  # the second came from the cache
    url, body = transport.calls[0]
    assert url == "https://api.statbank.dk/v1/tableinfo"
    assert body == {"table": "REGK31", "format": "JSON", "lang": "da"}
    cached = sorted(p.name for p in tmp_path.iterdir())
    assert len(cached) == 2 and cached[0].startswith("REGK31-tableinfo-") and cached[1].endswith(".request.json")
    sb.StatBankClient(cache_dir=tmp_path, transport=transport, refresh=True).tableinfo("REGK31")
    assert len(transport.calls) == 2


def test_client_raises_api_error():
    transport = RecordingTransport({("data", "REGK99"): FIXTURES / "api_error.json"})
    client = sb.StatBankClient(transport=transport)
    with pytest.raises(sb.StatBankError, match="EXTRACT-NOTFOUND"):
        client.data("REGK99", {"Tid": "2024"})


def test_client_parameter_errors():
    with pytest.raises(ParameterError, match="lang must be 'da' or 'en'"):
        sb.StatBankClient(lang="sv")
    client = sb.StatBankClient(transport=RecordingTransport({}))
    with pytest.raises(ParameterError, match="format must be one of"):
        client.data("FOLK1A", {}, format="XLSX")


def test_function_code_and_municipality_codes():
    assert sb.function_code("5.38.50") == "53850"
    assert sb.function_code("0.22.01") == "2201"
    assert sb.function_code("52820") == "52820"
    with pytest.raises(ParameterError, match="function code"):
        sb.function_code("5-38-50")
    assert [sb.is_municipality_code(c) for c in ["000", "084", "101", "411", "860", "950"]] == [
        False, False, True, False, True, False,
    ]


def test_fetch_regk31_from_fixture(tmp_path):
    transport = RecordingTransport({("data", "REGK31"): FIXTURES / "regk31_bulk_da.csv"})
    client = sb.StatBankClient(cache_dir=tmp_path, transport=transport)
    out = sb.fetch_regk31(client, functions=["5.38.50", "5.28.20"], years=[2022, 2023])
    body = transport.calls[0][1]
    assert body["format"] == "BULK" and body["valuePresentation"] == "Code"
    selections = {v["code"]: v["values"] for v in body["variables"]}
    assert selections == {
        "OMRÅDE": ["*"], "FUNKTION": ["53850", "52820"], "DRANST": ["1"], "ART": ["TOT"],
        "PRISENHED": ["LOBM"], "Tid": ["2022", "2023"],
    }
    assert list(out.columns) == ["municipality", "year", "function", "net_operating_dkk", "suppressed"]
    assert sorted(out["municipality"].unique()) == [101, 147, 825]  # country, region and group dropped
    raw = sb.parse_csv((FIXTURES / "regk31_bulk_da.csv").read_bytes())
    expected = raw.query("område == '101' and funktion == '53850' and tid == '2023'")["value"].iloc[0] * 1000
    got = out.query("municipality == 101 and function == '53850' and year == 2023")["net_operating_dkk"].iloc[0]
    assert got == pytest.approx(expected)
    flagged = out.loc[out["suppressed"]]
    assert flagged[["municipality", "year", "function"]].values.tolist() == [[825, 2022, "52820"]]
    assert flagged["net_operating_dkk"].isna().all()


@pytest.mark.parametrize("quarter", [1, "mean"])
def test_fetch_folk1a_from_fixture(quarter):
    transport = RecordingTransport({("data", "FOLK1A"): FIXTURES / "folk1a_bulk_da.csv"})
    client = sb.StatBankClient(transport=transport)
    groups = {"pop_0_1": (0, 1), "pop_18_20": (18, 20)}
    out = sb.fetch_folk1a(client, years=[2023], age_groups=groups, quarter=quarter)
    selections = {v["code"]: v["values"] for v in transport.calls[0][1]["variables"]}
    assert selections["ALDER"] == ["0", "1", "18", "19", "20"]
    assert selections["Tid"] == (["2023K1"] if quarter == 1 else ["2023K1", "2023K2", "2023K3", "2023K4"])
    assert out["municipality"].tolist() == [101, 825]  # Christiansø (411), country and region dropped
    raw = sb.parse_csv((FIXTURES / "folk1a_bulk_da.csv").read_bytes())
    part = raw.query("område == '825' and alder in ['18', '19', '20']")
    if quarter == 1:
        part = part.query("period == 1")
    expected = part.groupby("period")["value"].sum().mean()
    assert out.loc[out["municipality"] == 825, "pop_18_20"].iloc[0] == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# real captured responses (skipped when the reference folder is absent)
# ---------------------------------------------------------------------------------------------

def test_reference_csv_folk1a_2020k1():
    frame = sb.parse_csv(reference("razz7_FOLK1A_2020K1_omraade_civilstand.csv").read_bytes())
    assert len(frame) == 525 and not frame["suppressed"].any()
    total = frame.query("område == 'Hele landet' and civilstand == 'I alt'")["value"].iloc[0]
    parts = frame.query("område == 'Hele landet' and civilstand != 'I alt'")["value"].sum()
    assert total == parts  # the four civil statuses add up to the total
    assert set(frame["year"]) == {2020} and set(frame["period"]) == {1}


def test_reference_csv_with_bom_and_crlf():
    frame = sb.parse_csv(reference("razz7_FOLK1A_helelandet_civilstand_quarterly.csv").read_bytes())
    assert frame.columns[0] == "område"  # the byte-order mark is gone
    assert (frame["period_type"] == "Q").all() and frame["year"].min() == 2008


def test_reference_bulk_weeks_decimal_comma():
    frame = sb.parse_csv(reference("dstapi_nb_data_METROX1_BULK_da_head.csv").read_bytes())
    assert frame["value"].iloc[0] == pytest.approx(37.7)
    assert (frame["period_type"] == "W").all()


def test_reference_jsonstat_bef5():
    frame = sb.parse_jsonstat(reference("denstatbank_mock_data_BEF5_JSONSTAT_en.json").read_bytes())
    assert len(frame) == 8
    row = frame.query("køn == 'K' and fodland == '5104' and tid == '2019'")
    assert row["value"].iloc[0] == 2787  # the last cell of the row-major value array


def test_reference_tableinfo_metrox1():
    info = sb.parse_tableinfo(reference("dstapi_nb_tableinfo_METROX1_en.json").read_bytes())
    raw = json.loads(reference("dstapi_nb_tableinfo_METROX1_en.json").read_text(encoding="utf-8"))
    assert len(info) == sum(len(v["values"]) for v in raw["variables"])
    assert info.loc[info["variable"] == "Tid", "time"].all()
    periods = sb.parse_time_codes(info.loc[info["variable"] == "Tid", "value_id"])
    assert (periods["period_type"] == "W").all()


def test_fetch_folk1a_suppressed_cell_makes_group_missing():
    lines = ["OMRÅDE;ALDER;TID;INDHOLD", "101;18;2023K1;100", "101;19;2023K1;..", "101;0;2023K1;50"]
    transport = RecordingTransport({("data", "FOLK1A"): "\n".join(lines).encode("utf-8")})
    out = sb.fetch_folk1a(sb.StatBankClient(transport=transport), years=[2023], age_groups={"a": (18, 19), "b": (0, 0)})
    row = out.iloc[0]
    assert np.isnan(row["a"]) and row["b"] == 50 and row["suppressed"]
