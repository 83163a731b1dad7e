"""The command line prints checked summary tables and rejects bad input clearly."""

import subprocess
import sys

import pytest

from kvtheory.cli import main


def test_simulate_all_policies(capsys):
    assert main(["simulate", "--workload", "model2", "--memory", "20", "--rate", "0.8",
                 "--policy", "all", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "mc-sf" in out and "vllm" in out and "alpha-0.2-beta-0.1" in out


def test_opt_reports_ratio(capsys):
    main(["opt", "--n", "5", "--memory", "10", "--seed", "4"])
    out = capsys.readouterr().out.splitlines()
    header, row = out[1].split(), out[2].split()
    assert row[header.index("status")] == "optimal"
    assert float(row[header.index("mc-sf/opt")]) >= 1.0


def test_unknown_policy():
    with pytest.raises(SystemExit, match="unknown policy 'fifo'"):
        main(["simulate", "--policy", "fifo"])


def test_trace_needs_memory(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("arrival,prompt,output\n0,1,2\n")
    with pytest.raises(SystemExit, match="--trace needs --memory"):
        main(["simulate", "--trace", str(f)])


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "kvtheory", "claims"], capture_output=True,
                         text=True, check=True)
    assert "clm_ip_exact" in res.stdout


def test_simulate_trace_file(tmp_path, capsys):
    f = tmp_path / "t.csv"
    f.write_text("arrival,prompt,output,prediction\n0,1,2,3\n0,2,3,3\n1,1,1,1\n")
    assert main(["simulate", "--trace", str(f), "--memory", "6", "--policy", "mc-sf"]) == 0
    out = capsys.readouterr().out
    assert "mc-sf" in out and "n=3, M=6" in out


def test_malformed_trace_is_reported(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("arrival,prompt,output\n0,1,x\n")
    with pytest.raises(ValueError, match="line 2"):
        main(["simulate", "--trace", str(f), "--memory", "6"])
