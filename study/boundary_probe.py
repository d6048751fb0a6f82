"""Inside a trial: one epoch boundary at the age of the user's real epoch, without training that epoch.

Keras' fit on a finite dataset (no `steps_per_epoch`) makes the next epoch's input iterator when an epoch's last
batch is drawn, and the used one is destroyed when the next epoch's first step replaces it (fit's loop variable
holds it until then; keras/src/trainers/epoch_iterator.py and backend/tensorflow/trainer.py); with
`steps_per_epoch` fit keeps one iterator and destroys it when fit ends. Destroying a used tf.data iterator can
wait, idle, for tf.data's autotune thread, and how long depends on how old the iterator is
(benchmarks/iterator_teardown.py). A budgeted study trains shortened epochs, so its own boundaries happen at the
wrong age. This probe measures one at the right age, driving Keras' own epoch iterator the way fit does:

1. the strategy's pipeline is built on the whole training split, as fit gets it;
2. one whole epoch of batches is drawn with no model, keeping a reference to the iterator it came from, as fit's
   loop does; when the epoch ends Keras makes the next epoch's iterator (timed with the next epoch's first batch:
   `next_iterator_seconds`, zero work for a strategy that keeps one iterator);
3. the used iterator is held, idle, until it is as old as fit's is where fit destroys it (`hold_age_seconds`):
   at an epoch boundary, as old as a full epoch lasts (the full epoch's steps times this trial's measured step
   time, counted from its first batch); for a strategy that keeps one iterator, at the end of a full-size fit
   (`destroyed_at`), as old as FULL_FIT_EPOCHS full epochs. It is held on until its autotune thread next wakes
   (study/autotune_wakeups.py: `next_wakeup_seconds`, how long fit waits there at the full age when it misses that
   wake-up; `previous_wakeup_seconds`, how long before the full age it last woke); then it is destroyed, timed,
   with the process CPU over it. fit's teardown of a strategy that makes an iterator each epoch destroys the last
   epoch's, one epoch old: the boundary's age, and its figure.

An iterator destroyed this way, with no model trained on it, almost never waits, while fit's own boundaries miss
the wake-up more often than not (benchmarks/probe_order.py: 0 of 18 probes against 12 of 18 of fit's boundaries,
at the same ages). So the probe's own destruction is not the boundary's wait: how often a boundary waits comes
from the study's own fits (their shortened epochs' boundaries), how long from this probe's wake-up
(study/projection.py). The same for fit's teardown: how often from the study's own fits' teardowns, how long from
the wake-up after the age a full-size fit's teardown has.

Steps 1-2 run before the trial reports its results, so they never overlap another trial's measurement. Step 3
may run after (the runner goes on with the next trial): an idle process holding an iterator costs the machine
nothing measurable, and the probe records its own CPU time over the hold to show it (`hold_cpu_seconds`: the
polls of the thread's wake-ups included).
"""

from __future__ import annotations

import dataclasses
import gc
import math
import time

from study import autotune_wakeups

EPOCH_BOUNDARY, END_OF_FIT = "epoch boundary", "end of fit"  # where fit destroys the used iterator (boundary.csv)
# How long after the full age the probe looks for the autotune thread's next wake-up (60 s apart at most: their
# sleep doubles from 10 ms to a 60-s cap, docs/EPOCH_BOUNDARIES.md); within holders.DESTROY_ALLOWANCE_SECONDS.
WAKEUP_SEARCH_SECONDS = 90.0
# The full setting's epochs per fit (the reference study's, and budget.plan's): fit's one iterator is this many full
# epochs old when fit ends and destroys it.
FULL_FIT_EPOCHS = 3


def makes_new_iterator_each_epoch(fit_arguments: dict) -> bool:
    """Keras' rule (EpochIterator._enumerate_iterator): without `steps_per_epoch` fit makes a new iterator each
    epoch; with it, one for all of fit (tests/test_tfdata_repeat.py pins both through Keras itself)."""
    return not fit_arguments.get("steps_per_epoch")


