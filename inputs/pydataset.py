"""`pydataset`: a `keras.utils.PyDataset` tokenizing raw text per batch, on Keras' own worker pool.

`__getitem__(i)` tokenizes and pads batch i of the current epoch's order (plus the `--preprocess-cost` work),
with `inputs.text`, so it delivers the same integers as `x_train` for the same examples. Keras
fetches batches with `workers` threads, or processes with `use_multiprocessing`, through its OrderedEnqueuer,
which returns them in index order and exactly `len()` of them per epoch.

The order: Keras calls `on_epoch_end` after every epoch (and once before the first), where the dataset
moves to the next seeded permutation. fit must get `shuffle=False`: with `shuffle=True` (fit's default)
Keras' adapter reorders the batch indices with the unseeded `random` module, which breaks
"the same order for the same seed". The batch contents are already in a new order each epoch.
"""

from __future__ import annotations

import numpy as np

from inputs import preprocess_cost, text
from inputs.base import FeedStrategy, epoch_permutation, steps_per_epoch, train_texts


def _text_batches_class():
    # The class derives from keras.utils.PyDataset, so it is made on first use: importing this module (to list
    # strategies) must not load Keras. Kept as a module attribute, it pickles by name for spawned workers.
    if "TextBatches" in globals():
        return globals()["TextBatches"]
    import keras

    class TextBatches(keras.utils.PyDataset):
        """Batches of (ids int32 [b, sequence_length], labels int32 [b]) from raw texts."""

        def __init__(self, texts, labels, vocabulary, sequence_length, batch_size, seed, cost_iterations, **pool):
            super().__init__(**pool)  # workers, use_multiprocessing
            self.texts = np.asarray(texts, dtype=object)
            self.labels = labels
            self.index = text.word_index(vocabulary)
            self.sequence_length = sequence_length
            self.batch_size = batch_size
            self.seed = seed
            self.cost_iterations = cost_iterations
            self.epoch = 0
            self.order = epoch_permutation(len(labels), seed, self.epoch)

        def __len__(self):
            return steps_per_epoch(len(self.labels), self.batch_size)

        def __getitem__(self, batch_index):
            if not 0 <= batch_index < len(self):
                raise IndexError(f"batch {batch_index} out of range: the epoch has {len(self)} batches")
            chosen = self.order[batch_index * self.batch_size : (batch_index + 1) * self.batch_size]
            ids = text.encode_batch(self.texts[chosen], self.index, self.sequence_length, self.cost_iterations)
            return ids, self.labels[chosen]

        def on_epoch_end(self):
            self.epoch += 1
            self.order = epoch_permutation(len(self.labels), self.seed, self.epoch)

    TextBatches.__qualname__ = "TextBatches"
    globals()["TextBatches"] = TextBatches
    return TextBatches


def __getattr__(name):
    if name == "TextBatches":
        return _text_batches_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PyDatasetStrategy(FeedStrategy):
    name = "pydataset"
    description = "keras.utils.PyDataset tokenizing raw text per batch on Keras' workers (threads or processes)"
    needs_texts = True

    def fit_arguments(self, data, options):
        batches = _text_batches_class()(
            train_texts(data), data.y_train, data.vocabulary, data.sequence_length, options.batch_size,
            options.seed, preprocess_cost.python_iterations(options.preprocess_cost_us),
            workers=options.workers, use_multiprocessing=options.use_multiprocessing,
        )
        return {"x": batches, "shuffle": False}
