"""``progression``: run the chain, validate inputs, show parameters, generate synthetic data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from progression.exceptions import ChainError, NotFittedError, ProgressionError

#: Failures of the package itself, not of what it was given: exit 1. Every other error of the
#: package is the user's to fix (a parameter, the data, a table refused by disclosure control): exit 2.
INTERNAL_ERRORS = (ChainError, NotFittedError)


def _run(args: argparse.Namespace) -> int:
    from progression.chain.runner import run_chain

    result = run_chain(args.params, only=args.only, start=args.start, run_dir=args.run_dir,
                       progress=not args.quiet)
    print(f"run folder: {result.run_dir}")
    report = result.run_dir / "report.html"
    if report.exists():
        print(f"report:     {report}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from progression.config import load_params
    from progression.sources.inputs import load_inputs

    inputs = load_inputs(load_params(args.params))
    for name, df in inputs.tables.items():
        print(f"{name:<20} {len(df):>10,} rows  ok")
    print("all input tables pass their data contracts")
    return 0


def _params(args: argparse.Namespace) -> int:
    from progression.config import load_params

    print(load_params(args.file).to_yaml(), end="")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from progression.config import load_params
    from progression.sources.synthetic import generate

    params = load_params(args.params)
    synthetic = params.data.synthetic
    if args.scale is not None:
        synthetic = synthetic.model_copy(update={"scale": args.scale})
    data = generate(synthetic, params.staircase, seed=params.run.seed if args.seed is None else args.seed)
    data.write(Path(args.out))
    for name, df in data.tables.items():
        print(f"{name:<20} {len(df):>10,} rows")
    print(f"written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="progression", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the notebook chain into runs/<run_id>/")
    run.add_argument("params", help="parameter file, e.g. params/default.yaml")
    part = run.add_mutually_exclusive_group()
    part.add_argument("--only", metavar="NOTEBOOK", help="run one notebook against --run-dir")
    part.add_argument("--from", dest="start", metavar="NOTEBOOK", help="run from this notebook on, against --run-dir")
    run.add_argument("--run-dir", help="an earlier run folder (with --only/--from)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    val = sub.add_parser("validate", help="load the inputs and check them against the data contracts")
    val.add_argument("params")
    val.set_defaults(func=_validate)

    par = sub.add_parser("params", help="show the fully resolved parameters")
    par.add_argument("--show", dest="file", required=True, metavar="FILE")
    par.set_defaults(func=_params)

    syn = sub.add_parser("synth", help="generate the synthetic data set (Parquet + truth.json)")
    syn.add_argument("params")
    syn.add_argument("--out", required=True, help="output folder")
    syn.add_argument("--scale", type=float, help="override data.synthetic.scale")
    syn.add_argument("--seed", type=int, help="override run.seed")
    syn.set_defaults(func=_synth)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProgressionError as err:
        print(f"error: {err}", file=sys.stderr)
        return exit_code(err)


def exit_code(err: ProgressionError) -> int:
    """1 for an internal failure (:data:`INTERNAL_ERRORS`), 2 for an error the user can fix."""
    return 1 if isinstance(err, INTERNAL_ERRORS) else 2


if __name__ == "__main__":
    sys.exit(main())
