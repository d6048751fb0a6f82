#!/usr/bin/env python
"""Does the projection hold? A budgeted study's projected full-size steady epoch beside a real full-size study's.

Reads two finished study folders (nothing is trained): one with shortened epochs (the default budgeted command),
whose full-size epoch is projected (study/projection.py), and one that trained full-size epochs. Per strategy
both ran, it prints the projected epoch (median over blocks, 95% interval, and the range of the blocks'
projections) beside the full-size study's measured steady epochs (median, 95% interval, every value), split into
time in steps (steps x steady step time) and time at the boundary (mean per epoch), and says whether the measured
median lies inside the projected interval.

Then the boundary's two parts apart: how often boundaries waited idle (the budgeted study's shortened epochs
against the full-size ones) and how long a wait lasts at full age (the probes' watch of the autotune thread against
the full-size waits). Then fit's teardown, once per fit, which the per-epoch projection leaves out but the headline weighs against the
per-epoch saving ("it pays off in a fit of N epochs or more"): per strategy, the budgeted study's projection of it
(study/projection.FullTeardown: how often its own fits' teardowns waited idle, times the wait from a full-size fit's
end to the autotune thread's next wake-up, which its probes watched at that age) beside every full-size trial's
measured teardown (`fit_teardown_seconds`) and their mean. A budgeted study from before the probes watched a kept
iterator's wake-up shows its probes' own destruction instead.

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
    _misses(projected, steady)
    _teardowns(projected, full)


def _misses(projected: dict, steady) -> None:
    """The boundary's two measured parts beside what full-size epochs did: how often a boundary waited idle (the
    budgeted study's short epochs / the full-size steady epochs) and how long (the probes' full age to the next
    autotune wake-up / the full-size waits)."""
    from study import projection

    print("\nboundaries that waited idle (missed the autotune wake-up): short epochs of the budgeted study / full-size "
          "steady epochs; how long a wait lasts at full age: probed (median) / each measured full-size wait, s")
    for strategy, p in projected.items():
        b = p.full_boundary
        if b is None or b.source != projection.PROBED:
            continue
        rows = steady[steady["strategy"] == strategy]
        missed = projection.missed_wakeups(rows)
        idle = (rows["before_first_step_seconds"].astype(float) - rows["before_first_step_cpu_seconds"].astype(float))
        waits = ", ".join(f"{value:.1f}" for value in idle[missed.fillna(False).astype(bool)])
        print(f"{strategy:<16} {b.missed} of {b.boundaries} / {int(missed.sum())} of {int(missed.count())}; "
              f"{b.miss_seconds:5.1f} / {waits or '-'}")


def _teardowns(projected: dict, full) -> None:
    print("\nfit's teardown (once per fit): projected per full-size fit by the budgeted study / measured at the end of "
          "each full-size fit (and their mean), s")
    trials = full.ok_trials
    for strategy, p in projected.items():
        column = trials.loc[trials["strategy"] == strategy, "fit_teardown_seconds"] if "fit_teardown_seconds" in trials else []
        measured = [float(value) for value in column if value == value]
        if not measured:
            continue
        b = p.full_boundary
        t = b.teardown if b is not None else None
        if t is not None and not math.isnan(t.seconds):
            probed = (f"{t.seconds:5.1f} on average ({t.waits} of {t.fits} fits waited; a wait lasts {t.miss_seconds:.1f}"
                      f" at {t.age_seconds:.0f} s)")
        elif b is not None and b.teardown_probes:
            probed = (f"median {b.teardown_seconds[0]:5.1f}, largest {b.teardown_seconds[1]:5.1f} "
                      f"({b.teardown_waits} of {b.teardown_probes} waited, at fit's end)")
        elif b is not None and b.probes:
            probed = (f"median {b.destroy_seconds[0]:5.1f}, largest {b.destroy_seconds[1]:5.1f} "
                      f"({b.waits} of {b.probes} waited, at an epoch boundary)")
        else:
            probed = "not probed"
        print(f"{strategy:<16} {probed:<60} measured: " + ", ".join(f"{value:.1f}" for value in measured)
              + f" (mean {sum(measured) / len(measured):.1f})")


if __name__ == "__main__":
    main()
