"""--intra-op-threads: what a user relies on - every trial's TensorFlow gets the threads asked for (trials.csv
records them), in a fresh process per trial and in a block's shared process; swept, each strategy is compared with
itself at the first value and the summary says so."""

import pandas as pd

from tests.conftest import run_cli

TINY = ["--strategies", "arrays", "--model", "small", "--limit", "64", "--batch-size", "32", "--epochs", "2", "--repeats", "1"]


def test_a_sweep_of_intra_op_threads_reaches_every_trial_and_the_summary(tmp_path):
    out = tmp_path / "study"
    result = run_cli(*TINY, "--sweep", "intra-op-threads=0,1", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 4 and set(trials["status"]) == {"ok"}  # arrays and the limit at 0 and at 1
    assert (trials["intra_op_threads"] == trials["sweep_value"]).all()  # 0: TensorFlow's default, asked for nothing
    summary = (out / "summary.md").read_text()
    paragraph = next(line for line in summary.splitlines() if line.startswith("**What intra-op-threads itself does**"))
    assert "each strategy against itself at intra-op-threads = 0" in paragraph
    assert "(1 block: no interval yet)" in paragraph and "nan" not in paragraph
    assert "## What intra-op-threads itself does" in summary
    assert "- arrays at 1 vs arrays at 0 in time in steps:" in summary
    assert "- compute-bound at 1 vs compute-bound at 0 in CPU per step:" in summary


def test_a_blocks_shared_process_runs_every_trial_with_the_threads_asked_for(tmp_path):
    out = tmp_path / "study"
    result = run_cli(*TINY, "--intra-op-threads", "1", "--process-per", "block", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 2 and (trials["intra_op_threads"] == 1).all()
    assert "What intra-op-threads itself does" not in (out / "summary.md").read_text()  # no sweep, nothing compared
