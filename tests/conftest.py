"""Shared pytest configuration: hypothesis profiles and the notebook collector."""

from pathlib import Path

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]


def book_notebooks() -> list[Path]:
    """Every MyST markdown notebook (front matter with ``jupytext``) under ``book/``."""
    out = []
    for path in sorted((ROOT / "book").rglob("*.md")):
        head = path.read_text(encoding="utf-8")[:600]
        if head.startswith("---") and "jupytext" in head:
            out.append(path)
    return out


def pytest_generate_tests(metafunc):
    if "notebook_path" in metafunc.fixturenames:
        paths = book_notebooks()
        metafunc.parametrize("notebook_path", paths,
                             ids=[str(p.relative_to(ROOT / "book")) for p in paths])
