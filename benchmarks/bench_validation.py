"""Time and peak memory of validating the spells table (with its persons) at national scale and x10.

Run: ``.venv/bin/python benchmarks/bench_validation.py [--data DIR] [--scales 1 10] [--tables ...]``

The national synthetic persons and spells are generated once into ``--data`` (default: a folder in
the system's temporary directory, reused by later runs). Scale 10 is the national data ten times
over, persons and spells renumbered (about 1.6 million persons and 4.3 million spells): the same
register structure at ten times the size, without the 12 GB that generating scale 10 takes.

Each measurement runs in its own process, so its peak resident memory (``ru_maxrss``) is its own,
and includes the tables themselves. Two measurements per scale:

* ``validate``: :func:`progression.schemas.validate_tables` on the persons and spells in memory, as
  the synthetic source uses it: every contract check, the foreign key and the register rules
  (data window, birth, death, age at start, overlapping spells).
* ``read+validate``: the same tables as a user's CSV extract (``;`` separated, the registers' column
  names, dates as text): :func:`progression.sources.inputs.load_inputs`, which reads the files,
  casts them to the contract's types and validates them.

``--tables assessments`` validates the assessments (with their persons) instead: 3.6 million rows at
national scale, 36 million at x10.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(tempfile.gettempdir()) / "progression-bench-validation"
SPELL_COLUMNS = {"SPELL": "spell_id", "PNR": "person_id", "PARAGRAF": "paragraph", "HANDLEKOM": "municipality",
                 "STARTDATO": "start_date", "SLUTDATO": "end_date"}
PERSON_COLUMNS = {"PNR": "person_id", "FOED_AAR": "birth_year", "KOEN": "sex", "MAALGRUPPE": "target_group",
                  "SVAERHED": "severity", "KOM": "municipality", "BOERNEOMRAADE": "childhood_services",
                  "DOEDSDATO": "death_date", "UDVANDRET": "emigration_date"}


def national(data: Path, table: str) -> None:
    """Generate the national synthetic data set once and keep persons and ``table`` as Parquet."""
    if (data / "persons.parquet").exists() and (data / f"{table}.parquet").exists():
        return
    from progression.config import StaircaseParams, SyntheticParams
    from progression.sources.synthetic import generate

    generated = generate(SyntheticParams(scale=1.0), StaircaseParams(), seed=20240101)
    data.mkdir(parents=True, exist_ok=True)
    for name in ("persons", "spells", "assessments"):
        generated.tables[name].to_parquet(data / f"{name}.parquet", index=False)


def tables_at(data: Path, scale: int, table: str) -> dict:
    """Persons and ``table`` at ``scale`` times the national size (copies with new person and spell ids)."""
    import pandas as pd

    persons = pd.read_parquet(data / "persons.parquet")
    other = pd.read_parquet(data / f"{table}.parquet")
    if scale == 1:
        return {"persons": persons, table: other}
    step = 10 ** len(str(int(persons["person_id"].max())))
    copies_p, copies_o = [], []
    for k in range(scale):
        copies_p.append(persons.assign(person_id=persons["person_id"] + k * step))
        extra = {"person_id": other["person_id"] + k * step}
        if "spell_id" in other:
            extra["spell_id"] = other["spell_id"] + k * 10 ** len(str(int(other["spell_id"].max())))
        copies_o.append(other.assign(**extra))
    return {"persons": pd.concat(copies_p, ignore_index=True), table: pd.concat(copies_o, ignore_index=True)}


def write_extract(tables: dict, folder: Path, table: str) -> Path:
    """The tables as a register extract: ';' separated CSV with the registers' column names."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    renames = {"persons": PERSON_COLUMNS, "spells": SPELL_COLUMNS}
    for name, df in tables.items():
        back = {v: k for k, v in renames.get(name, {}).items()}
        out = df.rename(columns=back)
        for col in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[col]):
                out[col] = out[col].dt.strftime("%Y-%m-%d")
        out.to_csv(folder / f"{name}.csv", sep=";", index=False)
    columns = {name: renames[name] for name in tables if name in renames}
    params = folder / "params.yaml"
    params.write_text(json.dumps({
        "data": {"source": "files", "rules": {"extract_end": "2024-12-31"},
                 "files": {"directory": ".", "csv_separator": ";", "tables": {n: f"{n}.csv" for n in tables},
                           "columns": columns}}}, indent=1))
    return params


def child(data: Path, scale: int, mode: str, table: str) -> dict:
    from datetime import date

    from progression.schemas import RegisterRules, validate_tables

    tables = tables_at(data, scale, table)
    rows = {name: len(df) for name, df in tables.items()}
    if mode == "validate":
        rules = RegisterRules(last_date=date(2024, 12, 31))
        wall, cpu = time.perf_counter(), time.process_time()
        validate_tables(tables, rules)
    else:
        from progression.config import load_params
        from progression.sources.inputs import load_inputs

        with tempfile.TemporaryDirectory() as tmp:
            params = write_extract(tables, Path(tmp), table)
            del tables
            size = sum(p.stat().st_size for p in Path(tmp).glob("*.csv"))
            wall, cpu = time.perf_counter(), time.process_time()
            load_inputs(load_params(params))
            rows["csv_mb"] = round(size / 1e6)
    return {"scale": scale, "mode": mode, **rows, "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the national persons and spells")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--modes", nargs="+", default=["validate", "read+validate"])
    parser.add_argument("--tables", default="spells", choices=["spells", "assessments"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.data, int(args.child[0]), args.child[1], args.tables)))
        return
    national(args.data, args.tables)
    print("| scale | measure | persons | " + args.tables + " | CSV files (MB) | wall (s) | CPU (s) | peak RSS (GB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for scale in args.scales:
        for mode in args.modes:
            cmd = [sys.executable, __file__, "--data", str(args.data), "--tables", args.tables,
                   "--child", str(scale), mode]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            print(f"| {scale} | {mode} | {r['persons']:,} | {r[args.tables]:,} | {r.get('csv_mb', '-')} | "
                  f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_gb']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
