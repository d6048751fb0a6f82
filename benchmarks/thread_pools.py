"""Does TensorFlow's intra-op thread pool set a trial's step time on a 2-core machine? (Issue 20: why do feeds step
slower than the limit although their pipelines are fast enough, and where does a trial's per-step offset come from.)

TensorFlow sizes both its pools by the cores: on 2 cores an op may be split over 2 intra-op threads while 2 inter-op
threads run ops side by side - and a feed's own threads (tf.data's, a generator's) share the same 2 cores. This runs
fresh trials - the study's own trial process (study.trial via benchmarks/forked_trials.py's `fresh`), 2 epochs of 44
steps, no boundary probe, the strategies in a seeded order per round - alternating, round by round (ABBA), TensorFlow's
defaults with one environment setting
(default `TF_NUM_INTRAOP_THREADS=1`, which TensorFlow reads when it makes its pools), and prints per trial the median
step of its steady epoch; per strategy the paired ratio setting / default and, per setting, each strategy against
`arrays`, with t intervals over rounds. One process at a time; nothing else should run on the machine.

    python benchmarks/thread_pools.py arrays,tfdata,compute-bound --rounds 8
    python benchmarks/thread_pools.py arrays --setting TF_NUM_INTEROP_THREADS=1 --rounds 8
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forked_trials import fresh, interval  # noqa: E402 - the same fresh trial and the same paired interval


def trial_with(strategy: str, environment: dict) -> dict:
    """One fresh trial with `environment` added to this process' own (the trial inherits it)."""
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        return fresh(strategy)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies", nargs="?", default="arrays,tfdata,compute-bound")
    parser.add_argument("--setting", default="TF_NUM_INTRAOP_THREADS=1", help="NAME=VALUE, set for the other trials")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    name, _, value = args.setting.partition("=")
    if not name or not value:
        parser.error(f"--setting: NAME=VALUE, got {args.setting!r}")
    strategies = args.strategies.split(",")
    designs = {"default": {}, args.setting: {name: value}}
    step = {}
    for round_number in range(1, args.rounds + 1):
        order = list(designs) if round_number % 2 else list(designs)[::-1]
        for design in order:
            # A seeded order per round and setting: no strategy always runs first after the other setting's trials.
            for strategy in random.Random(f"{round_number}-{design}").sample(strategies, len(strategies)):
                figures = trial_with(strategy, designs[design])
                step[round_number, design, strategy] = figures["step"]
                print(f"round {round_number}: {design}: {strategy}: median steady step {1000 * figures['step']:.1f} ms, "
                      f"trial {figures['wall']:.1f} s", flush=True)
    rounds = range(1, args.rounds + 1)
    print(f"\nmedian steady step, {args.setting} / default, paired within rounds (95% t interval over rounds):")
    for s in strategies:
        print(f"  {s}: {interval([step[r, args.setting, s] for r in rounds], [step[r, 'default', s] for r in rounds])}")
    if "arrays" in strategies and len(strategies) > 1:
        print("\nmedian steady step against arrays, per setting (95% t interval over rounds):")
        for s in strategies:
            if s != "arrays":
                for design in designs:
                    print(f"  {s} / arrays, {design}: "
                          f"{interval([step[r, design, s] for r in rounds], [step[r, design, 'arrays'] for r in rounds])}")


if __name__ == "__main__":
    main()
