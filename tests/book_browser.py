"""What a reader's browser sees on the built book: the checks behind ``tests/test_browser.py``.

The built HTML (``_build/html``) is served on the loopback address and opened in headless
Chromium through Playwright.  Playwright's own browser download is not reachable here, so the
system's Chromium is launched with ``executable_path`` (Debian: ``apt-get install chromium``).

Each check is a function of an open page (or of the built tree) that returns a list of one-line
problems, so the same function is pointed at the book and, in the tests, at small planted pages
that must fail it.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
#: The environment variable that makes a missing browser or a missing built book a failure.
REQUIRE = "KVTHEORY_REQUIRE_BROWSER"
INSTALL_HINT = ("no browser for the browser tests: install one with `apt-get install chromium` "
                "(Debian) and `pip install playwright`, or set KVTHEORY_CHROMIUM to a Chromium binary")
WIDTHS = (1280, 390)


def chromium_path() -> str | None:
    """The Chromium binary to launch: ``$KVTHEORY_CHROMIUM``, else the first on ``PATH``."""
    env = os.environ.get("KVTHEORY_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# ===================================================================== serving the book
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on ``127.0.0.1`` (a free port); yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def book_pages(html: Path) -> list[str]:
    """The pages a reader opens: every chapter, the search page and the index (relative paths)."""
    pages = sorted(p.relative_to(html).as_posix() for p in (html / "book").glob("*.html"))
    return pages + [name for name in ("search.html", "genindex.html") if (html / name).is_file()]


# ===================================================================== events while loading
class PageLog:
    """Console errors, page errors and failed requests of one page, recorded while it loads."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on("requestfailed", lambda req: self.problems.append(
            f"request failed: {req.url} ({req.failure})"))
        page.on("response", self._response)

    def _console(self, msg):
        if msg.type in ("error", "warning") and _is_error_text(msg.type, msg.text):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def _response(self, resp):
        if resp.status >= 400:
            self.problems.append(f"HTTP {resp.status}: {resp.url}")


def _is_error_text(kind: str, text: str) -> bool:
    # every console error counts; of the warnings, only the theme's complaints about itself
    return kind == "error" or "invalid theme" in text.lower()


def open_page(context, url: str) -> tuple[object, PageLog]:
    """Open ``url`` in a new tab, wait for fonts and for MathJax to finish typesetting."""
    page = context.new_page()
    log = PageLog(page)
    page.goto(url, wait_until="load")
    page.evaluate("""async () => {
        if (document.fonts) await document.fonts.ready;
        if (window.MathJax && MathJax.startup && MathJax.startup.promise)
            await MathJax.startup.promise;
    }""")
    return page, log


# ===================================================================== checks on an open page
_CHECKS_JS = r"""() => {
  const W = document.documentElement.clientWidth;
  const out = {images: [], figures: [], tex: [], unset: 0, merror: 0, wide: [], scroll: 0};
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList.length ? '.' + Array.from(el.classList).join('.') : '');
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) out.images.push(img.currentSrc || img.src);
  }
  for (const fig of document.querySelectorAll('article figure, main figure')) {
    const cap = fig.querySelector('figcaption');
    if (!cap || !cap.textContent.trim())
      out.figures.push(name(fig) + ' ' + (fig.querySelector('img') || {}).src);
  }
  // math: every element the page marks as math holds typeset output, no MathJax error boxes
  for (const m of document.querySelectorAll('.math'))
    if (!m.querySelector('mjx-container')) out.unset += 1;
  out.merror = document.querySelectorAll('mjx-merror').length;
  // raw TeX in the visible text (code, scripts and MathJax's own markup aside)
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const tex = /\\(?:[()\[\]]|[a-zA-Z]{2,})|\$\$/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest(skip) || !p.getClientRects().length) continue;
    const m = n.textContent.match(tex);
    if (m) { const i = m.index;
      out.tex.push(n.textContent.slice(Math.max(0, i - 30), i + 30).replace(/\s+/g, ' ')); }
  }
  // width: only content inside its own horizontal scroll box may be wider than the screen
  const scrollBox = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && a.getBoundingClientRect().right <= W + 1) return true;
    }
    return false;
  };
  const hidden = el => {
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.visibility === 'hidden' || s.display === 'none') return true;
      if (s.position === 'fixed' && a.getBoundingClientRect().right <= 0) return true;  // a closed drawer
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= W + 1) continue;
    if (scrollBox(el) || hidden(el)) continue;
    out.wide.push(name(el) + ' right=' + Math.round(r.right) + ' ' +
                  JSON.stringify(el.textContent.trim().slice(0, 40)));
  }
  out.scroll = document.documentElement.scrollWidth - W;
  return out;
}"""


