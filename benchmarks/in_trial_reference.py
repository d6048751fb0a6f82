#!/usr/bin/env python
"""Would a reference fit inside every trial's own process tighten the per-step verdicts (issues 19 and 20)?

The study's per-step verdicts pair trials by block: a strategy's fresh process against `arrays`' fresh process,
minutes apart. Their log ratio scatters 4-10% from block to block on the 2-core machine, 3 to 7 times what the
scatter of the steps inside the two trials predicts (`--from-studies` below prints this from committed studies):
the noise is a per-trial offset - the machine's state while that trial ran - not the steps. The limit's
diagnostic, which fits two variants one after the other in the same process, scatters only 1-2% (fresh processes).

So this benchmark runs, in each strategy's fresh process, what the study's trial does (a fit of 2 epochs of the
default study's length; the second epoch's median step is the strategy's) and then a *reference fit*: one epoch of
the compute-bound limit's ready batches on the same model, their batch size made unknown as in the limit's diagnostic
(so that every trial's reference runs a step traced for (None, 80): with Keras' reduce_retracing a static batch after
a feed of unknown size would reuse that feed's trace) - the same work in every trial, seconds after the strategy's. Printed per strategy, paired by round against `arrays`:
- `raw`: its median step / `arrays`' (the study's design);
- `referenced`: (its step / its own reference) / (`arrays`' step / `arrays`' reference);
- `reference`: its reference step / `arrays`' reference step - near 1 unless the strategy leaves work behind
  that slows the reference (threads still running), which would bias `referenced` towards 1;
each with the SD of the log ratio over rounds and a t interval; and the seconds the reference fit adds to a trial.

    python benchmarks/in_trial_reference.py --rounds 6
    python benchmarks/in_trial_reference.py --from-studies reports/all-30min reports/all-30min-window
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRATEGIES = ("arrays", "compute-bound", "tfdata", "tfdata-gather", "tfdata-repeat", "tfdata-autotune-off", "generator")

ONE_TRIAL = r"""
import json, sys, time
import numpy as np
import keras
from inputs import corpus, registry
from inputs.options import FeedOptions
from models import build_model
from study.timing import StepClock

name, limit, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
strategy = registry.get(name)
data = corpus.prepare(corpus.DataSettings(seed=seed), with_texts=strategy.needs_texts).limited(limit)
options = FeedOptions(batch_size=32, seed=seed)
model = build_model("lstm", seed=seed, sequence_length=data.sequence_length)


class LastEpoch(keras.callbacks.Callback):  # the last epoch's step times, as the study's steady epoch
    def on_epoch_begin(self, epoch, logs=None):
        self.steps = []
    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(time.perf_counter() - self.start)


clock = LastEpoch()
model.fit(**strategy.fit_arguments(data, options), epochs=epochs, verbose=0, callbacks=[clock])
started = time.perf_counter()
reference = StepClock()
# The limit's ready batches with their batch size unknown (its diagnostic's variant): a step traced for (None, 80).
# Not the limit's static batches: Keras traces with reduce_retracing, so after a feed of unknown batch size a
# (32, 80) batch would run that feed's own (None, 80) trace, while after `arrays` it runs a (32, 80) one.
_, reference_arguments = registry.get("compute-bound").diagnostic(data, options)
model.fit(**reference_arguments, epochs=1, verbose=0, callbacks=[reference])
print(json.dumps({"step": float(np.median(clock.steps)), "reference": reference.figures("r")["r_step_seconds"],
                  "reference_seconds": time.perf_counter() - started}))
