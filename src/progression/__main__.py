"""``python -m progression``: the command line (see ``progression --help``)."""

import sys

from progression.chain.cli import main

sys.exit(main())
