#!/usr/bin/env python
"""What makes a feed's training steps slower than the compute-bound limit when its pipeline is fast enough?

Each variant below feeds the same model the same 64 batches per epoch in a bare `model.fit` (no study harness: an
epoch-level clock, plus Keras' batch hooks only to time the steps): one fresh process per variant and round, in a
new seeded order each round, or (`--in-one-process`) every variant its own model in one process, one epoch each per
round, the rounds interleaved - seconds apart, so the machine's drift cancels out of the ratios. Printed per variant: the median time per training step and the CPU seconds per
steady epoch (process CPU, all threads), the ratio of each to `arrays` paired by round with a t interval, the
pipeline's own CPU per batch drawn with no model, and where the epoch's CPU went: TensorFlow's op threads
(`tf_Compute`, the model's math) against all other threads (the Python loop, the input pipeline's own). Each variant changes one thing against `tfdata`
(`from_tensor_slices -> shuffle -> batch -> prefetch(AUTOTUNE)`), to test one explanation:

- element-level vs batch-level: `keras-array-pipeline` is the pipeline Keras builds for NumPy arrays (one
  permutation per epoch, one gather per batch) handed to fit as a dataset; `tfdata-gather` is the study's
  strategy of that shape; `index-shuffle-gather` shuffles indices one element at a time, then gathers per batch;
- static batch shape: `tfdata-drop-remainder` (64 x 32 examples: no example dropped, shape (32, 80) known);
- tf.data's graph optimizations: `tfdata-no-optimizations` (`apply_default_optimizations = False`, as Keras does);
- the prefetch buffer: `tfdata-prefetch-1`; threads: `tfdata-one-thread` (`private_threadpool_size = 1`);
- data placement: `tfdata-eager-tensors` (`from_tensor_slices` of tensors made first, as Keras makes them);
- the batch's static size: `compute-bound-unknown-batch` is the limit's ready batch with its batch dimension made
  unknown (`(None, 80)`, as `batch()` without `drop_remainder` leaves it), `tfdata-gather-unknown-batch` the same
  for `tfdata-gather`; `tfdata-drop-remainder` gives `tfdata` the static `(32, 80)` that `arrays` has;
- the element-level work during training against the batches it makes: `tfdata-cached-batches` is `tfdata`'s
  first epoch of batches cached and replayed (`.cache().repeat()`: the same tensors, no shuffle or batch work).

Usage: python benchmarks/per_step_gap.py [--rounds 2] [--limit 2048] [--epochs 3] [--variants a,b,...] [--in-one-process]

--in-one-process runs every variant in one process, its epochs interleaved with the others' (see the driver).
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
    "compute-bound-unknown-batch", "tfdata-gather-unknown-batch", "tfdata-cached-batches",
)

ONE_RUN = r"""
import json, random, sys, time
import numpy as np
import keras
import tensorflow as tf
from inputs import corpus, registry
from inputs.options import FeedOptions
from models import build_model

variants, limit, cycles, seed = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
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


def unknown_batch(arguments):
    # The same values, their batch dimension made unknown: (None, 80), as batch() without drop_remainder leaves it.
    # (Not tf.reshape(x, [-1, 80]): its shape inference works the 32 out again.)
    forget = lambda x, y: (tf.compat.v1.placeholder_with_default(x, [None, *x.shape[1:]]),
                           tf.compat.v1.placeholder_with_default(y, [None, *y.shape[1:]]))
    return dict(arguments, x=arguments["x"].map(forget))


def keras_array_pipeline():
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter  # private: keras is pinned
    return ArrayDataAdapter(x, y, batch_size=batch, shuffle=True).get_tf_dataset()


