"""The promises of inputs/base.py, checked for every registered strategy (built-in or plugin) and, where they
apply, for the compute-bound limit, on 200 real reviews in batches of 16 (12 full batches and one of 8), over
three epochs (so a strategy's stream is checked across two epoch boundaries):

- batches of the batch size with one final partial batch, ids int32 [b, sequence_length], labels int32 [b];
- each example exactly once per epoch, with exactly the integers of the offline arrays and its own label;
- a new order each epoch (unless the strategy declares `new_order_each_epoch = False`);
- the same orders for the same seed, other orders for another seed;
- the --preprocess-cost work changes no integer and no order;
- a strategy that tokenizes raw text itself (`needs_texts`) gives exactly the offline integers on conftest's
  hand-made corpus too, whose tricky texts (HTML breaks, Unicode case, odd whitespace, punctuation) a careless
  tokenizer would get wrong.

A strategy's own test module covers only what is special about it.
"""

import functools

import numpy as np
import pytest

from inputs import registry
from inputs.options import FeedOptions
from tests.strategy_checks import draw, example_ids

BATCH = 16
SEED = 3
STRATEGIES = list(registry.strategies())
WITH_LIMIT = [*STRATEGIES, registry.COMPUTE_BOUND.name]
TOKENIZING = [name for name in STRATEGIES if registry.get(name).needs_texts]


@pytest.fixture(scope="module")
def epochs_of(small_split, request):
    """epochs_of(name, seed=SEED, epochs=3, preprocess_cost_us=0, draw_number=0): the strategy's epochs, drawn
    once per distinct call (another draw_number draws again, from a new pipeline, as a new trial would)."""
    data, cache_dir = small_split

    @functools.lru_cache(maxsize=None)
    def drawn(name, seed=SEED, epochs=3, preprocess_cost_us=0, draw_number=0):
        strategy = registry.get(name)
        options = FeedOptions(
            batch_size=BATCH, seed=seed, preprocess_cost_us=preprocess_cost_us, cache_dir=str(cache_dir),
            service_address=_service_address(strategy, request),
        )
        return draw(strategy, data, options, epochs)

    return drawn


def _service_address(strategy, request):
    """A one-worker tf.data service for a strategy that needs one (started once per session), else None."""
    return request.getfixturevalue("one_worker_service") if strategy.needs_service else None


def orders(data, epochs) -> list:
    return [example_ids(data, epoch) for epoch in epochs]


@pytest.mark.parametrize("name", WITH_LIMIT)
def test_full_batches_then_one_partial_of_int32_ids_and_labels(name, epochs_of, small_split):
    data, _ = small_split
    full, rest = divmod(data.num_train, BATCH)
    for epoch in epochs_of(name):
        assert [len(y) for _, y in epoch] == [BATCH] * full + [rest]
        for x, y in epoch:
            assert x.dtype == np.int32 and x.shape == (len(y), data.sequence_length)
            assert y.dtype == np.int32 and y.shape == (len(x),)


@pytest.mark.parametrize("name", STRATEGIES)
def test_each_example_exactly_once_per_epoch_with_its_offline_integers(name, epochs_of, small_split):
    data, _ = small_split
    for order in orders(data, epochs_of(name)):
        assert sorted(order) == list(range(data.num_train))


@pytest.mark.parametrize("name", [name for name in STRATEGIES if registry.get(name).new_order_each_epoch])
def test_a_new_order_each_epoch(name, epochs_of, small_split):
    epoch_orders = orders(small_split[0], epochs_of(name))
    assert all(order != following for order, following in zip(epoch_orders, epoch_orders[1:]))


@pytest.mark.parametrize("name", STRATEGIES)
def test_the_same_orders_for_the_same_seed_and_others_for_another(name, epochs_of, small_split):
    data, _ = small_split
    seeded = orders(data, epochs_of(name))
    assert orders(data, epochs_of(name, draw_number=1)) == seeded
    assert orders(data, epochs_of(name, seed=SEED + 1, epochs=1))[0] != seeded[0]


@pytest.mark.parametrize("name", STRATEGIES)
def test_the_preprocessing_cost_changes_no_integer_and_no_order(name, epochs_of):
    plain, costly = epochs_of(name)[0], epochs_of(name, epochs=1, preprocess_cost_us=20)[0]
    assert len(plain) == len(costly)
    for (x, y), (x2, y2) in zip(plain, costly):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize("name", TOKENIZING)
def test_a_tokenizing_strategy_gives_the_offline_integers_of_tricky_text(name, online_data, request):
    strategy = registry.get(name)
    options = FeedOptions(batch_size=BATCH, seed=SEED, service_address=_service_address(strategy, request))
    for epoch in draw(strategy, online_data, options, epochs=2):
        labels = np.concatenate([y for _, y in epoch])  # online_data's labels are the examples' ids
        assert sorted(labels) == list(range(online_data.num_train))
        for x, y in epoch:
            np.testing.assert_array_equal(x, online_data.x_train[y])
