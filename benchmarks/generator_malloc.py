#!/usr/bin/env python
"""Why do the feeds that run Python per batch step slower than `arrays`? TensorFlow's `from_generator` fixes glibc
malloc's mmap threshold at 128 KiB for the whole process. (Issue 20.)

`tf.data.Dataset.from_generator` - which Keras uses for a Python generator, a PyDataset and a Grain dataset - builds a
GeneratorDatasetOp, whose constructor calls `tensorflow::data::ApplyPython311MemoryPatch()`, which calls
`mallopt(M_MMAP_THRESHOLD, 131072)` (found with gdb: `break mallopt` in a trial of `generator`; the TensorFlow wheel
installed here, see `python -c "import tensorflow; print(tensorflow.__version__)"`). A fixed threshold also switches off
glibc's dynamic threshold, so from then on every tensor of 128 KiB or more is a fresh mmap, handed back to the kernel
when freed; the next step faults every page of it in again. This model's embedding is 20,000 x 128 floats (10 MB): its
gradient and the Adam update's temporaries are 10 MB each, about 10,000 pages per step (`perf record -e page-faults
-g`: 90% of the faults in Eigen's fill, multiply and sqrt kernels of those updates).

Each variant is a bare `model.fit` of the study's LSTM on the study's prepared data (the strategy's own fit arguments)
in a fresh process, one per variant and round, every round in a new seeded order: the first epoch left out, then the
median step, CPU and minor page faults per step of the steady epochs. `+restored` variants set the threshold back
(mallopt M_MMAP_THRESHOLD 32 MiB, glibc's own ceiling for its dynamic threshold) at the first step of every epoch,
after TensorFlow's call; `+kept` variants also switch off glibc's trimming of a heap's freed top (M_TRIM_THRESHOLD
1 GiB): does trimming cause the ~5,000 faults per step the limit and tf.data feeds show in some processes? Printed: per variant the medians over rounds; the paired ratio (95% t interval over rounds)
of each `+restored` variant to its plain one, and of every variant to `arrays`.

    python benchmarks/generator_malloc.py --rounds 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT = "@generator-malloc "
RESTORED = "+restored"
KEPT = "+kept"  # restored, and glibc's trimming of a heap's freed top switched off (M_TRIM_THRESHOLD 1 GiB)
VARIANTS = ("arrays", "compute-bound", "tfdata", "tfdata+restored", "generator", "generator+restored",
            "pydataset", "pydataset+restored")

ONE_FIT = r"""
import ctypes, json, os, resource, statistics, sys, time
from processes.lean_import import import_tensorflow_and_keras
import_tensorflow_and_keras()
import keras
from inputs import corpus, malloc_threshold, registry
from inputs.options import FeedOptions
from models import build_model

variant, limit, epochs, result = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
strategy = registry.COMPUTE_BOUND if variant.startswith("compute-bound") else registry.get(variant.split("+")[0])
data = corpus.prepare(corpus.DataSettings(seed=0), with_texts=strategy.needs_texts).limited(limit)
model = build_model("lstm", seed=0)
arguments = strategy.fit_arguments(data, FeedOptions(batch_size=32, seed=0))
libc = ctypes.CDLL("libc.so.6")
epochs_seen = []

class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.steps, self.faults, self.cpu = [], resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0 and variant.endswith(("+restored", "+kept")):  # after from_generator's mallopt, as fit starts
            malloc_threshold.restore()  # 32 MiB, as pydataset-restored-malloc does
        if batch == 0 and variant.endswith("+kept"):  # and freed memory kept: no trimming of a heap's top
            libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD 1 GiB
        self.started = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(time.perf_counter() - self.started)
    def on_epoch_end(self, epoch, logs=None):
        epochs_seen.append({"step_ms": 1000 * statistics.median(self.steps), "steps": len(self.steps),
                            "cpu_ms": 1000 * (time.process_time() - self.cpu) / len(self.steps),
                            "faults": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - self.faults) / len(self.steps)})

model.fit(**arguments, epochs=epochs, verbose=0, callbacks=[Clock()])
steady = epochs_seen[1:]
print(result + json.dumps({key: statistics.mean(epoch[key] for epoch in steady) for key in ("step_ms", "cpu_ms", "faults")}), flush=True)
"""


def one_fit(variant: str, limit: int, epochs: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    output = subprocess.run([sys.executable, "-c", ONE_FIT, variant, str(limit), str(epochs), RESULT],
                            capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith(RESULT))[len(RESULT):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=43 * 32, help="training examples (default: 43 steps of 32)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per process, the first left out")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    variants = args.variants.split(",")
    from study.stats import ratio_of_pairs_text as ratio  # a fixed design's t interval

    if args.rounds < 2 or args.epochs < 2 or "arrays" not in variants:
        parser.error("needs --rounds >= 2, --epochs >= 2 and arrays among the variants")
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores; {args.rounds} rounds of {len(variants)} variants, "
          f"a fresh process each: {args.epochs} epochs of {math.ceil(args.limit / 32)} steps, the first left out", flush=True)
    schedule = random.Random(args.seed)
    seen: dict = {variant: [] for variant in variants}
    for round_number in range(1, args.rounds + 1):
        for variant in schedule.sample(variants, len(variants)):
            figures = one_fit(variant, args.limit, args.epochs)
            seen[variant].append(figures)
            print(f"round {round_number}: {variant:<20} step {figures['step_ms']:6.1f} ms   CPU {figures['cpu_ms']:6.1f} ms   "
                  f"faults {figures['faults']:7.0f} per step", flush=True)
    print("\nper steady step, medians over rounds, and the paired ratio to arrays (95% t interval over rounds):")
    for variant in variants:
        runs = seen[variant]
        line = (f"  {variant:<20} step {statistics.median(r['step_ms'] for r in runs):6.1f} ms   CPU "
                f"{statistics.median(r['cpu_ms'] for r in runs):6.1f} ms   faults {statistics.median(r['faults'] for r in runs):7.0f}")
        if variant != "arrays":
            line += (f"   step / arrays {ratio([r['step_ms'] for r in runs], [r['step_ms'] for r in seen['arrays']])}"
                     f"   CPU / arrays {ratio([r['cpu_ms'] for r in runs], [r['cpu_ms'] for r in seen['arrays']])}")
        print(line)
    print("\nthreshold restored (+restored; +kept: and no trimming) / as TensorFlow leaves it (95% t interval over rounds):")
    for variant in variants:
        suffix = next((end for end in (RESTORED, KEPT) if variant.endswith(end)), None)
        plain = variant.removesuffix(suffix) if suffix else None
        if plain in seen:
            mine, base = seen[variant], seen[plain]
            print(f"  {variant:<22} step {ratio([r['step_ms'] for r in mine], [r['step_ms'] for r in base])}   "
                  f"CPU {ratio([r['cpu_ms'] for r in mine], [r['cpu_ms'] for r in base])}   "
                  f"faults {ratio([max(r['faults'], 1) for r in mine], [max(r['faults'], 1) for r in base])}")


if __name__ == "__main__":
    main()
