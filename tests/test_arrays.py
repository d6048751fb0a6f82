"""arrays: what is special about it; the promises it keeps are in test_strategy_contract.py."""

import numpy as np

from inputs import registry
from inputs.options import FeedOptions
from tests import strategy_checks as checks

STRATEGY = registry.get("arrays")
OPTIONS = FeedOptions(batch_size=32, seed=3)


def test_shuffles_the_examples():
    (ids, _), _ = checks.epoch_orders(STRATEGY, checks.tagged_data(101), OPTIONS)
    assert ids != sorted(ids)


def test_keras_replays_the_same_order_every_epoch_once_seeded():
    # A Keras 3 (3.15, TensorFlow backend) behaviour the study documents rather than hides: fit(x, y,
    # shuffle=True) draws its permutation inside a tf.data map whose random op is re-created with the same
    # seed for each epoch's iterator, so a seeded run sees one order in every epoch. If Keras changes this,
    # this test fails and the note on `arrays` in docs/METHOD.md (and its `new_order_each_epoch = False`) must change.
    (first, _), (second, _) = checks.epoch_orders(STRATEGY, checks.tagged_data(101), OPTIONS)
    assert first == second and not STRATEGY.new_order_each_epoch


def test_fit_arguments_are_the_reference_fit_call():
    data = checks.tagged_data(10)
    arguments = STRATEGY.fit_arguments(data, FeedOptions(batch_size=4))
    assert arguments["shuffle"] is True and arguments["batch_size"] == 4
    assert np.shares_memory(arguments["x"], data.x_train)
