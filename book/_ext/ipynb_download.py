"""Offer each chapter's executed notebook (.ipynb, outputs included) in the download menu.

sphinx-book-theme adds the ``.ipynb`` entry only when a launch service (Binder, Colab, ...) is
configured; this book has none (it reads offline), so this extension does the same copy itself:
myst-nb writes every executed notebook to ``_build/jupyter_execute/``; we copy it next to the
page's source in ``_sources/`` and tell the theme's download button about it.
"""

from pathlib import Path
from shutil import copy2


def _offer_notebook(app, pagename, templatename, context, doctree):
    if doctree is None or not str(context.get("sourcename", "")).endswith((".md", ".md.txt")):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", _offer_notebook, priority=499)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
