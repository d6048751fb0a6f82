#!/usr/bin/env python
"""Does a fresh trial's step mode come from its process' memory layout, or from its threads (issue 20)?

On the 2-core development machine a trial's steady steps run at about 60 ms or about 80 ms, for every feed alike,
and the mode covers a whole trial: it is what keeps the per-step verdicts open. The machine's speed read while
nothing runs does not predict it (benchmarks/quiet_probe.py: r +0.11 over 56 trials), and trials forked from one
process that had imported TensorFlow ran slow less often than fresh ones (5 of 40 against 14 of 40,
reports/benchmarks/forked_trials.txt, fifth run). Forked children share their parent's address-space layout; fresh
processes each get a new random one (ASLR). If the layout decides the mode, fresh processes started with ASLR off
(`setarch -R`: every process of a strategy gets the same layout) run every trial of a strategy in the same mode.

Each round runs every strategy twice, fresh: once as the study does and once under `setarch <arch> -R`, the two in
alternating order, the strategies in a new seeded order. Printed per trial its median steady step; then per design
and strategy how many trials ran slow (median step over 1.15 times the fastest trial's of that strategy), and
each design's SD of the per-step log ratio against `arrays` over rounds. Nothing else should run on the machine.

With `--compare threads` the second design runs every trial with one thread in each of TensorFlow's pools instead
(TF_NUM_INTRAOP_THREADS=1, TF_NUM_INTEROP_THREADS=1): if the slow mode comes from the step handing work between its
threads on the two CPUs (a round trip between them tracks it in part, benchmarks/quiet_probe.py), it never meets it.

    python benchmarks/layout_modes.py arrays,tfdata --rounds 10
    python benchmarks/layout_modes.py arrays,tfdata --rounds 10 --compare threads
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import forked_trials  # noqa: E402  (its fresh trial and its interval, not written twice)

# The designs compared, by --compare: each a command prefix for the trial's process.
COMPARISONS = {
    "layout": {"random layout": (), "fixed layout": ("setarch", platform.machine(), "-R")},
    # One thread in each of TensorFlow's pools (TF_NUM_*_THREADS, read when its pools are made): if the slow mode
    # is the step handing work between its threads across the two CPUs, a single-threaded step never meets it.
    "threads": {"default pools": (), "one thread each": ("env", "TF_NUM_INTRAOP_THREADS=1", "TF_NUM_INTEROP_THREADS=1")},
}
SLOW = 1.15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies", nargs="?", default="arrays,tfdata")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", choices=sorted(COMPARISONS), default="layout")
    args = parser.parse_args()
    designs_compared = COMPARISONS[args.compare]
    strategies, rng = args.strategies.split(","), random.Random(args.seed)
    steps = {}
    for round_number in range(1, args.rounds + 1):
        order = strategies[:]
        rng.shuffle(order)
        designs = list(designs_compared) if round_number % 2 else list(reversed(designs_compared))
        for strategy in order:
            for design in designs:
                step = forked_trials.fresh(strategy, designs_compared[design])["step"]
                steps[round_number, design, strategy] = step
                print(f"round {round_number}: {design}: {strategy:<14} median steady step {1000 * step:.1f} ms", flush=True)
    print()
    rounds = range(1, args.rounds + 1)
    for strategy in strategies:
        fastest = min(v for (_, _, s), v in steps.items() if s == strategy)
        for design in designs_compared:
            mine = [steps[r, design, strategy] for r in rounds]
            slow = sum(v > SLOW * fastest for v in mine)
            print(f"{strategy:<14} {design}: {slow} of {len(mine)} trials slow (over {SLOW} x its fastest, "
                  f"{1000 * fastest:.1f} ms); steps {', '.join(f'{1000 * v:.0f}' for v in mine)} ms")
    if "arrays" in strategies:
        print("\nstep / arrays' step, paired within rounds (95% t interval over rounds, SD of the log ratio):")
        for strategy in strategies:
            if strategy != "arrays":
                for design in designs_compared:
                    print(f"  {strategy} {design}: " + forked_trials.interval(
                        [steps[r, design, strategy] for r in rounds], [steps[r, design, "arrays"] for r in rounds]))


if __name__ == "__main__":
    main()
