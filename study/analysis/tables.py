"""The tidy tables and frozen rows the report draws and writes, from the findings or the study's files."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from study import schema
from study.analysis.epochs import outside_steps
from study.analysis.files import Study


def _label(finding) -> str:
    return finding.strategy if finding.sweep_value is None else f"{finding.strategy} @{finding.sweep_value:g}"


def _in_order(table: pd.DataFrame, order) -> pd.DataFrame:
    """The rows in `order` of strategies (a stable sort: swept values keep their order)."""
    rank = {name: index for index, name in enumerate(order)}
    return table.sort_values("label", key=lambda labels: [rank.get(s, len(rank)) for s in table["strategy"]], kind="stable")


def throughput_table(findings) -> pd.DataFrame:
    """Examples per second in training and of the input pipeline alone, per finding."""
    rows = []
    for finding in findings:
        rows.append({"strategy": finding.strategy, "measure": "in training", "rate": finding.examples_per_second, "value": finding.sweep_value})
        if not math.isnan(finding.pipeline_examples_per_second):
            rows.append({"strategy": finding.strategy, "measure": "input pipeline alone", "rate": finding.pipeline_examples_per_second, "value": finding.sweep_value})
    return pd.DataFrame(rows)


def epoch_time_table(findings) -> pd.DataFrame:
    """The median steady epoch time and its 95% bootstrap interval, per (strategy, swept value)."""
    return pd.DataFrame(
        [{"strategy": f.strategy, "value": f.sweep_value, "seconds": f.epoch_seconds.estimate, "low": f.epoch_seconds.low, "high": f.epoch_seconds.high} for f in findings]
    )


def full_epoch_table(findings, order) -> pd.DataFrame:
    """Per finding, its projected full-size steady epoch: the two parts (steps, boundary at full age) and the
    interval of their sum, in `order` of strategies."""
    rows = []
    for f in findings:
        if f.projected_seconds is None or math.isnan(f.projected_seconds.estimate):
            continue
        rows.append({
            "label": _label(f), "strategy": f.strategy, "steps_seconds": f.projected_steps_seconds,
            "boundary_seconds": f.full_boundary.seconds, "estimate": f.projected_seconds.estimate,
            "low": f.projected_seconds.low, "high": f.projected_seconds.high, "source": f.full_boundary.source,
        })
    table = pd.DataFrame(rows, columns=["label", "strategy", "steps_seconds", "boundary_seconds", "estimate", "low",
                                        "high", "source"])
    return _in_order(table, order)


def boundary_table(findings, order) -> pd.DataFrame:
    """Per finding, its mean steady epoch in BOUNDARY_PARTS (analysis/boundary.py) and fit's teardown, in
    `order` of strategies."""
    rows = [{"label": _label(f), "strategy": f.strategy, "teardown": f.boundary.teardown_seconds, **f.boundary.mean_parts}
            for f in findings]
    return _in_order(pd.DataFrame(rows), order)


def with_cpu_seconds(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials with `cpu_seconds` = user + system CPU time of the trial process."""
    return trials.assign(cpu_seconds=trials["cpu_user_seconds"] + trials["cpu_system_seconds"])


@dataclasses.dataclass(frozen=True)
class TimeBreakdown:
    """Medians over one strategy's finished trials at one swept value; step figures from steady epochs."""

    strategy: str
    sweep_value: object
    step_ms: tuple[float, float, float]  # median, p90, p99
    first_step_ms: float  # the first step of a steady epoch: waiting for the first batch plus one step
    outside_seconds: tuple[float, float]  # time outside steps per steady epoch: median, max
    pipeline_first_batch_ms: float
    wall_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    cpu_utilisation: float  # (user + system) / wall, in cores
    peak_rss_mb: float


def time_breakdown(study: Study, order: list) -> list[TimeBreakdown]:
    """A TimeBreakdown per strategy (in `order`) and swept value that has steady steps and finished trials."""
    steady = schema.steady(study.steps)
    outside = schema.steady(outside_steps(study.results, study.steps))
    ok = study.ok_trials
    rows = []
    for strategy in order:
        for value in sorted(set(ok.loc[ok["strategy"] == strategy, "sweep_value"]), key=schema.sweep_order):
            mine = schema.rows_at(steady[steady["strategy"] == strategy], value)
            runs = schema.rows_at(ok[ok["strategy"] == strategy], value)
            if mine.empty or runs.empty:
                continue
            milliseconds = mine["step_seconds"].astype(float) * 1000
            gaps = schema.rows_at(outside[outside["strategy"] == strategy], value)["outside_seconds"]
            cpu = runs["cpu_user_seconds"] + runs["cpu_system_seconds"]
            rows.append(TimeBreakdown(
                strategy=strategy,
                sweep_value=value,
                step_ms=(milliseconds.median(), milliseconds.quantile(0.9), milliseconds.quantile(0.99)),
                first_step_ms=mine.loc[mine["step"] == 1, "step_seconds"].astype(float).median() * 1000,
                outside_seconds=(gaps.median(), gaps.max()),
                pipeline_first_batch_ms=runs["pipeline_first_batch_seconds"].astype(float).median() * 1000,
                wall_seconds=runs["wall_seconds"].median(),
                cpu_user_seconds=runs["cpu_user_seconds"].median(),
                cpu_system_seconds=runs["cpu_system_seconds"].median(),
                cpu_utilisation=(cpu / runs["wall_seconds"]).median(),
                peak_rss_mb=runs["peak_rss_mb"].median(),
            ))
    return rows


def probe_errors(study: Study) -> dict:
    """strategy -> why its boundary probe could not run (its first error), for each strategy whose probe failed."""
    trials = study.ok_trials
    if "probe_error" not in trials.columns:
        return {}
    failed = trials[trials["probe_error"].notna() & (trials["probe_error"].astype(str).str.strip() != "")]
    return {name: errors.iloc[0] for name, errors in failed.groupby("strategy")["probe_error"]}


def trial_minutes(study: Study) -> float:
    """The wall time of the finished trials, in minutes."""
    return study.ok_trials["wall_seconds"].astype(float).sum() / 60
