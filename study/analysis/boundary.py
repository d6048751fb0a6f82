"""Where a strategy's steady epochs spend time outside training steps: the waits at their boundaries, the
process CPU over them, and fit's teardown."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from study.projection import teardown_waits

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
    # How many of the trials' own teardowns waited idle (projection.teardown_waits), of how many
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


def _mean_parts(rows: pd.DataFrame, column) -> dict:
    parts = {name: float(column(name).astype(float).fillna(0.0).mean()) for name in BOUNDARY_PARTS[:-1]}
    parts["other_seconds"] = max(0.0, float(rows["epoch_seconds"].astype(float).mean()) - sum(parts.values()))
    return parts
