#!/usr/bin/env python
"""Does deleting a used tf.data iterator stall? Pure tf.data: no Keras, no model.

Keras 3 `fit` on a finite dataset makes a new iterator every epoch and drops the old one; in the study the
first step of an epoch then waited up to 26 s with the process idle. This reproduces it in isolation: an
iterator over the pipeline Keras builds for `fit(x, y, shuffle=True)` (slices -> shuffle -> batch ->
map(AUTOTUNE) -> prefetch(AUTOTUNE)) is read for a while, then deleted, and the deletion is timed - wall and
process CPU, so an idle wait is told apart from work. Once with tf.data's autotuning on (the default), once
with `options.autotune.enabled = False`, in alternating order so the machine's drift spreads over both.

Expected, if the cause is tf.data's autotune model thread: with autotuning on, some deletions wait (idle) until
that thread's next scheduled wake-up - its sleep doubles from 10 ms up to 60 s while the iterator lives, so the
wait grows with the iterator's age (an epoch-long iterator: up to 60 s); with autotuning off there is no such
thread and no deletion waits. Whether a deletion waits at all varies from one to the next.

`--pipeline gather` times the same deletions for the study's `tfdata-gather` pipeline (inputs/tfdata_gather.py: a
seeded permutation per epoch, one gather per batch, endless), the one `fit` keeps for all its epochs and destroys
once, when it ends - where a study probed its teardown waiting up to 57 s.

`--compare hold` asks why the study's boundary probe (study/boundary_probe.py) missed most full-size waits
(reports/benchmarks/projection_check_checked.txt: its probes waited 0 of 4, full-size epochs 3 of 4): the probe draws
an epoch's batches as fast as the pipeline gives them, then holds the iterator idle until it is as old as a full
epoch, while fit draws its batches until the iterator is deleted. Both with autotuning on, alternating: read until
deleted, or read `--epoch-batches` batches and then hold idle until the same age.

Usage: python benchmarks/iterator_teardown.py [--deletions 8] [--ages 5.3,10.4] [--pipeline element|gather]
       [--compare autotune|hold] (about 3 minutes on 2 cores)

The default ages fall just after two of the autotune thread's wake-ups (5.11 s and 10.23 s), so a deletion that
has to wait for the next one waits about 5 s or 10 s: long enough to tell from a slow free.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the study's inputs/, as the other benchmarks do
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STALL_SECONDS = 1.0  # a deletion slower than this is a stall: a healthy one takes a fraction of a second
# tf.data's autotune thread (tensorflow/core/framework/model.cc, Model::OptimizeLoop) first runs 10 ms after the
# iterator's first batch and doubles its sleep after every run, up to 60 s (kOptimizationPeriodMaxMs).
FIRST_PERIOD_SECONDS, MAX_PERIOD_SECONDS = 0.010, 60.0


def next_autotune_wakeup(age_seconds: float) -> float:
    """Seconds from `age_seconds` after the first batch to the autotune thread's next scheduled run."""
    wakeup, period = 0.0, FIRST_PERIOD_SECONDS
    while wakeup <= age_seconds:
        wakeup += period
        period = min(period * 2, MAX_PERIOD_SECONDS)
    return wakeup - age_seconds


PIPELINES = {
    "element": "slices(20000x80 int32) -> shuffle -> batch(32) -> map(AUTOTUNE) -> prefetch(AUTOTUNE) -> repeat",
    "gather": "tfdata-gather's (inputs/tfdata_gather.py): counter -> flat_map(a seeded permutation's batches of 32) "
              "-> map(gather, AUTOTUNE) -> prefetch(AUTOTUNE), over 20000x80 int32",
}


