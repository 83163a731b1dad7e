"""The registry page's HTML: counts, badges with their status written out, links to claim boxes."""

import html
import re
from pathlib import Path

import pytest

from kvtheory.claims import _page

from kvtheory.claims import (CLAIMS, STATUS, Verdict, claim_anchor, claim_matrix, definitions_table,
                             glance, status_badge, status_counts, verdict_table)

ROOT = Path(__file__).resolve().parents[1]
VERDICTS = [Verdict("clm_kv_capacity", "fits", "proved", "5.40 GB <= 80 GB", "one"),
            Verdict("clm_kv_capacity", "standard accounting", "fails", "no <b>", "all",
                    counterexample="50,859"),
            Verdict("clm_constant_regret", "against the fluid benchmark", "inconclusive", "e",
                    "s", decide="longer runs")]


def test_every_claim_links_to_a_label_in_its_chapter():
    for c in CLAIMS:
        page, anchor = claim_anchor(c.id).split("#")
        source = (ROOT / "book" / page.replace(".html", ".md")).read_text(encoding="utf-8")
        assert f":label: {anchor}\n" in source, (c.id, page)


def test_counts_cover_every_status():
    assert status_counts(VERDICTS) == {"proved": 1, "supported": 0, "fails": 1, "inconclusive": 1}
    text = re.sub(r"<[^>]+>", " ", glance(VERDICTS).data)
    for s, k in (("proved", 1), ("supported", 0), ("fails", 1), ("inconclusive", 1)):
        assert f"{s}: {k}" in text
    assert "3 readings of 2 claims" in text


def test_badges_write_the_status_and_link_to_the_claim_box():
    m = claim_matrix(VERDICTS).data
    badges = re.findall(r'<a class="kv-badge kv-(\w+)" href="([^"]+)">([^<]*)</a>', m)
    assert [(cls, text) for cls, _, text in badges] == [("proved", "proved"), ("fails", "fails"),
                                                      ("inconclusive", "inconclusive")]
    assert badges[0][1] == "a100.html#clm-kv-capacity"
    assert badges[2][1] == "regret.html#clm-constant-regret"
    rows = re.findall(r"<tr>(.*?)</tr>", m, flags=re.S)
    assert len(rows) == 3                       # header + one row per claim
    with pytest.raises(ValueError):
        status_badge("holds")


def test_definitions_name_each_title_once_and_list_every_reading():
    d = html.unescape(definitions_table().data)
    for c in CLAIMS:
        assert d.count(f"<br>{c.title}</td>") == 1, c.id
        for r in c.readings:
            own = ("" if r.provenance == c.provenance else
                   f" <i>{_page._PROVENANCE_WORDS[r.provenance]}</i>")
            assert f"<li>{r.name} <em>({r.method})</em>{own}</li>" in d


def test_verdict_table_keeps_id_reading_status_evidence_order_and_escapes():
    t = verdict_table(VERDICTS).data
    assert "no &lt;b&gt;" in t and "<b>" not in t
    row = re.findall(r"<tr>(.*?)</tr>", t, flags=re.S)[2]
    cells = [html.unescape(re.sub(r"</?[a-zA-Z][^>]*>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
    assert cells[:4] == ["clm_kv_capacity", "standard accounting", "fails", "no <b>"]
    assert set(STATUS) >= {cells[2]}


def test_power_shows_beside_the_badge_and_in_the_planted_table():
    from kvtheory.claims import claim_matrix, power_table, successor_table
    p = {"planted": "longest predicted first", "found": 0, "of": 3}
    v = Verdict("clm_sortedf_ratio", "our Sorted-F rule", "inconclusive", "e", "s",
                decide="a search reaching n > 48", power=p)
    plain = Verdict("clm_kv_capacity", "fits", "proved", "e", "s")
    for table in (claim_matrix, successor_table):
        assert '<span class="kv-power">power 0/3</span>' in table([v]).data
    assert "kv-power" not in claim_matrix([plain]).data
    rows = re.findall(r"<tr>(.*?)</tr>", power_table([v, plain]).data, flags=re.S)
    assert len(rows) == 2 and "longest predicted first" in rows[1] and "0 of 3" in rows[1]


def test_every_reading_has_a_provenance_and_ours_is_never_shown_as_the_papers():
    from kvtheory.claims import Reading
    from kvtheory.claims import PROVENANCE, successor_table
    from kvtheory.claims.registry import CLAIMS
    rows = [r for c in CLAIMS for r in c.row()["readings"]]
    assert rows and all(r["provenance"] in PROVENANCE for r in rows)
    nc = {r.name: r.provenance for c in CLAIMS if c.id == "clm_nonclairvoyant" for r in c.readings}
    ours = {r.name: r.provenance for c in CLAIMS if c.id == "clm_mcsf_nonclairvoyant"
            for r in c.readings}
    assert ours["MC-SF measured, all at 0"] == "ours" and nc["constants"] != "ours"
    assert not any("MC-SF" in name for name in nc)      # MC-SF's figures: a claim of ours
    amax = {r.name: r.provenance for c in CLAIMS if c.id == "clm_amax_unbounded"
            for r in c.readings}
    assert amax["our family, symbolic"] == "ours" and amax["upper bound"] == "second-hand"
    v = Verdict("clm_mcsf_nonclairvoyant", "MC-SF measured, all at 0", "inconclusive", "e", "s",
                decide="d")
    cell = re.findall(r"<td[^>]*>(.*?)</td>", successor_table([v]).data, flags=re.S)[2]
    assert "<i>our finding</i>" in cell and "the paper states" not in cell
    with pytest.raises(ValueError, match="provenance must be one of"):
        Reading("x", "y", "sample", provenance="rumour")
