"""Inside a trial: one epoch boundary at the age of the user's real epoch, without training that epoch.

Keras' fit on a finite dataset (no `steps_per_epoch`) builds the next epoch's input iterator when an epoch's last
batch is drawn and drops the used one (keras/src/trainers/epoch_iterator.py); with `steps_per_epoch` it keeps
one iterator for all of fit. Destroying a used tf.data iterator can wait, idle, for tf.data's autotune thread,
and how long depends on how old the iterator is (benchmarks/iterator_teardown.py). A budgeted study trains
shortened epochs, so its own boundaries happen at the wrong age. This probe measures one at the right age:

1. the strategy's pipeline is built on the whole training split, as fit gets it (Keras' own epoch iterator);
2. one whole epoch of batches is drawn at the pipeline's own pace, with no model: a used iterator, as fit
   leaves it;
3. the next epoch's iterator is made and its first batch drawn, timed (what fit waits for at a boundary besides
   the destruction, at the full data size);
4. the used iterator is held, idle, until it is as old as a full epoch lasts (the full epoch's steps times this
   trial's measured step time), then destroyed, timed, with the process CPU over it.

A strategy whose fit keeps one iterator destroys nothing between epochs, only when fit ends (its teardown): its
probe skips step 3 and measures that teardown, after a fit of one full epoch (`destroyed_at` END_OF_FIT).

Steps 1-3 run before the trial reports its results, so they never overlap another trial's measurement. Step 4
may run after (the runner goes on with the next trial): an idle process holding an iterator costs the machine
nothing measurable, and the probe records its own CPU time over the hold to show it (`hold_cpu_seconds`).
"""

from __future__ import annotations

import gc
import time


EPOCH_BOUNDARY, END_OF_FIT = "epoch boundary", "end of fit"  # where fit destroys the used iterator (boundary.csv)


def makes_new_iterator_each_epoch(fit_arguments: dict) -> bool:
    """Keras' rule (EpochIterator._enumerate_iterator): without `steps_per_epoch` fit makes a new iterator each
    epoch; with it, one for all of fit (tests/test_tfdata_repeat.py pins both through Keras itself)."""
    return not fit_arguments.get("steps_per_epoch")


class UsedIterator:
    """Steps 1-3: a used iterator at full data size, and the next epoch's already begun; `hold_and_destroy` is
    step 4."""

    def __init__(self, strategy, full_data, options, new_iterator_each_epoch: bool):
        import tensorflow as tf
        from keras.src.backend.tensorflow.trainer import TFEpochIterator  # private: keras is pinned in setup.cfg

        arguments = strategy.fit_arguments(full_data, options)
        epoch_iterator = TFEpochIterator(
            distribute_strategy=tf.distribute.get_strategy(),
            x=arguments.get("x"), y=arguments.get("y"), batch_size=arguments.get("batch_size"),
            steps_per_epoch=arguments.get("steps_per_epoch"), shuffle=arguments.get("shuffle", False),
        )
        dataset = epoch_iterator._get_iterator()  # the distributed dataset fit draws from, one iterator per epoch
        self.steps = epoch_iterator.num_batches or -(-full_data.num_train // options.batch_size)
        self.born = time.perf_counter()
        self._used = iter(dataset)
        for _ in range(self.steps):
            next(self._used)
        self.drain_seconds = time.perf_counter() - self.born
        self.destroyed_at = EPOCH_BOUNDARY if new_iterator_each_epoch else END_OF_FIT
        self.next_iterator_seconds = self.next_iterator_cpu_seconds = 0.0  # fit keeps its one iterator
        if new_iterator_each_epoch:
            wall, cpu = time.perf_counter(), time.process_time()
            self._next = iter(dataset)
            next(self._next)
            self.next_iterator_seconds = time.perf_counter() - wall
            self.next_iterator_cpu_seconds = time.process_time() - cpu

    def hold_and_destroy(self, age_seconds: float) -> dict:
        """Sleep until the used iterator is `age_seconds` old, then destroy it; the figures for boundary.csv."""
        hold_cpu = time.process_time()
        time.sleep(max(0.0, self.born + age_seconds - time.perf_counter()))
        hold_cpu = time.process_time() - hold_cpu
        age = time.perf_counter() - self.born
        wall, cpu = time.perf_counter(), time.process_time()
        del self._used  # the last reference: tf.data destroys the iterator here, as when fit drops it
        gc.collect()  # and here if a reference cycle kept it
        return {
            "age_seconds": age,
            "destroy_seconds": time.perf_counter() - wall,
            "destroy_cpu_seconds": time.process_time() - cpu,
            "hold_cpu_seconds": hold_cpu,
        }

    def figures(self) -> dict:
        return {
            "destroyed_at": self.destroyed_at,
            "full_steps": self.steps,
            "drain_seconds": self.drain_seconds,
            "next_iterator_seconds": self.next_iterator_seconds,
            "next_iterator_cpu_seconds": self.next_iterator_cpu_seconds,
        }
