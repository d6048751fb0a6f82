"""generator-online: what is special about it (the promises are in test_strategy_contract.py)."""

import dataclasses

import numpy as np
import pytest

from inputs.corpus import DataError
from inputs.generator import GeneratorStrategy
from inputs.generator_online import GeneratorOnlineStrategy
from inputs.options import FeedOptions
from tests.strategy_checks import draw

OPTIONS = FeedOptions(batch_size=16, seed=3)


def test_the_same_batches_in_the_same_order_as_the_offline_generator(online_data):
    """Its integers are the contract's; what is its own is the generator's order (a permutation per epoch)."""
    online = draw(GeneratorOnlineStrategy(), online_data, OPTIONS, epochs=2)
    offline = draw(GeneratorStrategy(), online_data, OPTIONS, epochs=2)
    for online_epoch, offline_epoch in zip(online, offline, strict=True):
        for (_, y), (_, y2) in zip(online_epoch, offline_epoch, strict=True):
            np.testing.assert_array_equal(y, y2)


def test_without_texts_says_what_is_missing(online_data):
    with pytest.raises(DataError, match="with_texts=True"):
        GeneratorOnlineStrategy().fit_arguments(dataclasses.replace(online_data, train_texts=None), OPTIONS)
