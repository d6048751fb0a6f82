#!/usr/bin/env python
"""What makes a feed's training steps slower than the compute-bound limit when its pipeline is fast enough?

Each variant below feeds the same model the same 64 batches per epoch in a bare `model.fit` (no study harness: an
epoch-level clock, plus Keras' batch hooks only to time the steps), one fresh process per variant and round, in a
new seeded order each round. Printed per variant: the median time per training step and the CPU seconds per
steady epoch (process CPU, all threads), the ratio of each to `arrays` paired by round with a t interval, and
the pipeline's own CPU per batch drawn with no model. Each variant changes one thing against `tfdata`
(`from_tensor_slices -> shuffle -> batch -> prefetch(AUTOTUNE)`), to test one explanation:

- element-level vs batch-level: `keras-array-pipeline` is the pipeline Keras builds for NumPy arrays (one
  permutation per epoch, one gather per batch) handed to fit as a dataset; `tfdata-gather` is the study's
  strategy of that shape; `index-shuffle-gather` shuffles indices one element at a time, then gathers per batch;
- static batch shape: `tfdata-drop-remainder` (64 x 32 examples: no example dropped, shape (32, 80) known);
- tf.data's graph optimizations: `tfdata-no-optimizations` (`apply_default_optimizations = False`, as Keras does);
- the prefetch buffer: `tfdata-prefetch-1`; threads: `tfdata-one-thread` (`private_threadpool_size = 1`);
- data placement: `tfdata-eager-tensors` (`from_tensor_slices` of tensors made first, as Keras makes them).

Usage: python benchmarks/per_step_gap.py [--rounds 2] [--limit 2048] [--epochs 3] [--variants a,b,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = (
    "arrays", "compute-bound", "keras-array-pipeline", "tfdata-gather", "tfdata", "index-shuffle-gather",
    "tfdata-drop-remainder", "tfdata-no-optimizations", "tfdata-prefetch-1", "tfdata-one-thread", "tfdata-eager-tensors",
)

ONE_RUN = r"""
import json, sys, time
import numpy as np
import keras
import tensorflow as tf
from inputs import corpus, registry
from inputs.options import FeedOptions
from models import build_model

variant, limit, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = corpus.prepare(corpus.DataSettings(seed=seed)).limited(limit)
x, y, n, batch = data.x_train, data.y_train, data.num_train, 32
options = FeedOptions(batch_size=batch, seed=seed)


def element_level(prefetch=tf.data.AUTOTUNE, drop_remainder=False, tensors=False):
    source = (tf.constant(x), tf.constant(y)) if tensors else (x, y)
    dataset = tf.data.Dataset.from_tensor_slices(source).shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch, drop_remainder=drop_remainder).prefetch(prefetch)


def with_options(dataset, **settings):
    tf_options = tf.data.Options()
    for name, value in settings.items():
        section, field = name.split("__")
        setattr(getattr(tf_options, section), field, value)
    return dataset.with_options(tf_options)


def index_shuffle_gather():
    features, labels = tf.constant(x), tf.constant(y)
    indices = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).batch(batch)
    return indices.map(lambda i: (tf.gather(features, i), tf.gather(labels, i)), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def keras_array_pipeline():
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter  # private: keras is pinned
    return ArrayDataAdapter(x, y, batch_size=batch, shuffle=True).get_tf_dataset()


if variant in ("arrays", "compute-bound", "tfdata-gather", "tfdata"):
    arguments = registry.get(variant).fit_arguments(data, options)
else:
    arguments = {"x": {
        "keras-array-pipeline": keras_array_pipeline,
        "index-shuffle-gather": index_shuffle_gather,
        "tfdata-drop-remainder": lambda: element_level(drop_remainder=True),
        "tfdata-no-optimizations": lambda: with_options(element_level(), experimental_optimization__apply_default_optimizations=False),
        "tfdata-prefetch-1": lambda: element_level(prefetch=1),
        "tfdata-one-thread": lambda: with_options(element_level(), threading__private_threadpool_size=1),
        "tfdata-eager-tensors": lambda: element_level(tensors=True),
    }[variant]()}

pipeline_cpu = None
if variant not in ("arrays", "compute-bound"):  # the pipeline alone, one epoch, no model
    iterator = iter(arguments["x"])
    next(iterator)
    start = time.process_time()
    for _ in range(-(-n // batch) - 1):
        next(iterator)
    pipeline_cpu = (time.process_time() - start) / (-(-n // batch) - 1)
    del iterator
model = build_model("lstm", seed=seed)
epochs_seen = []


class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.cpu, self.steps = time.process_time(), []
    def on_train_batch_begin(self, batch, logs=None):
        self.step_start = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(time.perf_counter() - self.step_start)
    def on_epoch_end(self, epoch, logs=None):
        epochs_seen.append({"cpu_seconds": time.process_time() - self.cpu, "median_step": float(np.median(self.steps))})


model.fit(**arguments, epochs=epochs, verbose=0, callbacks=[Clock()])
print(json.dumps({"epochs": epochs_seen[1:], "pipeline_cpu_per_batch": pipeline_cpu}))
"""


def run(variant: str, limit: int, epochs: int, seed: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", ONE_RUN, variant, str(limit), str(epochs), str(seed)],
                            capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--limit", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    from study import stats

    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}; {args.rounds} rounds of "
          f"{len(variants)} variants, {args.epochs} epochs of {-(-args.limit // 32)} steps (the first left out), model lstm",
          flush=True)
    schedule = random.Random(args.seed)
    measured = {variant: [] for variant in variants}
    for round_number in range(1, args.rounds + 1):
        order = list(variants)
        schedule.shuffle(order)
        for variant in order:
            outcome = run(variant, args.limit, args.epochs, args.seed)
            measured[variant].append(outcome)
            shown = ", ".join(f"step {1000 * e['median_step']:.1f} ms / cpu {e['cpu_seconds']:.2f} s" for e in outcome["epochs"])
            print(f"round {round_number}: {variant:<24} {shown}", flush=True)
    print()
    print(f"{'variant':<24} {'step ms':>8} {'step / arrays':<28} {'CPU s/epoch':>11} {'CPU / arrays':<28} pipeline alone CPU ms/batch")
    for variant in variants:
        rounds = measured[variant]
        steps = [[e["median_step"] for e in r["epochs"]] for r in rounds]
        cpu = [[e["cpu_seconds"] for e in r["epochs"]] for r in rounds]
        base_steps = [[e["median_step"] for e in r["epochs"]] for r in measured.get("arrays", [])]
        base_cpu = [[e["cpu_seconds"] for e in r["epochs"]] for r in measured.get("arrays", [])]
        line = f"{variant:<24} {1000 * np.median(np.concatenate(steps)):8.1f} "
        versus = (lambda mine, base: "-") if variant == "arrays" else (lambda mine, base: _ratio(stats, mine, base))
        line += f"{versus(steps, base_steps):<28} {np.median(np.concatenate(cpu)):11.2f} {versus(cpu, base_cpu):<28} "
        alone = [r["pipeline_cpu_per_batch"] for r in rounds if r["pipeline_cpu_per_batch"] is not None]
        line += f"{1000 * np.median(alone):.2f}" if alone else "-"
        print(line)


def _ratio(stats, rounds, baseline) -> str:
    if not baseline:
        return "-"
    ratio = stats.paired_ratio(rounds, baseline)
    if ratio.low != ratio.low:
        return f"{ratio.estimate:.3f}"
    return f"{ratio.estimate:.3f} ({ratio.low:.3f}-{ratio.high:.3f})"


if __name__ == "__main__":
    main()
