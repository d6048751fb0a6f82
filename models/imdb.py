"""The IMDB sentiment models every feed strategy trains.

`lstm` is exactly the reference study's LSTM (2,691,713 parameters). `small` is a cheap model whose step
is many times shorter, standing in for a fast accelerator: with it the input pipeline can become the bottleneck.
"""

from __future__ import annotations

import keras


class ExampleCount(keras.metrics.Metric):
    """Counts the examples actually fed in an epoch (the batch sizes summed), so results never assume them."""

    def __init__(self, name="examples", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable(shape=(), initializer="zeros", name="count", dtype="float64")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.assign_add(keras.ops.cast(keras.ops.shape(y_true)[0], "float64"))

    def result(self):
        return self.count

    def reset_state(self):
        self.count.assign(0.0)


def _lstm_layers(vocab_size: int):
    return [
        keras.layers.Embedding(vocab_size, 128),
        keras.layers.LSTM(128, dropout=0.2, recurrent_dropout=0.2),
        keras.layers.Dense(1, activation="sigmoid"),
    ]


def _small_layers(vocab_size: int):
    return [
        keras.layers.Embedding(vocab_size, 32),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(1, activation="sigmoid"),
    ]


LAYERS = {"lstm": _lstm_layers, "small": _small_layers}  # name -> the layers after the input, for a vocabulary size


def build_model(name: str, seed: int, vocab_size: int, sequence_length: int) -> keras.Model:
    """A compiled model for ids below `vocab_size` in rows of `sequence_length`, whose initial weights depend only
    on those, `name` and `seed`."""
    keras.utils.set_random_seed(seed)  # same initial weights and dropout masks for every strategy
    make_layers = LAYERS[name]
    model = keras.Sequential([keras.Input(shape=(sequence_length,), dtype="int32"), *make_layers(vocab_size)], name=name)
    model.compile(
        loss="binary_crossentropy",
        optimizer=keras.optimizers.Adam(),
        metrics=["accuracy", ExampleCount()],
    )
    return model
