"""Per epoch and per trial, derived from the raw rows every time: an epoch's time in steps and outside them, its
CPU per training step, and each trial's steady step time after its warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd

from study import schema, steady_state

TRIAL_KEYS = ["strategy", "repeat", "setting"]  # `setting`: the swept value, -1 where there is none (a key pandas joins)


def _with_setting(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(setting=[-1 if v is None else v for v in table["sweep_value"]])


def epoch_parts(results: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """results with `in_steps_seconds`: the sum of each epoch's step times (its training time, boundaries out)."""
    keys = [*TRIAL_KEYS, "epoch"]
    summed = _with_setting(schema.normalize_sweep_column(steps)).groupby(keys)["step_seconds"].sum().rename("in_steps_seconds")
    merged = _with_setting(schema.normalize_sweep_column(results)).merge(summed.reset_index(), on=keys, how="left")
    return merged.drop(columns="setting")


def steady_step_seconds(steps: pd.DataFrame) -> pd.DataFrame:
    """Per trial: the mean step time after its warm-up, where MSER-5 finds the step times settle
    (study/steady_state.py) over all its epochs' steps in order, and how many steps that warm-up took."""
    table = _with_setting(schema.normalize_sweep_column(steps)).sort_values([*TRIAL_KEYS, "epoch", "step"])
    rows = []
    for key, trial in table.groupby(TRIAL_KEYS, sort=False):
        seconds = trial["step_seconds"].to_numpy(float)
        # At least the first step: it traces the train function (seconds, not milliseconds), and MSER's batch
        # medians, robust to one odd step in five, can leave that one step in - where it would dominate a mean.
        end = max(steady_state.warmup_end(seconds).end, 1)
        rows.append((*key, float(seconds[end:].mean()), end))
    return pd.DataFrame(rows, columns=[*TRIAL_KEYS, "steady_step_seconds", "warmup_steps"])


def with_step_times(results: pd.DataFrame, steps) -> pd.DataFrame:
    """results (sweep column normalized) with `in_steps_seconds` per epoch and, per trial, `steady_step_seconds`
    and `warmup_steps`. Without `steps` (steps.csv), an epoch's steps are its whole time and its steady step
    time the epoch's mean step."""
    results = schema.normalize_sweep_column(results)
    if steps is not None and len(steps):
        results = epoch_parts(results, steps)
        results = _with_setting(results).merge(steady_step_seconds(steps), on=TRIAL_KEYS, how="left").drop(columns="setting")
    for column in ("in_steps_seconds", "steady_step_seconds", "warmup_steps"):
        if column not in results.columns:
            results = results.assign(**{column: np.nan})
    results["in_steps_seconds"] = results["in_steps_seconds"].fillna(results["epoch_seconds"])
    results["steady_step_seconds"] = results["steady_step_seconds"].fillna(results["in_steps_seconds"] / results["steps"])
    return results


def cpu_per_step(rows: pd.DataFrame) -> pd.Series:
    """Each epoch's process CPU per training step, the CPU of its boundary waits left out."""
    boundary_cpu = sum(
        pd.to_numeric(rows[name], errors="coerce").fillna(0.0) if name in rows.columns else 0.0
        for name in ("before_first_step_cpu_seconds", "after_last_step_cpu_seconds")
    )
    return (rows["cpu_seconds"].astype(float) - boundary_cpu) / rows["steps"].astype(float)


def outside_steps(results: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: wall seconds spent outside training steps (epoch time minus the sum of its step times)."""
    parts = epoch_parts(results, steps)
    return parts.assign(outside_seconds=parts["epoch_seconds"] - parts["in_steps_seconds"])


def per_block(rows: pd.DataFrame, column: str, blocks) -> list:
    """A column's values block by block, in `blocks`' order: what stats.compare pairs."""
    return [rows.loc[rows["repeat"] == block, column].to_numpy(float) for block in blocks]
