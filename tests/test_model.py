import numpy as np

from inputs.corpus import DataSettings
from models import build_model


def test_lstm_model_is_the_reference_studys_lstm():
    model = build_model("lstm", seed=0)
    assert model.count_params() == 2_691_713
    assert [type(layer).__name__ for layer in model.layers] == ["Embedding", "LSTM", "Dense"]
    lstm = model.layers[1]
    assert lstm.units == 128 and lstm.dropout == 0.2 and lstm.recurrent_dropout == 0.2


def test_same_seed_same_initial_weights():
    first, second = build_model("small", seed=5), build_model("small", seed=5)
    other = build_model("small", seed=6)
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


def test_example_count_metric_counts_what_was_fed():
    model = build_model("small", seed=0)
    x = np.ones((37, DataSettings().sequence_length), np.int32)
    history = model.fit(x, np.zeros(37, np.int32), batch_size=16, epochs=1, verbose=0)
    assert history.history["examples"] == [37.0]


def test_the_vocabulary_size_and_sequence_length_come_from_the_data_settings():
    model = build_model("small", seed=0, settings=DataSettings(vocab_size=50, sequence_length=7))
    assert model.input_shape == (None, 7) and model.layers[0].input_dim == 50
    assert build_model("small", seed=0).layers[0].input_dim == DataSettings().vocab_size
