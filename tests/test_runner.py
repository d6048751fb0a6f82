"""End to end, as a user runs it: tiny data, the small model, real trial processes."""

import json
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest

from study import schema
from tests.conftest import PROJECT_ROOT, run_cli

TINY = ["--model", "small", "--limit", "200", "--batch-size", "64"]
PLUGINS = {"INPUT_STUDY_PLUGINS": ",".join(f"tests.faulty_strategies:{name}" for name in (
    "RaisesMidEpoch", "RaisesThenHangsAtExit", "KilledMidEpoch", "HangsMidEpoch"))}
PLOTS = schema.PLOTS
# The four forms a verdict takes (study.report.words.comparison_sentence), each against `{baseline}`.
VERDICT = (r"- {strategy} (is [0-9.]+ \(95% CI [0-9.]+-[0-9.]+\) times (faster|slower) than {baseline}"
           r"|and {baseline} are equivalent within ±[0-9.]+%|vs {baseline}( in [a-zA-Z -]+)?: undecided: )")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    result = run_cli("--strategies", "arrays,tfdata,tfdata-repeat", "--repeats", "2", "--epochs", "3", *TINY, "--out", str(out))
    return out, result


def test_study_exits_0_and_prints_progress(study):
    out, result = study
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Planned 8 trials" in result.stdout
    assert "epoch 3/3" in result.stdout and "ex/s" in result.stdout and "left" in result.stdout


def test_results_have_a_row_per_strategy_repeat_and_epoch_with_counted_examples(study):
    out, _ = study
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 4 * 2 * 3
    assert not results.duplicated(["strategy", "repeat", "epoch"]).any()
    strategies = results[results["strategy"] != "compute-bound"]
    assert (strategies["examples"] == 200).all() and (strategies["steps"] == 4).all()
    assert (results["cpu_seconds"] > 0).all() and (results["epoch_seconds"] > 0).all()
    assert results["warmup"].tolist() == (results["epoch"] == 1).tolist()
    last = results[results["epoch"] == 3]
    assert last["val_accuracy"].between(0, 1).all() and last["val_loss"].notna().all()


def test_steps_and_trials_are_recorded(study):
    out, _ = study
    steps = pd.read_csv(out / "steps.csv")
    assert len(steps) == 8 * 3 * 4 and (steps["step_seconds"] > 0).all()
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 8 and (trials["status"] == "ok").all()
    assert (trials["peak_rss_mb"] > 0).all() and (trials["cpu_user_seconds"] > 0).all()
    strategies = trials[trials["strategy"] != "compute-bound"]
    assert (strategies["pipeline_examples"] > 0).all() and (strategies["pipeline_first_batch_seconds"] > 0).all()


def test_every_epoch_records_the_processes_page_faults(study):
    out, _ = study
    results = pd.read_csv(out / "results.csv")
    faults = results["minor_faults"]
    assert faults.notna().all() and (faults >= 0).all() and (faults == faults.round()).all()
    assert (faults > 0).any()  # a training process faults pages in; all zero would be a counter never read
    assert "page faults per step" in (out / "summary.md").read_text()


def test_epoch_boundaries_are_recorded_with_their_cpu_time_and_fit_teardown(study):
    out, _ = study
    results = pd.read_csv(out / "results.csv")
    for column in ("before_first_step", "after_last_step"):
        wall, cpu = results[f"{column}_seconds"], results[f"{column}_cpu_seconds"]
        assert (wall >= 0).all() and (cpu >= 0).all()
    assert (results["before_first_step_seconds"] + results["after_last_step_seconds"] <= results["epoch_seconds"]).all()
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["fit_teardown_seconds"] >= 0).all() and trials["fit_teardown_cpu_seconds"].notna().all()
    summary = (out / "summary.md").read_text()
    boundaries = summary.split("## Epoch boundaries")[1]
    assert "| tfdata-repeat |" in boundaries and "fit teardown" in boundaries


def test_the_boundary_is_probed_at_full_age_where_each_fit_destroys_its_iterator(study):
    # Epochs of 200 examples are shorter than the user's (all 20,000): each trial probes, at a full epoch's age,
    # the destruction of a used iterator where its fit does it - arrays and tfdata at every epoch boundary,
    # tfdata-repeat and the limit (one iterator for all of fit) once, when fit ends.
    out, _ = study
    trials = pd.read_csv(out / "trials.csv").set_index(["strategy", "repeat"])
    assert trials["new_iterator_each_epoch"].to_dict() == {
        (name, block): name in ("arrays", "tfdata") for name, block in trials.index
    }
    probes = pd.read_csv(out / "boundary.csv")
    assert sorted(zip(probes["strategy"], probes["repeat"], probes["destroyed_at"])) == [
        (name, block, "epoch boundary" if name in ("arrays", "tfdata") else "end of fit")
        for name in ("arrays", "compute-bound", "tfdata", "tfdata-repeat") for block in (1, 2)
    ]
    assert (probes["full_steps"] == 313).all()  # ceil(20,000 / 64): the probe drew the whole training split
    assert (probes["age_seconds"] >= probes["target_age_seconds"]).all() and (probes["target_age_seconds"] > 0).all()
    assert (probes["destroy_seconds"] >= 0).all()
    assert (probes["next_iterator_seconds"] > 0).all()  # from an epoch's last batch to the next epoch's first
    # Where fit destroys it - at an epoch boundary, or when a full-size fit of three epochs ends - the probe also
    # watched when the autotune thread next woke after that age (empty if it saw none).
    assert (probes["next_wakeup_seconds"].dropna() > 0).all()
    assert (probes["previous_wakeup_seconds"].dropna() >= 0).all()  # and when it last woke before that age
    assert "## The full-size epoch" in (out / "summary.md").read_text()


