#!/usr/bin/env python
"""Do the study's verdicts reproduce? Runs the same small study twice with different seeds and prints both
sets of paired intervals and whether every verdict matches.

Usage: python benchmarks/reproducibility.py [--seeds 1 2] [any run_study.py options, e.g. --model small --limit 5000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_STUDY = ["--strategies", "arrays,generator,tfdata", "--model", "small", "--limit", "5000", "--epochs", "3", "--repeats", "4"]


def verdicts(out: Path) -> dict:
    from study import analysis

    study = analysis.load(out)
    config = study.config
    found = analysis.analyse(study.results, study.trials, analysis.baseline_of(config.strategies), seed=config.seed)
    table = {}
    for finding in found.findings:
        for label, comparison in (("time vs baseline", finding.vs_baseline), ("CPU vs baseline", finding.cpu_vs_baseline), ("time vs limit", finding.vs_limit)):
            if comparison is not None:
                table[(finding.strategy, label)] = comparison
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=[1, 2])
    args, study_options = parser.parse_known_args()
    study_options = study_options or DEFAULT_STUDY
    with tempfile.TemporaryDirectory() as folder:
        tables = []
        for seed in args.seeds:
            out = Path(folder) / f"seed{seed}"
            command = [sys.executable, str(ROOT / "run_study.py"), *study_options, "--seed", str(seed), "--out", str(out)]
            print("$ " + " ".join(command[1:]), flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            tables.append(verdicts(out))
    first, second = tables
    print(f"{'comparison':<32} {'seed ' + str(args.seeds[0]):<44} {'seed ' + str(args.seeds[1]):<44} match")
    matches = []
    for key in sorted(set(first) & set(second)):
        a, b = first[key], second[key]
        same = a.verdict == b.verdict
        matches.append(same)
        cell = lambda c: f"{c.verdict} {c.ratio.estimate:.3f} [{c.ratio.low:.3f}, {c.ratio.high:.3f}]"  # noqa: E731
        print(f"{key[0] + ' ' + key[1]:<32} {cell(a):<44} {cell(b):<44} {'yes' if same else 'NO'}")
    print(f"verdicts matching: {sum(matches)} of {len(matches)}" + (" - all reproduce" if all(matches) else ""))


if __name__ == "__main__":
    main()
