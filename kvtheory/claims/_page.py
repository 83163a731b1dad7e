"""The registry page of the book: status counts, the claim-by-reading matrix and the tables.

Every function takes the verdicts of :func:`kvtheory.claims.verify` (the page computes them,
nothing here is typed in) and returns an HTML object for a notebook cell.  The markup uses the
classes of ``book/_static/kvtheory.css``: ``kv-badge kv-<status>`` for a status badge (the
status word is always written out, the colour only repeats it) and ``kv-registry`` for a table
that wraps inside the page and turns into one card per row on a phone (each cell then shows its
column name from ``data-label``).  Each claim links to its box in its chapter: the box's HTML id
is the claim's book label (``regret.html#clm-constant-regret``).
"""

from __future__ import annotations

import html
from typing import Sequence

from kvtheory.claims._core import STATUS, Verdict
from kvtheory.claims._run import verdict_frame

__all__ = ["status_counts", "claim_anchor", "status_badge", "power_note", "glance", "claim_matrix",
           "definitions_table", "verdict_table", "power_table", "successor_table", "SUCCESSORS"]


def status_counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """How many readings got each status, in the order of :data:`STATUS` (zeros included).

    Examples
    --------
    >>> vs = [Verdict("clm_x", "a", "proved", "", ""), Verdict("clm_x", "b", "proved", "", ""),
    ...       Verdict("clm_y", "a", "supported", "", "")]
    >>> status_counts(vs)
    {'proved': 2, 'supported': 1, 'fails': 0, 'inconclusive': 0}
    """
    counts = {s: 0 for s in STATUS}
    for v in verdicts:
        counts[v.status] += 1
    return counts


def claim_anchor(claim_id: str) -> str:
    """The link, relative to the registry page, to a claim's box in its chapter.

    Examples
    --------
    >>> claim_anchor("clm_constant_regret")
    'regret.html#clm-constant-regret'
    """
    from kvtheory.claims.registry import claim
    c = claim(claim_id)
    return f"{c.chapter.rsplit('/', 1)[-1]}.html#{c.label}"


def status_badge(status: str, text: str | None = None, href: str | None = None) -> str:
    """One status badge as HTML: the status word (and ``text``) on the status's colour.

    Examples
    --------
    >>> status_badge("fails")
    '<span class="kv-badge kv-fails">fails</span>'
    >>> status_badge("proved", "3", "ratio.html#x")
    '<a class="kv-badge kv-proved" href="ratio.html#x">proved 3</a>'
    >>> status_badge("holds")
    Traceback (most recent call last):
    ...
    ValueError: status must be one of ('proved', 'supported', 'fails', 'inconclusive'), got 'holds'
    """
    if status not in STATUS:
        raise ValueError(f"status must be one of {STATUS}, got {status!r}")
    body = html.escape(status if text is None else f"{status} {text}")
    if href is None:
        return f'<span class="kv-badge kv-{status}">{body}</span>'
    return f'<a class="kv-badge kv-{status}" href="{html.escape(href)}">{body}</a>'


def power_note(verdict: Verdict) -> str:
    """The power beside a badge (``power 0/3``), or nothing for a reading without power.

    Examples
    --------
    >>> power_note(Verdict("clm_x", "a", "supported", "", "", power={"planted": "p", "found": 5,
    ...                                                           "of": 5}))
    '<span class="kv-power">power 5/5</span>'
    >>> power_note(Verdict("clm_x", "a", "proved", "", ""))
    ''
    """
    p = verdict.power
    if not p:
        return ""
    return f'<span class="kv-power">power {int(p["found"])}/{int(p["of"])}</span>'


def _badge_with_power(v: Verdict, href: str | None = None) -> str:
    note = power_note(v)
    return status_badge(v.status, href=href) + (f" {note}" if note else "")


