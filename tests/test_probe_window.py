"""The last trials of a budgeted study do not probe their boundary at full age when the hold would outlast the
budget (study/holders.ProbeWindow): the study's end is not an idle wait for them, and the planner sets aside only
the last destruction (study/budget.py)."""

import json

import pytest

from study import blocks, budget, schema
from study.boundary_probe import FULL_FIT_EPOCHS
from study.budget import Calibration, plan
from study.config import StudyConfig
from study.holders import WAKEUP_WAIT_SECONDS, HeldTrials, ProbeWindow
from study.plan import Trial
from study.trial_process import TrialOutcome


def _outcome(wall_seconds, step_seconds, new_iterator_each_epoch=True):
    epochs = [{"step_seconds": [step_seconds] * 5}]
    return TrialOutcome(schema.OK, "", epochs, {"new_iterator_each_epoch": new_iterator_each_epoch}, wall_seconds,
                        0.0, 0.0, 0.0)


def test_before_any_trial_every_trial_may_probe_and_after_one_the_hold_is_sized_from_it():
    window = ProbeWindow(deadline=1000.0)
    assert window.allows(625, now=999.0, strategy="arrays")
    window.note(_outcome(wall_seconds=30.0, step_seconds=0.1), "arrays")
    # a 30 s trial, then a full epoch of 625 steps at 0.1 s, then the autotune thread's next wake-up: the hold ends
    # 92.5 s + WAKEUP_WAIT_SECONDS after the trial starts
    assert window.allows(625, now=1000.0 - 92.5 - WAKEUP_WAIT_SECONDS, strategy="arrays")
    assert not window.allows(625, now=1000.0 - 92.0 - WAKEUP_WAIT_SECONDS, strategy="arrays")


def test_a_strategy_that_keeps_one_iterator_or_is_not_yet_seen_holds_it_as_long_as_a_full_size_fit():
    # fit's one iterator is FULL_FIT_EPOCHS full epochs old when fit ends: its probe holds it that long
    assert FULL_FIT_EPOCHS == 3
    window = ProbeWindow(deadline=1000.0)
    window.note(_outcome(wall_seconds=30.0, step_seconds=0.1, new_iterator_each_epoch=False), "tfdata-repeat")
    for strategy in ("tfdata-repeat", "grain"):  # seen to keep one; not seen yet
        assert window.allows(625, now=1000.0 - 217.5 - WAKEUP_WAIT_SECONDS, strategy=strategy)
        assert not window.allows(625, now=1000.0 - 217.0 - WAKEUP_WAIT_SECONDS, strategy=strategy)


def test_the_hold_is_sized_from_the_longest_trial_and_the_slowest_step_so_far():
    window = ProbeWindow(deadline=1000.0)
    window.note(_outcome(wall_seconds=50.0, step_seconds=0.05), "arrays")
    window.note(_outcome(wall_seconds=20.0, step_seconds=0.2), "tfdata")
    # 50 s + 100 x 0.2 s + the wake-up's wait
    assert window.allows(100, now=1000.0 - 70.0 - WAKEUP_WAIT_SECONDS, strategy="arrays")
    assert not window.allows(100, now=1000.0 - 69.0 - WAKEUP_WAIT_SECONDS, strategy="arrays")


def test_the_hold_is_as_old_as_fits_iterator_where_a_full_size_fit_destroys_it():
    from study.boundary_probe import END_OF_FIT, EPOCH_BOUNDARY, UsedIterator

    probe = object.__new__(UsedIterator)  # its figures only: no pipeline needed
    probe.steps = 625
    probe.destroyed_at = EPOCH_BOUNDARY
    assert probe.hold_age_seconds(0.1) == pytest.approx(62.5)  # one full epoch: the last epoch's iterator
    probe.destroyed_at = END_OF_FIT
    assert probe.hold_age_seconds(0.1) == pytest.approx(187.5)  # one iterator for all of a full-size fit


