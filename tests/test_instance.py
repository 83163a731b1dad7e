"""Validation of requests, instances and generators: one test per kind of bad input."""

import math

import numpy as np
import pytest

from kvtheory import Instance, Request
from kvtheory.model.workloads import lmsys_like, paper_model1, paper_model2, random_instance


@pytest.mark.parametrize("field, value, message", [
    ("arrival", -1, "request 0: arrival must be >= 0, got -1"),
    ("prompt", 0, "request 0: prompt must be >= 1, got 0"),
    ("output", 0, "request 0: output must be >= 1, got 0"),
    ("output", 2.5, "request 0: output must be an integer, got 2.5"),
    ("prompt", math.nan, "request 0: prompt must be an integer, got NaN"),
    ("arrival", "3", "request 0: arrival must be an integer, got str '3'"),
    ("output", True, "request 0: output must be an integer, got True"),
])
def test_bad_field(field, value, message):
    cols = {"arrival": [0], "prompt": [2], "output": [3]}
    cols[field] = [value]
    with pytest.raises(ValueError) as err:
        Instance.from_arrays(cols["arrival"], cols["prompt"], cols["output"], memory=10)
    assert str(err.value) == message


def test_never_fits_names_request():
    with pytest.raises(ValueError, match=r"request 7 can never fit: s\+o=40 > M=32"):
        Instance.from_arrays([0] * 8, [1] * 7 + [30], [1] * 7 + [10], memory=32)


def test_prediction_below_one():
    with pytest.raises(ValueError, match="request 1: prediction must be >= 1, got 0"):
        Instance.from_arrays([0, 0], [1, 1], [1, 1], memory=4, prediction=[1, 0])


def test_prediction_missing():
    reqs = (Request(0, 1, 1, 2), Request(0, 1, 1))
    with pytest.raises(ValueError, match="request 1: prediction missing"):
        Instance(reqs, 4)


def test_prediction_nan():
    with pytest.raises(ValueError, match="request 0: prediction must be an integer, got NaN"):
        Instance.from_arrays([0], [1], [1], memory=4, prediction=[math.nan])


def test_prediction_too_large():
    with pytest.raises(ValueError, match="request 0 has prediction 9 with s\\+prediction=10 > M=4"):
        Instance.from_arrays([0], [1], [1], memory=4, prediction=[9])


def test_bad_memory_and_lengths():
    with pytest.raises(ValueError, match="memory M must be >= 1, got 0"):
        Instance.from_arrays([], [], [], memory=0)
    with pytest.raises(ValueError, match="equal lengths"):
        Instance.from_arrays([0, 0], [1], [1, 1], memory=4)


def test_generators_need_a_generator():
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        paper_model1(0)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        random_instance(np.random.RandomState(0), 3, 5)


@pytest.mark.parametrize("gen", [
    lambda r: paper_model1(r), lambda r: paper_model2(r), lambda r: lmsys_like(r, 500, rate=5.0),
    lambda r: random_instance(r, 8, 9, max_arrival=3, prediction_error=0.5)])
def test_generators_are_reproducible(gen):
    a, b = gen(np.random.default_rng(42)), gen(np.random.default_rng(42))
    assert a == b
    assert a != gen(np.random.default_rng(43))


def test_paper_model_ranges():
    rng = np.random.default_rng(0)
    for _ in range(50):
        inst = paper_model1(rng)
        assert 40 <= inst.n <= 60 and 30 <= inst.memory <= 50
        assert (inst.arrival == 0).all() and (1 <= inst.prompt).all() and (inst.prompt <= 5).all()
        assert (inst.prompt + inst.output <= inst.memory).all()
        inst2 = paper_model2(rng)
        assert inst2.arrival.max(initial=0) < 60


def test_lmsys_like_matches_reported_statistics():
    inst = lmsys_like(np.random.default_rng(3), 50_000, rate=50)
    assert abs(np.median(inst.prompt) - 11) <= 1 and abs(np.median(inst.output) - 45) <= 2
    assert abs(inst.prompt.mean() - 40.62) / 40.62 < 0.1
    assert abs(inst.output.mean() - 85.32) / 85.32 < 0.1
    rate = inst.n / (inst.arrival.max() + 1)
    assert 45 < rate < 55
