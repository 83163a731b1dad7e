"""Small trace files for the chunked readers' tests: writing them, and a loaded trace's columns."""

from __future__ import annotations

import gzip
from pathlib import Path


def write(path: Path, lines: list[str], *, bom: bool = False) -> Path:
    """Write ``lines`` (gzip-compressed when the name ends in ``.gz``), optionally after a BOM."""
    raw = (("\ufeff" if bom else "") + "\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(raw) if path.name.endswith(".gz") else raw)
    return path


def arrays(tr) -> tuple:
    """Every column of a loaded trace, and its unit, as plain lists to compare."""
    return (tr.arrival_time.tolist(), tr.prompt.tolist(), tr.output.tolist(),
            tr.origin.tolist(), tr.unit)
