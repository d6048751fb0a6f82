"""One strategy at one swept value: its Finding - the steady epoch, its paired comparisons with the baseline
and the limit (wall and CPU time, time in steps, the projected full-size epoch), its pipeline's capacity and
CPU, the causes of its gap to the limit, and its boundary."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pandas as pd

from study import bootstrap, projection, stats
from study.analysis import boundary as boundaries
from study.analysis import causes as why
from study.analysis.epochs import cpu_per_step, per_block
from study.analysis.full_size import compare_projected
from study.schema import COMPUTE_BOUND


@dataclasses.dataclass(frozen=True)
class Finding:
    """One strategy at one swept value: what the report says of it (comparisons: None against itself or for the limit)."""

    strategy: str
    sweep_value: object
    blocks: int
    epoch_seconds: stats.Interval  # median steady epoch, bootstrap interval
    examples_per_second: float  # median over steady epochs, in training
    pipeline_examples_per_second: float  # the input pipeline alone (nan for the limit)
    regime: str  # the causes (analysis/causes.py) joined: why its epoch is longer than the limit's
    val_accuracy: float
    vs_limit: stats.Comparison | None
    vs_baseline: stats.Comparison | None  # end to end: whole steady epochs, boundaries included
    cpu_vs_limit: stats.Comparison | None
    cpu_vs_baseline: stats.Comparison | None
    steps_vs_baseline: stats.Comparison | None  # training speed: the mean step after warm-up, boundaries left out
    warmup_steps: float  # median over trials: the steps before the step times settle (MSER-5), nan if unknown
    boundary: boundaries.Boundary
    # The user's epoch (study/projection.py): the full-size steady epoch projected per block, and its parts.
    full_boundary: projection.FullBoundary = None
    projected_seconds: stats.Interval = None  # median over blocks, bootstrap interval
    projected_steps_seconds: float = math.nan  # median over blocks: full steps x the steady step time
    projected_per_block: tuple = ()  # each block's projected epoch, in block order
    projected_vs_baseline: stats.Comparison | None = None
    steps_vs_limit: stats.Comparison | None = None
    causes: tuple = ()
    pipeline_cpu_ms_per_batch: float = math.nan  # the pipeline alone: its own CPU work per batch (median of trials)
    extra_cpu_ms_per_step: float = math.nan  # CPU per training step above the limit's, in the same blocks (median)
    batch_shape: str = ""  # the input shape its training step was traced for ("?x80": any batch size)
    page_faults_per_step: float = math.nan  # minor page faults per step of its steady epochs (median), nan: not recorded
    # Its fit left malloc's mmap threshold fixed low (as tf.data's from_generator does: inputs/malloc_threshold.py) in
    # any of its trials; None: not recorded.
    mmap_threshold_fixed: bool | None = None
    # A strategy that only sets malloc's threshold back (inputs/base.py restores_mmap_threshold_of): its steps against
    # the strategy it feeds like, paired by block.
    steps_vs_unrestored: stats.Comparison | None = None

    @property
    def unknown_batch_size(self) -> bool:
        return why.is_unknown_batch_size(self.batch_shape)


@dataclasses.dataclass(frozen=True)
class Context:
    """What every finding at one swept value is computed against."""

    at_value: pd.DataFrame
    trials_at: pd.DataFrame
    blocks: list
    model_rate: float
    baseline: str
    seed: int
    statistics: dict
    projected: dict  # strategy -> (FullBoundary, its per-block projected epochs)
    diagnostic: why.Diagnostic | None = None  # the limit's, at this swept value

    @functools.cached_property
    def limit_faults_per_step(self) -> float:
        """The limit's minor page faults per steady step at this swept value, once for all its findings."""
        return _page_faults_per_step(self.at_value[self.at_value["strategy"] == COMPUTE_BOUND])

    def compare(self, strategy, rows, other, column):
        return _comparison(strategy, other, rows, self.at_value, self.blocks, column, self.statistics)

    def compare_projected(self, strategy, other, confidence: float = stats.CONFIDENCE):
        return compare_projected(self.projected, strategy, other, self.blocks, dict(self.statistics, confidence=confidence))


def _comparison(strategy, other_name, rows, at_value, blocks, column, statistics):
    other = at_value[at_value["strategy"] == other_name]
    if strategy in (other_name, COMPUTE_BOUND) or other.empty:
        return None
    return stats.compare(
        strategy, other_name, per_block(rows, column, blocks), per_block(other, column, blocks), **statistics
    )


def _cpu_in_steps_per_step(rows: pd.DataFrame) -> pd.Series:
    """Per block: the process CPU per training step of the steady epochs, their boundary waits' CPU left out."""
    return pd.Series(cpu_per_step(rows).to_numpy(), index=rows["repeat"]).groupby(level=0).median()


def _pipeline_cpu_ms(strategy_trials: pd.DataFrame) -> float:
    """The pipeline alone (no model): its own CPU per batch, median over trials (nan before it was recorded)."""
    if not {"pipeline_cpu_seconds", "pipeline_batches"} <= set(strategy_trials.columns):
        return math.nan
    per_batch = (
        pd.to_numeric(strategy_trials["pipeline_cpu_seconds"], errors="coerce")
        / pd.to_numeric(strategy_trials["pipeline_batches"], errors="coerce")
    ).replace([np.inf, -np.inf], np.nan).dropna()
    return float(per_batch.median() * 1000) if len(per_batch) else math.nan


