"""``python -m progression``: the command line (see ``progression --help``)."""

import sys

from progression.chain.cli import main

if __name__ == "__main__":
    sys.exit(main())
