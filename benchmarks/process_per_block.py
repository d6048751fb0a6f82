#!/usr/bin/env python
"""Do the results move when a block's trials share one process, or are forked from one? The same study run with a
fresh process per trial (`--process-per trial`, the old design) and with one process per block (`--new block`: it runs
every trial of its block; `--new fork`: it forks each trial's own process), side by side.

Both studies get the same strategies, settings and seed (the arguments after `--`, passed to run_study.py as they
are; fix --epochs, --repeats and --limit so that both train the same). They run one after the other on this machine,
each in a folder of its own under --out. Then, per strategy, it prints the paired ratios against the baseline of
both designs with their 95% intervals - per step, in CPU time, and end to end against the limit - and whether the
new design's estimate lies inside the old design's interval; and, per design, the wall time, the time inside
epochs and its share of the whole command (plan.json).

Usage: python benchmarks/process_per_block.py [--new fork] --out reports/benchmarks/process-per-block -- \\
           --strategies arrays,generator,tfdata --epochs 2 --limit 1408 --repeats 4
       (--report-only: print from the two folders already there, training nothing)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OLD = "trial"  # the old design runs first, then the new one
NEW = ("block", "fork")
MEASURES = (("per step", "steps_vs_baseline"), ("CPU time", "cpu_vs_baseline"), ("epoch vs limit", "vs_limit"))


def _run(out: Path, design: str, arguments: list[str]) -> None:
    command = [sys.executable, str(ROOT / "run_study.py"), *arguments, "--process-per", design, "--out", str(out)]
    print("$ " + " ".join(command[1:]), flush=True)
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    (out.parent / f"{design}-output.txt").write_text(result.stdout)
    if result.returncode != 0:
        sys.exit(f"the {design} study exited with status {result.returncode}; see {out.parent / (design + '-output.txt')}")


def _ratio(comparison) -> str:
    if comparison is None:
        return "-"
    ratio = comparison.ratio
    return f"{ratio.estimate:.3f} [{ratio.low:.3f}-{ratio.high:.3f}]"


def _findings(out: Path) -> dict:
    from study import analysis

    found = analysis.analyse_study(analysis.load(out))
    return {finding.strategy: finding for finding in found.findings}


def _efficiency(out: Path) -> str:
    ending = json.loads((out / "plan.json").read_text()).get("ending", {}) if (out / "plan.json").exists() else {}
    whole = ending.get("seconds_whole_study")
    if not whole:
        return "no plan.json ending recorded"
    return (f"{whole / 60:.1f} min in all, {ending['seconds_in_epochs'] / 60:.1f} min inside epochs "
            f"({ending['share_in_epochs']:.0%}), {ending['blocks_run']} blocks; {_per_trial(out)}")


def _per_trial(out: Path) -> str:
    """A trial's time outside its epochs (its wall time less its epochs'), and its epochs' medians."""
    import pandas as pd

    from benchmarks.outside_epochs import seconds_outside_epochs
    from study import schema

    epochs = pd.read_csv(out / schema.RESULTS)
    outside = seconds_outside_epochs(out)
    warm_up, steady = (epochs[epochs["warmup"] == flag]["epoch_seconds"].median() for flag in (True, False))
    return (f"per trial, median: {outside.median():.1f} s outside its epochs, warm-up epoch {warm_up:.1f} s, "
            f"steady epoch {steady:.1f} s")


def report(folders: dict) -> None:
    findings = {design: _findings(folder) for design, folder in folders.items()}
    for design, folder in folders.items():
        print(f"--process-per {design}: {_efficiency(folder)}  ({folder})")
    (old_design, old), (new_design, new) = findings.items()
    print(f"\n{'strategy':16} {'measure':15} {'old: per ' + old_design:26} {'new: per ' + new_design:26} new inside old's interval")
    inside = total = 0
    for strategy in old:
        if strategy not in new:
            continue
        for label, field in MEASURES:
            before, after = getattr(old[strategy], field), getattr(new[strategy], field)
            if before is None or after is None:
                continue
            within = before.ratio.contains(after.ratio.estimate)
            inside, total = inside + within, total + 1
            print(f"{strategy:16} {label:15} {_ratio(before):26} {_ratio(after):26} {'yes' if within else 'NO'}")
    print(f"\n{inside} of {total} ratios of the new design lie inside the old design's 95% interval.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="a folder for the two studies (trial/ and the new one's)")
    parser.add_argument("--new", choices=NEW, default="block", help="the new design (default: %(default)s)")
    parser.add_argument("--report-only", action="store_true", help="print from the studies already in --out")
    parser.add_argument("study_arguments", nargs=argparse.REMAINDER, help="-- then run_study.py's arguments")
    options = parser.parse_args()
    arguments = [argument for argument in options.study_arguments if argument != "--"]
    folders = {design: options.out / design for design in (OLD, options.new)}
    if not options.report_only:
        options.out.mkdir(parents=True, exist_ok=True)
        for design in folders:
            _run(folders[design], design, arguments)
    from study.results_files import ResultsError

    try:
        report(folders)
    except ResultsError as error:
        sys.exit(f"process_per_block.py: {error}")


if __name__ == "__main__":
    main()
