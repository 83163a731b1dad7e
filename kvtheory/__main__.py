"""``python -m kvtheory``: see :mod:`kvtheory.cli`."""

import sys

from .cli import main

sys.exit(main())
