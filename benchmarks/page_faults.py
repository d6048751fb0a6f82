"""Is the spread of a fresh process' step time glibc malloc's doing? (Issue 20: a fresh process' mean step varies
10-20% from trial to trial, and that spread is what keeps per-step verdicts undecided.)

The hypothesis: each training step allocates and frees blocks of megabytes (the LSTM's activations, the embedding's
gradient); glibc either keeps freed blocks for reuse or hands them back to the kernel, and then the next step faults
every page in again - and which of the two a process settles into depends on its history (the dynamic mmap threshold),
so it would differ from process to process. Two measurements, each on the study's LSTM fed one ready batch of random
token ids over and over (the limit's feed), 3 epochs of 43 steps (the default study's epoch), steady steps = after
the first epoch:

1. Within one process, alternating epochs of 30 steps: `churn` (mallopt: every block over 128 KiB mmapped and
   returned at once) and `keep` (nothing under 32 MiB mmapped, nothing trimmed). Per epoch: the median step, minor
   page faults per step, CPU and system CPU per step; then the paired ratio churn / keep. What faulting costs a step.
2. Fresh processes with glibc's defaults, ROUNDS of each of arrays (`fit(x, y, batch_size=32, shuffle=True)`), the
   limit's ready batch and tf.data (`from_tensor_slices -> shuffle -> batch -> prefetch`): per process its minor page
   faults per steady step and its median steady step, and per feed the rank correlation of the two over rounds.
   Whether the processes that fault more step slower.

With GLIBC_TUNABLES set (glibc.malloc.mmap_threshold, glibc.malloc.trim_threshold), part 2's processes run with
those settings instead of glibc's defaults. One process at a time; nothing else should run on the machine.

    python benchmarks/page_faults.py --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT = "@page-faults "
STEPS = 43
ALTERNATING_STEPS = 30
MODES = ("keep", "churn") * 6


def _model_and_data(examples: int):
    import numpy as np

    from models import build_model

    model = build_model("lstm", seed=0, sequence_length=80)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20000, size=(examples, 80)).astype("int32")
    y = rng.integers(0, 2, size=(examples, 1)).astype("float32")
    return model, x, y


def _step_recorder(rows: list):
    import resource
    import time

    import keras

    class Steps(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.started, self.usage = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)

        def on_train_batch_end(self, batch, logs=None):
            usage = resource.getrusage(resource.RUSAGE_SELF)
            rows.append({"seconds": time.perf_counter() - self.started,
                         "faults": usage.ru_minflt - self.usage.ru_minflt,
                         "cpu": usage.ru_utime + usage.ru_stime - self.usage.ru_utime - self.usage.ru_stime,
                         "system": usage.ru_stime - self.usage.ru_stime})

    return Steps()


def _summary(rows: list) -> dict:
    return {"step_ms": 1000 * statistics.median(row["seconds"] for row in rows),
            "faults": statistics.mean(row["faults"] for row in rows),
            "cpu_ms": 1000 * statistics.mean(row["cpu"] for row in rows),
            "system_ms": 1000 * statistics.mean(row["system"] for row in rows)}


def alternating() -> None:
    """Part 1, in this process."""
    import ctypes

    import keras
    import tensorflow as tf

    libc = ctypes.CDLL("libc.so.6")
    trim_threshold, mmap_threshold = -1, -3  # mallopt's M_TRIM_THRESHOLD, M_MMAP_THRESHOLD

    def set_mode(mode: str) -> None:
        if mode == "churn":
            libc.mallopt(mmap_threshold, 128 * 1024)
            libc.mallopt(trim_threshold, 128 * 1024)
        else:
            libc.mallopt(mmap_threshold, 32 * 1024 * 1024)
            libc.mallopt(trim_threshold, 2**31 - 1)

    model, x, y = _model_and_data(32)
    rows: list = []
    epochs: list = []
    modes = ("keep",) + MODES  # the first epoch is the warm-up (tracing), left out below

    class Switch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rows.clear()
            set_mode(modes[epoch])

        def on_epoch_end(self, epoch, logs=None):
            epochs.append((modes[epoch], _summary(rows[3:])))

    ready = tf.data.Dataset.from_tensors((x, y)).repeat()
    model.fit(ready, epochs=len(modes), steps_per_epoch=ALTERNATING_STEPS, verbose=0, callbacks=[Switch(), _step_recorder(rows)])
    epochs = epochs[1:]
    for mode, figures in epochs:
        print(f"  {mode:5}  step {figures['step_ms']:6.1f} ms   faults per step {figures['faults']:7.0f}   "
              f"CPU per step {figures['cpu_ms']:6.1f} ms   of it system {figures['system_ms']:5.1f} ms")
    for measure, name in (("step_ms", "median step"), ("cpu_ms", "CPU per step"), ("faults", "faults per step")):
        keep = [figures[measure] for mode, figures in epochs if mode == "keep"]
        churn = [figures[measure] for mode, figures in epochs if mode == "churn"]
        print(f"  {name}: churn / keep {_ratio(churn, keep)}")


def _ratio(new: list, old: list) -> str:
    from study import stats

    return f"{stats.ratio_of_pairs_text(new, old)} (95% t interval, {len(new)} pairs)"  # a fixed design's t interval


def fresh(feed: str) -> None:
    """Part 2: one fresh process' fit."""
    import tensorflow as tf

    model, x, y = _model_and_data(STEPS * 32)
    rows: list = []
    arguments = dict(epochs=3, verbose=0, callbacks=[_step_recorder(rows)])
    if feed == "arrays":
        model.fit(x, y, batch_size=32, shuffle=True, **arguments)
    elif feed == "limit":
        model.fit(tf.data.Dataset.from_tensors((x[:32], y[:32])).repeat(), steps_per_epoch=STEPS, **arguments)
    else:
        pipeline = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(32).prefetch(tf.data.AUTOTUNE)
        model.fit(pipeline, **arguments)
    print(RESULT + json.dumps(_summary(rows[STEPS:])), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if arguments.child:
        return alternating() if arguments.child == "alternating" else fresh(arguments.child)
    from scipy import stats

    print("1. one process, alternating epochs of", ALTERNATING_STEPS, "steps:", flush=True)
    subprocess.run([sys.executable, __file__, "--child", "alternating"], check=True, stderr=subprocess.DEVNULL)
    malloc = f"GLIBC_TUNABLES={os.environ['GLIBC_TUNABLES']}" if os.environ.get("GLIBC_TUNABLES") else "glibc's defaults"
    print(f"\n2. fresh processes, {malloc}, {arguments.rounds} rounds in a new seeded order each:", flush=True)
    feeds = ["arrays", "limit", "tfdata"]
    seen: dict = {feed: [] for feed in feeds}
    for number in range(arguments.rounds):
        random.Random(number).shuffle(feeds)
        for feed in feeds:
            output = subprocess.run([sys.executable, __file__, "--child", feed], check=True, capture_output=True,
                                    text=True).stdout
            figures = json.loads(next(line for line in output.splitlines() if line.startswith(RESULT))[len(RESULT):])
            seen[feed].append(figures)
            print(f"  round {number + 1}: {feed:6}  step {figures['step_ms']:6.1f} ms   faults per step "
                  f"{figures['faults']:7.0f}   CPU per step {figures['cpu_ms']:6.1f} ms   of it system "
                  f"{figures['system_ms']:5.1f} ms", flush=True)
    print()
    for feed, runs in seen.items():
        rho = stats.spearmanr([run["faults"] for run in runs], [run["step_ms"] for run in runs]).statistic
        print(f"  {feed}: faults per step {min(run['faults'] for run in runs):.0f}-{max(run['faults'] for run in runs):.0f}, "
              f"median step {min(run['step_ms'] for run in runs):.1f}-{max(run['step_ms'] for run in runs):.1f} ms, "
              f"rank correlation of the two {rho:+.2f}")


if __name__ == "__main__":
    main()
