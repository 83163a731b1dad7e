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


class ReadSpy:
    """A file object that appends the size of every read to ``reads`` (a file read whole shows
    one read of ``-1``; a file read in blocks, one read per block)."""

    def __init__(self, f, reads: list):
        self.f, self.reads = f, reads

    def read(self, n=-1):
        self.reads.append(n)
        return self.f.read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()
