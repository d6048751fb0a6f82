"""Why a strategy's epoch is longer than the limit's, each cause backed by a measurement of the same study; the
limit's diagnostic that one of them cites; the regimes (the causes joined) across a sweep."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from study import stats
from study.analysis.epochs import per_block
from study.schema import COMPUTE_BOUND

AT_LIMIT = "at the limit"
INPUT_BOUND = "input-bound"  # the pipeline alone delivers fewer examples per second than the model consumes
SHARING_CPU = "slowed by sharing the CPU"  # fast enough alone, yet its steps are slower than the limit's
WAITS_AT_BOUNDARY = "waits at the boundary"  # the full-size epoch's boundary is a noticeable share of it
UNDECIDED_STEPS = "steps not yet told from the limit's"  # its per-step verdict against the limit is undecided
# Its step is traced for batches of unknown size, and the limit's diagnostic (the limit's own batches, their size
# made unknown: inputs/compute_bound.py) steps decidedly slower than the limit in the same blocks.
UNKNOWN_BATCH = "slowed by batches of unknown size"
# Its process faults its memory in again at every step: its steady steps fault at least REFAULT_FACTOR times the
# limit's pages (tf.data's from_generator fixes malloc's mmap threshold low: inputs/malloc_threshold.py).
REFAULTS = "slowed by memory faulted in again every step"
REFAULT_FACTOR = 1.5
BOUNDARY_SHARE = 0.02  # a full-size boundary over this share of the projected epoch (and over 1 s) is a cause
DIAGNOSTIC_COLUMNS = ["diagnostic", "diagnostic_step_seconds", "diagnostic_reference_step_seconds",
                      "diagnostic_cpu_seconds_per_step", "diagnostic_reference_cpu_seconds_per_step"]


def is_unknown_batch_size(batch_shape: str) -> bool:
    """Every trace of the step took batches of any size ("?x80"; "32x80 ?x80": a partial last batch retraced it)."""
    return bool(batch_shape) and all(shape.startswith("?") for shape in batch_shape.split())


@dataclasses.dataclass(frozen=True)
class Diagnostic:
    """The limit's diagnostic at one swept value: its steps with one thing changed, against its own arguments
    fitted again beside them in the same trial, paired over blocks."""

    changes: str  # what it changes (inputs.compute_bound.UNKNOWN_BATCH_SIZE)
    steps: stats.Comparison  # median step, changed / own
    cpu: stats.Comparison  # CPU per step, changed / own

    @property
    def slows_steps(self) -> bool:
        return self.steps.verdict == stats.SLOWER


def diagnostic(limit_trials: pd.DataFrame, blocks, statistics) -> Diagnostic | None:
    """The limit's diagnostic over the blocks whose limit trial ran it; None when none did."""
    columns = DIAGNOSTIC_COLUMNS
    if not set(columns) <= set(limit_trials.columns):
        return None
    ran = limit_trials.dropna(subset=columns[1:])
    ran = ran[ran["diagnostic"].astype(str).str.len() > 0]
    if ran.empty:
        return None
    changes = str(ran["diagnostic"].iloc[0])
    name = f"{COMPUTE_BOUND}, {changes}"
    return Diagnostic(
        changes,
        stats.compare(name, COMPUTE_BOUND, per_block(ran, columns[1], blocks), per_block(ran, columns[2], blocks), **statistics),
        stats.compare(name, COMPUTE_BOUND, per_block(ran, columns[3], blocks), per_block(ran, columns[4], blocks), **statistics),
    )


def refaults(faults_per_step: float, limit_faults_per_step: float) -> bool:
    """Its steady steps fault at least REFAULT_FACTOR times the limit's pages (False when either is unknown)."""
    return not (math.isnan(faults_per_step) or math.isnan(limit_faults_per_step)) and (
        faults_per_step >= REFAULT_FACTOR * max(limit_faults_per_step, 1.0))


def causes(strategy, pipeline_rate, model_rate, steps_vs_limit, boundary, projected_seconds,
           unknown_batch_size=False, diagnostic=None, faults_per_step=math.nan, limit_faults_per_step=math.nan) -> tuple:
    """Why a strategy's full-size epoch is longer than the limit's, each cause backed by a measurement of the
    same study: the pipeline alone against the model's rate, the shape its step was traced for with the limit's
    diagnostic (the same batches of unknown size, paired blocks), its page faults per step against the limit's, its
    steps against the limit's, its boundary at full age against its projected epoch."""
    if strategy == COMPUTE_BOUND:
        return (AT_LIMIT,)
    found = []
    if not (math.isnan(pipeline_rate) or math.isnan(model_rate)) and pipeline_rate < model_rate:
        found.append(INPUT_BOUND)
    elif steps_vs_limit is not None and steps_vs_limit.verdict in (stats.EQUIVALENT, stats.FASTER):
        pass  # its own steps are decidedly as fast as the limit's: nothing slows them
    elif steps_vs_limit is not None and steps_vs_limit.verdict == stats.SLOWER:
        if unknown_batch_size and diagnostic is not None and diagnostic.slows_steps:
            found.append(UNKNOWN_BATCH)
        if refaults(faults_per_step, limit_faults_per_step):
            found.append(REFAULTS)
        found = found or [SHARING_CPU]  # slower, its pipeline fast enough, and neither measured cause above
    elif unknown_batch_size and diagnostic is not None and diagnostic.slows_steps:
        found.append(UNKNOWN_BATCH)
    elif steps_vs_limit is None or steps_vs_limit.verdict == stats.UNDECIDED:
        found.append(UNDECIDED_STEPS)
    if boundary is not None and boundary.seconds > max(1.0, BOUNDARY_SHARE * projected_seconds):
        found.append(WAITS_AT_BOUNDARY)
    return tuple(found) or (AT_LIMIT,)


def regimes_across_sweep(result) -> list[tuple[str, list, object]]:
    """Per strategy of an Analysis (the limit left out): [(swept value, regime)] and the first value where the
    regime changes (None if it never does)."""
    rows = []
    for strategy in dict.fromkeys(f.strategy for f in result.findings if f.strategy != COMPUTE_BOUND):
        regimes = [(f.sweep_value, f.regime) for f in result.findings if f.strategy == strategy]
        crossover = next((value for (value, regime), (_, before) in zip(regimes[1:], regimes) if regime != before), None)
        rows.append((strategy, regimes, crossover))
    return rows
