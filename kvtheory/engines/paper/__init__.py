"""The engine of the paper's published experiment code, rebuilt from its documented rules.

One concept in four modules: the rules and records the others share
(:mod:`~kvtheory.engines.paper.rules`: policies, batch time, run records), the event loop
(:mod:`~kvtheory.engines.paper.loop`), an independent replay checker of a finished run
(:mod:`~kvtheory.engines.paper.check`), and the entry point :func:`simulate_paper`
(:mod:`~kvtheory.engines.paper.engine`), which also describes the rules.
"""

from kvtheory.engines.paper.engine import *  # noqa: F401,F403
from kvtheory.engines.paper.engine import __all__  # noqa: F401
