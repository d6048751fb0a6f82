#!/usr/bin/env python
"""How much does the study's own measuring cost? Prints the ratio of steady epoch times:
the study's `tfdata` trial (per-step timing callback, example-counting metric, child-process protocol)
against a bare `model.fit` on the same tf.data pipeline in a fresh process, timed per epoch only.

Pairs alternate which one runs first, so the machine's drift spreads over both. Aim: within 2%.
Usage: python benchmarks/harness_overhead.py [--pairs 3] [--limit 5000] [--epochs 3] [--model lstm]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE_FIT = r"""
import json, sys, time
import keras
from inputs import corpus, registry
from inputs.options import FeedOptions
from models.imdb import LAYERS

settings = json.loads(sys.argv[1])
data_settings = corpus.DataSettings(seed=settings["seed"])
prepared = corpus.prepare(data_settings).limited(settings["limit"])
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

arguments = registry.get("tfdata").fit_arguments(prepared, FeedOptions(batch_size=settings["batch_size"], seed=settings["seed"]))
model.fit(**arguments, epochs=settings["epochs"], verbose=0, callbacks=[EpochClock()])
print(json.dumps(times))
"""


def bare_fit(settings: dict) -> list[tuple[float, float]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", BARE_FIT, json.dumps(settings)], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def study_trial(settings: dict) -> list[tuple[float, float]]:
    from study import schema
    from study.config import StudyConfig
    from study.plan import Trial
    from study.runner import run_trial_process

    config = StudyConfig(strategies=("tfdata",), epochs=settings["epochs"], batch_size=settings["batch_size"],
                         limit=settings["limit"], seed=settings["seed"], model=settings["model"])
    with tempfile.TemporaryDirectory() as folder:
        outcome = run_trial_process(config, Trial(1, "tfdata"), Path(folder) / "trial.log", on_epoch=lambda event: None)
    if outcome.status != schema.OK:
        raise SystemExit(f"the study's trial failed: {outcome.error}")
    return [(event["epoch_seconds"], event["cpu_seconds"]) for event in outcome.epochs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", default="lstm")
    args = parser.parse_args()
    settings = {"limit": args.limit, "epochs": args.epochs, "batch_size": args.batch_size, "model": args.model, "seed": 0}
    from study import stats

    measured = {"study": [], "bare": []}  # per pair: the steady epochs' (wall, cpu) seconds
    for pair in range(args.pairs):
        runs = [("study", study_trial), ("bare", bare_fit)]
        if pair % 2:
            runs.reverse()
        for name, run in runs:
            steady = run(settings)[1:]
            measured[name].append(steady)
            shown = ", ".join(f"{wall:.2f} s (cpu {cpu:.2f} s)" for wall, cpu in steady)
            print(f"pair {pair + 1}: {name:<5} steady epochs {shown}", flush=True)
    for index, clock in ((0, "wall"), (1, "CPU")):
        ratio = stats.paired_ratio(
            [[epoch[index] for epoch in pair] for pair in measured["study"]],
            [[epoch[index] for epoch in pair] for pair in measured["bare"]],
        )
        low = "-" if math.isnan(ratio.low) else f"{ratio.low:.3f}"
        high = "-" if math.isnan(ratio.high) else f"{ratio.high:.3f}"
        print(f"harness overhead ({clock} time): study / bare fit steady epoch = {ratio.estimate:.3f} (95% CI {low}-{high}) "
              f"over {args.pairs} pairs, model {args.model}, {args.limit} examples, batch {args.batch_size}")


if __name__ == "__main__":
    main()