def _html(markup: str):
    from IPython.display import HTML
    return HTML(markup)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], kind: str) -> str:
    """A ``kv-registry`` table; cells are HTML already, headers are escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td data-label="{html.escape(h)}">{c}</td>'
                                    for h, c in zip(headers, row)) + "</tr>" for row in rows)
    return (f'<div class="kv-registry-wrap"><table class="kv-registry kv-{kind}">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _claim_link(claim_id: str) -> str:
    """The ID as code, linked to its box; it may wrap after an underscore (``<wbr>``)."""
    text = html.escape(claim_id).replace("_", "_<wbr>")
    return f'<a href="{html.escape(claim_anchor(claim_id))}"><code>{text}</code></a>'


def glance(verdicts: Sequence[Verdict]):
    """The counts per status, as a line of badges (the top of the registry page).

    Examples
    --------
    >>> g = glance([Verdict("clm_x", "a", "proved", "", "")])
    >>> "1 reading of 1 claim" in g.data and 'kv-proved">proved: 1<' in g.data
    True
    """
    counts = status_counts(verdicts)
    n_claims = len({v.claim for v in verdicts})
    n = len(verdicts)
    badges = " ".join(f'<span class="kv-badge kv-{s}">{s}: {k}</span>' for s, k in counts.items())
    return _html(f'<p class="kv-glance">{badges}<br>{n} reading{"s" * (n != 1)} of {n_claims} '
                 f'claim{"s" * (n_claims != 1)}</p>')


def claim_matrix(verdicts: Sequence[Verdict]):
    """Claims by reading: one row per claim, one cell per reading with its status badge.

    Each badge links to the claim's box in its chapter (:func:`claim_anchor`).

    Examples
    --------
    >>> m = claim_matrix([Verdict("clm_kv_capacity", "fits", "proved", "", "")])
    >>> 'href="a100.html#clm-kv-capacity">proved</a>' in m.data
    True
    """
    from kvtheory.claims.registry import claim
    by_claim: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_claim.setdefault(v.claim, []).append(v)
    width = max((len(vs) for vs in by_claim.values()), default=0)
    rows = []
    for cid, vs in by_claim.items():
        c = claim(cid)
        cells = [f"{_claim_link(cid)}<br>{html.escape(c.title)}"]
        for v in vs:
            cells.append(_badge_with_power(v, href=claim_anchor(cid))
                         + f'<br><span class="kv-reading">{html.escape(v.reading)}</span>')
        cells += [""] * (width - len(vs))
        rows.append(cells)
    headers = ["claim"] + [f"reading {i + 1}" for i in range(width)]
    return _html(_table(headers, rows, "matrix"))


def definitions_table():
    """The definitions: one row per claim (title once), its readings listed with their methods.

    Examples
    --------
    >>> d = definitions_table().data
    >>> d.count("Constant regret under stochastic arrivals")
    1
    """
    from kvtheory.claims.registry import CLAIMS
    rows = []
    for c in CLAIMS:
        readings = "".join(f"<li>{html.escape(r.name)} <em>({html.escape(r.method)})</em>"
                           + ("" if r.provenance == c.provenance else
                              f" <i>{_PROVENANCE_WORDS[r.provenance]}</i>") + "</li>"
                           for r in c.readings)
        rows.append([f"{_claim_link(c.id)}<br>{html.escape(c.title)}", html.escape(c.versions),
                     html.escape(c.provenance), f'<ul class="kv-readings">{readings}</ul>',
                     f'<a href="{html.escape(claim_anchor(c.id))}">'
                     f'{html.escape(c.chapter.rsplit("/", 1)[-1])}</a>'])
    return _html(_table(["claim", "versions", "provenance", "readings (method)", "chapter"],
                        rows, "definitions"))


def verdict_table(verdicts: Sequence[Verdict]):
    """Every verdict: ID, reading, status badge, evidence and whether the quick run decides.

    The cells keep the order ``id, reading, status, evidence`` (a test reads the page back).

    Examples
    --------
    >>> t = verdict_table([Verdict("clm_kv_capacity", "fits", "proved", "5.4 GB <= 80 GB", "")])
    >>> '<span class="kv-badge kv-proved">proved</span>' in t.data and "&lt;=" in t.data
    True
    """
    df = verdict_frame(verdicts)
    rows = [[_claim_link(r["id"]), html.escape(r["reading"]), status_badge(r["status"]),
             html.escape(r["evidence"]), html.escape(r["full run"]), power_note(v)]
            for r, v in zip(df.to_dict("records"), verdicts)]
    return _html(_table(["id", "reading", "status", "evidence", "full run", "power"], rows,
                        "verdicts"))


def power_table(verdicts: Sequence[Verdict]):
    """The planted counterparts: every reading that reports power, what was planted and how
    often the same search found its violation.

    Examples
    --------
    >>> v = Verdict("clm_sortedf_ratio", "our Sorted-F rule", "inconclusive", "", "",
    ...             decide="a larger search", power={"planted": "longest first", "found": 0, "of": 3})
    >>> t = power_table([v]).data
    >>> "longest first" in t and "0 of 3" in t and "sortedf" in t
    True
    """
    rows = [[_claim_link(v.claim), html.escape(v.reading), html.escape(v.power["planted"]),
             f'{int(v.power["found"])} of {int(v.power["of"])}', status_badge(v.status)]
            for v in verdicts if v.power]
    return _html(_table(["id", "reading", "planted counterpart", "found", "status"], rows,
                        "power"))


#: The successor papers of the part *After the paper*, by arXiv id: authors and topic.
SUCCESSORS = {
    "2508.06133": ("Wang, Ye, Zhou", "heterogeneous prompts"),
    "2508.14544": ("Chen, Ye, Zhou", "interval predictions"),
    "2606.22327": ("Kong, Qi, Ye, Zhou", "smallest volume first"),
    "2601.22996": ("Feng, Yang, Zhang", "non-clairvoyant batching"),
    "2504.11320": ("Ao, Luo, Simchi-Levi, Wang", "fluid-guided batching"),
    "2504.07347": ("Li, Dai, Peng", "throughput optimality"),
}


#: The book's words for each provenance.
_PROVENANCE_WORDS = {"paper": "the paper states", "second-hand": "second-hand",
                     "reconstruction": "our reconstruction", "ours": "our finding"}


def successor_table(verdicts: Sequence[Verdict]):
    """The part *After the paper* at a glance: paper, claim, our reading, status, link.

    One row per reading of every claim whose source is a successor paper (:data:`SUCCESSORS`);
    the status badge links to the claim's box in its chapter.

    Examples
    --------
    >>> t = successor_table([Verdict("clm_svf_ratio", "peaks <= alpha M, all at 0", "supported", "", "")])
    >>> "arxiv.org/abs/2606.22327" in t.data and "succ_volume.html#clm-svf-ratio" in t.data
    True
    """
    from kvtheory.claims.registry import claim
    rows = []
    for v in verdicts:
        c = claim(v.claim)
        if c.source not in SUCCESSORS:
            continue
        who, topic = SUCCESSORS[c.source]
        paper = (f'<a href="https://arxiv.org/abs/{c.source}">arXiv {c.source}</a><br>'
                 f'{html.escape(who)}: {html.escape(topic)}')
        prov = next(r.provenance for r in c.readings if r.name == v.reading)
        rows.append([paper, f"{_claim_link(v.claim)}<br>{html.escape(c.title)}",
                     f"{html.escape(v.reading)}<br><i>{_PROVENANCE_WORDS[prov]}</i>",
                     _badge_with_power(v, href=claim_anchor(v.claim))])
    return _html(_table(["paper", "claim", "our reading (provenance)", "status"], rows,
                        "successors"))
