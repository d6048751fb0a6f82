"""tfdata-autotune-off: what is special about it (the promises are in test_strategy_contract.py)."""

from inputs import registry
from inputs.options import FeedOptions
from tests import strategy_checks as checks

STRATEGY = registry.get("tfdata-autotune-off")


def test_autotuning_is_off():
    arguments = STRATEGY.fit_arguments(checks.tagged_data(10), FeedOptions(batch_size=4))
    assert arguments["x"].options().autotune.enabled is False
