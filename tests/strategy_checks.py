"""Drawing a strategy's batches exactly as model.fit would, and telling which examples they hold.

Batches are drawn with `strategy.iterate_epochs`, which uses Keras' own epoch iterator, after seeding Keras as
a trial does. The promises themselves are checked in test_strategy_contract.py.
"""

import numpy as np

from inputs.corpus import PreparedData
from inputs.options import FeedOptions


def draw(strategy, data, options: FeedOptions, epochs: int) -> list:
    """Per epoch, the list of numpy (x, y) batches model.fit would draw."""
    import keras

    keras.utils.set_random_seed(options.seed)  # what the trial does before fit (via build_model)
    return [
        [(np.asarray(x), np.asarray(y)) for x, y in epoch]
        for epoch in strategy.iterate_epochs(data, options, epochs)
    ]


def example_ids(data: PreparedData, epoch) -> list[int]:
    """The x_train index of every example of an epoch, in order; checks that each row is exactly the offline
    integers of one example (the data's rows must all differ) and carries that example's label."""
    index_of = {row.tobytes(): position for position, row in enumerate(data.x_train)}
    assert len(index_of) == data.num_train, "the test data's rows must all differ"
    ids = []
    for x, y in epoch:
        batch_ids = [index_of[row.tobytes()] for row in x]  # KeyError: integers that are no example's
        np.testing.assert_array_equal(y, data.y_train[batch_ids])
        ids += batch_ids
    return ids


def tagged_data(num_examples: int = 101, sequence_length: int = 80) -> PreparedData:
    """Row i of x_train is filled with id i, so a batch says exactly which examples it holds."""
    ids = np.arange(num_examples, dtype=np.int32)
    x = np.repeat(ids[:, None], sequence_length, axis=1)
    y = (ids % 2).astype(np.int32)
    return PreparedData(x, y, x[:8], y[:8], vocabulary=("word",), sequence_length=sequence_length)


def epoch_orders(strategy, data, options: FeedOptions, epochs=2):
    """Per epoch of tagged data: the example ids in delivery order and the batch sizes."""
    return [
        ([int(row[0]) for x, _ in epoch for row in x], [len(y) for _, y in epoch])
        for epoch in draw(strategy, data, options, epochs)
    ]
