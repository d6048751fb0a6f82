#!/usr/bin/env python
"""Blocks or longer epochs? How the per-step verdicts' precision and the share of a study inside its epochs trade off
on this machine, from a finished study's own costs and spreads (issue 19; Kalibera & Jones, "Rigorous benchmarking
in reasonable time", ISMM 2013: repetitions per level from each level's measured variance and cost).

A study spends its budget on blocks; a block on its trials; a trial on a fixed part (a fresh process, the model,
the evaluation, the probe, fit's teardown, the warm-up epoch's tracing: measured as its mean wall time beyond two
epochs of steady steps) and on two epochs of k steps. Fewer, longer blocks put more of the time inside epochs; more, shorter
ones give more pairs for the interval. Which wins depends on how fast the block-to-block spread of the per-step log
ratio falls as a trial measures more steady steps: this reads it from the study itself - each trial's steady steps
(after the warm-up the study's MSER rule finds, as its verdicts take them) cut to their first quarter, half,
three quarters and all - and fits spread ~ steps^-beta (0 <= beta <= 0.5: 0.5 if the steps were independent, 0 if
the spread were all a per-trial offset). Then, for every number of blocks, the longest epochs the same wall time
affords, the spread that predicts, the difference the sequential plan decides by its last block
(study.stats.detectable_difference) and the share of the time inside epochs. Reads the folder; trains nothing.

    python benchmarks/design_tradeoff.py reports/all-30min-session13
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
BLOCKS = range(2, 13)


def steady_steps(steps: pd.DataFrame, warmup: pd.DataFrame) -> dict:
    """Per (strategy, repeat): its step times after the warm-up the study's MSER rule found (`warmup`:
    study.analysis.epochs.steady_step_seconds, whose mean of these is the trial's steady step)."""
    ends = warmup.set_index(["strategy", "repeat"])["warmup_steps"]
    ordered = steps.sort_values(["strategy", "repeat", "epoch", "step"]).groupby(["strategy", "repeat"])["step_seconds"]
    return {key: seconds.to_numpy(float)[int(ends[key]):] for key, seconds in ordered}


def steady_means(steady: dict, fraction: float) -> tuple[pd.Series, float]:
    """Per trial: the mean of the first `fraction` of its steady steps; and the median number of steps they took."""
    counts = {key: max(2, math.ceil(fraction * len(seconds))) for key, seconds in steady.items()}
    means = pd.Series({key: seconds[: counts[key]].mean() for key, seconds in steady.items()})
    return means, float(np.median(list(counts.values())))


def spread(means: pd.Series, baseline: str) -> float:
    """The median over strategies of the block-to-block SD of log(step / the baseline's step in the same block)."""
    table = np.log(means.unstack(0))
    ratios = table.drop(columns=baseline).sub(table[baseline], axis=0)
    return float(ratios.std(ddof=1).median())


