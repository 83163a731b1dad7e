"""The verdict and result cache is keyed on everything that can change a result."""

from dataclasses import replace

from kvtheory.claims import Verdict, _run, claim
from kvtheory.model import cache


def test_code_key_changes_with_the_machine_and_the_libraries(monkeypatch):
    key = cache.code_key()
    monkeypatch.setattr(cache, "machine", lambda: "another machine")
    assert cache.code_key() != key
    monkeypatch.undo()
    monkeypatch.setattr(cache, "_version", lambda dist: "0.0-other")
    assert cache.code_key() != key


def test_a_machine_dependent_verdict_says_where_it_was_measured(monkeypatch):
    from kvtheory.claims import registry
    c = claim("clm_mcsf_runtime")
    assert c.machine_dependent
    fake = lambda quick: tuple(Verdict(c.id, r.name, "supported", "e", "10 sizes")  # noqa: E731
                               for r in c.readings)
    monkeypatch.setattr(registry, "claim", lambda cid: replace(c, check=fake))
    (v,) = _run._check_one(c.id, True)
    assert v.searched == f"10 sizes; measured on {cache.machine()}"
    monkeypatch.setattr(registry, "claim",
                        lambda cid: replace(c, check=fake, machine_dependent=False))
    (v,) = _run._check_one(c.id, True)
    assert v.searched == "10 sizes"