def layout_problems(page) -> list[str]:
    """Broken images, figures without captions, untypeset or raw math, content wider than the
    screen outside a scroll box, and a page that scrolls sideways."""
    r = page.evaluate(_CHECKS_JS)
    out = [f"image did not load: {src}" for src in r["images"]]
    out += [f"figure without a caption: {f}" for f in r["figures"]]
    out += [f"raw TeX in the text: ...{t}..." for t in r["tex"][:5]]
    if r["unset"]:
        out.append(f"{r['unset']} math elements not typeset by MathJax")
    if r["merror"]:
        out.append(f"{r['merror']} MathJax errors")
    # report the outermost few: a wide element's children are wide too
    out += [f"wider than the screen: {w}" for w in r["wide"][:5]]
    if r["scroll"] > 1:
        out.append(f"the page scrolls sideways by {r['scroll']} px")
    return out


def page_links(page) -> list[str]:
    """Every link target on the page (absolute URLs)."""
    return page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), a => a.href)")


# ===================================================================== links, statically
class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.setdefault(a[key], f"{tag}.{a.get('class') or ''}")


@functools.lru_cache(maxsize=None)
def anchors(path: Path) -> dict[str, str]:
    """``{id: "tag.class"}`` of every element with an ``id`` (or ``name``) in an HTML file."""
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.ids


def resolve(html: Path, base: str, url: str) -> tuple[Path | None, str, str | None]:
    """``(file, fragment, problem)`` of an internal link (``problem`` None where it resolves)."""
    parts = urlsplit(url)
    path = html / unquote(parts.path[len(urlsplit(base).path):])
    if path.is_dir():
        path = path / "index.html"
    frag = unquote(parts.fragment)
    if not path.is_file():
        return None, frag, f"link to a missing file: {url}"
    if frag and path.suffix == ".html" and frag not in anchors(path):
        return path, frag, f"link to a missing anchor: {url}"
    return path, frag, None


def link_problems(html: Path, base: str, links: list[str]) -> list[str]:
    """Internal links (same origin) whose file or anchor does not exist."""
    return [p for url in sorted(set(u for u in links if u.startswith(base)))
            for p in [resolve(html, base, url)[2]] if p]


def citation_problems(page, html: Path, base: str) -> list[str]:
    """Citations in a chapter's text that do not land on an entry of the reference list."""
    hrefs = page.evaluate("""() => Array.from(document.querySelectorAll(
        'article a.reference.internal[href*="references.html#"]'), a => a.href)""")
    out = []
    for url in sorted(set(hrefs)):
        path, frag, problem = resolve(html, base, url)
        if problem or "citation" not in anchors(path).get(frag, ""):
            out.append(problem or f"citation does not land on a reference entry: {url}")
    return out


def badge_problems(page, html: Path, base: str) -> list[str]:
    """Registry badges that do not land on a claim's box (a ``prf`` admonition with that id)."""
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a.kv-badge'), a => a.href)")
    out = []
    for url in hrefs:
        path, frag, problem = resolve(html, base, url)
        if problem:
            out.append(problem)
        elif not frag or not re.search(r"\b(proof|admonition)\b", anchors(path).get(frag, "")):
            out.append(f"badge does not land on a claim box: {url}")
    return out


# ===================================================================== the chrome of the page
def download_problems(page, html: Path, base: str, notebook: bool = True) -> list[str]:
    """The header's download menu must offer the page's ``.md`` and, for a notebook, its
    ``.ipynb``; both must be there."""
    hrefs = page.evaluate("""() => Array.from(
        document.querySelectorAll('.dropdown-download-buttons a[href], a.btn-download-source-button,'
                                  + ' a.btn-download-notebook-button'), a => a.href)""")
    out = []
    for ext in (".md", ".ipynb") if notebook else (".md",):
        found = [h for h in hrefs if urlsplit(h).path.endswith(ext)]
        if not found:
            out.append(f"the download menu offers no {ext}")
        out += [p for h in found for p in [resolve(html, base, h)[2]] if p]
    return out


def search_hits(context, base: str, query: str) -> int:
    """How many results the book's search page lists for ``query``."""
    page, _ = open_page(context, f"{base}search.html?q={query}")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    except Exception:
        pass
    n = page.locator("#search-results ul.search li").count()
    page.close()
    return n
