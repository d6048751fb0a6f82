#!/usr/bin/env python
"""Does fit's teardown at full size wait until the autotune thread's next wake-up? Checked fit by fit.

The teardown projection (study/projection.FullTeardown) assumes that when a full-size fit's teardown waits, it waits
from the destroyed iterator's age to that iterator's autotune thread's next wake-up. This reads finished studies
(nothing is trained):
- the wake-up ages the budgeted studies' probes watched (`target_age_seconds` + `next_wakeup_seconds` in
  boundary.csv: the age of the first wake-up after each probe's age; and, where the probes placed it, minus
  `previous_wakeup_seconds`, the last one before) - the schedule, measured, not assumed;
- for each fit of the full-size studies, the age of the iterator its teardown destroyed - the one iterator kept for
  all of fit (from the first epoch's first step's end, where its first batch is drawn, to the last epoch's end), or
  for a strategy that makes one each epoch the last epoch's (from that epoch's first step's end) - and how long its
  teardown was idle (`fit_teardown_seconds` less its CPU, trials.csv).
Per fit it prints that age, the next wake-up the probes saw after it, the wait that predicts and the measured idle
time. A teardown that did not wait has nothing to check (the projection takes how often from the study's fits).

    python benchmarks/teardown_ages.py --probes reports/all-30min-session11 --fits reports/full-size-teardown
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wakeup_ages(studies) -> list[float]:
    """The wake-up ages the probes watched, rounded to 0.1 s and merged when within 1 s of each other."""
    import pandas as pd

    from study import projection

    ages = []
    for out in studies:
        probes = pd.read_csv(out / "boundary.csv")
        after = projection.miss_seconds(probes)
        before = projection.previous_wakeup_seconds(probes)  # placed to within a second (boundary.csv from c9d9b6a on)
        seen = pd.concat([probes["target_age_seconds"] + after, probes["target_age_seconds"] - before]).dropna()
        ages += [float(age) for age in seen]
    merged = []
    for age in sorted(ages):
        if merged and age - merged[-1][-1] < 1.5:  # a wake-up placed by a once-a-second poll is up to 1 s late
            merged[-1].append(age)
        else:
            merged.append([age])
    return [round(sum(group) / len(group), 1) for group in merged]


def teardowns(out: Path):
    """Per fit of a study: the destroyed iterator's age when fit's teardown began, and the teardown's idle time."""
    import pandas as pd

    results = pd.read_csv(out / "results.csv").sort_values(["strategy", "repeat", "epoch"])
    steps = pd.read_csv(out / "steps.csv")
    first_step = steps[steps["step"] == 1].set_index(["strategy", "repeat", "epoch"])["step_seconds"]
    trials = pd.read_csv(out / "trials.csv").set_index(["strategy", "repeat"])
    rows = []
    for (strategy, block), fit in results.groupby(["strategy", "repeat"]):
        trial = trials.loc[(strategy, block)]
        kept = str(trial["new_iterator_each_epoch"]).strip().lower() != "true"
        born_in = fit.iloc[0] if kept else fit.iloc[-1]
        born = born_in["started_at"] + born_in["before_first_step_seconds"] + first_step[(strategy, block, born_in["epoch"])]
        last = fit.iloc[-1]
        age = last["started_at"] + last["epoch_seconds"] - born
        rows.append(dict(strategy=strategy, block=int(block), iterator="kept for all of fit" if kept else "last epoch's",
                         age=age, idle=trial["fit_teardown_seconds"] - trial["fit_teardown_cpu_seconds"]))
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", nargs="+", type=Path, required=True, help="budgeted studies whose probes watched wake-ups")
    parser.add_argument("--fits", nargs="+", type=Path, required=True, help="studies of full-size epochs")
    args = parser.parse_args()
    from study import projection

    schedule = wakeup_ages(args.probes)
    print("wake-up ages the probes watched, s: " + ", ".join(f"{age:.1f}" for age in schedule))
    print(f"a teardown waited when idle over {projection.TEARDOWN_IDLE_WAIT_SECONDS} s (study/projection.py)")
    for out in args.fits:
        table = teardowns(out)
        later = [[age for age in schedule if age > row.age] for row in table.itertuples()]
        table["next_wakeup"] = [ages[0] if ages else float("nan") for ages in later]
        table["predicted_wait"] = table["next_wakeup"] - table["age"]
        table["waited"] = table["idle"] > projection.TEARDOWN_IDLE_WAIT_SECONDS
        print(f"\n{out}")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
        waited = table[table["waited"]]
        if len(waited):
            error = (waited["idle"] - waited["predicted_wait"]).abs()
            print(f"{len(waited)} of {len(table)} teardowns waited; measured idle minus predicted wait: "
                  + ", ".join(f"{v:+.1f}" for v in waited["idle"] - waited["predicted_wait"])
                  + f" s (largest {error.max():.1f} s)")


if __name__ == "__main__":
    main()