def make_arguments(variant):
    if variant in ("arrays", "compute-bound", "tfdata-gather", "tfdata"):
        arguments = registry.get(variant).fit_arguments(data, options)
    elif variant.endswith("-unknown-batch"):
        arguments = unknown_batch(registry.get(variant.removesuffix("-unknown-batch")).fit_arguments(data, options))
    else:
        arguments = {"x": {
            "keras-array-pipeline": keras_array_pipeline,
            "index-shuffle-gather": index_shuffle_gather,
            "tfdata-drop-remainder": lambda: element_level(drop_remainder=True),
            "tfdata-no-optimizations": lambda: with_options(element_level(), experimental_optimization__apply_default_optimizations=False),
            "tfdata-prefetch-1": lambda: element_level(prefetch=1),
            "tfdata-one-thread": lambda: with_options(element_level(), threading__private_threadpool_size=1),
            "tfdata-eager-tensors": lambda: element_level(tensors=True),
            "tfdata-cached-batches": lambda: element_level(prefetch=1).cache().repeat().prefetch(tf.data.AUTOTUNE),
        }[variant]()}
        if variant == "tfdata-cached-batches":
            arguments["steps_per_epoch"] = -(-n // batch)
    return arguments


def pipeline_cpu_per_batch(arguments):  # the pipeline alone, one epoch, no model: its own CPU per batch
    iterator = iter(arguments["x"])
    next(iterator)
    start = time.process_time()
    for _ in range(-(-n // batch) - 1):
        next(iterator)
    return (time.process_time() - start) / (-(-n // batch) - 1)


def compute_threads_cpu():  # CPU seconds so far of TensorFlow's op threads ("tf_Compute"), where the model's math runs
    import os
    total = 0.0
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = open(f"/proc/self/task/{tid}/stat").read()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")].startswith("tf_Compute"):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.compute = compute_threads_cpu()
        self.cpu, self.steps = time.process_time(), []
    def on_train_batch_begin(self, batch, logs=None):
        self.step_start = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(time.perf_counter() - self.step_start)
    def on_epoch_end(self, epoch, logs=None):
        self.epoch = {"cpu_seconds": time.process_time() - self.cpu, "median_step": float(np.median(self.steps)),
                      "compute_threads_cpu_seconds": compute_threads_cpu() - self.compute}


# Each variant its own model (same seed: same initial weights) and dataset, warmed up by one epoch (tracing, and
# the cache's one pass); then `cycles` rounds of one epoch each, every round in a new seeded order. With several
# variants in this one process, the rounds of different variants are seconds apart: the machine's drift, which
# moves fresh processes' steps by 10-20%, cancels out of their ratios.
models, arguments_of, pipeline_cpu = {}, {}, {}
for variant in variants:
    arguments_of[variant] = make_arguments(variant)
    pipeline_cpu[variant] = None if variant in ("arrays", "compute-bound") else pipeline_cpu_per_batch(arguments_of[variant])
    models[variant] = build_model("lstm", seed=seed)
    models[variant].fit(**arguments_of[variant], epochs=1, verbose=0)
epochs_seen = {variant: [] for variant in variants}
schedule = random.Random(seed)
for _ in range(cycles):
    for variant in schedule.sample(variants, len(variants)):
        clock = Clock()
        models[variant].fit(**arguments_of[variant], epochs=1, verbose=0, callbacks=[clock])
        epochs_seen[variant].append(clock.epoch)
print(json.dumps({variant: {"epochs": epochs_seen[variant], "pipeline_cpu_per_batch": pipeline_cpu[variant]} for variant in variants}))
"""


def run(variants: list[str], limit: int, cycles: int, seed: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", ONE_RUN, ",".join(variants), str(limit), str(cycles), str(seed)],
                            capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per variant (or, --in-one-process, "
                        "epochs per variant)")
    parser.add_argument("--limit", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fresh process, the first left out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--in-one-process", action="store_true",
                        help="every variant in one process, one epoch each per round, rounds interleaved")
    args = parser.parse_args()
    variants = args.variants.split(",")
    from study import stats

    design = (f"one process: {args.rounds} interleaved rounds of one epoch per variant after a warm-up epoch"
              if args.in_one_process else f"{args.rounds} rounds of fresh processes, {args.epochs} epochs each (the first left out)")
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}; {len(variants)} variants, "
          f"{-(-args.limit // 32)} steps per epoch, model lstm; {design}", flush=True)
    measured = {variant: [] for variant in variants}
    if args.in_one_process:
        outcome = run(variants, args.limit, args.rounds, args.seed)
        for variant in variants:
            for round_number, epoch in enumerate(outcome[variant]["epochs"], start=1):
                measured[variant].append({"epochs": [epoch], "pipeline_cpu_per_batch": outcome[variant]["pipeline_cpu_per_batch"]})
                print(f"round {round_number}: {variant:<28} step {1000 * epoch['median_step']:.1f} ms / cpu {epoch['cpu_seconds']:.2f} s")
    else:
        schedule = random.Random(args.seed)
        for round_number in range(1, args.rounds + 1):
            for variant in schedule.sample(variants, len(variants)):
                outcome = run([variant], args.limit, args.epochs - 1, args.seed)[variant]
                measured[variant].append(outcome)
                shown = ", ".join(f"step {1000 * e['median_step']:.1f} ms / cpu {e['cpu_seconds']:.2f} s" for e in outcome["epochs"])
                print(f"round {round_number}: {variant:<28} {shown}", flush=True)
    print()
    print(f"{'variant':<28} {'step ms':>8} {'step / arrays':<28} {'CPU s/epoch':>11} {'CPU / arrays':<28} "
          "pipeline alone CPU ms/batch   of the CPU per epoch: in TF's compute threads s / in all others s")
    for variant in variants:
        rounds = measured[variant]
        steps = [[e["median_step"] for e in r["epochs"]] for r in rounds]
        cpu = [[e["cpu_seconds"] for e in r["epochs"]] for r in rounds]
        base_steps = [[e["median_step"] for e in r["epochs"]] for r in measured.get("arrays", [])]
        base_cpu = [[e["cpu_seconds"] for e in r["epochs"]] for r in measured.get("arrays", [])]
        line = f"{variant:<28} {1000 * np.median(np.concatenate(steps)):8.1f} "
        versus = (lambda mine, base: "-") if variant == "arrays" else (lambda mine, base: _ratio(stats, mine, base))
        line += f"{versus(steps, base_steps):<28} {np.median(np.concatenate(cpu)):11.2f} {versus(cpu, base_cpu):<28} "
        alone = [r["pipeline_cpu_per_batch"] for r in rounds if r["pipeline_cpu_per_batch"] is not None]
        line += f"{1000 * np.median(alone):.2f}" if alone else "-"
        compute = [e.get("compute_threads_cpu_seconds") for r in rounds for e in r["epochs"]]
        if all(value is not None for value in compute) and compute:
            others = [e["cpu_seconds"] - e["compute_threads_cpu_seconds"] for r in rounds for e in r["epochs"]]
            line += f"{'':<27} {np.median(compute):.2f} / {np.median(others):.2f}"
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
