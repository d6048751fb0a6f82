"""Where a strategy's steady epochs spend time outside training steps: the waits at their boundaries, the
process CPU over them, and fit's teardown."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from study.projection import WAIT_SECONDS

# The parts a steady epoch is stacked from (other = the rest: callbacks, Keras' loop).
BOUNDARY_PARTS = ("in_steps_seconds", "before_first_step_seconds", "after_last_step_seconds", "other_seconds")


@dataclasses.dataclass(frozen=True)
class Boundary:
    """Where a strategy's steady epochs spend time outside training steps (medians over steady epochs)."""

    epoch_seconds: float  # the whole steady epoch
    in_steps_seconds: float  # the sum of its step times
    before_first_step_seconds: float
    after_last_step_seconds: float
    max_wait_seconds: float  # the largest boundary wait (before + after) of any steady epoch
    busy_share: float  # process CPU / wall over the boundary waits: near 0 = idle waiting, not input work
    teardown_seconds: float  # fit's teardown after the last epoch, once per trial (nan when not recorded)
    # How many of the trials' own teardowns waited idle (over WAIT_SECONDS, the process CPU subtracted), of how many
    # recorded, and the longest: fit's own waits, which a probe's destruction rarely shows.
    teardown_waits: int = 0
    teardowns: int = 0
    teardown_max_seconds: float = math.nan
    # Means over steady epochs of BOUNDARY_PARTS: unlike medians they add up to the mean epoch, so they stack.
    mean_parts: dict = dataclasses.field(default_factory=dict)

    @property
    def wait_seconds(self) -> float:
        return self.before_first_step_seconds + self.after_last_step_seconds

    def is_large_idle_wait(self) -> bool:
        """Worth a sentence: over a second and 5% of the epoch, with the process mostly idle."""
        return self.wait_seconds > max(1.0, 0.05 * self.epoch_seconds) and self.busy_share < 0.5


def median(values) -> float:
    values = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return float(values.median()) if len(values) else math.nan


def boundary(rows: pd.DataFrame, strategy_trials: pd.DataFrame) -> Boundary:
    """The Boundary of one strategy's steady epochs (`rows`) and its finished trials."""
    column = lambda name: rows[name] if name in rows.columns else pd.Series(np.nan, index=rows.index)  # noqa: E731
    wait = column("before_first_step_seconds").astype(float) + column("after_last_step_seconds").astype(float)
    wait_cpu = column("before_first_step_cpu_seconds").astype(float) + column("after_last_step_cpu_seconds").astype(float)
    teardown = strategy_trials["fit_teardown_seconds"] if "fit_teardown_seconds" in strategy_trials.columns else []
    waits, teardowns, longest = teardown_waits(strategy_trials)
    return Boundary(
        epoch_seconds=median(rows["epoch_seconds"]),
        in_steps_seconds=median(rows["in_steps_seconds"]),
        before_first_step_seconds=median(column("before_first_step_seconds")),
        after_last_step_seconds=median(column("after_last_step_seconds")),
        max_wait_seconds=float(wait.max()) if wait.notna().any() else math.nan,
        busy_share=float(wait_cpu.sum() / wait.sum()) if wait_cpu.notna().any() and wait.sum() > 0 else math.nan,
        teardown_seconds=median(teardown),
        teardown_waits=waits, teardowns=teardowns, teardown_max_seconds=longest,
        mean_parts=_mean_parts(rows, column),
    )


def teardown_waits(trials: pd.DataFrame) -> tuple[int, int, float]:
    """Of the trials' own fits: (teardowns that waited idle, teardowns recorded, the longest). A wait is what a probe's
    is (study/projection.py): over WAIT_SECONDS, here with the process CPU subtracted. Not the shortened boundary's
    0.05 s: a teardown also joins the pipeline's workers (Grain's processes: 0.10-0.17 s idle in the default studies)."""
    if not {"fit_teardown_seconds", "fit_teardown_cpu_seconds"} <= set(trials.columns):
        return 0, 0, math.nan
    wall = pd.to_numeric(trials["fit_teardown_seconds"], errors="coerce")
    cpu = pd.to_numeric(trials["fit_teardown_cpu_seconds"], errors="coerce").fillna(0.0)
    recorded = wall.notna()
    return int((wall - cpu > WAIT_SECONDS)[recorded].sum()), int(recorded.sum()), (
        float(wall[recorded].max()) if recorded.any() else math.nan)


def _mean_parts(rows: pd.DataFrame, column) -> dict:
    parts = {name: float(column(name).astype(float).fillna(0.0).mean()) for name in BOUNDARY_PARTS[:-1]}
    parts["other_seconds"] = max(0.0, float(rows["epoch_seconds"].astype(float).mean()) - sum(parts.values()))
    return parts
