"""Tests of kvtheory.model.traces: every loader (hand-checked fixtures), header detection, malformations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kvtheory.model.instance import Instance
from kvtheory.model.traces import (Trace, load_azure_trace, load_instance_csv, load_splitwise_trace,
                             load_trace, load_trace_csv, parse_timestamp, save_trace_csv)

AZ_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens\n"


def write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# ----------------------------------------------------------------- project CSV: valid files
def test_instance_csv_basic(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n0,2,3\n1,1,1\n4,3,2\n")
    inst = load_instance_csv(p, memory=8)
    assert isinstance(inst, Instance)
    assert inst.arrival.tolist() == [0, 1, 4]
    assert inst.prompt.tolist() == [2, 1, 3]
    assert inst.output.tolist() == [3, 1, 2]
    assert inst.memory == 8 and not inst.has_predictions and inst.name == "t.csv"


def test_instance_csv_with_prediction_any_order_blank_lines_spaces(tmp_path):
    p = write(tmp_path, "output, prediction ,arrival,prompt\n\n3, 4,0,2\n\n1,2 ,5,1\n")
    inst = load_instance_csv(p, memory=10, name="x")
    assert inst.arrival.tolist() == [0, 5]
    assert inst.prediction.tolist() == [4, 2]
    assert inst.has_predictions and inst.name == "x"


def test_instance_csv_integral_floats_accepted(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n0,2.0,3\n")
    assert load_instance_csv(p, memory=8).prompt.tolist() == [2]


# ----------------------------------------------------------------- project CSV: malformations
def test_instance_csv_empty_file(tmp_path):
    p = write(tmp_path, "")
    with pytest.raises(ValueError, match="is empty: expected a header line "
                                         r"arrival,prompt,output\[,prediction\]"):
        load_instance_csv(p, memory=8)


def test_instance_csv_blank_lines_only(tmp_path):
    p = write(tmp_path, "\n\n  \n")
    with pytest.raises(ValueError, match="is empty"):
        load_instance_csv(p, memory=8)


def test_instance_csv_header_only(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n")
    with pytest.raises(ValueError, match="no data rows after the header"):
        load_instance_csv(p, memory=8)


def test_instance_csv_missing_column(tmp_path):
    p = write(tmp_path, "arrival,output\n0,3\n")
    with pytest.raises(ValueError, match="line 1: missing column.s. prompt; expected header "
                                         r"arrival,prompt,output\[,prediction\], found "
                                         "arrival,output"):
        load_instance_csv(p, memory=8)


def test_instance_csv_unknown_column(tmp_path):
    p = write(tmp_path, "arrival,prompt,output,predicton\n0,1,1,1\n")
    with pytest.raises(ValueError, match="line 1: unknown column.s. predicton"):
        load_instance_csv(p, memory=8)


def test_instance_csv_duplicate_column(tmp_path):
    p = write(tmp_path, "arrival,prompt,output,output\n0,1,1,1\n")
    with pytest.raises(ValueError, match="line 1: duplicate column.s. output"):
        load_instance_csv(p, memory=8)


def test_instance_csv_wrong_number_of_fields(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n0,1,1\n1,2\n")
    with pytest.raises(ValueError, match=r"line 3: expected 3 fields \(arrival,prompt,output\), "
                                         "found 2"):
        load_instance_csv(p, memory=8)


@pytest.mark.parametrize("cell", ["abc", "2.5", "", "nan", "inf"])
def test_instance_csv_non_integer(tmp_path, cell):
    p = write(tmp_path, f"arrival,prompt,output\n0,1,1\n0,{cell},1\n")
    with pytest.raises(ValueError, match=f"line 3: column 'prompt' must be an integer, "
                                         f"got '{cell}'"):
        load_instance_csv(p, memory=8)


def test_instance_csv_negative_arrival(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n-1,1,1\n")
    with pytest.raises(ValueError, match=r"line 2: column 'arrival' must be >= 0, got -1 "
                                         r"\(negative\)"):
        load_instance_csv(p, memory=8)


def test_instance_csv_zero_output(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n0,1,0\n")
    with pytest.raises(ValueError, match=r"line 2: column 'output' must be >= 1, got 0 "
                                         r"\(too small\)"):
        load_instance_csv(p, memory=8)


def test_instance_csv_request_never_fits(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n0,1,1\n0,5,5\n")
    with pytest.raises(ValueError, match="line 3: request 1 can never fit: s.o=10 > M=8"):
        load_instance_csv(p, memory=8)


def test_instance_csv_prediction_too_large(tmp_path):
    p = write(tmp_path, "arrival,prompt,output,prediction\n0,1,1,9\n")
    with pytest.raises(ValueError, match="line 2: request 0 has prediction 9"):
        load_instance_csv(p, memory=8)


def test_instance_csv_bad_memory(tmp_path):
    p = write(tmp_path, "arrival,prompt,output\n0,1,1\n")
    with pytest.raises(ValueError, match="memory M must be >= 1, got 0"):
        load_instance_csv(p, memory=0)


def test_instance_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_instance_csv(tmp_path / "nope.csv", memory=8)


# ----------------------------------------------------------------- Azure: valid files
def test_azure_basic_relative_seconds(tmp_path):
    p = write(tmp_path, AZ_HEADER
              + "2023-11-16 18:15:46.6805900,374,44\n"
              + "2023-11-16 18:15:50.9951690,396,109\n"
              + "2023-11-16 18:16:46.6805901,10,1\n")
    tr = load_azure_trace(p)
    assert tr.n == 3 and tr.name == "t.csv"
    assert tr.arrival_time[0] == 0.0
    assert tr.arrival_time.tolist() == pytest.approx([0.0, 4.314579, 60.0000001], abs=1e-9)
    assert tr.prompt.tolist() == [374, 396, 10] and tr.output.tolist() == [44, 109, 1]
    assert tr.arrival_time.dtype == float and tr.prompt.dtype == np.int64


def test_azure_unsorted_rows_are_sorted_stably(tmp_path):
    p = write(tmp_path, AZ_HEADER
              + "2023-11-16 18:00:02,3,3\n"
              + "2023-11-16 18:00:00,1,1\n"
              + "2023-11-16 18:00:02,4,4\n"
              + "2023-11-16 18:00:01,2,2\n")
    tr = load_azure_trace(p)
    assert tr.arrival_time.tolist() == [0.0, 1.0, 2.0, 2.0]
    assert tr.prompt.tolist() == [1, 2, 3, 4]


def test_azure_timezones_and_iso_t(tmp_path):
    p = write(tmp_path, "GeneratedTokens,TIMESTAMP,ContextTokens\n"
              "5,2024-05-10T00:00:00.5+00:00,7\n"
              "6,2024-05-10 02:00:01+02:00,8\n"
              "7,2024-05-10 00:00:02Z,9\n")
    tr = load_azure_trace(p)
    assert tr.arrival_time.tolist() == [0.0, 0.5, 1.5]
    assert tr.output.tolist() == [5, 6, 7]


def test_azure_to_instance_floors_times(tmp_path):
    p = write(tmp_path, AZ_HEADER
              + "2023-01-01 00:00:00,3,2\n2023-01-01 00:00:00.3,1,1\n"
              + "2023-01-01 00:00:01.05,2,2\n")
    inst = load_azure_trace(p).to_instance(memory=10, round_seconds=0.1)
    assert inst.arrival.tolist() == [0, 3, 10]
    assert inst.prompt.tolist() == [3, 1, 2] and inst.memory == 10


def test_azure_zero_tokens_loaded_but_not_instantiable(tmp_path):
    p = write(tmp_path, AZ_HEADER + "2023-01-01 00:00:00,3,0\n2023-01-01 00:00:01,2,2\n")
    tr = load_azure_trace(p)
    assert tr.output.tolist() == [0, 2]
    with pytest.raises(ValueError, match="request 0: output must be >= 1, got 0"):
        tr.to_instance(memory=10, round_seconds=1.0)
    inst = tr.select(tr.output > 0).to_instance(memory=10, round_seconds=1.0)
    assert inst.arrival.tolist() == [1]


# ----------------------------------------------------------------- Azure: malformations
def test_azure_empty_file(tmp_path):
    p = write(tmp_path, "")
    with pytest.raises(ValueError, match="is empty: expected a header line "
                                         "TIMESTAMP,ContextTokens,GeneratedTokens"):
        load_azure_trace(p)


def test_azure_header_only(tmp_path):
    p = write(tmp_path, AZ_HEADER)
    with pytest.raises(ValueError, match="no data rows after the header"):
        load_azure_trace(p)


def test_azure_missing_column(tmp_path):
    p = write(tmp_path, "TIMESTAMP,ContextTokens\n2023-01-01 00:00:00,3\n")
    with pytest.raises(ValueError, match="line 1: missing column.s. GeneratedTokens"):
        load_azure_trace(p)


def test_azure_unknown_column(tmp_path):
    p = write(tmp_path, "TIMESTAMP,ContextTokens,GeneratedTokens,Extra\n"
              "2023-01-01 00:00:00,3,2,1\n")
    with pytest.raises(ValueError, match="line 1: unknown column.s. Extra"):
        load_azure_trace(p)


def test_azure_wrong_number_of_fields(tmp_path):
    p = write(tmp_path, AZ_HEADER + "2023-01-01 00:00:00,3,2\n2023-01-01 00:00:01,3\n")
    with pytest.raises(ValueError, match="line 3: expected 3 fields"):
        load_azure_trace(p)


@pytest.mark.parametrize("stamp", ["yesterday", "2023-13-01 00:00:00", "2023-01-01",
                                   "2023-01-01 25:00:00", "01/02/2023 10:00:00", ""])
def test_azure_unparsable_timestamp(tmp_path, stamp):
    p = write(tmp_path, AZ_HEADER + "2023-01-01 00:00:00,3,2\n" + f"{stamp},3,2\n")
    with pytest.raises(ValueError, match=f"line 3: unparsable timestamp '{stamp}'"):
        load_azure_trace(p)


def test_azure_non_integer_tokens(tmp_path):
    p = write(tmp_path, AZ_HEADER + "2023-01-01 00:00:00,3.5,2\n")
    with pytest.raises(ValueError, match="line 2: column 'ContextTokens' must be an integer, "
                                         "got '3.5'"):
        load_azure_trace(p)


def test_azure_negative_tokens(tmp_path):
    p = write(tmp_path, AZ_HEADER + "2023-01-01 00:00:00,3,2\n2023-01-01 00:00:01,3,-2\n")
    with pytest.raises(ValueError, match=r"line 3: column 'GeneratedTokens' must be >= 0, got -2 "
                                         r"\(negative\)"):
        load_azure_trace(p)


# ----------------------------------------------------------------- Trace and timestamps
def test_parse_timestamp_nanoseconds():
    assert parse_timestamp("1970-01-01 00:00:01.000000001") == 1_000_000_001
    assert parse_timestamp("1970-01-01T00:00:00-01:00") == 3600 * 10**9
    assert parse_timestamp("1970-01-01 00:00:00+0100") == -3600 * 10**9


@pytest.mark.parametrize("args, message", [
    (([1.0, 0.0], [1, 1], [1, 1]), "arrival_time must be sorted"),
    (([0.0, 1.0], [1], [1, 1]), "must have equal lengths, got 2, 1, 2"),
    (([-1.0], [1], [1]), "arrival_time must be >= 0, got -1.0"),
    (([0.0], [-1], [1]), "prompt must be >= 0, got -1 at index 0"),
    (([0.0], [1.5], [1]), "prompt must hold integers"),
    (([np.nan], [1], [1]), "arrival_time must be finite"),
])
def test_trace_validation(args, message):
    with pytest.raises(ValueError, match=message):
        Trace(*args)


@pytest.mark.parametrize("round_seconds", [0, -1.0, float("nan"), "1"])
def test_trace_to_instance_bad_round(round_seconds):
    with pytest.raises(ValueError, match="round_seconds must be a positive finite number"):
        Trace([0.0], [1], [1]).to_instance(memory=4, round_seconds=round_seconds)


def test_trace_to_instance_memory_too_small():
    with pytest.raises(ValueError, match="request 0 can never fit"):
        Trace([0.0], [3], [3]).to_instance(memory=4, round_seconds=1.0)


def test_trace_arrays_read_only():
    tr = Trace([0.0, 1.0], [1, 2], [3, 4])
    with pytest.raises(ValueError):
        tr.prompt[0] = 5
    with pytest.raises(ValueError, match=r"mask must have shape \(2,\), got \(1,\)"):
        tr.select([True])


# ----------------------------------------------------------------- load_trace: fixtures by hand
DATA = Path(__file__).parent / "data"


def test_fixture_rounds():
    tr = load_trace(DATA / "trace_rounds.csv")
    assert tr.unit == "round" and tr.name == "trace_rounds.csv"
    assert tr.arrival_time.tolist() == [0.0, 0.0, 1.0]
    assert tr.prompt.tolist() == [1, 2, 1] and tr.output.tolist() == [2, 3, 1]
    assert tr.prediction.tolist() == [3, 3, 1]
    inst = tr.to_instance(memory=6)                      # rounds stay rounds
    assert inst.arrival.tolist() == [0, 0, 1] and inst.prediction.tolist() == [3, 3, 1]
    assert tr.to_seconds(0.25).arrival_time.tolist() == [0.0, 0.0, 0.25]


def test_fixture_seconds():
    tr = load_trace(DATA / "trace_seconds.csv")
    assert tr.unit == "s" and tr.prediction is None
    assert tr.arrival_time.tolist() == [0.0, 0.5, 1.0]
    assert tr.prompt.tolist() == [50, 20, 30] and tr.output.tolist() == [10, 40, 5]


def test_fixture_azure():
    # 03:04:05.25, 03:04:05.00, 03:04:07.75 -> sorted and relative: 0, 0.25, 2.75 s
    tr = load_trace(DATA / "trace_azure.csv")
    assert tr.unit == "s" and tr.arrival_time.tolist() == [0.0, 0.25, 2.75]
    assert tr.prompt.tolist() == [80, 120, 200] and tr.output.tolist() == [20, 30, 10]


def test_fixture_splitwise():
    # arrived_at 1.5, 2.0, 3.25 -> relative to the first: 0, 0.5, 1.75 s
    tr = load_trace(DATA / "trace_splitwise.csv")
    assert tr.arrival_time.tolist() == [0.0, 0.5, 1.75]
    assert tr.prompt.tolist() == [64, 32, 128] and tr.output.tolist() == [16, 8, 4]
    assert tr.to_instance(memory=200, round_seconds=0.5).arrival.tolist() == [0, 1, 3]


@pytest.mark.parametrize("header, loader", [
    ("arrival,prompt,output", load_instance_csv), ("arrival_time,prompt,output", load_trace_csv),
    (AZ_HEADER.strip(), load_azure_trace),
    ("arrived_at,num_prefill_tokens,num_decode_tokens", load_splitwise_trace)])
def test_header_detection_dispatches(tmp_path, header, loader):
    first = "2024-01-01 00:00:00" if header.startswith("TIMESTAMP") else "0"
    p = write(tmp_path, f"\n{header}\n{first},3,2\n")
    tr = load_trace(p)
    assert tr.n == 1 and tr.prompt.tolist() == [3] and tr.output.tolist() == [2]
    if loader is not load_instance_csv:
        assert loader(p).arrival_time.tolist() == tr.arrival_time.tolist()


def test_header_detection_errors(tmp_path):
    with pytest.raises(ValueError, match="line 2: unrecognised header time,in,out; expected one "
                                         r"of arrival,prompt,output\[,prediction\] \| "
                                         r"arrival_time,.* \| TIMESTAMP,.* \| arrived_at,"):
        load_trace(write(tmp_path, "\ntime,in,out\n0,1,1\n"))
    with pytest.raises(ValueError, match="is empty: expected a header line"):
        load_trace(write(tmp_path, "\n \n"))
    with pytest.raises(ValueError, match="line 1: missing column.s. num_decode_tokens"):
        load_trace(write(tmp_path, "arrived_at,num_prefill_tokens\n0,1\n"))
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        load_trace(tmp_path / "bin.csv")
    with pytest.raises(FileNotFoundError):
        load_trace(tmp_path / "nope.csv")


def test_line_numbers_count_blank_lines(tmp_path):
    p = write(tmp_path, "\n\narrival,prompt,output\n\n0,1,2\n,,\n\n1,2\n")
    with pytest.raises(ValueError, match=r"line 8: expected 3 fields \(arrival,prompt,output\), "
                                         "found 2 non-empty"):
        load_trace(p)
    p = write(tmp_path, "arrival_time,prompt,output\n0,1,1\n1,1,1,1\n")
    with pytest.raises(ValueError, match=r"line 3: expected 3 fields .*found 4"):
        load_trace(p)
    p = write(tmp_path, 'arrival,prompt,output\n0,"1\n",2\n')
    with pytest.raises(ValueError, match="quoted field spans several lines"):
        load_trace(p)


def test_splitwise_malformations(tmp_path):
    h = "arrived_at,num_prefill_tokens,num_decode_tokens\n"
    with pytest.raises(ValueError, match="line 3: column 'arrived_at' must be a finite number "
                                         ">= 0, got '-1'"):
        load_splitwise_trace(write(tmp_path, h + "0,1,1\n-1,1,1\n"))
    with pytest.raises(ValueError, match=r"line 2: column 'num_decode_tokens' must be >= 0, "
                                         r"got -4 \(negative\)"):
        load_splitwise_trace(write(tmp_path, h + "0,1,-4\n"))
    tr = load_splitwise_trace(write(tmp_path, h + "2.5,1,1\n1.0,2,2\n1.0,3,3\n"))
    assert tr.arrival_time.tolist() == [0.0, 0.0, 1.5] and tr.prompt.tolist() == [2, 3, 1]


def test_seconds_csv_with_prediction_roundtrip(tmp_path):
    tr = load_trace_csv(write(tmp_path, "prediction,arrival_time,prompt,output\n4,0,1,2\n"
                                        "9,0.125,3,5\n"))
    assert tr.prediction.tolist() == [4, 9]
    back = load_trace_csv(save_trace_csv(tr, tmp_path / "back.csv"))
    assert back.prediction.tolist() == [4, 9] and back.arrival_time.tolist() == [0.0, 0.125]
    assert tr.select([False, True]).prediction.tolist() == [9]
    with pytest.raises(ValueError, match="writes a trace in seconds"):
        save_trace_csv(Trace([0], [1], [1], unit="round"), tmp_path / "r.csv")


def test_trace_units():
    with pytest.raises(ValueError, match="unit must be 's' or 'round'"):
        Trace([0.0], [1], [1], unit="ms")
    with pytest.raises(ValueError, match="to_seconds applies to a trace in rounds"):
        Trace([0.0], [1], [1]).to_seconds(1.0)
    with pytest.raises(ValueError, match="round_seconds is required"):
        Trace([0.0], [1], [1]).to_instance(memory=4)
    with pytest.raises(ValueError, match="round_seconds applies to a trace in seconds"):
        Trace([0.0], [1], [1], unit="round").to_instance(memory=4, round_seconds=1.0)
    with pytest.raises(ValueError, match="must have equal lengths, got 1, 1, 1, 2"):
        Trace([0.0], [1], [1], prediction=[1, 2])
