"""Every ``python -m kvtheory ...`` command that README shows is a real subcommand with real options.

The full-size commands take minutes to an hour, so they are not run here: each one's subcommand
is asked for its ``--help`` and every option the README line uses must be listed there (the
chapter name too, for ``tables``).  The quick commands are run by ``tests/test_cli.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS = sorted(set(re.findall(r"python -m kvtheory ([a-z][^`#|\n]*)", README.read_text())))


@cache
def _help(words: tuple[str, ...]) -> str:
    out = subprocess.run([sys.executable, "-m", "kvtheory", *words, "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_readme_shows_every_subcommand():
    from kvtheory.commands import DELEGATED
    every = {"simulate", "opt", "claims", "verify", *DELEGATED}
    assert all(name in _help(()) for name in every)
    assert every <= {c.split()[0] for c in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_is_valid(command):
    words = command.split()
    sub = tuple(words[:2]) if words[0] == "tables" else (words[0],)
    text = _help(sub)
    for opt in (w.split("=")[0] for w in words if w.startswith("--")):
        assert re.search(rf"(^|[\s\[,]){re.escape(opt)}\b", text), f"{opt} not in {sub} --help"


def test_an_unknown_option_would_be_caught():
    text = _help(("replicate",))
    assert not re.search(r"(^|[\s\[,])--no-such-option\b", text)
