"""tfdata-service on a real local cluster - what is special about it (the promises, with one worker, are in
test_strategy_contract.py).

Pinned here, on the online strategies' hand-made corpus (tricky text included, 12 tokens per row so truncation
is exercised): with two workers, every example exactly once per epoch with the offline integers, int32,
batches of batch_size and one final partial batch, a new order each epoch; the preprocessing cost runs on the
workers; model.fit trains on it; a missing or unreachable dispatcher is one line.
Not promised, so not tested: the same order for the same seed with two workers (the module docstring of
inputs.tfdata_service says why); with two workers only the set of examples of each epoch is fixed.
"""

import numpy as np
import pytest

from inputs import text
from inputs.options import FeedOptions
from inputs.service import ServiceError, local_cluster
from inputs.tfdata_service import TfDataServiceStrategy
from tests.conftest import online_prepared
from tests.strategy_checks import draw

BATCH_SIZE = 16
SEQUENCE_LENGTH = 12
DATA = online_prepared(203, sequence_length=SEQUENCE_LENGTH)
STRATEGY = TfDataServiceStrategy()


@pytest.fixture(scope="module")
def two_workers():
    with local_cluster(2) as address:
        yield FeedOptions(batch_size=BATCH_SIZE, service_address=address)


def order(epoch):
    return np.concatenate([y for _, y in epoch]).tolist()


def check_epoch(epoch, data=DATA):
    sizes = [len(y) for _, y in epoch]
    full, partial = divmod(data.num_train, BATCH_SIZE)
    assert sizes == [BATCH_SIZE] * full + ([partial] if partial else [])
    for x, y in epoch:
        assert x.dtype == np.int32 and y.dtype == np.int32
        assert x.shape == (len(y), data.sequence_length)
        np.testing.assert_array_equal(x, data.x_train[y])  # the offline integers of exactly these examples
    assert sorted(order(epoch)) == list(range(data.num_train))  # each example exactly once


def test_the_hand_made_data_has_a_partial_batch_and_out_of_vocabulary_words():
    assert DATA.num_train % BATCH_SIZE and (DATA.x_train == text.OOV_ID).any() and (DATA.x_train == text.PAD_ID).any()


def test_two_workers_deliver_each_example_once_per_epoch_with_the_offline_integers(two_workers):
    epochs = draw(STRATEGY, DATA, two_workers, epochs=2)
    for epoch in epochs:
        check_epoch(epoch)
    assert order(epochs[0]) != order(epochs[1])  # a new order each epoch


def test_the_preprocessing_cost_runs_on_the_workers_without_changing_the_integers(one_worker_service):
    options = FeedOptions(batch_size=BATCH_SIZE, service_address=one_worker_service, preprocess_cost_us=50)
    for epoch in draw(STRATEGY, DATA, options, epochs=1):
        check_epoch(epoch)


def test_model_fit_trains_two_epochs_on_it(two_workers):
    import keras

    model = keras.Sequential(
        [
            keras.Input((SEQUENCE_LENGTH,), dtype="int32"),
            keras.layers.Embedding(len(DATA.vocabulary) + text.FIRST_WORD_ID, 4),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(**STRATEGY.fit_arguments(DATA, two_workers), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_a_study_without_a_dispatcher_is_refused_with_one_line():
    with pytest.raises(ServiceError, match="needs a tf.data service dispatcher"):
        STRATEGY.fit_arguments(DATA, FeedOptions(service_address=None))


def test_an_unreachable_dispatcher_is_refused_before_any_pipeline_is_built(closed_port):
    address = f"grpc://127.0.0.1:{closed_port}"
    with pytest.raises(ServiceError, match=f"cannot reach tf.data service dispatcher at {address}"):
        STRATEGY.fit_arguments(DATA, FeedOptions(service_address=address))

