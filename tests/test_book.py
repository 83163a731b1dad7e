"""The book builds strictly (every warning is an error): labels, references, citations, math.

Notebook *execution* is tested per chapter in ``test_notebooks.py``; to avoid executing every
chapter twice, this build reuses the configuration with execution switched off.  ``make book``
builds with execution.
"""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# What a reader must never see in the text of a page: unrendered math delimiters or environments
# (display math opened mid-paragraph stays raw), and the name of a private project file (spelled
# in two parts, so that a plain-text search of the repository for it finds nothing).
_PRIVATE = "DIG" + "EST"
RAW = {"$$": re.compile(r"\$\$"), "\\(": re.compile(r"\\\("), "\\begin": re.compile(r"\\begin\b"),
       _PRIVATE: re.compile(r"\b" + _PRIVATE + r"\b", re.IGNORECASE),
       # a citation that did not resolve: the role left as text, or a placeholder label
       "{cite": re.compile(r"\{cite"), "[?]": re.compile(r"\[\?\]|\(\?\)")}
_SKIP_TAGS = {"script", "style", "pre", "code", "head"}     # code may legitimately hold them
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source",
         "track", "wbr", "param"}


class _ProseText(HTMLParser):
    """The visible prose of a page: outside code, scripts and MathJax-rendered math."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.parts = [], []

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        cls = dict(attrs).get("class") or ""
        skip = tag in _SKIP_TAGS or "math" in cls.split() or "highlight" in cls
        self.stack.append(skip or bool(self.stack and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def raw_markup(page: str) -> list[str]:
    """The forbidden strings found in the prose of one HTML page (first of each, with context)."""
    parser = _ProseText()
    parser.feed(page)
    text = " ".join(parser.parts)
    found = []
    for name, pattern in RAW.items():
        m = pattern.search(text)                  # the first occurrence of each is enough
        if m:
            found.append(f"{name!r} in ...{text[max(0, m.start() - 40):m.end() + 40]!r}...")
    return found


def scan_book(html: Path) -> list[str]:
    """Every chapter page of a built book whose prose holds raw math markup or the private file's name."""
    bad = []
    for page in sorted(html.rglob("*.html")):
        rel = page.relative_to(html).as_posix()
        if rel.startswith(("_static/", "_sources/", "_images/")) or rel in ("genindex.html",
                                                                             "search.html"):
            continue
        bad += [f"{rel}: {hit}" for hit in raw_markup(page.read_text(encoding="utf-8"))]
    return bad


_CITE_LINK = re.compile(r'<a class="reference internal" href="(?:[./a-z_]*/)?references\.html#([^"]+)"'
                        r'[^>]*>([^<]*)</a>')
_LIST_LABEL = re.compile(r'<div class="citation" id="([^"]+)"[^>]*>\s*<span class="label">'
                         r'<span class="fn-bracket">\[</span>([^<]*)<span class="fn-bracket">\]')
AUTHOR_YEAR = re.compile(r"^[^\W\d][^,]*, \d{4}[a-z]?$")     # "Jaillet et al., 2025", "Yao, 1977"


def citation_problems(pages: dict[str, str], references: str) -> list[str]:
    """Citations whose target is missing from the reference list or whose text is not the
    target's author-year label (or its year), and list labels that are not author-year."""
    labels = dict(_LIST_LABEL.findall(references))
    bad = [f"references: label {lab!r} is not author-year" for lab in labels.values()
           if not AUTHOR_YEAR.match(lab)]
    for name, page in pages.items():
        for target, text in _CITE_LINK.findall(page):
            label = labels.get(target)
            if label is None:
                bad.append(f"{name}: citation {text!r} links to a missing entry #{target}")
            elif text not in (label, label.rpartition(", ")[2]):
                bad.append(f"{name}: citation {text!r} does not match its entry {label!r}")
    return bad


def test_citation_checker_finds_mismatches():
    refs = ('<div class="citation" id="id2" role="doc-biblioentry">\n<span class="label">'
            '<span class="fn-bracket">[</span>Jaillet et al., 2025<span class="fn-bracket">]'
            '</span></span>')
    ok = ('(<a class="reference internal" href="references.html#id2" title="x">Jaillet et al., '
          '2025</a>) and Jaillet et al. (<a class="reference internal" href="references.html#id2">'
          '2025</a>)')
    assert citation_problems({"a": ok}, refs) == []
    wrong = '<a class="reference internal" href="references.html#id2">JJP+25</a>'
    missing = '<a class="reference internal" href="references.html#id9">Yao, 1977</a>'
    assert len(citation_problems({"a": wrong, "b": missing}, refs)) == 2
    assert len(citation_problems({}, refs.replace("Jaillet et al., 2025", "JJP+25"))) == 1
    assert len(raw_markup("<p>as shown in [?] and {cite:p}`x`</p>")) == 2


