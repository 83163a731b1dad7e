"""Module-level jobs for the executor tests (they travel to worker processes by name)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def square(x: int, log: str, delay: float = 0.0) -> int:
    """``x * x``; each call appends a line to ``log/x`` (to count how often a cell ran)."""
    time.sleep(delay)
    with open(Path(log) / str(x), "a") as f:
        f.write(f"{os.getpid()}\n")
    return x * x


def die_once(x: int, log: str, victim: int) -> int:
    """``x * x``, but the first call with ``x == victim`` kills its own process."""
    marker = Path(log) / f"died-{x}"
    if x == victim and not marker.exists():
        marker.write_text("")
        os._exit(1)
    return square(x, log)


def fail_at(x: int, log: str, bad: int) -> int:
    """``x * x``, raising for ``x == bad`` (an interrupted sweep)."""
    if x == bad:
        raise KeyboardInterrupt(f"stopped at {x}")
    return square(x, log)
