"""`python -m routing` does what the `routing` command does."""

import sys

from routing.cli.main import main

sys.exit(main())
