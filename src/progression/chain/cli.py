"""The command line: run the chain, check inputs, show parameters, generate synthetic data, add a notebook."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from progression.exceptions import ProgressionError, exit_code

DESCRIPTION = """progression: reproducible analyses of the Danish specialised adult social area.

Runs a chain of parameterised notebooks into a run folder (runs/<run_id>/) that ends in report.html,
checks input tables against their data contracts, shows parameters and generates a synthetic Denmark."""

EXAMPLES = """examples:
  progression run params/ci.yaml                       the whole chain into a new run folder
  progression run params/ci.yaml --run-dir runs/latest bring that folder up to date (reruns what changed)
  progression run params/ci.yaml --run-dir runs/latest --only 30 --force
  progression validate my_extract.yaml                 check an extract, write nothing
  progression new municipal_trends --after 30          add notebooks/NN_municipal_trends.ipynb"""


def _version() -> str:
    from progression.chain.runner import package_info

    info = package_info()
    commit = f", commit {info['commit'][:12]}{' (modified)' if info['dirty'] else ''}" if info["commit"] else ""
    return f"progression {info['version']}{commit}"


def _run(args: argparse.Namespace) -> int:
    from progression.chain.runner import run_chain

    result = run_chain(args.params, only=args.only, start=args.start, run_dir=args.run_dir, force=args.force,
                       progress=not args.quiet)
    print(f"run folder: {result.run_dir}")
    if result.skipped:
        print(f"up to date: {', '.join(result.skipped)}")
    print(f"executed:   {', '.join(result.executed) or 'nothing (everything was up to date)'}")
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


def _new(args: argparse.Namespace) -> int:
    from progression.chain.scaffold import new_notebook

    path = new_notebook(args.name, after=args.after)
    print(f"created {path}")
    print("run it in the chain with: progression run params/ci.yaml")
    return 0


def _chain_names() -> str:
    try:
        from progression.chain.spec import load_chain

        return ", ".join(load_chain().names)
    except ProgressionError:  # pragma: no cover - a broken checkout still gets its help text
        return "(no notebooks found)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="progression", description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    run = sub.add_parser("run", help="run the notebook chain into a run folder (or bring one up to date)",
                         description="Run the notebook chain. Without --run-dir, into a new folder under "
                                     "run.output_dir; with it, bring that folder up to date: a notebook runs again "
                                     "only when its source, its parameters, the code or its inputs changed.",
                         epilog=f"notebooks: {_chain_names()} (name, number or title)")
    run.add_argument("params", help="parameter file, e.g. params/default.yaml")
    part = run.add_mutually_exclusive_group()
    part.add_argument("--only", metavar="NOTEBOOK", help="consider one notebook")
    part.add_argument("--from", dest="start", metavar="NOTEBOOK", help="consider this notebook and those after it")
    run.add_argument("--run-dir", help="run folder to bring up to date (created if absent)")
    run.add_argument("--force", action="store_true", help="execute the notebooks considered even when up to date")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    val = sub.add_parser("validate", help="load the inputs and check them against the data contracts",
                         description="Read (or generate) every input table and check it against its data "
                                     "contract. Writes nothing.")
    val.add_argument("params", help="parameter file")
    val.set_defaults(func=_validate)

    par = sub.add_parser("params", help="show the fully resolved parameters",
                         description="Print the parameters after 'extends' and defaults are resolved.")
    par.add_argument("--show", dest="file", required=True, metavar="FILE", help="parameter file")
    par.set_defaults(func=_params)

    syn = sub.add_parser("synth", help="generate the synthetic data set (Parquet and truth.json)",
                         description="Generate the synthetic Denmark of a parameter file into a folder.")
    syn.add_argument("params", help="parameter file")
    syn.add_argument("--out", default="data/synthetic", help="output folder (default: data/synthetic)")
    syn.add_argument("--scale", type=float, help="override data.synthetic.scale")
    syn.add_argument("--seed", type=int, help="override run.seed")
    syn.set_defaults(func=_synth)

    new = sub.add_parser("new", help="add a notebook for a new analysis to the chain",
                         description="Create notebooks/NN_NAME.ipynb with a parameters cell, a run context, a worked "
                                     "example (one disclosed table, one figure) and prose to fill in. The chain runs it "
                                     "in number order and the report gives it a section.")
    new.add_argument("name", help="a short name in lower case, e.g. municipal_trends")
    new.add_argument("--after", metavar="NOTEBOOK", help="place it after this notebook (default: before the report)")
    new.set_defaults(func=_new)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ProgressionError as err:
        print(f"error: {err}", file=sys.stderr)
        return exit_code(err)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
