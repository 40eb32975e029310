"""``python -m symderiv``: the same as the ``symderiv`` command."""

import sys

from symderiv.cli import main

if __name__ == "__main__":
    sys.exit(main())
