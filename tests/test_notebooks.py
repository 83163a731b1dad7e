"""Execute every chapter of the book (MyST markdown notebooks) in a fresh kernel."""

import jupytext
from nbclient import NotebookClient


def test_notebook_executes(notebook_path):
    nb = jupytext.read(notebook_path)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