class UsedIterator:
    """Steps 1-2: a used iterator at full data size, the next epoch begun as fit begins it; `hold_and_destroy`
    is step 3."""

    def __init__(self, strategy, full_data, options):
        import tensorflow as tf
        from keras.src.backend.tensorflow.trainer import TFEpochIterator  # private: keras is pinned in setup.cfg

        # The whole split, and the options must say so: a strategy that reads its own files reads `train[:limit]`
        # (tfrecord, which otherwise finds the trial's limit beside the whole split's data and refuses).
        arguments = strategy.fit_arguments(full_data, dataclasses.replace(options, limit=None))
        self.destroyed_at = EPOCH_BOUNDARY if makes_new_iterator_each_epoch(arguments) else END_OF_FIT
        self._epoch_iterator = TFEpochIterator(
            distribute_strategy=tf.distribute.get_strategy(),
            x=arguments.get("x"), y=arguments.get("y"), batch_size=arguments.get("batch_size"),
            steps_per_epoch=arguments.get("steps_per_epoch"), shuffle=arguments.get("shuffle", False),
        )
        self._epoch_iterator.reset()
        self.born, self._used, self.steps, self._watch = time.perf_counter(), None, 0, None
        with self._epoch_iterator.catch_stop_iteration():
            for _, _, iterator in self._epoch_iterator:  # the loop of fit's train step, with no model
                self._used = iterator  # fit's loop variable: it keeps the used iterator alive past the epoch
                if not self.steps:  # the iterator's age counts from its first batch, where its autotune thread starts
                    threads_before, self.born = autotune_wakeups.threads(), time.perf_counter()
                next(iterator)
                if not self.steps:
                    started = autotune_wakeups.started_between(threads_before, autotune_wakeups.threads())
                    self._watch = autotune_wakeups.WakeupWatch(started, self.born) if started else None
                self.steps += 1
                last_batch, last_cpu = time.perf_counter(), time.process_time()
        self.drain_seconds = last_batch - self.born
        # From the epoch's last batch to the next epoch's first: Keras ends the epoch (making the next iterator, if
        # it makes one per epoch) and begins the next, whose first batch is drawn.
        self._next_epoch = iter(self._epoch_iterator)
        _, _, self._next = next(self._next_epoch)
        next(self._next)
        self.next_iterator_seconds = time.perf_counter() - last_batch
        self.next_iterator_cpu_seconds = time.process_time() - last_cpu

    def hold_age_seconds(self, step_seconds: float) -> float:
        """How old fit's iterator is, at `step_seconds` per step, where a full-size fit destroys it: after one full
        epoch at an epoch boundary, after FULL_FIT_EPOCHS of them when fit ends (the warm-up's tracing left out)."""
        return self.steps * step_seconds * (FULL_FIT_EPOCHS if self.destroyed_at == END_OF_FIT else 1)

    def hold_and_destroy(self, age_seconds: float) -> dict:
        """Hold the used iterator until it is `age_seconds` old and its autotune thread has next woken, then destroy
        it; the figures for boundary.csv."""
        hold_cpu = time.process_time()
        autotune_wakeups.sleep_until(self.born + age_seconds)
        next_wakeup = previous_wakeup = None
        if self._watch is not None:
            next_wakeup = autotune_wakeups.next_wakeup_after(
                self._watch, age_seconds, deadline=self.born + age_seconds + WAKEUP_SEARCH_SECONDS)
            previous_wakeup = autotune_wakeups.last_wakeup_before(self._watch, age_seconds)
            self._watch.close()
        hold_cpu = time.process_time() - hold_cpu
        age = time.perf_counter() - self.born
        wall, cpu = time.perf_counter(), time.process_time()
        # Fit's last reference goes: at an epoch boundary its loop variable moves on to the next epoch's iterator;
        # at the end of fit the epoch iterator itself, which kept the one iterator, goes too.
        self._used = None
        if self.destroyed_at == END_OF_FIT:
            self._next = self._next_epoch = self._epoch_iterator = None
        gc.collect()  # and here if a reference cycle kept it
        return {
            "age_seconds": age,
            "destroy_seconds": time.perf_counter() - wall,
            "destroy_cpu_seconds": time.process_time() - cpu,
            "hold_cpu_seconds": hold_cpu,
            # From the full age to the autotune thread's next wake-up: the wait of a boundary there that misses it.
            "next_wakeup_seconds": math.nan if next_wakeup is None else next_wakeup - age_seconds,
            # From the wake-up before the full age to the full age: with the one above, the interval between the
            # wake-ups around that age - the range of the wait of an age known less well than that.
            "previous_wakeup_seconds": math.nan if previous_wakeup is None else age_seconds - previous_wakeup,
        }

    def figures(self) -> dict:
        return {
            "destroyed_at": self.destroyed_at,
            "full_steps": self.steps,
            "drain_seconds": self.drain_seconds,
            "next_iterator_seconds": self.next_iterator_seconds,
            "next_iterator_cpu_seconds": self.next_iterator_cpu_seconds,
        }
