"""From the saved tables to findings: per strategy (and swept value) the steady epoch time, its paired ratios
to the baseline and to the compute-bound limit (wall and CPU time), the pipeline's capacity and the regime.

The baseline is `arrays` (the reference study's `fit`) when the study has it, else its first listed strategy.

Derived figures are computed here from the raw rows every time; nothing derived is stored in the tables.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from study import stats

REFERENCE = "compute-bound"
PREFERRED_BASELINE = "arrays"


def baseline_of(strategies) -> str:
    return PREFERRED_BASELINE if PREFERRED_BASELINE in strategies else strategies[0]
INPUT_BOUND = "input-bound"
COMPUTE_BOUND = "compute-bound"


@dataclasses.dataclass(frozen=True)
class Finding:
    strategy: str
    sweep_value: object
    blocks: int
    epoch_seconds: stats.Interval  # median steady epoch, bootstrap interval
    examples_per_second: float  # median over steady epochs, in training
    pipeline_examples_per_second: float  # the input pipeline alone (nan for the reference)
    regime: str  # input-bound when the pipeline alone is slower than the model consumes
    val_accuracy: float
    vs_limit: stats.Comparison | None
    vs_baseline: stats.Comparison | None  # end to end: whole steady epochs, boundaries included
    cpu_vs_limit: stats.Comparison | None
    cpu_vs_baseline: stats.Comparison | None
    steps_vs_baseline: stats.Comparison | None  # training speed: the time in steps only, boundaries left out
    boundary: "Boundary"


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

    @property
    def wait_seconds(self) -> float:
        return self.before_first_step_seconds + self.after_last_step_seconds

    def is_large_idle_wait(self) -> bool:
        """Worth a sentence: over a second and 5% of the epoch, with the process mostly idle."""
        return self.wait_seconds > max(1.0, 0.05 * self.epoch_seconds) and self.busy_share < 0.5


@dataclasses.dataclass(frozen=True)
class Analysis:
    findings: list  # Finding, in sweep order then fastest first
    noise: dict  # sweep_value -> the reference's relative epoch-to-epoch noise
    failures: pd.DataFrame  # trials that failed or timed out
    baseline: str

    def at(self, sweep_value) -> list:
        return [finding for finding in self.findings if _same(finding.sweep_value, sweep_value)]

    @property
    def sweep_values(self) -> list:
        values = []
        for finding in self.findings:
            if not any(_same(finding.sweep_value, value) for value in values):
                values.append(finding.sweep_value)
        return values


def _same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and float(a) == float(b))


def rows_at(table: pd.DataFrame, value) -> pd.DataFrame:
    """The rows of one swept value (None: the study has no sweep)."""
    return table[np.array([_same(v, value) for v in table["sweep_value"]], dtype=bool)] if len(table) else table


def normalize_sweep_column(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    if "sweep_value" not in table.columns:
        table["sweep_value"] = None
    table["sweep_value"] = [None if pd.isna(value) else int(value) for value in table["sweep_value"]]
    return table


def epoch_parts(results: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """results with `in_steps_seconds`: the sum of each epoch's step times (its training time, boundaries out)."""
    keys = ["strategy", "repeat", "setting", "epoch"]
    setting = lambda table: table.assign(setting=[-1 if v is None else v for v in table["sweep_value"]])  # noqa: E731
    summed = setting(normalize_sweep_column(steps)).groupby(keys)["step_seconds"].sum().rename("in_steps_seconds")
    merged = setting(normalize_sweep_column(results)).merge(summed.reset_index(), on=keys, how="left")
    return merged.drop(columns="setting")


def steady_epochs(results: pd.DataFrame) -> pd.DataFrame:
    """Epochs after the first of each trial (the first includes tracing and warm-up)."""
    return results[results["epoch"] > 1]


def _per_block(rows: pd.DataFrame, column: str, blocks) -> list:
    return [rows.loc[rows["repeat"] == block, column].to_numpy(float) for block in blocks]


