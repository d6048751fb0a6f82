#!/usr/bin/env python
"""Which shortened-epoch boundaries missed the autotune wake-up? Where each wait ended, from finished studies.

The projection (study/projection.py) counts a shortened epoch's boundary as a missed wake-up when it waited idle
longer than projection.IDLE_WAIT_SECONDS. This checks that rule against where the waits ended: fit's boundary waits
until the dropped iterator's autotune thread next wakes, and that thread keeps its schedule from the iterator's
first batch (benchmarks/autotune_wakeups.py). The first batch is drawn inside the first step, after the step is
traced, so the previous epoch's first step's end stands in for the iterator's birth. Per boundary of the strategies
whose fit makes a new tf.data iterator each epoch, it prints the dropped iterator's age when the wait began and when
it ended (seconds since that first step's end), the wait, the idle part of it (wall less process CPU) and whether
the rule counts it. Waits that end at the same age in every trial end at a wake-up: misses; the others do not.
Nothing is trained.

    python benchmarks/short_misses.py reports/all-30min-session10 reports/all-30min-wakeups ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def boundaries(out: Path, strategies):
    """One row per boundary between two epochs of a trial: the dropped iterator's ages and the wait."""
    import pandas as pd

    from study import projection, schema

    results = pd.read_csv(out / schema.RESULTS).sort_values(["strategy", "repeat", "epoch"])
    steps = pd.read_csv(out / schema.STEPS)
    first = steps[steps["step"] == 1].set_index(["strategy", "repeat", "epoch"])["step_seconds"]
    rows = []
    for (strategy, block), trial in results[results["strategy"].isin(strategies)].groupby(["strategy", "repeat"]):
        trial = trial.reset_index(drop=True)
        missed = projection.missed_wakeups(trial)  # per epoch row: its boundary (before its first step) missed
        for before, after in zip(trial.index[:-1], trial.index[1:]):
            p, c = trial.loc[before], trial.loc[after]
            gap = c["started_at"] - (p["started_at"] + p["epoch_seconds"])  # between on_epoch_end and on_epoch_begin
            birth = p["before_first_step_seconds"] + first.get((strategy, block, p["epoch"]), float("nan"))
            age = p["epoch_seconds"] - birth + gap
            rows.append(dict(strategy=strategy, block=int(block), epoch=int(c["epoch"]), age_at_start=age,
                             wait=c["before_first_step_seconds"],
                             idle=c["before_first_step_seconds"] - c["before_first_step_cpu_seconds"],
                             age_at_end=age + c["before_first_step_seconds"],
                             counted=bool(missed.loc[after])))
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="+", type=Path, help="finished study folders with shortened epochs")
    parser.add_argument("--strategies", default="arrays,tfdata,tfrecord,tfdata-online",
                        help="strategies whose fit makes a new tf.data iterator each epoch (default: %(default)s)")
    args = parser.parse_args()
    from study import projection

    print(f"a boundary counts as a missed wake-up when it waited idle over {projection.IDLE_WAIT_SECONDS} s "
          "(study/projection.py); ages in seconds since the previous epoch's first step ended")
    for out in args.studies:
        table = boundaries(out, args.strategies.split(","))
        if table.empty:
            print(f"\n{out}: no boundaries of {args.strategies}")
            continue
        print(f"\n{out}")
        print(table.sort_values("age_at_end").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        counted, other = table[table["counted"]], table[~table["counted"]]
        ended = ", ".join(f"{v:.2f}" for v in sorted(counted["age_at_end"])) or "-"
        rest = f"; the others waited at most {other['wait'].max():.3f} s ({other['idle'].max():.3f} s idle)" if len(other) else ""
        print(f"counted as missed: {len(counted)} of {len(table)}; they ended at ages {ended}{rest}")


if __name__ == "__main__":
    main()
