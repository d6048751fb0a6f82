"""tfdata-gather: what is special about it - fit keeps one iterator for all epochs, whose every pass is one epoch.
Its promises (each example once per epoch, the final partial batch, new seeded orders) are in
test_strategy_contract.py."""

from inputs import registry
from inputs.options import FeedOptions
from tests import strategy_checks as checks
from tests.test_tfdata_repeat import count_fit_iterators

STRATEGY = registry.get("tfdata-gather")


def test_fit_keeps_one_iterator_for_all_epochs():
    assert count_fit_iterators(STRATEGY) == 1


def test_steps_per_epoch_is_one_pass():
    arguments = STRATEGY.fit_arguments(checks.tagged_data(101), FeedOptions(batch_size=32, seed=3))
    assert arguments["steps_per_epoch"] == 4  # ceil(101 / 32): three full batches and one of 5


def test_autotuning_is_off_so_destroying_its_one_iterator_at_the_end_of_fit_never_waits_for_the_autotune_thread():
    arguments = STRATEGY.fit_arguments(checks.tagged_data(10), FeedOptions(batch_size=4))
    assert arguments["x"].options().autotune.enabled is False
