#!/usr/bin/env python
"""Which boundary probe waits as often as fit's own epoch boundaries? (issue 20: the probe missed most waits)

The study's probe (study/boundary_probe.py) draws a used iterator's epoch with no model, begins the next epoch at once,
then holds the used iterator idle until it is as old as a full epoch and destroys it: it waited 1 of 18 times in two
full-size checks, while fit's full-size steady epochs waited 9 of 16 (reports/benchmarks/projection_check_checked.txt).
Here, in one process with the study's model and a strategy's own fit arguments, four ways to reach the same boundary
take turns, the probes at one iterator age (`--age`), fit at its own (its epochs' lengths):

- fit: `model.fit` itself, `--epochs` epochs of `--limit` reviews; each boundary's wait is the time before the
  epoch's first step (study/timing.EpochTimer), where Keras destroys the previous epoch's iterator;
- probe as the study takes it: study.boundary_probe.UsedIterator, then `hold_and_destroy(age)`;
- probe in fit's order: the epoch drawn with no model, the used iterator held idle until the age *before* the epoch
  ends; then Keras ends the epoch (making the next iterator) and the next epoch's first yield drops the used one, as
  fit's loop variable does;
- probe at fit's pace: as the one before, but the batches drawn one per measured step time, so the pipeline works
  the whole time, as under fit (no model: the cores stay free).

A wait counts when the destruction (or the time before the first step) exceeds `STALL_SECONDS` with the process idle.
tf.data's autotune thread wakes at ages 5.11, 10.23, 20.47, 40.95 s...; the default age and epoch (75 steps of about
0.1 s) fall between two of them, so a wait lasts seconds.

    python benchmarks/probe_order.py --strategy arrays --rounds 6   (about 12 minutes on 2 cores; run it alone)
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STALL_SECONDS = 1.0


def epoch_iterator(strategy, prepared, options):
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TFEpochIterator  # private: keras is pinned in setup.cfg

    arguments = strategy.fit_arguments(prepared, options)
    iterator = TFEpochIterator(
        distribute_strategy=tf.distribute.get_strategy(), x=arguments.get("x"), y=arguments.get("y"),
        batch_size=arguments.get("batch_size"), steps_per_epoch=arguments.get("steps_per_epoch"),
        shuffle=arguments.get("shuffle", False))
    iterator.reset()
    return iterator


def probe_in_fits_order(strategy, prepared, options, age: float, pace: float | None) -> tuple[float, float, float]:
    """(age, destroy wall, destroy CPU): fit's loop over Keras' epoch iterator with the train step replaced by one
    `next` - drawn at once, or one batch per `pace` seconds - and the used iterator kept idle until `age` before the
    epoch ends."""
    epochs = epoch_iterator(strategy, prepared, options)
    born = time.perf_counter()
    with epochs.catch_stop_iteration():
        steps = epochs._num_batches
        for step, _, iterator in epochs:
            next(iterator)
            if pace is not None:
                time.sleep(max(0.0, born + (step + 1) * pace - time.perf_counter()))
            if step == steps - 1:  # the epoch's last step: fit's model would still be training until about now
                time.sleep(max(0.0, born + age - time.perf_counter()))
    # Keras has ended the epoch (the next iterator is made); the next epoch's first yield rebinds fit's loop variable.
    at = time.perf_counter()
    wall, cpu = time.perf_counter(), time.process_time()
    for _, _, iterator in epochs:  # noqa: B007 - the rebinding is the point: it drops the used iterator
        break
    destroyed = time.perf_counter() - wall, time.process_time() - cpu
    next(iterator)  # the next epoch's first batch, as its first step would draw it
    return at - born, *destroyed


def probe_as_the_study(strategy, prepared, options, age: float) -> tuple[float, float, float]:
    from study.boundary_probe import UsedIterator

    probe = UsedIterator(strategy, prepared, options)
    figures = probe.hold_and_destroy(age)
    return figures["age_seconds"], figures["destroy_seconds"], figures["destroy_cpu_seconds"]


def fit_boundaries(model, strategy, prepared, options, epochs: int) -> tuple[list, float, float]:
    """([(age, wait, CPU)] per boundary, median epoch seconds, median step seconds) of one fit."""
    from study.timing import EpochTimer

    records = []
    model.fit(**strategy.fit_arguments(prepared, options), epochs=epochs, verbose=0,
              callbacks=[EpochTimer(records.append)])
    # The used iterator's age when the next epoch drops it: from its first batch (drawn in its epoch's first step,
    # where tf.data starts its autotune thread) to that epoch's end.
    boundaries = [(previous.epoch_seconds - previous.before_first_step_seconds, record.before_first_step_seconds,
                   record.before_first_step_cpu_seconds) for previous, record in zip(records, records[1:])]
    steady = records[1:]
    return (boundaries, statistics.median(r.epoch_seconds for r in steady),
            statistics.median(s for r in steady for s in r.step_seconds))


def describe(label: str, rows: list) -> str:
    from iterator_teardown import next_autotune_wakeup

    stalls = [(age, wall, cpu) for age, wall, cpu in rows if wall > STALL_SECONDS]
    waits = sorted(wall for _, wall, _ in rows)
    text = (f"{label}: {len(stalls)} of {len(rows)} waited over {STALL_SECONDS:g} s "
            f"(median {statistics.median(waits):.2f} s, max {waits[-1]:.2f} s)")
    if stalls:
        busy = sum(cpu for *_, cpu in stalls) / sum(wall for _, wall, _ in stalls)
        text += (f"; the waits {busy:.0%} busy; each vs the autotune thread's next wake-up after its age: "
                 + ", ".join(f"{wall:.1f}/{next_autotune_wakeup(age):.1f}" for age, wall, _ in stalls))
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="arrays")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--limit", type=int, default=2400, help="reviews per epoch (default: %(default)s: 75 steps)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per fit (default: %(default)s)")
    parser.add_argument("--probes", type=int, default=3, help="probes of each kind per round (default: %(default)s)")
    parser.add_argument("--age", type=float, default=7.6,
                        help="the probes' iterator age, seconds (default: %(default)s: mid-way between the autotune "
                             "thread's wake-ups at 5.11 and 10.23 s, so a wait lasts about 2.6 s)")
    args = parser.parse_args()

    import absl.logging
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)
    from inputs import registry
    from models import build_model
    from study.config import StudyConfig
    from study.trial import load_data

    config = StudyConfig(strategies=(args.strategy,), limit=args.limit, epochs=args.epochs, seed=0)
    strategy = registry.get(args.strategy)
    options = config.feed_options(None)
    prepared = load_data(config, strategy)
    model = build_model(config.model, seed=config.seed, sequence_length=prepared.sequence_length)
    kinds = ("probe as the study takes it", "probe in fit's order", "probe at fit's pace")
    rows = {"fit": [], **{kind: [] for kind in kinds}}
    started = time.perf_counter()
    for round_ in range(args.rounds):
        boundaries, epoch_seconds, step_seconds = fit_boundaries(model, strategy, prepared, options, args.epochs)
        rows["fit"] += boundaries
        order = kinds if round_ % 2 == 0 else kinds[::-1]
        for _ in range(args.probes):
            for kind in order:
                if kind == kinds[0]:
                    rows[kind].append(probe_as_the_study(strategy, prepared, options, args.age))
                else:
                    pace = step_seconds if kind == kinds[2] else None
                    rows[kind].append(probe_in_fits_order(strategy, prepared, options, args.age, pace))
                gc.collect()
        print(f"round {round_ + 1}: epoch {epoch_seconds:.2f} s, step {step_seconds * 1000:.1f} ms; "
              + "; ".join(f"{kind} {sum(w > STALL_SECONDS for _, w, _ in found)}/{len(found)}" for kind, found in rows.items()),
              flush=True)
    print(f"\nTensorFlow {tf.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores; "
          f"strategy {args.strategy}, {args.limit} reviews per epoch, {args.rounds} rounds, "
          f"{time.perf_counter() - started:.0f} s")
    for kind, found in rows.items():
        print(describe(kind, found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
