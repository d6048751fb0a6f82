#!/usr/bin/env python
"""Is the per-step gap between feeds the study's own doing? The study's trial against a bare `model.fit`, per
strategy, side by side, at the default study's settings.

Each round runs, in a fresh process each and in a new seeded order, every strategy twice: once as the study runs
it (study.runner's child process: per-step timing callback, example-counting metric, child-process protocol) and
once as a bare script would (`keras.Sequential` of the same layers, `metrics=["accuracy"]`, an epoch-level clock
only, so Keras keeps its asynchronous step dispatch). Printed per strategy and way of running: the median CPU
seconds of a steady epoch (process CPU, all threads: an idle boundary wait adds nothing to it), and the paired
ratio to `arrays` within each way, with a t interval over rounds. If the gap between feeds is the same in both
ways, the harness does not cause it; `study / bare` per strategy is the harness' own overhead.

The study's wall time in steps (boundaries left out) is printed too; the bare fit's epochs include their boundary
waits, so only its CPU time is compared.

Usage: python benchmarks/harness_overhead.py [--rounds 3] [--limit 2048] [--epochs 3]
           [--strategies arrays,tfdata,compute-bound,tfdata-gather] [--model lstm]
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
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE_FIT = r"""
import json, math, sys, time
import keras
from inputs import corpus, registry
from inputs.options import FeedOptions
from models.imdb import LAYERS

settings = json.loads(sys.argv[1])
strategy = registry.get(settings["strategy"])
data_settings = corpus.DataSettings(seed=settings["seed"])
prepared = corpus.prepare(data_settings, with_texts=strategy.needs_texts).limited(settings["limit"])
keras.utils.set_random_seed(settings["seed"])
model = keras.Sequential([keras.Input(shape=(data_settings.sequence_length,), dtype="int32"),
                          *LAYERS[settings["model"]](data_settings.vocab_size)])
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
times = []

class EpochClock(keras.callbacks.Callback):  # epoch-level only: keeps Keras' asynchronous batch dispatch
    def on_epoch_begin(self, epoch, logs=None):
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
    def on_epoch_end(self, epoch, logs=None):
        times.append((time.perf_counter() - self.start, time.process_time() - self.cpu_start))

arguments = strategy.fit_arguments(prepared, FeedOptions(batch_size=settings["batch_size"], seed=settings["seed"]))
model.fit(**arguments, epochs=settings["epochs"], verbose=0, callbacks=[EpochClock()])
print(json.dumps([{"cpu_seconds": cpu, "epoch_seconds": wall, "in_steps_seconds": math.nan} for wall, cpu in times]))
"""


def bare_fit(strategy: str, settings: dict) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    spec = json.dumps({**settings, "strategy": strategy})
    result = subprocess.run([sys.executable, "-c", BARE_FIT, spec], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def study_trial(strategy: str, settings: dict) -> list[dict]:
    from study import schema
    from study.config import StudyConfig
    from study.plan import Trial
    from study.trial_process import run_trial_process

    config = StudyConfig(strategies=(strategy,), epochs=settings["epochs"], repeats=1, batch_size=settings["batch_size"],
                         limit=settings["limit"], seed=settings["seed"], model=settings["model"])
    with tempfile.TemporaryDirectory() as folder:
        outcome = run_trial_process(config, Trial(1, strategy), Path(folder) / "trial.log", on_epoch=lambda event: None)
    if outcome.status != schema.OK:
        raise SystemExit(f"the study's {strategy} trial failed: {outcome.error}")
    return [{"cpu_seconds": e["cpu_seconds"], "epoch_seconds": e["epoch_seconds"], "in_steps_seconds": sum(e["step_seconds"])}
            for e in outcome.epochs]


RUNNERS = {"study": study_trial, "bare": bare_fit}


def _interval(strategy_rounds, baseline_rounds) -> str:
    from study import stats

    ratio = stats.paired_ratio(strategy_rounds, baseline_rounds)
    if math.isnan(ratio.low):
        return f"{ratio.estimate:.3f}"
    return f"{ratio.estimate:.3f} (95% CI {ratio.low:.3f}-{ratio.high:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=2048, help="training examples (default: 64 steps of 32)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", default="lstm")
    parser.add_argument("--strategies", default="arrays,tfdata,compute-bound,tfdata-gather")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    settings = {"limit": args.limit, "epochs": args.epochs, "batch_size": args.batch_size, "model": args.model, "seed": 0}
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}; {args.rounds} rounds of "
          f"{len(strategies)} strategies x (study, bare); {args.epochs} epochs of {math.ceil(args.limit / args.batch_size)} "
          f"steps, model {args.model}, batch {args.batch_size}", flush=True)
    schedule = random.Random(args.seed)
    measured = {}  # (way, strategy) -> per round: the steady epochs' records
    for round_number in range(1, args.rounds + 1):
        runs = [(way, strategy) for way in RUNNERS for strategy in strategies]
        schedule.shuffle(runs)
        for way, strategy in runs:
            steady = RUNNERS[way](strategy, settings)[1:]
            measured.setdefault((way, strategy), []).append(steady)
            shown = ", ".join(f"cpu {e['cpu_seconds']:.2f} s / wall {e['epoch_seconds']:.2f} s" for e in steady)
            print(f"round {round_number}: {way:<5} {strategy:<15} steady epochs: {shown}", flush=True)
    print()
    for way in RUNNERS:
        print(f"{way}: median CPU s per steady epoch, and paired ratio to arrays over rounds")
        for strategy in strategies:
            rounds = measured[(way, strategy)]
            cpu = [[e["cpu_seconds"] for e in r] for r in rounds]
            line = f"  {strategy:<15} CPU {np.median(np.concatenate(cpu)):6.2f} s"
            if strategy != "arrays" and "arrays" in strategies:
                line += f"   CPU / arrays {_interval(cpu, [[e['cpu_seconds'] for e in r] for r in measured[(way, 'arrays')]])}"
            if way == "study":
                steps = [[e["in_steps_seconds"] for e in r] for r in rounds]
                line += f"   in steps {np.median(np.concatenate(steps)):6.2f} s"
                if strategy != "arrays" and "arrays" in strategies:
                    base = [[e["in_steps_seconds"] for e in r] for r in measured[(way, "arrays")]]
                    line += f"   in steps / arrays {_interval(steps, base)}"
            print(line)
    print("harness overhead: study / bare CPU per steady epoch, paired by round")
    for strategy in strategies:
        cpu = lambda way: [[e["cpu_seconds"] for e in r] for r in measured[(way, strategy)]]  # noqa: E731
        print(f"  {strategy:<15} {_interval(cpu('study'), cpu('bare'))}")


if __name__ == "__main__":
    main()
