"""tfdata-repeat keeps every promise across epochs although fit never makes a second iterator; and it does keep
one iterator (the point of the strategy)."""

from inputs.registry import STRATEGIES
from tests import strategy_checks as checks

STRATEGY = STRATEGIES["tfdata-repeat"]


def test_every_example_exactly_once_per_epoch_with_one_partial_batch_over_three_epochs():
    data = checks.tagged_data(101)
    orders = checks.epoch_orders(STRATEGY, data, batch_size=32, seed=3, epochs=3)
    assert len(orders) == 3
    for ids, sizes in orders:
        assert sorted(ids) == list(range(101)), "every example exactly once per epoch"
        assert sizes == [32, 32, 32, 5]
    assert len({tuple(ids) for ids, _ in orders}) == 3, "a new order each epoch"


def test_labels_stay_with_their_examples():
    checks.check_labels_follow_examples(STRATEGY)


def test_same_order_for_same_seed():
    checks.check_same_order_for_same_seed(STRATEGY)


def test_fit_keeps_one_iterator_for_all_epochs():
    assert count_fit_iterators(STRATEGY) == 1


def test_plain_tfdata_gets_a_new_iterator_each_epoch():
    # What tfdata-repeat avoids; if Keras stops doing this, the strategy (and the README) need a second look.
    assert count_fit_iterators(STRATEGIES["tfdata"]) == 3


def count_fit_iterators(strategy, epochs=3):
    """How many distinct input iterators Keras' own epoch iterator hands the train step over `epochs` epochs."""
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TFEpochIterator

    arguments = strategy.fit_arguments(checks.tagged_data(101), 32, 3)
    epoch_iterator = TFEpochIterator(distribute_strategy=tf.distribute.get_strategy(), **arguments)
    epoch_iterator.reset()
    iterators = []  # the objects themselves: holding them keeps a freed one's id from being reused
    for _ in range(epochs):
        with epoch_iterator.catch_stop_iteration():
            for _, _, iterator in epoch_iterator:
                iterators.append(iterator)
                next(iterator)
    return len({id(iterator) for iterator in iterators})
