#!/usr/bin/env python
"""Where a study's trials spend their time outside their epochs, per strategy: each trial's wall time (trials.csv) less
its epochs' (results.csv), the median over blocks - the part of the budget that measures nothing (issue 19). Reads a
finished study's folder; trains nothing.

    python benchmarks/outside_epochs.py reports/all-30min-fork
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seconds_outside_epochs(folder: Path) -> pd.Series:
    """Each trial's wall time (trials.csv) less its epochs' (results.csv), by (strategy, block)."""
    from study import schema

    trials = pd.read_csv(folder / schema.TRIALS).set_index(["strategy", "repeat"])
    epochs = pd.read_csv(folder / schema.RESULTS)
    return trials["wall_seconds"] - epochs.groupby(["strategy", "repeat"])["epoch_seconds"].sum()


def main() -> None:
    from study import schema

    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / schema.TRIALS).is_file():
        sys.exit("usage: python benchmarks/outside_epochs.py STUDY_FOLDER (a finished study's, with trials.csv)")
    folder = Path(sys.argv[1])
    outside = seconds_outside_epochs(folder)
    print(f"{folder}: a trial's wall time outside its epochs, median over blocks, s:")
    print(outside.groupby(level=0).median().round(1).sort_values().to_string())
    print(f"all trials: median {outside.median():.1f} s; each block's longest: {outside.groupby(level=1).max().round(1).tolist()}")


if __name__ == "__main__":
    main()
