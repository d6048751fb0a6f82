from inputs.registry import STRATEGIES
from tests import strategy_checks as checks

STRATEGY = STRATEGIES["tfdata-autotune-off"]


def test_every_example_exactly_once_per_epoch_with_one_partial_batch():
    checks.check_exactly_once_with_partial_batch(STRATEGY)


def test_labels_stay_with_their_examples():
    checks.check_labels_follow_examples(STRATEGY)


def test_new_order_each_epoch():
    checks.check_new_order_each_epoch(STRATEGY)


def test_same_order_for_same_seed():
    checks.check_same_order_for_same_seed(STRATEGY)


def test_autotuning_is_off():
    arguments = STRATEGY.fit_arguments(checks.tagged_data(10), 4, 0)
    assert arguments["x"].options().autotune.enabled is False
