"""A trial's events turned into result rows: its epochs into results.csv, its steps into steps.csv, then its line
in trials.csv (written last: it marks the trial finished), and a boundary probed at full age into boundary.csv."""

from __future__ import annotations

import time
from pathlib import Path

from study import results_files, schema
from study.config import StudyConfig
from study.plan import Trial
from study.trial_process import TrialOutcome


def save_trial(out: Path, config: StudyConfig, trial: Trial, position: int, outcome: TrialOutcome) -> None:
    sweep = config.sweep[0] if config.sweep else ""
    base = {"strategy": trial.strategy, "repeat": trial.repeat, "sweep": sweep, "sweep_value": trial.sweep_value}
    if outcome.status == schema.OK:
        rows, steps = [], []
        for event in outcome.epochs:
            rows.append(_epoch_row(base, event, outcome))
            steps.extend(
                {"strategy": trial.strategy, "repeat": trial.repeat, "sweep_value": trial.sweep_value,
                 "epoch": event["epoch"], "step": index + 1, "step_seconds": f"{seconds:.6f}"}
                for index, seconds in enumerate(event["step_seconds"])
            )
        results_files.append_rows(out / schema.RESULTS, schema.RESULT_COLUMNS, rows)
        results_files.append_rows(out / schema.STEPS, schema.STEP_COLUMNS, steps)
    started_at = outcome.epochs[0]["started_at"] if outcome.epochs else time.time() - outcome.wall_seconds
    summary = dict(
        base, position=position, status=outcome.status, error=outcome.error, started_at=started_at,
        wall_seconds=round(outcome.wall_seconds, 3), cpu_user_seconds=round(outcome.cpu_user_seconds, 3),
        cpu_system_seconds=round(outcome.cpu_system_seconds, 3), peak_rss_mb=round(outcome.peak_rss_mb, 1),
        **{key: outcome.done.get(key) for key in schema.TRIAL_FIELDS},
    )
    results_files.append_rows(out / schema.TRIALS, schema.TRIAL_COLUMNS, [summary])  # last: marks the trial finished


def _epoch_row(base: dict, event: dict, outcome: TrialOutcome) -> dict:
    """One epoch's row of results.csv; the last epoch's carries the trial's validation figures."""
    row = dict(base, **{key: event[key] for key in schema.EPOCH_FIELDS})
    row["warmup"] = schema.is_warmup(event["epoch"])
    row["examples_per_second"] = event["examples"] / event["epoch_seconds"]
    if event is outcome.epochs[-1]:
        row["val_loss"], row["val_accuracy"] = outcome.done["val_loss"], outcome.done["val_accuracy"]
    return row


def save_boundary(out: Path, trial: Trial, done: dict, event: dict) -> None:
    """One probe of the boundary at the full epoch's age, as it arrives (study/holders.py)."""
    row = {"strategy": trial.strategy, "repeat": trial.repeat, "sweep_value": trial.sweep_value, **done, **event}
    results_files.append_rows(out / schema.BOUNDARY, schema.BOUNDARY_PROBE_COLUMNS, [row])
