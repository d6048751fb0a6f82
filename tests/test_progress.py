"""The progress display and the `progress` events it is drawn from: plain lines off a terminal, one live line
on it, a time-left estimate from finished work only, and the child's throttled events. No timing assertions."""

import io
import json
import math
import subprocess
import sys

import pytest

from study.config import StudyConfig
from study.plan import Trial
from study.progress import Progress, TimeLeft
from study.timing import EpochTimer
from study.trial import PROTOCOL_PREFIX
from study.trial_process import TrialOutcome
from tests.conftest import PROJECT_ROOT

CONFIG = StudyConfig(strategies=("arrays",), epochs=3, repeats=1, model="small", limit=64, batch_size=32)


def _trial(strategy="arrays", block=1):
    return Trial(repeat=block, strategy=strategy)


def _epoch_event(epoch, seconds, steps=2):
    return {"epoch": epoch, "epoch_seconds": seconds, "examples": 64, "cpu_seconds": seconds, "steps": steps}


def _outcome(wall, status="ok", error=""):
    return TrialOutcome(status, error, [], {}, wall, 0.0, 0.0, 0.0)


def test_plain_mode_prints_one_line_per_epoch_and_ignores_progress_events():
    lines = []
    progress = Progress(CONFIG, total_trials=6, echo=lines.append, live=False)
    trial = _trial()
    progress.step(1, trial, {"epoch": 1, "steps": 1, "steps_in_epoch": 2, "epoch_seconds": 0.5})
    assert lines == []  # no step lines in a log file
    progress.epoch(1, trial, _epoch_event(1, 4.0))
    progress.epoch(1, trial, _epoch_event(2, 2.0))
    progress.trial_end(1, trial, _outcome(7.0))
    progress.trial_end(2, _trial("compute-bound"), _outcome(1.0, "failed", "RuntimeError: boom"))
    assert len(lines) == 3
    assert lines[0].startswith("[  1/6] block 1  arrays") and "epoch 1/3" in lines[0] and "(warm-up)" in lines[0]
    assert "ex/s" in lines[0] and "cpu" in lines[0] and lines[0].endswith("left")
    assert "epoch 2/3" in lines[1] and "(warm-up)" not in lines[1]
    assert "FAILED: RuntimeError: boom" in lines[2]


def test_live_mode_draws_one_line_in_place_and_keeps_epoch_lines():
    stream = io.StringIO()
    progress = Progress(CONFIG, total_trials=6, echo=pytest.fail, live=True, stream=stream)
    trial = _trial()
    progress.step(1, trial, {"epoch": 1, "steps": 0, "steps_in_epoch": 10, "epoch_seconds": 0.0})
    progress.step(1, trial, {"epoch": 1, "steps": 4, "steps_in_epoch": 10, "epoch_seconds": 2.0})
    progress.epoch(1, trial, _epoch_event(1, 5.0, steps=10))
    progress.step(1, trial, {"epoch": 2, "steps": 3, "steps_in_epoch": None, "epoch_seconds": 1.0})
    text = stream.getvalue()
    assert "\r" in text  # redrawn in place
    assert "arrays" in text and "block 1" in text and "epoch 1/3" in text and "4/10 steps" in text
    assert "step/s" in text and "left" in text and "study ~" in text
    assert "3/10 steps" in text  # an unknown epoch length falls back to the last epoch's steps
    assert "5.0 s" in text and "(warm-up)" in text  # the finished epoch stays as a plain line
    progress.trial_end(1, trial, _outcome(8.0))
    assert progress._bar is None


def test_study_time_left_comes_from_finished_epochs_and_trials():
    left = TimeLeft(epochs_per_trial=3)
    assert math.isnan(left.seconds_left(trials_after=2, epoch=1, epoch_left=0.0))  # nothing finished: no guess
    left.add_startup(3.0)
    left.add_epoch(1, 10.0)
    left.add_epoch(2, 4.0)
    left.add_epoch(3, 6.0)
    left.add_after_epochs(2.0)
    # At the end of epoch 2 of a trial: its epoch 3 (the median steady epoch, 5 s) and its 2 s after the epochs
    # (its start-up is behind it), then one more trial of 3 + 10 + 5 + 5 + 2 s.
    assert left.seconds_left(1, 2, epoch_left=0.0) == 5.0 + 2.0 + 25.0
    assert left.seconds_left(0, 3, epoch_left=0.0) == 2.0  # the last epoch of the last trial: only its tail
    assert left.seconds_left(0, 3, epoch_left=1.5) == 3.5


def test_the_timer_reports_progress_at_each_epoch_start_and_then_throttled():
    def run(interval):
        reports = []
        timer = EpochTimer(on_record=lambda record: None, on_progress=lambda **where: reports.append(where),
                           progress_interval=interval)
        timer.set_params({"steps": 3})  # what Keras' fit hands its callbacks
        for epoch in range(2):
            timer.on_epoch_begin(epoch)
            for step in range(3):
                timer.on_train_batch_begin(step)
                timer.on_train_batch_end(step)
            timer.on_epoch_end(epoch, {})
        return reports

    never = run(math.inf)
    assert [(r["epoch"], r["steps"], r["steps_in_epoch"], r["epoch_seconds"]) for r in never] == [(1, 0, 3, 0.0), (2, 0, 3, 0.0)]
    every = run(0.0)
    assert [(r["epoch"], r["steps"]) for r in every] == [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1), (2, 2), (2, 3)]
    assert all(r["epoch_seconds"] >= 0 for r in every)


def test_the_trial_process_emits_progress_events_before_each_epoch(study_cache_dir):
    config = StudyConfig(strategies=("arrays",), epochs=2, model="small", limit=64, batch_size=32)
    spec = json.dumps({"config": config.to_dict(), "strategy": "arrays", "service_address": None})
    result = subprocess.run([sys.executable, "-m", "study.trial", spec], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    events = [json.loads(line[len(PROTOCOL_PREFIX):]) for line in result.stdout.splitlines() if line.startswith(PROTOCOL_PREFIX)]
    kinds = [event["event"] for event in events]
    assert kinds[-1] == "done" and kinds.count("epoch") == 2
    for number in (1, 2):
        position = next(i for i, e in enumerate(events) if e["event"] == "epoch" and e["epoch"] == number)
        mine = [e for e in events[:position] if e["event"] == "progress" and e["epoch"] == number]
        assert mine and mine[0]["steps"] == 0 and mine[0]["steps_in_epoch"] == 2
        assert all(0 <= e["steps"] <= 2 and e["epoch_seconds"] >= 0 for e in mine)
    assert not any(e["event"] == "progress" for e in events[events.index(next(e for e in events if e["event"] == "epoch" and e["epoch"] == 2)):])
