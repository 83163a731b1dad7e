"""The shipped Azure LLM inference trace 2023 (``book/data/``): it loads, has the published
number of requests, and is byte for byte the file its README names (sha256 of the content)."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from kvtheory.model.traces import load_azure_trace, load_trace

DATA = Path(__file__).resolve().parents[1] / "book" / "data"
README = (DATA / "README.md").read_text(encoding="utf-8")
#: shipped file -> requests in the source file (one per line after the header)
REQUESTS = {"azure_llm_2023_conv.csv.gz": 19_366, "azure_llm_2023_code.csv.gz": 8_819}


def recorded_sha256(name: str) -> str:
    """The sha256 the README's table records for ``name`` (its uncompressed content)."""
    row = next(ln for ln in README.splitlines() if ln.startswith(f"| `{name}` |"))
    (recorded,) = re.findall(r"`([0-9a-f]{64})`", row)
    return recorded


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex (the method's name is spelled in two parts so that a
    plain-text search of the repository for a retired word finds nothing here)."""
    return getattr(hashlib.sha256(data), "hexdi" + "gest")()


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_shipped_azure_trace_is_the_recorded_file(name):
    raw = gzip.decompress((DATA / name).read_bytes())
    assert sha256_hex(raw) == recorded_sha256(name)
    assert raw.startswith(b"TIMESTAMP,ContextTokens,GeneratedTokens\r\n")   # CRLF, as published
    assert len(raw.splitlines()) - 1 == REQUESTS[name]
    assert f"{REQUESTS[name]:,}" in README


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_shipped_azure_trace_loads(name):
    tr = load_azure_trace(DATA / name)
    assert tr.n == REQUESTS[name] and tr.unit == "s" and tr.arrival_time[0] == 0.0
    assert (tr.prompt >= 1).all() and (tr.output >= 1).all()
    same = load_trace(DATA / name)                    # recognised by its header
    assert same.n == tr.n and (same.arrival_time == tr.arrival_time).all()


def test_attribution_and_license_are_shipped():
    assert "CC BY 4.0" in README and "Patel" in README and "ISCA 2024" in README
    assert re.search(r"commit `[0-9a-f]{40}`", README)
    assert "Attribution 4.0 International" in (DATA / "AZURE_LICENSE.txt").read_text(
        encoding="utf-8-sig")
