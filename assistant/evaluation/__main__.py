"""`python -m assistant.evaluation ...` behaves like `assistant eval ...`."""

import sys

from assistant.evaluation.command import main

if __name__ == "__main__":
    sys.exit(main())