def analyse(results: pd.DataFrame, trials: pd.DataFrame, baseline: str, seed: int = 0, steps=None) -> Analysis:
    """`steps` (steps.csv) adds the time in steps to every epoch; without it, an epoch's steps are its whole time."""
    results = normalize_sweep_column(results)
    if steps is not None and len(steps):
        results = epoch_parts(results, steps)
    if "in_steps_seconds" not in results.columns:
        results = results.assign(in_steps_seconds=np.nan)
    results["in_steps_seconds"] = results["in_steps_seconds"].fillna(results["epoch_seconds"])
    trials = normalize_sweep_column(trials)
    ok_trials = trials[trials["status"] == "ok"]
    steady = steady_epochs(results)
    if steady.empty:  # one-epoch studies: fall back to every epoch, warm-up included
        steady = results
    findings, noise = [], {}
    sweep_values = sorted({value for value in results["sweep_value"]}, key=lambda v: (v is None, v))
    for value in sweep_values:
        at_value = rows_at(steady, value)
        trials_at = rows_at(ok_trials, value)
        blocks = sorted(at_value["repeat"].unique())
        reference = at_value[at_value["strategy"] == REFERENCE]
        reference_trials = [rows["epoch_seconds"].to_numpy(float) for _, rows in reference.groupby("repeat")]
        noise[value] = stats.relative_noise(reference_trials)
        model_rate = float(reference["examples_per_second"].median()) if not reference.empty else math.nan
        for strategy, rows in at_value.groupby("strategy", sort=False):
            findings.append(
                _finding(strategy, value, rows, at_value, trials_at, blocks, model_rate, noise[value], baseline, seed)
            )
    findings.sort(key=lambda f: (f.sweep_value is None, f.sweep_value or 0, f.epoch_seconds.estimate))
    failures = trials[trials["status"] != "ok"]
    return Analysis(findings, noise, failures, baseline)


def _comparison(strategy, baseline, rows, at_value, blocks, column, noise, seed):
    other = at_value[at_value["strategy"] == baseline]
    if strategy == baseline or strategy == REFERENCE or other.empty:
        return None
    return stats.compare(
        strategy, baseline, _per_block(rows, column, blocks), _per_block(other, column, blocks), noise=noise
    )


def _finding(strategy, value, rows, at_value, trials_at, blocks, model_rate, noise, baseline, seed) -> Finding:
    strategy_trials = trials_at[trials_at["strategy"] == strategy]
    pipeline_rates = (
        strategy_trials["pipeline_examples"].astype(float) / strategy_trials["pipeline_seconds"].astype(float)
    ).replace([np.inf, -np.inf], np.nan).dropna()
    pipeline_rate = float(pipeline_rates.median()) if len(pipeline_rates) else math.nan
    if strategy == REFERENCE or math.isnan(pipeline_rate) or math.isnan(model_rate):
        regime = COMPUTE_BOUND if strategy == REFERENCE else "unknown"
    else:
        regime = INPUT_BOUND if pipeline_rate < model_rate else COMPUTE_BOUND
    accuracy = strategy_trials["val_accuracy"].astype(float)
    compare = lambda baseline, column: _comparison(strategy, baseline, rows, at_value, blocks, column, noise, seed)  # noqa: E731
    return Finding(
        strategy=strategy,
        sweep_value=value,
        blocks=int(rows["repeat"].nunique()),
        epoch_seconds=stats.median_interval(rows["epoch_seconds"], seed=seed),
        examples_per_second=float(rows["examples_per_second"].median()),
        pipeline_examples_per_second=pipeline_rate,
        regime=regime,
        val_accuracy=float(accuracy.median()) if len(accuracy) else math.nan,
        vs_limit=compare(REFERENCE, "epoch_seconds"),
        vs_baseline=compare(baseline, "epoch_seconds"),
        cpu_vs_limit=compare(REFERENCE, "cpu_seconds"),
        cpu_vs_baseline=compare(baseline, "cpu_seconds"),
        steps_vs_baseline=compare(baseline, "in_steps_seconds"),
        boundary=_boundary(rows, strategy_trials),
    )


def _median(values) -> float:
    values = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return float(values.median()) if len(values) else math.nan


def _boundary(rows: pd.DataFrame, strategy_trials: pd.DataFrame) -> Boundary:
    column = lambda name: rows[name] if name in rows.columns else pd.Series(np.nan, index=rows.index)  # noqa: E731
    wait = column("before_first_step_seconds").astype(float) + column("after_last_step_seconds").astype(float)
    wait_cpu = column("before_first_step_cpu_seconds").astype(float) + column("after_last_step_cpu_seconds").astype(float)
    teardown = strategy_trials["fit_teardown_seconds"] if "fit_teardown_seconds" in strategy_trials.columns else []
    return Boundary(
        epoch_seconds=_median(rows["epoch_seconds"]),
        in_steps_seconds=_median(rows["in_steps_seconds"]),
        before_first_step_seconds=_median(column("before_first_step_seconds")),
        after_last_step_seconds=_median(column("after_last_step_seconds")),
        max_wait_seconds=float(wait.max()) if wait.notna().any() else math.nan,
        busy_share=float(wait_cpu.sum() / wait.sum()) if wait_cpu.notna().any() and wait.sum() > 0 else math.nan,
        teardown_seconds=_median(teardown),
    )
