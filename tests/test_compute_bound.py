from inputs.options import FeedOptions
from inputs.registry import COMPUTE_BOUND, strategies
from tests import strategy_checks as checks


def test_listed_apart_from_the_strategies():
    assert COMPUTE_BOUND.name == "compute-bound" and COMPUTE_BOUND.name not in strategies()


def test_repeats_ready_batches_of_exactly_an_epochs_sizes():
    data = checks.tagged_data(101)
    for ids, sizes in checks.epoch_orders(COMPUTE_BOUND, data, FeedOptions(batch_size=32), epochs=3):
        assert sizes == [32, 32, 32, 5]  # the same batch sizes as an epoch of any strategy: the same compute
        assert ids == list(range(32)) * 3 + list(range(5))