def test_report_files_and_summary_contents(study):
    out, _ = study
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# Input-pipeline study")
    assert "For the epoch you train" in summary and "compute-bound limit" in summary
    # Which verdict a tiny, noisy study reaches is chance; that every comparison has one, in one of the four forms,
    # is not: for tfdata and tfdata-repeat against arrays - the projected full-size epoch, the measured epochs, the
    # time in steps, the CPU time - and in steps against the limit; for arrays in steps against the limit.
    section = summary.split("## Verdicts")[1].split("\n## ")[0]
    verdicts = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(verdicts) == 2 * 5 + 1, verdicts
    units = ("the projected full-size epoch", "the measured epochs", "time in steps", "time in steps", "CPU time")
    for strategy in ("tfdata", "tfdata-repeat"):
        mine = [line for line in verdicts if line.startswith(f"- {strategy} ")]
        assert [f" in {unit}" in line for line, unit in zip(mine, units)] == [True] * 5, mine
        for line, baseline in zip(mine, ("arrays", "arrays", "arrays", "compute-bound", "arrays")):
            assert re.match(VERDICT.format(strategy=re.escape(strategy), baseline=re.escape(baseline)), line), line
    for key in ("tensorflow", "keras", "numpy", "cpu_model", "logical_cores", "git_commit"):
        assert f"| {key} |" in summary
    for name in PLOTS:
        assert f"({name})" in summary


def test_report_only_rebuilds_from_saved_results(study):
    out, _ = study
    (out / "summary.md").unlink()
    result = run_cli("--report-only", "--out", str(out))
    assert result.returncode == 0 and (out / "summary.md").exists()


