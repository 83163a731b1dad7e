"""The built book as a reader sees it: every page in headless Chromium at 1280 px and 390 px.

Run after ``make book``: ``make check-book``.  The tests read ``_build/html``, or the book that
``$KVTHEORY_BOOK_HTML`` names (then it must exist).  Without a browser they skip with one line
saying how to install one, and without a built book with one line saying to build it; with
``KVTHEORY_REQUIRE_BROWSER=1`` (set by CI) a missing browser is a failure.  A screenshot of every
page at both widths goes to ``_build/screenshots/`` for a person to look through.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from book_browser import (INSTALL_HINT, REQUIRE, ROOT, WIDTHS, badge_problems, chromium_path,
                          citation_problems, download_problems, layout_problems, link_problems,
                          open_page, page_links, search_hits, serve)
from conftest import book_notebooks

HTML = Path(os.environ.get("KVTHEORY_BOOK_HTML") or ROOT / "_build" / "html")
SHOTS = ROOT / "_build" / "screenshots"


def _toc_pages() -> list[str]:
    """Every page of the table of contents, as built (``book/x.html``), then search and index."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    return [f"{f}.html" for f in files] + ["search.html", "genindex.html"]


PAGES = _toc_pages()
NOTEBOOKS = {f"book/{p.stem}.html" for p in book_notebooks()}


def _missing(why: str, required: bool):
    if required:
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright as playwright
    except ImportError:
        playwright = None
    exe = chromium_path()
    if playwright is None or exe is None:
        _missing(INSTALL_HINT, os.environ.get(REQUIRE) == "1")
    with playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def site():
    if not (HTML / "index.html").is_file():
        _missing(f"no built book at {HTML}: run `make book`, then `make check-book`",
                 bool(os.environ.get("KVTHEORY_BOOK_HTML")))
    with serve(HTML) as base:
        yield HTML, base


def _context(browser, width):
    return browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_reads_cleanly(browser, site, name, width):
    html, base = site
    assert (html / name).is_file(), f"{name} is in the table of contents but was not built"
    context = _context(browser, width)
    page, log = open_page(context, base + name)
    problems = log.problems + layout_problems(page)
    if width == WIDTHS[0]:
        problems += link_problems(html, base, page_links(page))
        problems += citation_problems(page, html, base)
        if name.startswith("book/"):
            problems += download_problems(page, html, base, notebook=name in NOTEBOOKS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{Path(name).stem}-{width}.png"), full_page=True)
    context.close()
    assert not problems, f"{name} at {width} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", ["book/claims.html", "book/succ_intro.html"])
def test_registry_badges_land_on_claim_boxes(browser, site, name):
    html, base = site
    context = _context(browser, WIDTHS[0])
    page, _ = open_page(context, base + name)
    n = page.locator("a.kv-badge").count()
    problems = badge_problems(page, html, base)
    context.close()
    assert n >= 10, f"{name}: only {n} registry badges"
    assert not problems, "\n".join(problems)


def test_search_finds_mcsf(browser, site):
    context = _context(browser, WIDTHS[0])
    n = search_hits(context, site[1], "MC-SF")
    context.close()
    assert n >= 5, f"the search page lists {n} pages for MC-SF"


# ===================================================================== the checks can fail
PLANTED = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="missing.js"></script></head><body><main><article>
<p>Raw math \\(x + y\\) and <span class="math">\\(z\\)</span> left untypeset.</p>
<figure><img src="nothing.png" alt="a"></figure>
<div style="width: 2000px">a wide block</div>
<div style="overflow-x: auto"><div style="width: 2000px">a wide block in its scroll box</div></div>
<a href="other.html#nowhere">a broken anchor</a> <a href="gone.html">a missing page</a>
<a href="other.html#here">a good link</a>
<a class="reference internal" href="references.html#here">(Nobody, 2025)</a>
<script>throw new Error("planted");</script>
</article></main></body></html>"""


def test_checks_find_planted_problems(browser, tmp_path):
    (tmp_path / "index.html").write_text(PLANTED)
    (tmp_path / "other.html").write_text('<html><body><p id="here">x</p></body></html>')
    (tmp_path / "references.html").write_text('<html><body><p id="here">x</p></body></html>')
    with serve(tmp_path) as base:
        context = _context(browser, 390)
        page, log = open_page(context, base + "index.html")
        layout = layout_problems(page)
        links = link_problems(tmp_path, base, page_links(page))
        links += citation_problems(page, tmp_path, base)
        downloads = download_problems(page, tmp_path, base)
        context.close()
    text = "\n".join(log.problems + layout + links + downloads)
    for expected in ("page error: planted", "HTTP 404: " + base + "missing.js",
                     "image did not load", "figure without a caption", "raw TeX in the text",
                     "1 math elements not typeset", "wider than the screen: div", "scrolls sideways",
                     "missing anchor: " + base + "other.html#nowhere",
                     "missing file: " + base + "gone.html",
                     "citation does not land on a reference entry: " + base + "references.html#here", "offers no .md", "offers no .ipynb"):
        assert expected in text, f"{expected!r} not found in:\n{text}"
    assert "scroll box" not in text and "other.html#here" not in text
    assert sum("wider than the screen" in p for p in layout) == 1