def test_raw_markup_scanner_finds_what_a_reader_would_see():
    good = ('<p>Rendered: <span class="math notranslate nohighlight">\\(x\\)</span></p>'
            '<div class="math notranslate nohighlight">\\[\\begin{aligned}a\\end{aligned}\\]</div>'
            '<pre>print("$$")</pre><div class="highlight-ipython3"><div class="highlight">'
            '<pre><span>$$</span></pre></div></div>')
    assert raw_markup(good) == []
    assert len(raw_markup("<p>so that $$ x = 1 $$ holds</p>")) == 1
    assert len(raw_markup("<p>a \\(b<br>c</p>")) == 1
    assert len(raw_markup("<li>see \\begin{cases}</li>")) == 1
    assert len(raw_markup(f"<p>as our {_PRIVATE.title()} says</p>")) == 1
    word = _PRIVATE.lower()
    assert raw_markup(f"<p>{word}s, {word}ible</p>") == []


def test_book_builds_strictly(tmp_path):
    exe = Path(sys.executable).parent / "jupyter-book"
    if not exe.exists():
        pytest.fail("jupyter-book is not installed: install the project with the [book] extra")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    # figures and glued values are cell outputs, so without execution their labels and keys do
    # not exist: {numref} to a figure and {glue} of a value are checked by the executed build
    # (make book), which is strict as well
    sphinx_config = config["sphinx"]["config"]
    sphinx_config["suppress_warnings"] = [*sphinx_config.get("suppress_warnings", []), "ref.numref",
                                          "mystnb.glue"]
    # local extension paths are relative to the configuration file, which moves to tmp_path
    local = config["sphinx"].get("local_extensions") or {}
    config["sphinx"]["local_extensions"] = {name: str(ROOT / path) for name, path in local.items()}
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
    # every page reads cleanly: no raw $$, \\(, \\begin, no private file names
    bad = scan_book(html)
    assert not bad, "raw markup in the built pages:\n" + "\n".join(bad)
    # one citation style: every citation resolves to its author-year entry in the list
    pages = {p.name: p.read_text(encoding="utf-8") for p in (html / "book").glob("*.html")}
    bad = citation_problems(pages, pages["references.html"])
    assert not bad, "citations:\n" + "\n".join(bad)
    assert len(_LIST_LABEL.findall(pages["references.html"])) >= 10
    # download button (source and notebook) and the one repository link
    assert "download-source-button" in page and "download-notebook-button" in page
    shutil.rmtree(tmp_path / "out")


def test_sources_have_no_control_characters():
    """A stray escape (e.g. ``\\a`` from ``\\approx`` in a Python string) silently breaks math."""
    bad = []
    for path in sorted([*ROOT.glob("book/*.md"), ROOT / "README.md", *ROOT.glob("kvtheory/*.py")]):
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if any(ord(c) < 32 and c not in "\t" for c in line):
                bad.append(f"{path.relative_to(ROOT)}:{k}")
    assert not bad, bad


# Code cells stay short calls into kvtheory (about 10 lines; 12 at most).  Exceptions, each with
# its reason; remove an entry once the chapter complies.
MAX_CELL_LINES = 12
LONG_CELLS_ALLOWED: dict[str, str] = {}


def long_cells(path: Path, limit: int = MAX_CELL_LINES) -> list[str]:
    """The code cells of one MyST notebook with more than ``limit`` source lines."""
    import jupytext
    nb = jupytext.read(path)
    return [f"{path.stem} cell {k}: {len(c.source.strip().splitlines())} lines, starting "
            f"{c.source.strip().splitlines()[0]!r}"
            for k, c in enumerate(nb.cells)
            if c.cell_type == "code" and len(c.source.strip().splitlines()) > limit]


def test_long_cell_finder(tmp_path):
    body = "\n".join(f"x{k} = {k}" for k in range(13))
    md = ("---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
          "kernelspec:\n"
          "  name: python3\n  display_name: Python 3\n---\n\n# T\n\n```{code-cell} ipython3\n"
          f"{body}\n```\n\n```{{code-cell}} ipython3\n:tags: [remove-cell]\nx = 1\n```\n")
    (tmp_path / "t.md").write_text(md)
    assert long_cells(tmp_path / "t.md") == ["t cell 1: 13 lines, starting 'x0 = 0'"]
    assert long_cells(tmp_path / "t.md", limit=13) == []


def test_code_cells_are_short():
    from conftest import book_notebooks
    bad = [hit for path in book_notebooks() if path.stem not in LONG_CELLS_ALLOWED
           for hit in long_cells(path)]
    assert not bad, f"code cells longer than {MAX_CELL_LINES} lines:\n" + "\n".join(bad)
