"""`python -m routing` does what the `routing` command does."""

import sys

from routing.cli.main import main

if __name__ == "__main__":  # not when a spawned process (a reload reads the config in one) imports it
    sys.exit(main())
