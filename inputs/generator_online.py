"""`generator-online`: the reference study's generator doing what its author said belongs there - tokenizing.

Like `generator` (a new permutation each epoch, ceil(n / batch) batches, the last partial, forever, with
`steps_per_epoch` marking the epoch), but it slices raw review text and tokenizes and pads each batch in Python
with `inputs.text`, plus the `--preprocess-cost` work, so it delivers the same integers as `x_train` for the
same examples.
"""

import numpy as np

from inputs import preprocess_cost, text
from inputs.base import FeedStrategy, steps_per_epoch, train_texts
from inputs.generator import shuffled_batches


def online_batches(texts, labels, vocabulary, sequence_length, batch_size, seed, cost_iterations=0):
    index = text.word_index(vocabulary)
    texts = np.asarray(texts, dtype=object)  # so a batch is one fancy-indexing slice, as for the arrays
    for text_batch, label_batch in shuffled_batches(texts, labels, batch_size, seed):
        yield text.encode_batch(text_batch, index, sequence_length, cost_iterations), label_batch


class GeneratorOnlineStrategy(FeedStrategy):
    name = "generator-online"
    description = "a Python generator tokenizing and padding raw text per batch (new permutation each epoch)"
    needs_texts = True

    def fit_arguments(self, data, options):
        batches = online_batches(
            train_texts(data), data.y_train, data.vocabulary, data.sequence_length, options.batch_size,
            options.seed, preprocess_cost.python_iterations(options.preprocess_cost_us),
        )
        return {"x": batches, "steps_per_epoch": steps_per_epoch(data.num_train, options.batch_size)}
