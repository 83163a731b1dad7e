"""The book builds strictly (every warning is an error): labels, references, citations, math.

Notebook *execution* is tested per chapter in ``test_notebooks.py``; to avoid executing every
chapter twice, this build reuses the configuration with execution switched off.  ``make book``
builds with execution.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_strictly(tmp_path):
    exe = Path(sys.executable).parent / "jupyter-book"
    if not exe.exists():
        pytest.fail("jupyter-book is not installed: install the project with the [book] extra")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    cfg = tmp_path / "_config.yml"
    cfg.write_text(yaml.safe_dump(config))
    res = subprocess.run([str(exe), "build", "-W", "-n", "--keep-going", "--config", str(cfg),
                          "--path-output", str(tmp_path / "out"), str(ROOT)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    html = tmp_path / "out" / "_build" / "html"
    assert (html / "index.html").exists()
    assert (html / "_static" / "mathjax").is_dir(), "MathJax must be bundled for offline reading"
    page = (html / "book" / "mcsf.html").read_text()
    assert "mathjax/tex-chtml.js" in page and "cdn.jsdelivr" not in page
    shutil.rmtree(tmp_path / "out")


def test_sources_have_no_control_characters():
    """A stray escape (e.g. ``\\a`` from ``\\approx`` in a Python string) silently breaks math."""
    bad = []
    for path in sorted([*ROOT.glob("book/*.md"), ROOT / "README.md", *ROOT.glob("kvtheory/*.py")]):
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if any(ord(c) < 32 and c not in "\t" for c in line):
                bad.append(f"{path.relative_to(ROOT)}:{k}")
    assert not bad, bad
