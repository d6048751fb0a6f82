"""The interface every feed strategy implements, in the spirit of Keras' data adapters.

A strategy turns prepared data into what `model.fit` takes, and nothing else: it does not build the model,
time anything or print. All it learns of the study is a frozen `inputs.options.FeedOptions` (batch size,
seed, workers, costs, ...). What it needs beyond the data - files on disk, a service, an option it cannot
work without - it makes and checks itself, through two hooks the study calls before the first trial
(`prepare`, `check`), so that no module outside inputs/ names a strategy. Every strategy promises, and
tests/test_strategy_contract.py checks for every registered one:
- each training example exactly once per epoch, with exactly the integers of the offline arrays;
- batches of `batch_size` examples (int32 ids [b, sequence_length], int32 labels [b]) with one final
  partial batch;
- a new order each epoch (unless `new_order_each_epoch` is False, with the reason), and the same orders for
  the same seed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from inputs.errors import DataError

if TYPE_CHECKING:
    from inputs.corpus import DataSettings, PreparedData
    from inputs.options import FeedOptions


class FeedStrategy:
    name: str = ""
    description: str = ""
    needs_texts: bool = False  # True when the strategy tokenizes raw text itself (PreparedData.train_texts)
    needs_service: bool = False  # True when it needs a tf.data service dispatcher (FeedOptions.service_address)
    new_order_each_epoch: bool = True  # the one promise a strategy may declare it cannot keep
    # The strategy it feeds like, when its fit arguments add only a callback that sets glibc malloc's mmap threshold
    # back after tf.data's from_generator fixes it (inputs/malloc_threshold.py): the study compares the two, and the
    # report shows its code to every feed slowed that way. "": not such a strategy.
    restores_mmap_threshold_of: str = ""

    def prepare(self, settings: DataSettings, cache_dir: str | None) -> None:
        """Makes, or checks and repairs, what the strategy reads besides the prepared data (files on disk),
        once, before the study's first trial - and again when a trial finds one of those files damaged
        (`inputs.errors.DamagedFileError`; study/repair.py then runs the trial again). Runs in the study's own
        process, which never loads TensorFlow: heavy work goes to a process of its own that ends with the study
        (`processes.supervisor.run`). A problem is an `inputs.errors.InputError` whose message is one line.
        Default: nothing to make."""

    def check(self, options: FeedOptions) -> None:
        """Refuses options this strategy cannot work with (an `inputs.errors.InputError`, one line) before the
        study's first trial, under the same rules as `prepare`. Default: nothing to check."""

    def fit_arguments(self, data: PreparedData, options: FeedOptions) -> dict[str, Any]:
        """Keyword arguments for `model.fit` (x, y, batch_size, steps_per_epoch, shuffle ...)."""
        raise NotImplementedError

    def usage(self) -> str:
        """The few lines of Python a user copies to feed their own `fit` this way ("" when there is no short form)."""
        return ""

    def diagnostic(self, data: PreparedData, options: FeedOptions) -> tuple[str, dict[str, Any]] | None:
        """(what it changes, fit arguments): a variant of this feed that changes one thing, measured in the same
        trial right after the strategy's own fit, against the strategy's own arguments fitted again beside it
        (study/trial.py). None: no diagnostic."""
        return None

    def iterate_epochs(self, data: PreparedData, options: FeedOptions, epochs: int) -> Iterator[Iterator]:
        """Yields, per epoch, an iterator over the batches `model.fit` would draw, with no model at all.

        Uses Keras' own epoch iterator on `fit_arguments`, so the batches are exactly the ones fit sees.
        """
        import tensorflow as tf
        from keras.src.backend.tensorflow.trainer import TFEpochIterator  # private: keras is pinned in setup.cfg

        arguments = self.fit_arguments(data, options)
        epoch_iterator = TFEpochIterator(
            distribute_strategy=tf.distribute.get_strategy(),
            x=arguments.get("x"),
            y=arguments.get("y"),
            batch_size=arguments.get("batch_size"),
            steps_per_epoch=arguments.get("steps_per_epoch"),
            shuffle=arguments.get("shuffle", False),
        )
        epoch_iterator.reset()
        for _ in range(epochs):
            yield _batches_of_one_epoch(epoch_iterator)


def _batches_of_one_epoch(epoch_iterator):
    # Mirrors the loop in Keras' TensorFlow trainer: each step pulls one batch from the step's iterator.
    with epoch_iterator.catch_stop_iteration():
        for _, _, iterator in epoch_iterator:
            yield next(iterator)


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """ceil(n / batch): the last batch is partial."""
    return math.ceil(num_examples / batch_size)


def epoch_permutation(num_examples: int, seed: int, epoch: int) -> np.ndarray:
    """The example order of one epoch: new each epoch, the same for the same (seed, epoch)."""
    return np.random.default_rng([seed, epoch]).permutation(num_examples)


def train_texts(data) -> tuple[str, ...]:
    """The raw training texts a `needs_texts` strategy tokenizes, or a clear error when they were not loaded."""
    if data.train_texts is None:
        raise DataError("this strategy tokenizes raw text: prepare the data with with_texts=True")
    return data.train_texts