def test_failing_strategies_are_recorded_and_the_others_go_on(tmp_path):
    out = tmp_path / "failing"
    result = run_cli(
        "--strategies", "raises-mid-epoch,raises-then-hangs-at-exit,killed-mid-epoch,hangs-mid-epoch,arrays",
        "--repeats", "1", "--epochs", "2", "--trial-timeout", "30", *TINY, "--out", str(out), env_extra=PLUGINS,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    trials = pd.read_csv(out / "trials.csv").set_index("strategy")
    assert trials.loc["arrays", "status"] == "ok" and trials.loc["compute-bound", "status"] == "ok"
    assert trials.loc["raises-mid-epoch", "status"] == "failed"
    assert "RuntimeError: the data source broke on batch 4" in trials.loc["raises-mid-epoch", "error"]
    # reported, then stopped for hanging at exit (after study.trial_process.REPORTED_EXIT_GRACE_SECONDS): the error stands
    assert trials.loc["raises-then-hangs-at-exit", "status"] == "failed"
    assert "RuntimeError: the data source broke on batch 4" in trials.loc["raises-then-hangs-at-exit", "error"]
    assert trials.loc["killed-mid-epoch", "status"] == "failed" and "SIGKILL" in trials.loc["killed-mid-epoch", "error"]
    assert trials.loc["hangs-mid-epoch", "status"] == "timeout"
    results = pd.read_csv(out / "results.csv")
    assert set(results["strategy"]) == {"arrays", "compute-bound"}
    summary = (out / "summary.md").read_text()
    assert "## Failed trials" in summary and "raises-mid-epoch" in summary and "timed out" in summary
    assert "Traceback" not in result.stdout + result.stderr


def _interrupted_then_resumed(out):
    arguments = [sys.executable, str(PROJECT_ROOT / "run_study.py"), "--strategies", "arrays,tfdata", "--repeats", "2",
                 "--epochs", "3", *TINY, "--process-per", "trial", "--out", str(out)]
    process = subprocess.Popen(arguments, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    trials = out / "trials.csv"
    deadline = time.monotonic() + 300
    while not (trials.exists() and len(trials.read_text().splitlines()) >= 2):  # header + first trial
        assert process.poll() is None and time.monotonic() < deadline, "the study ended before its first trial"
        time.sleep(0.2)
    while not _trial_running(process):  # into the second trial
        assert process.poll() is None and time.monotonic() < deadline, "the study ended before its second trial"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    signalled = time.monotonic()
    stdout, _ = process.communicate(timeout=60)
    stopped_after = time.monotonic() - signalled
    return process.returncode, stopped_after, stdout, run_cli(*arguments[2:], "--resume")


def _trial_running(study) -> bool:
    try:
        return any(child.cmdline()[1:3] == ["-m", "study.trial"] for child in psutil.Process(study.pid).children(recursive=True))
    except psutil.Error:
        return False


def test_interrupted_study_resumes_to_exactly_the_rows_of_an_uninterrupted_one(tmp_path, study):
    out = tmp_path / "interrupted"
    code, stopped_after, stdout, resumed = _interrupted_then_resumed(out)
    assert code == 130 and stopped_after < 60  # "within seconds": generous on a loaded machine
    assert "--resume" in stdout
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming:" in resumed.stdout
    results = pd.read_csv(out / "results.csv")
    keys = ["strategy", "repeat", "epoch"]
    assert not results.duplicated(keys).any()
    assert len(results[results["strategy"] != "compute-bound"]) == 12 and len(results) == 18
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 6 and not trials.duplicated(["strategy", "repeat"]).any()
    leftover = subprocess.run(["pgrep", "-f", f"study.trial.*{out}"], capture_output=True, text=True).stdout
    assert leftover == ""


def test_resume_refuses_other_settings(study):
    out, _ = study
    result = run_cli("--strategies", "arrays,tfdata,tfdata-repeat", "--repeats", "2", "--epochs", "4", *TINY, "--out", str(out), "--resume")
    assert result.returncode == 2 and "settings differ" in result.stderr and "epochs" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_truncated_results_line_is_dropped_and_a_corrupt_file_is_named(study, tmp_path):
    out, _ = study
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "environment.json", "results.csv", "steps.csv", "trials.csv"):
        (copy / name).write_bytes((out / name).read_bytes())
    text = (copy / "results.csv").read_text()
    (copy / "results.csv").write_text(text[: len(text) - 40])  # a crash mid-append
    assert run_cli("--report-only", "--out", str(copy)).returncode == 0
    (copy / "trials.csv").write_bytes(b"\x00\x01garbage\xff\n\x00")
    result = run_cli("--report-only", "--out", str(copy))
    assert result.returncode == 2 and "trials.csv" in result.stderr and "Traceback" not in result.stderr


def test_a_new_study_moves_the_previous_one_aside(tmp_path):
    out = tmp_path / "twice"
    out.mkdir()
    (out / "results.csv").write_text("strategy,repeat,epoch\n")
    (out / "config.json").write_text("{}")
    result = run_cli("--strategies", "arrays", "--repeats", "1", "--epochs", "2", *TINY, "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    archived = list((out / "archive").glob("*/results.csv"))
    assert len(archived) == 1 and archived[0].read_text() == "strategy,repeat,epoch\n"


def test_a_budgeted_study_calibrates_plans_and_says_how_it_ended(tmp_path):
    """No --repeats: the blocks are planned from a calibration and stop once nothing is left undecided (one
    strategy compares with nothing, so at the plan's first look, long before the 30-minute plan's last block)."""
    out = tmp_path / "budgeted"
    result = run_cli("--strategies", "tfdata", "--model", "small", "--limit", "64", "--epochs", "2", "--budget", "30",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Calibrating on this machine" in result.stdout
    assert "Plan for a 30-minute budget: up to" in result.stdout
    assert "Every verdict is decided after 4 blocks: stopping early." in result.stdout
    config = json.loads((out / "config.json").read_text())
    assert (config["epochs"], config["limit"]) == (2, 64) and config["planned_blocks"] == config["repeats"] > 4
    plan = json.loads((out / "plan.json").read_text())
    assert plan["ending"]["blocks_run"] == 4 and plan["calibration"]["step_seconds"] > 0
    summary = (out / "summary.md").read_text()
    assert "## Plan and budget" in summary and "The study ran 4 blocks and stopped because every verdict decided" in summary
    # The summary states the plan the run printed, trials per block included (the limit's diagnostic counted once).
    printed = next(line for line in result.stdout.splitlines() if line.startswith("Plan for a 30-minute budget"))
    assert "of 3 trials" in printed and printed in summary.splitlines()


def test_the_limits_trial_measures_what_batches_of_unknown_size_cost_and_each_trial_its_traced_shape(tmp_path):
    # 10 steps per epoch: enough for the limit's diagnostic (study/trial.py, MIN_DIAGNOSTIC_STEPS).
    result = run_cli("--strategies", "tfdata", "--repeats", "1", "--epochs", "2", "--model", "small", "--limit", "640",
                     "--batch-size", "64", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    trials = pd.read_csv(tmp_path / "trials.csv").set_index("strategy")
    # batch() without drop_remainder leaves the batch dimension open; the limit's ready batches have it.
    assert trials.loc["tfdata", "batch_shape"] == "?x80" and trials.loc["compute-bound", "batch_shape"] == "64x80"
    limit = trials.loc["compute-bound"]
    assert limit["diagnostic"] == "batches of unknown size"
    for column in ("diagnostic_step_seconds", "diagnostic_reference_step_seconds", "diagnostic_cpu_seconds_per_step",
                   "diagnostic_reference_cpu_seconds_per_step"):
        assert limit[column] > 0
    assert pd.isna(trials.loc["tfdata", "diagnostic"])
    summary = (tmp_path / "summary.md").read_text()
    assert "Diagnostic, in every block's compute-bound trial" in summary and "| ?x80 |" in summary