"""


def run_trial(strategy: str, limit: int, epochs: int, seed: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", ONE_TRIAL, strategy, str(limit), str(epochs), str(seed)],
                            capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def describe(per_round, baseline) -> str:
    """Geometric mean ratio [95% t interval] over rounds (study.stats.paired_ratio) and the SD of the log ratios."""
    from study import stats

    ratio = stats.paired_ratio([[value] for value in per_round], [[value] for value in baseline])
    sd = float(np.std(stats.block_log_ratios([[value] for value in per_round], [[value] for value in baseline]), ddof=1))
    return f"{ratio.estimate:.3f} [{ratio.low:.3f}, {ratio.high:.3f}] sd {sd:.3f}"


def measure(args) -> None:
    strategies = args.strategies.split(",")
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores; {len(strategies)} strategies, {args.rounds} "
          f"rounds of fresh processes in a new seeded order each, {args.epochs} epochs of {-(-args.limit // 32)} steps "
          "then one reference epoch of the limit's batches", flush=True)
    rows, schedule = {s: [] for s in strategies}, random.Random(args.seed)
    for round_number in range(1, args.rounds + 1):
        for strategy in schedule.sample(strategies, len(strategies)):
            started = time.perf_counter()
            got = run_trial(strategy, args.limit, args.epochs, args.seed)
            rows[strategy].append(got)
            print(f"round {round_number}: {strategy:<20} step {1000 * got['step']:.1f} ms, reference "
                  f"{1000 * got['reference']:.1f} ms (+{got['reference_seconds']:.1f} s), process "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
    base = rows["arrays"]
    print(f"\n{'strategy':<20} {'raw: step / arrays':<36} {'referenced':<36} {'reference / arrays reference':<36} reference s")
    for strategy in strategies:
        if strategy == "arrays":
            continue
        mine = rows[strategy]
        raw = describe([m["step"] for m in mine], [b["step"] for b in base])
        referenced = describe([m["step"] / m["reference"] for m in mine], [b["step"] / b["reference"] for b in base])
        reference = describe([m["reference"] for m in mine], [b["reference"] for b in base])
        print(f"{strategy:<20} {raw:<36} {referenced:<36} {reference:<36} "
              f"{np.median([m['reference_seconds'] for m in mine]):.1f}")


def from_studies(folders) -> None:
    """Per committed study: the block-to-block SD of the per-step log ratio against `arrays` (steady mean step, as
    the study computes it) beside what the scatter of the steps inside the two trials alone would give, and the
    limit's in-process diagnostic pair's SD."""
    import pandas as pd

    from study import schema
    from study.analysis.epochs import steady_step_seconds

    for folder in map(Path, folders):
        steps = pd.read_csv(folder / schema.STEPS)
        steps = steps[steps["sweep_value"].isna()] if "sweep_value" in steps else steps
        steady = steady_step_seconds(steps).set_index(["strategy", "repeat"])
        scatter = {}
        for key, trial in steps.sort_values(["epoch", "step"]).groupby(["strategy", "repeat"]):
            seconds = trial["step_seconds"].to_numpy(float)[int(steady.loc[key, "warmup_steps"]):]
            scatter[key] = (seconds.std(ddof=1) / seconds.mean()) ** 2 / seconds.size  # variance of the log mean, if steps were independent
        observed, expected = [], []
        blocks = sorted(steady.loc["arrays"].index)
        for strategy in sorted({s for s, _ in steady.index} - {"arrays"}):
            logs = [math.log(steady.loc[(strategy, b), "steady_step_seconds"] / steady.loc[("arrays", b), "steady_step_seconds"])
                    for b in blocks if (strategy, b) in steady.index]
            observed.append(float(np.std(logs, ddof=1)))
            expected.append(math.sqrt(np.mean([scatter[(strategy, b)] + scatter[("arrays", b)] for b in blocks
                                               if (strategy, b) in scatter])))
        trials = pd.read_csv(folder / schema.TRIALS)
        paired = "-"
        if "diagnostic_step_seconds" in trials:  # studies before the diagnostic have none
            trials = trials.dropna(subset=["diagnostic_step_seconds"])
            paired = f"{np.log(trials['diagnostic_step_seconds'] / trials['diagnostic_reference_step_seconds']).std(ddof=1):.3f}"
        print(f"{folder}: {len(blocks)} blocks; per-step log ratio against arrays, SD between blocks: median "
              f"{np.median(observed):.3f} (range {min(observed):.3f}-{max(observed):.3f}); from the steps' own scatter "
              f"alone: {np.median(expected):.3f}; the limit's diagnostic pair in one process: SD {paired}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--limit", type=int, default=672, help="examples per epoch (672: the default study's 21 steps on the 2-core machine)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--from-studies", nargs="+", metavar="FOLDER", help="read committed studies instead of training")
    args = parser.parse_args()
    if args.from_studies:
        from_studies(args.from_studies)
    else:
        measure(args)


if __name__ == "__main__":
    main()