def _pipeline_rate(strategy_trials: pd.DataFrame) -> float:
    """The pipeline alone: examples per second, median over trials."""
    rates = (
        strategy_trials["pipeline_examples"].astype(float) / strategy_trials["pipeline_seconds"].astype(float)
    ).replace([np.inf, -np.inf], np.nan).dropna()
    return float(rates.median()) if len(rates) else math.nan


def _extra_cpu_ms(strategy, rows, context: Context) -> float:
    """CPU per training step above the limit's in the same blocks, median over blocks (nan for the limit)."""
    limit_rows = context.at_value[context.at_value["strategy"] == COMPUTE_BOUND]
    if strategy == COMPUTE_BOUND or limit_rows.empty:
        return math.nan
    difference = (_cpu_in_steps_per_step(rows) - _cpu_in_steps_per_step(limit_rows)).dropna()
    return float(difference.median() * 1000) if len(difference) else math.nan


def _page_faults_per_step(rows: pd.DataFrame) -> float:
    """Minor page faults per training step over its steady epochs, boundaries included (median of epochs; nan in a
    study from before they were recorded): memory the process had handed back to the kernel and faulted in again,
    which costs steps several percent (reports/benchmarks/page_faults.txt)."""
    if "minor_faults" not in rows.columns:
        return math.nan
    per_step = (pd.to_numeric(rows["minor_faults"], errors="coerce") / rows["steps"].astype(float)).dropna()
    return float(per_step.median()) if len(per_step) else math.nan


def _mmap_threshold_fixed(strategy_trials: pd.DataFrame) -> bool | None:
    """Whether any of its trials' fits left malloc's mmap threshold fixed low (None before it was recorded)."""
    if "mmap_threshold_fixed" not in strategy_trials.columns:
        return None
    seen = strategy_trials["mmap_threshold_fixed"].dropna().astype(str).str.lower()
    seen = seen[seen.isin(["true", "false"])]
    return bool((seen == "true").any()) if len(seen) else None


def _steps_vs_unrestored(strategy: str, compare) -> stats.Comparison | None:
    """For a strategy that only sets malloc's mmap threshold back: its steps against the strategy it feeds like."""
    from inputs import registry

    try:
        unrestored = registry.get(strategy).restores_mmap_threshold_of
    except (KeyError, registry.PluginError):  # a strategy of an older study, or a plugin not loaded now
        return None
    return compare(unrestored, "steady_step_seconds") if unrestored else None


def _batch_shape(strategy_trials: pd.DataFrame) -> str:
    """The shape its trials' steps were traced for (the most common; "" before it was recorded)."""
    if "batch_shape" not in strategy_trials.columns:
        return ""
    shapes = strategy_trials["batch_shape"].dropna().astype(str)
    shapes = shapes[shapes.str.len() > 0]
    return str(shapes.mode().iloc[0]) if len(shapes) else ""


def finding(strategy, value, rows, context: Context) -> Finding:
    """The Finding of `strategy` at swept value `value` from its steady epochs there (`rows`)."""
    strategy_trials = context.trials_at[context.trials_at["strategy"] == strategy]
    pipeline_rate = _pipeline_rate(strategy_trials)
    accuracy = strategy_trials["val_accuracy"].astype(float)
    compare = lambda other, column: context.compare(strategy, rows, other, column)  # noqa: E731
    full_boundary, table = context.projected[strategy]
    projected = bootstrap.median_interval(table["projected_seconds"], seed=context.seed)
    steps_vs_limit = compare(COMPUTE_BOUND, "steady_step_seconds")
    batch_shape = _batch_shape(strategy_trials)
    faults = _page_faults_per_step(rows)
    causes = why.causes(strategy, pipeline_rate, context.model_rate, steps_vs_limit, full_boundary, projected.estimate,
                        why.is_unknown_batch_size(batch_shape), context.diagnostic, faults, context.limit_faults_per_step)
    return Finding(
        strategy=strategy,
        sweep_value=value,
        blocks=int(rows["repeat"].nunique()),
        epoch_seconds=bootstrap.median_interval(rows["epoch_seconds"], seed=context.seed),
        examples_per_second=float(rows["examples_per_second"].median()),
        pipeline_examples_per_second=pipeline_rate,
        regime=", ".join(causes),
        val_accuracy=float(accuracy.median()) if len(accuracy) else math.nan,
        vs_limit=compare(COMPUTE_BOUND, "epoch_seconds"),
        vs_baseline=compare(context.baseline, "epoch_seconds"),
        cpu_vs_limit=compare(COMPUTE_BOUND, "cpu_seconds"),
        cpu_vs_baseline=compare(context.baseline, "cpu_seconds"),
        steps_vs_baseline=compare(context.baseline, "steady_step_seconds"),
        warmup_steps=float(rows["warmup_steps"].median()),
        boundary=boundaries.boundary(rows, strategy_trials),
        full_boundary=full_boundary,
        projected_seconds=projected,
        projected_steps_seconds=float(table["steps_seconds"].median()) if len(table) else math.nan,
        projected_per_block=tuple(float(value) for value in table["projected_seconds"]),
        projected_vs_baseline=context.compare_projected(strategy, context.baseline),
        steps_vs_limit=steps_vs_limit,
        causes=causes,
        pipeline_cpu_ms_per_batch=_pipeline_cpu_ms(strategy_trials),
        extra_cpu_ms_per_step=_extra_cpu_ms(strategy, rows, context),
        batch_shape=batch_shape,
        page_faults_per_step=faults,
        mmap_threshold_fixed=_mmap_threshold_fixed(strategy_trials),
        steps_vs_unrestored=_steps_vs_unrestored(strategy, compare),
    )
