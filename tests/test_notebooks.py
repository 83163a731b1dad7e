"""Execute every chapter of the book (MyST markdown notebooks) in a fresh kernel.

The book's own rule applies (``stderr_output: remove-warn`` under ``-W`` in ``_config.yml``): a
cell that writes to stderr (a warning, a log line, a progress bar) fails the strict book build,
so it fails here too, naming the cell and what it wrote.
"""

import jupytext
from nbclient import NotebookClient


def stderr_outputs(nb) -> list[str]:
    """``"cell K: <first line>"`` for every code cell of an executed notebook that wrote to stderr."""
    found = []
    for k, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", "")).strip()
                found.append(f"cell {k}: {text.splitlines()[0] if text else '(empty)'}")
    return found


def test_stderr_finder_sees_a_warning():
    nb = jupytext.reads("```{code-cell} ipython3\nimport warnings\nwarnings.warn('x')\n```\n"
                        "```{code-cell} ipython3\nprint('fine')\n```\n", fmt="md:myst")
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    hits = stderr_outputs(nb)
    assert len(hits) == 1 and hits[0].startswith("cell 0:") and "UserWarning: x" in hits[0]


def test_notebook_executes(notebook_path):
    nb = jupytext.read(notebook_path)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    bad = stderr_outputs(nb)
    assert not bad, (f"{notebook_path.name}: cells write to stderr (the strict book build fails "
                     "on them):\n" + "\n".join(bad))
