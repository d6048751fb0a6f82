"""tfdata-repeat: fit keeps one iterator for all epochs (the point of the strategy); its promises, which hold
across epochs although fit never makes a second iterator, are in test_strategy_contract.py."""

from inputs import registry
from inputs.options import FeedOptions
from tests import strategy_checks as checks

STRATEGY = registry.get("tfdata-repeat")


def test_fit_keeps_one_iterator_for_all_epochs():
    assert count_fit_iterators(STRATEGY) == 1


def test_plain_tfdata_gets_a_new_iterator_each_epoch():
    # What tfdata-repeat avoids; if Keras stops doing this, the strategy (and docs/EPOCH_BOUNDARIES.md) need a second look.
    assert count_fit_iterators(registry.get("tfdata")) == 3


def count_fit_iterators(strategy, epochs=3):
    """How many distinct input iterators Keras' own epoch iterator hands the train step over `epochs` epochs."""
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TFEpochIterator

    arguments = strategy.fit_arguments(checks.tagged_data(101), FeedOptions(batch_size=32, seed=3))
    epoch_iterator = TFEpochIterator(distribute_strategy=tf.distribute.get_strategy(), **arguments)
    epoch_iterator.reset()
    iterators = []  # the objects themselves: holding them keeps a freed one's id from being reused
    for _ in range(epochs):
        with epoch_iterator.catch_stop_iteration():
            for _, _, iterator in epoch_iterator:
                iterators.append(iterator)
                next(iterator)
    return len({id(iterator) for iterator in iterators})
