#!/usr/bin/env python
"""Does the projection hold? A budgeted study's projected full-size steady epoch beside a real full-size study's.

Reads two finished study folders (nothing is trained): one with shortened epochs (the default budgeted command),
whose full-size epoch is projected (study/projection.py), and one that trained full-size epochs. Per strategy
both ran, it prints the projected epoch (median over blocks, 95% interval, and the range of the blocks'
projections) beside the full-size study's measured steady epochs (median, 95% interval, every value), split into
time in steps (steps x steady step time) and time at the boundary (mean per epoch), and says whether the measured
median lies inside the projected interval.

Then fit's teardown, once per fit, which the per-epoch projection leaves out but the headline weighs against the
per-epoch saving ("it pays off in a fit of N epochs or more"): per strategy, what the budgeted study's probes measured
at a full epoch's age (a strategy that keeps one iterator: its destruction when fit ends; the others: their
epoch-boundary destructions) beside every full-size trial's measured teardown (`fit_teardown_seconds`).

Usage: python benchmarks/projection_check.py --projected runs/<budgeted> --measured reports/full-size
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _interval(interval) -> str:
    return f"{interval.estimate:6.1f} s [95% CI {interval.low:.1f}-{interval.high:.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projected", required=True, type=Path, help="a study with shortened epochs")
    parser.add_argument("--measured", required=True, type=Path, help="a study of full-size epochs")
    args = parser.parse_args()
    from study import analysis, bootstrap, schema

    short, full = analysis.load(args.projected), analysis.load(args.measured)
    if not short.config.epochs_shortened or full.config.epochs_shortened:
        raise SystemExit("--projected needs a study with shortened epochs and --measured one of full-size epochs")
    projected = {f.strategy: f for f in analysis.analyse_study(short).findings if f.sweep_value is None}
    measured_result = {f.strategy: f for f in analysis.analyse_study(full).findings if f.sweep_value is None}
    steady = schema.steady(full.results)
    print(f"projected: {args.projected} ({short.config.limit:,} examples per epoch, {len(short.ok_trials)} trials); "
          f"measured: {args.measured} (full-size epochs, {len(full.ok_trials)} trials)")
    print(f"{'strategy':<16} {'projected steady epoch':<34} {'blocks range':<16} {'measured full-size':<34} "
          f"{'inside':<7} steps proj/meas s   boundary proj/meas s   measured epochs s")
    outside = []
    for strategy in [name for name in projected if name in measured_result]:
        p, m = projected[strategy], measured_result[strategy]
        epochs = steady.loc[steady["strategy"] == strategy, "epoch_seconds"].astype(float).to_numpy()
        measured = bootstrap.median_interval(epochs, seed=full.config.seed)
        inside = p.projected_seconds.contains(measured.estimate)
        if not inside:
            outside.append(strategy)
        low, high = (min(p.projected_per_block), max(p.projected_per_block)) if p.projected_per_block else (math.nan, math.nan)
        print(f"{strategy:<16} {_interval(p.projected_seconds):<34} {low:6.1f}-{high:<8.1f} {_interval(measured):<34} "
              f"{'yes' if inside else 'NO':<7} {p.projected_steps_seconds:6.1f} / {m.projected_steps_seconds:<9.1f} "
              f"{p.full_boundary.seconds:6.2f} / {m.full_boundary.seconds:<12.2f} "
              + ", ".join(f"{value:.1f}" for value in epochs))
    if outside:
        print(f"outside the projected interval: {', '.join(outside)}")
    else:
        print("every measured full-size median lies inside its projected 95% interval")
    _teardowns(projected, full)


def _teardowns(projected: dict, full) -> None:
    print("\nfit's teardown (once per fit): probed at a full epoch's age in the budgeted study / measured at the end of "
          "each full-size fit, s")
    trials = full.ok_trials
    for strategy, p in projected.items():
        column = trials.loc[trials["strategy"] == strategy, "fit_teardown_seconds"] if "fit_teardown_seconds" in trials else []
        measured = [float(value) for value in column if value == value]
        if not measured:
            continue
        b = p.full_boundary
        if b is not None and b.teardown_probes:
            probed = (f"median {b.teardown_seconds[0]:5.1f}, largest {b.teardown_seconds[1]:5.1f} "
                      f"({b.teardown_waits} of {b.teardown_probes} waited, at fit's end)")
        elif b is not None and b.probes:
            probed = (f"median {b.destroy_seconds[0]:5.1f}, largest {b.destroy_seconds[1]:5.1f} "
                      f"({b.waits} of {b.probes} waited, at an epoch boundary)")
        else:
            probed = "not probed"
        print(f"{strategy:<16} {probed:<56} measured: " + ", ".join(f"{value:.1f}" for value in measured))


if __name__ == "__main__":
    main()
