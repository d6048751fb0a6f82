"""Does a paired per-step ratio scatter less when its two trials ran close together in time? (Issue 20: the
per-step verdicts stay open at a block-to-block spread of 0.1-0.2; if the machine's slow spells last minutes, a
design that runs each strategy next to its baseline would pair better.)

Reads committed studies only (no timing): per block, each strategy's steady log step time (the epoch's time in
steps, boundaries left out) minus `arrays`', centred per study and strategy, binned by the seconds between the two
trials' starts; prints the SD per bin and Spearman's correlation of |centred log ratio| with that distance. The
tf.data service strategy is left out (its own processes), and in a sweep the first value only.

    python benchmarks/pair_distance.py reports/all-30min-session14 reports/all-30min-session13 ...
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

BINS = [0, 40, 80, 160, 400]  # seconds between the two trials' starts


def log_ratios(study: Path) -> pd.DataFrame:
    results = pd.read_csv(study / "results.csv")
    steady = results[(~results["warmup"]) & (results["strategy"] != "tfdata-service")].copy()
    if "sweep_value" in steady and steady["sweep_value"].notna().any():
        steady = steady[steady["sweep_value"] == steady["sweep_value"].min()]
    outside = steady["before_first_step_seconds"].fillna(0) + steady["after_last_step_seconds"].fillna(0)
    steady["log_step"] = np.log((steady["epoch_seconds"] - outside) / steady["steps"])
    rows = []
    for block, trials in steady.groupby("repeat"):
        baseline = trials[trials["strategy"] == "arrays"]
        if baseline.empty:
            continue
        for _, trial in trials[trials["strategy"] != "arrays"].iterrows():
            rows.append((study.name, trial["strategy"], block, trial["log_step"] - baseline["log_step"].iloc[0],
                         abs(trial["started_at"] - baseline["started_at"].iloc[0])))
    return pd.DataFrame(rows, columns=["study", "strategy", "block", "log_ratio", "seconds_apart"])


def main(studies: list[str]) -> None:
    table = pd.concat([log_ratios(Path(study)) for study in studies], ignore_index=True)
    table["centred"] = table["log_ratio"] - table.groupby(["study", "strategy"])["log_ratio"].transform("mean")
    table["apart"] = pd.cut(table["seconds_apart"], BINS)
    print(f"{len(studies)} studies, {len(table)} paired per-step log ratios against arrays")
    for interval, group in table.groupby("apart", observed=True):
        print(f"  {interval.left:>3.0f}-{interval.right:<3.0f} s apart: {len(group):4d} pairs, SD of the centred log ratio {group['centred'].std():.3f}")
    rho = table["seconds_apart"].corr(table["centred"].abs(), method="spearman")
    print(f"  Spearman correlation of |centred log ratio| with the seconds apart: {rho:+.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
