"""--process-per block: one fresh process per block runs every trial of it (study/shared_trials.py); --process-per fork:
one process per block forks each trial's own process (study/fork_server.py). What a user relies on: the same result
files and the same trained models as a fresh process per trial, a failed trial that is recorded while the block goes
on, and a boundary probe per trial."""

import pandas as pd
import pytest

from tests.conftest import run_cli

TINY = ["--model", "small", "--limit", "64", "--batch-size", "32", "--epochs", "2"]
PLUGINS = {"INPUT_STUDY_PLUGINS": "tests.faulty_strategies:RaisesMidEpoch,tests.faulty_strategies:KilledMidEpoch,tests.faulty_strategies:HangsMidEpoch"}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same tiny study three times: a fresh process per trial, one per block, and trials forked from one per block."""
    runs = {}
    for design in ("trial", "block", "fork"):
        out = tmp_path_factory.mktemp(design) / "study"
        result = run_cli("--strategies", "arrays,generator", "--repeats", "2", *TINY, "--process-per", design, "--out", str(out))
        assert result.returncode == 0, result.stderr[-2000:]
        runs[design] = (out, result)
    return runs


SAID = {"block": "Each block runs in a fresh process of its own",
        "fork": "Each trial runs in a process of its own, forked from its block's process"}


@pytest.mark.parametrize("design", ["block", "fork"])
def test_a_block_runs_in_one_process_and_writes_the_same_files(both, design):
    out, result = both[design]
    assert SAID[design] in result.stdout
    logs = {path.name for path in (out / "logs").iterdir()}
    trial_logs = {path.name for path in (both["trial"][0] / "logs").iterdir()}
    # A block's process has a log; a forked trial, its own as well, named as a fresh process' trial's.
    assert logs == {"block1.log", "block2.log"} | (trial_logs if design == "fork" else set())
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 6 and set(trials["status"]) == {"ok"}
    assert (trials["cpu_user_seconds"] > 0).all()  # each trial's own part of the block's process, or its own
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 6 * 2
    files = {path.name for path in out.iterdir()}
    assert files == {path.name for path in both["trial"][0].iterdir()}


@pytest.mark.parametrize("design", ["block", "fork"])
def test_every_trial_of_a_block_trains_the_same_model_as_in_a_fresh_process(both, design):
    """Fresh weights from the same seed for each trial of a block: the validation figures equal the fresh-process
    design's, trial by trial, whatever the trial's place in its block."""
    figures = {design: pd.read_csv(out / "trials.csv").set_index(["strategy", "repeat"])[["val_loss", "val_accuracy"]]
               for design, (out, _) in both.items()}
    pd.testing.assert_frame_equal(figures[design].sort_index(), figures["trial"].sort_index())


@pytest.mark.parametrize("design", ["block", "fork"])
def test_each_trial_of_a_block_probes_its_boundary_at_full_age(both, design):
    out, _ = both[design]
    probes = pd.read_csv(out / "boundary.csv")
    assert sorted(zip(probes["strategy"], probes["repeat"])) == sorted(
        (strategy, block) for strategy in ("arrays", "compute-bound", "generator") for block in (1, 2))
    assert (probes["full_steps"] == 625).all() and (probes["age_seconds"] >= probes["target_age_seconds"]).all()


@pytest.mark.parametrize("design", ["block", "fork"])
def test_a_failed_trial_is_recorded_and_the_rest_of_its_block_goes_on(tmp_path, design):
    out = tmp_path / "failing"
    result = run_cli(
        "--strategies", "raises-mid-epoch,killed-mid-epoch,hangs-mid-epoch,arrays", "--repeats", "1", *TINY,
        "--trial-timeout", "30", "--process-per", design, "--out", str(out), env_extra=PLUGINS,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    trials = pd.read_csv(out / "trials.csv").set_index("strategy")
    assert trials.loc["arrays", "status"] == "ok" and trials.loc["compute-bound", "status"] == "ok"
    assert "RuntimeError: the data source broke on batch 4" in trials.loc["raises-mid-epoch", "error"]
    assert trials.loc["killed-mid-epoch", "status"] == "failed" and "SIGKILL" in trials.loc["killed-mid-epoch", "error"]
    assert trials.loc["hangs-mid-epoch", "status"] == "timeout"
    assert set(pd.read_csv(out / "results.csv")["strategy"]) == {"arrays", "compute-bound"}
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("design, said", [("block", "two short compute-bound trials in one process"),
                                          ("fork", "two short compute-bound trials forked from one process")])
def test_a_budgeted_study_calibrates_a_block_and_records_its_share_inside_epochs(tmp_path, design, said):
    import json

    out = tmp_path / "budgeted"
    result = run_cli("--strategies", "arrays", "--model", "small", "--budget", "5", "--process-per", design, "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    assert said in result.stdout
    plan = json.loads((out / "plan.json").read_text())
    assert plan["calibration"]["block_overhead_seconds"] >= 0 and plan["calibration"]["trial_overhead_seconds"] > 0
    ending = plan["ending"]
    assert 0 < ending["seconds_in_epochs"] < ending["seconds_before_report"] <= ending["seconds_whole_study"]
    assert ending["share_in_epochs"] == pytest.approx(ending["seconds_in_epochs"] / ending["seconds_whole_study"])
    # fit's teardowns and the limit's diagnostic fits are measured too, and counted apart
    assert ending["seconds_at_fit_teardowns"] >= 0 and ending["seconds_in_diagnostic_fits"] >= 0
    assert ending["share_measuring"] == pytest.approx(sum(ending[name] for name in (
        "seconds_in_epochs", "seconds_at_fit_teardowns", "seconds_in_diagnostic_fits")) / ending["seconds_whole_study"])


@pytest.mark.parametrize("design", ["block", "fork"])
def test_a_study_stopped_inside_a_block_resumes_to_every_trial_once(tmp_path, design):
    """Ctrl-C in the middle of a block: the trials saved stay, the block's process ends with nothing left behind, and
    --resume runs exactly the rest (a fresh process for the rest of the block)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    from tests.conftest import PROJECT_ROOT, all_gone

    out = tmp_path / "stopped"
    arguments = ["--strategies", "arrays,tfdata", "--repeats", "2", *TINY, "--process-per", design, "--out", str(out)]
    env = dict(os.environ, BLOCK_TEST_MARK=str(out))
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run_study.py"), *arguments], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    trials = out / "trials.csv"
    deadline = time.monotonic() + 300
    while not (trials.exists() and len(trials.read_text().splitlines()) >= 3):  # header + two trials of block 1
        assert process.poll() is None and time.monotonic() < deadline, "the study ended before its second trial"
        time.sleep(0.1)
    ours = [p.pid for p in psutil.process_iter() if _marked(p, out)]
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 130 and "--resume" in stdout
    assert all_gone(ours), "a process of the stopped study outlived it"
    saved = len(pd.read_csv(trials))
    assert 2 <= saved < 6
    resumed = run_cli(*arguments, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"Resuming: {saved} finished trials kept, {6 - saved} to run." in resumed.stdout
    rows = pd.read_csv(trials)
    assert len(rows) == 6 and not rows.duplicated(["strategy", "repeat"]).any() and set(rows["status"]) == {"ok"}
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 6 * 2 and not results.duplicated(["strategy", "repeat", "epoch"]).any()  # TINY: 2 epochs


def _marked(process, out) -> bool:
    try:
        return process.environ().get("BLOCK_TEST_MARK") == str(out)
    except Exception:  # noqa: BLE001 - gone, or not ours to read
        return False


def test_a_study_recorded_before_the_option_existed_is_read_as_a_process_per_trial():
    """Its --resume goes on as it began, whatever the default is now."""
    from study.config import StudyConfig

    recorded = StudyConfig(process_per="block").to_dict()
    del recorded["process_per"]
    assert StudyConfig.from_dict(recorded).process_per == "trial"