def main() -> int:
    from study import schema, stats
    from study.analysis.epochs import steady_step_seconds
    from study.analysis.result import BASELINE

    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / schema.STEPS).is_file():
        print("usage: python benchmarks/design_tradeoff.py STUDY_FOLDER (a finished study with steps.csv)", file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    ending = json.loads((folder / schema.PLAN).read_text()).get("ending", {})
    trials = pd.read_csv(folder / schema.TRIALS)
    trials = trials[trials["status"] == schema.OK]
    results = pd.read_csv(folder / schema.RESULTS)
    steps = pd.read_csv(folder / schema.STEPS)

    # Costs, as this study measured them, in means (times add up): a steady step; a trial's fixed part - its wall
    # time beyond 2 x k steady steps (the first step's tracing and the warm-up's slower steps included); and the part
    # of that inside its epochs (tracing, boundaries), which plan.json counts inside epochs, as this does.
    k0 = int(results["steps"].max())
    steady = steady_step_seconds(steps)
    step_seconds = float(steady["steady_step_seconds"].mean())
    fixed_per_trial = float(trials["wall_seconds"].mean()) - 2 * k0 * step_seconds
    in_epochs_extra = float(results.groupby(["strategy", "repeat"])["epoch_seconds"].sum().mean()) - 2 * k0 * step_seconds
    trials_per_block = float(trials.groupby("repeat").size().median())
    block_seconds = trials.groupby("repeat")["wall_seconds"].sum()
    whole = float(ending.get("seconds_whole_study") or np.nan)
    outside_blocks = whole - float(block_seconds.sum())  # calibration, planning, the last probes, the report

    # The spread against the steady steps a trial measured.
    trial_steps = steady_steps(steps, steady)
    points = []
    for fraction in FRACTIONS:
        means, count = steady_means(trial_steps, fraction)
        points.append((count, spread(means, BASELINE)))
    m, s = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    beta = float(np.clip(-np.polyfit(m, s, 1)[0], 0.0, 0.5))
    m_full, s_full = points[-1]
    warmup_steps = float(steady["warmup_steps"].median())

    print(f"{folder}: {int(block_seconds.size)} blocks of {trials_per_block:.0f} trials, 2 epochs of {k0} steps; "
          f"the whole study {whole / 60:.1f} min, {outside_blocks / 60:.1f} of it outside the blocks")
    print(f"measured: a steady step {step_seconds * 1000:.1f} ms (mean over trials, input included); a trial's fixed part "
          f"{fixed_per_trial:.1f} s (mean wall time beyond its steady steps, {in_epochs_extra:.1f} s of it inside its epochs: "
          f"tracing, warm-up, boundaries); the warm-up MSER finds, a median {warmup_steps:.0f} steps")
    print("block-to-block SD of the per-step log ratio against "
          f"{BASELINE}, median over strategies, by the steady steps each trial measured:")
    for count, value in points:
        print(f"  {count:5.0f} steps: {value:.3f}")
    print(f"fitted: spread ~ steps^-{beta:.2f} (0.5 if steps were independent; 0 if all were a per-trial offset)")
    print()
    print("the same wall time spent as n blocks of the longest epochs it affords (2 epochs per trial, "
          "the study's fixed part per trial):")
    print(f"{'blocks':>6} {'steps/epoch':>11} {'steady steps':>12} {'spread':>7} {'decides':>8} {'in epochs':>10}")
    available = whole - outside_blocks
    rows = []
    for n in BLOCKS:
        per_trial = available / (n * trials_per_block)
        k = min(625, math.floor((per_trial - fixed_per_trial) / (2 * step_seconds)))
        if k < 5:
            continue
        measured = max(2 * k - warmup_steps, 2)
        predicted = s_full * (measured / m_full) ** -beta
        detectable = stats.detectable_difference(predicted, n, sequential=n >= stats.FIRST_LOOK)
        share = n * trials_per_block * (2 * k * step_seconds + in_epochs_extra) / whole
        # Below the fewest steps measured the fit says nothing: shorter epochs have their own costs (the spread was
        # 0.19 at 21-step epochs, study/budget.py), so those rows are shown, marked, and never chosen.
        below = measured < points[0][0]
        if not below:
            rows.append((n, k, detectable, share))
        mark = ("  <- this study" if n == block_seconds.size else "") + ("  (fewer steps than measured)" if below else "")
        print(f"{n:>6} {k:>11} {measured:>12.0f} {predicted:>7.3f} {detectable:>8.0%} {share:>10.0%}{mark}")
    best = min(rows, key=lambda row: row[2])
    print(f"\nnarrowest within the steps measured or more: {best[0]} blocks of {best[1]}-step epochs (decides {best[2]:.0%}, {best[3]:.0%} inside epochs)")
    eighty = [row for row in rows if row[3] >= 0.8]
    if eighty:
        row = min(eighty, key=lambda r: r[2])
        print(f"at least 80% inside epochs: {row[0]} blocks of {row[1]}-step epochs decide {row[2]:.0%}")
    else:
        print("no number of blocks puts 80% of this time inside epochs with a fresh process per trial")
    print(f"(the spread extrapolated past {m_full:.0f} steady steps per trial with the fitted exponent; steps per epoch "
          "capped at 625; 'decides' is the sequential plan's detectable difference at its last block, inf: none)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
