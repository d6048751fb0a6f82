#!/usr/bin/env python
"""How fast the machine's cores run, moment by moment: a fixed chunk of pure-Python work timed in its own CPU time
every METER_PERIOD seconds, in a process of its own at the lowest priority, written to a CSV beside a study.

The per-step spread between a study's blocks is mostly the host's own (docs/RESULTS.md, "How steady is this
machine?": the cores themselves run slower in spells, CPU time as much as wall time). A chunk's CPU time does not
count time the meter waits for a core, so it follows how fast the core runs rather than how busy the trial keeps
it. This records it, to test whether it tracks the trials' step times (`--against`): if it does, it could take that
spread out of the paired ratios as a control variate. About 1% of one core (0.5 ms of work every 50 ms).

    python benchmarks/host_meter.py --out /tmp/meter.csv --seconds 1800 &     # beside a study, then:
    python benchmarks/host_meter.py --against reports/<study> --meter /tmp/meter.csv
    python benchmarks/host_meter.py --against reports/all-30min-session12 --meter reports/all-30min-session12/host_meter.csv.gz
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METER_PERIOD = 0.05
CHUNK_ITERATIONS = 10_000  # about 0.5 ms of pure Python on this machine


def chunk() -> int:
    total = 0
    for i in range(CHUNK_ITERATIONS):
        total += i * i
    return total


def record(out: Path, seconds: float) -> None:
    os.nice(19)  # wait for a core rather than take one from a trial; its CPU time is the same either way
    end = time.time() + seconds
    with open(out, "w", buffering=1) as file:
        file.write("time,chunk_cpu_seconds,chunk_wall_seconds\n")
        while time.time() < end:
            wall, cpu = time.perf_counter(), time.thread_time()
            chunk()
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            file.write(f"{time.time():.3f},{cpu:.7f},{wall:.7f}\n")
            time.sleep(METER_PERIOD)


def against(study: Path, meter: Path) -> None:
    """Per trial: its steady step time as the study's verdicts take it (study.analysis.epochs.steady_step_seconds)
    and the meter's median chunk over its steady epochs; how the two move together across blocks, per strategy, as
    paired log ratios against the baseline."""
    import numpy as np
    import pandas as pd

    from study import schema, stats
    from study.analysis.epochs import steady_step_seconds
    from study.analysis.result import BASELINE

    readings = pd.read_csv(meter)
    results = pd.read_csv(study / schema.RESULTS)
    step = steady_step_seconds(pd.read_csv(study / schema.STEPS)).set_index(["strategy", "repeat"])["steady_step_seconds"]
    steady = results[~results["warmup"].astype(bool)].copy()
    steady["step"] = [step.get((s, r), np.nan) for s, r in zip(steady.strategy, steady.repeat)]
    times = readings["time"].to_numpy()
    chunks = readings["chunk_cpu_seconds"].to_numpy()

    def meter_over(start, seconds):
        inside = (times >= start) & (times <= start + seconds)
        return float(np.median(chunks[inside])) if inside.sum() >= 5 else np.nan

    steady["meter"] = [meter_over(a, s) for a, s in zip(steady.started_at, steady.epoch_seconds)]
    steady = steady.dropna(subset=["step", "meter"])
    per_trial = steady.groupby(["strategy", "repeat"])[["step", "meter"]].mean()
    print(f"{study}: {len(per_trial)} trials with the meter beside their steady epochs; "
          f"{len(readings)} readings, chunk CPU median {1e3 * readings.chunk_cpu_seconds.median():.3f} ms "
          f"(IQR {1e3 * readings.chunk_cpu_seconds.quantile(.25):.3f}-{1e3 * readings.chunk_cpu_seconds.quantile(.75):.3f})")
    logs = np.log(per_trial)
    print(f"all trials: correlation of log step and log meter across trials of one strategy (centred per strategy): "
          f"{np.corrcoef(*(logs - logs.groupby(level=0).transform('mean')).to_numpy().T)[0, 1]:+.2f}")
    baseline = BASELINE
    base = logs.xs(baseline, level="strategy")
    print(f"\nper strategy, paired against {baseline} across blocks: the step ratio and the meter's own ratio (mean over "
          "blocks, 95% t interval); the SD of the log step ratio, raw and with the meter's log ratio subtracted; the "
          "fitted slope and the correlation of the two log ratios. Subtracting the meter's ratio takes its spread out "
          "without bias only if the meter reads the same beside every strategy (its own ratio 1): where it does not, "
          "the strategy's own load moves the meter, and subtracting it would take a real difference out too.")

    def ratio(log_ratios):
        interval = stats.log_ratio_interval(log_ratios)  # a plain t interval: one look, after all the blocks
        return f"{np.exp(interval.estimate):.3f} [{np.exp(interval.low):.3f}, {np.exp(interval.high):.3f}]"

    meter_ratios = []
    for strategy in sorted(set(logs.index.get_level_values(0)) - {baseline}):
        mine = logs.xs(strategy, level="strategy")
        both = mine.index.intersection(base.index)
        if len(both) < 3:
            continue
        d = (mine.loc[both, "step"] - base.loc[both, "step"]).to_numpy()
        m = (mine.loc[both, "meter"] - base.loc[both, "meter"]).to_numpy()
        meter_ratios.append(np.exp(m.mean()))
        slope = np.polyfit(m, d, 1)[0] if m.std() > 0 else np.nan
        print(f"  {strategy:26s} step {ratio(d)}  meter {ratio(m)}  SD {d.std(ddof=1):.3f} -> {(d - m).std(ddof=1):.3f}  "
              f"slope {slope:+.2f}  r {np.corrcoef(d, m)[0, 1]:+.2f}  ({len(both)} blocks)")
    above = sum(r > 1 for r in meter_ratios)
    print(f"the meter read slower beside {above} of {len(meter_ratios)} strategies than beside {baseline} "
          f"(median ratio {np.median(meter_ratios):.3f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="record readings to this CSV")
    parser.add_argument("--seconds", type=float, default=1800.0, help="how long to record")
    parser.add_argument("--against", type=Path, help="a finished study's folder, compared with --meter")
    parser.add_argument("--meter", type=Path, help="the readings recorded beside that study")
    args = parser.parse_args()
    if args.out:
        record(args.out, args.seconds)
    elif args.against and args.meter:
        against(args.against, args.meter)
    else:
        parser.error("give --out, or --against and --meter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
