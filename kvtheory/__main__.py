"""``python -m kvtheory``: see :mod:`kvtheory.cli`."""

import sys

from kvtheory.cli import main

sys.exit(main())