def build_dataset(autotune: bool, pipeline: str = "element", examples: int = 20_000, batch_size: int = 32):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.integers(0, 20_000, size=(examples, 80), dtype=np.int32)
    y = rng.integers(0, 2, size=(examples,), dtype=np.int32)
    options = tf.data.Options()
    options.autotune.enabled = autotune  # set either way: it overrides what the pipeline's own options say
    if pipeline == "gather":
        from inputs.tfdata_gather import epoch_batches

        return epoch_batches(x, y, batch_size, seed=0).with_options(options)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(examples, seed=0, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(lambda features, labels: (features, labels), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .repeat()  # read for a set time, not a set count: the stall depends on the iterator's age
    )
    return dataset.with_options(options)


def time_one_deletion(dataset, age_seconds: float, read_batch, idle_after: int | None = None) -> tuple[float, float]:
    """Read from a fresh iterator for `age_seconds` (or only its first `idle_after` batches, then hold it idle until
    that age, as the study's probe does), then delete it; returns (wall, CPU) seconds of the deletion."""
    iterator = iter(dataset)
    until = time.perf_counter() + age_seconds
    read = 0
    while time.perf_counter() < until and (idle_after is None or read < idle_after):
        read_batch(iterator)
        read += 1
    time.sleep(max(0.0, until - time.perf_counter()))
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    del iterator
    gc.collect()
    return time.perf_counter() - wall_start, time.process_time() - cpu_start


def describe(label: str, deletions: list[tuple[float, float, float]]) -> str:
    walls = sorted(wall for _, wall, _ in deletions)
    stalls = [(age, wall, cpu) for age, wall, cpu in deletions if wall > STALL_SECONDS]
    lines = [
        f"{label}: {len(stalls)} of {len(walls)} deletions took over {STALL_SECONDS:g} s",
        f"  deletion seconds: min {walls[0]:.3f}  median {statistics.median(walls):.3f}  max {walls[-1]:.3f}",
    ]
    if stalls:
        stall_wall = sum(wall for _, wall, _ in stalls)
        stall_cpu = sum(cpu for _, _, cpu in stalls)
        lines.append(
            f"  the stalls: {stall_wall:.1f} s wall, {stall_cpu:.2f} s CPU ({stall_cpu / stall_wall:.0%} busy: idle waiting)"
        )
    lines.append("  age s -> deletion s: " + ", ".join(f"{age:g}->{wall:.2f}" for age, wall, _ in deletions))
    if stalls:
        lines.append("  each stall vs the autotune thread's next scheduled wake-up after that age (s): " + ", ".join(
            f"{wall:.2f} vs {next_autotune_wakeup(age):.2f}" for age, wall, _ in stalls))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deletions", type=int, default=8, help="iterators deleted per setting (default: %(default)s)")
    parser.add_argument("--ages", default="5.3,10.4",
                        help="seconds each iterator is read before deletion, cycled (default: %(default)s)")
    parser.add_argument("--pipeline", choices=sorted(PIPELINES), default="element",
                        help="element: the pipeline Keras builds for arrays; gather: tfdata-gather's (default: %(default)s)")
    parser.add_argument("--compare", choices=("autotune", "hold"), default="autotune",
                        help="autotune: on against off; hold: read until deleted against read an epoch, then held idle "
                             "(both autotune on) (default: %(default)s)")
    parser.add_argument("--epoch-batches", type=int, default=625, help="with --compare hold: batches read before the "
                        "idle hold (default: %(default)s, the full epoch)")
    args = parser.parse_args()
    ages = [float(age) for age in args.ages.split(",")]

    import absl.logging
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)  # "Changing the value of option enabled": that is the point
    if args.compare == "hold":
        on = build_dataset(True, args.pipeline)
        settings = {"read until deleted (as fit)": (on, None),
                    f"{args.epoch_batches} batches read, then held idle (as the study's probe)": (on, args.epoch_batches)}
    else:
        settings = {"autotune on (default)": (build_dataset(True, args.pipeline), None),
                    "autotune off (options.autotune.enabled = False)": (build_dataset(False, args.pipeline), None)}

    @tf.function
    def read_batch(iterator):  # as Keras' train step does: the batch is pulled inside a tf.function
        return next(iterator)

    labels = list(settings)
    results: dict[str, list] = {label: [] for label in labels}
    started = time.perf_counter()
    for index in range(args.deletions):
        age = ages[index % len(ages)]
        for label in labels if index % 2 == 0 else labels[::-1]:
            dataset, idle_after = settings[label]
            wall, cpu = time_one_deletion(dataset, age, read_batch, idle_after)
            results[label].append((age, wall, cpu))
    print(f"TensorFlow {tf.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    print(f"pipeline: {PIPELINES[args.pipeline]}")
    print(f"each iterator read (inside a tf.function) for {args.ages} s (cycled), then deleted; {args.deletions} deletions per setting\n")
    for label in labels:
        print(describe(label, results[label]))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