def test_a_failed_trial_without_epochs_counts_only_its_time():
    window = ProbeWindow(deadline=100.0)
    window.note(TrialOutcome(schema.FAILED, "boom", [], {}, 40.0, 0.0, 0.0, 0.0))
    assert window.allows(625, now=60.0 - WAKEUP_WAIT_SECONDS) and not window.allows(625, now=61.0 - WAKEUP_WAIT_SECONDS)


def _config(tmp_path, total_seconds=None):
    config = StudyConfig(strategies=("arrays",), epochs=2, repeats=1, limit=64, out=str(tmp_path), budget_minutes=10.0)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    if total_seconds is not None:
        (config.out_dir / schema.PLAN).write_text(json.dumps({"plan": {"total_seconds": total_seconds}}))
    return config


def test_the_window_ends_before_the_report_and_the_last_destruction_of_the_budget_or_of_a_longer_plan(tmp_path):
    closing = budget.REPORT_SECONDS + budget.PROBE_END_SECONDS
    assert blocks.probe_window(_config(tmp_path / "a", total_seconds=500.0), started=100.0).deadline == 100.0 + 600.0 - closing
    assert blocks.probe_window(_config(tmp_path / "b", total_seconds=900.0), started=100.0).deadline == 100.0 + 900.0 - closing
    # every setting fixed: no plan, no time to keep - every trial probes
    assert blocks.probe_window(_config(tmp_path / "c"), started=100.0).deadline == float("inf")


def test_the_trials_whose_hold_would_outlast_the_window_run_without_a_probe(monkeypatch, tmp_path):
    config = _config(tmp_path)
    trials = [Trial(1, "arrays"), Trial(1, schema.COMPUTE_BOUND), Trial(2, "arrays"), Trial(2, schema.COMPUTE_BOUND)]
    starts = iter(range(0, 10_000, 100))  # each trial starts 100 s after the one before
    probed = []

    def run_trial(config, trial, position, progress, holders, shared):
        probed.append(holders is not None)
        return _outcome(wall_seconds=60.0, step_seconds=0.1, new_iterator_each_epoch=trial.strategy == "arrays")

    monkeypatch.setattr(blocks, "run_trial", run_trial)
    monkeypatch.setattr(blocks.result_rows, "save_trial", lambda *args: None)
    progress = type("Progress", (), {"trial_end": lambda *args: None})()
    # the hold after a 60 s trial at 0.1 s per step, 625 steps, and the wake-up's wait: 122.5 s + WAKEUP_WAIT_SECONDS
    # for arrays (an iterator each epoch); for the limit, which keeps one for all of fit, three epochs: 247.5 s + it
    window = ProbeWindow(deadline=400.0 + WAKEUP_WAIT_SECONDS, clock=lambda: float(next(starts)))
    blocks._run_trials(config, trials, trials, set(), progress, HeldTrials(lambda *a: None), window, None)
    # at 0 s nothing is measured yet; the limit's hold from 100 s would end at 347.5 s, arrays' from 200 s at 322.5 s;
    # the limit's from 300 s, at 547.5 s, past 400 s
    assert probed == [True, True, True, False]


def test_a_shortened_plan_sets_aside_only_the_last_destruction_not_a_full_epoch_s_hold():
    machine = Calibration(trial_overhead_seconds=20.0, step_seconds=0.095)
    shortened = plan(30 * 60, 30.0, machine, trials_per_block=11, train_size=20_000, batch_size=32, report_seconds=60.0)
    assert shortened.limit is not None and shortened.probe_end_seconds == budget.PROBE_END_SECONDS
    assert "do not probe" in shortened.describe(11)
    full = plan(600 * 60, 30.0, machine, trials_per_block=4, train_size=20_000, batch_size=32, report_seconds=60.0,
                limit=20_000)  # full epochs: nothing to probe
    assert full.probe_end_seconds == 0.0
