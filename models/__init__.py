"""The shared models: `build_model(name, seed)` returns a compiled keras.Model.

Names and descriptions are here without importing Keras, so the command line stays fast.
"""

MODELS = {
    "lstm": "the reference study's LSTM: Embedding(20000,128) -> LSTM(128) -> Dense(1), 2,691,713 parameters",
    "small": "a cheap model, Embedding(20000,32) -> average pooling -> Dense(1), standing in for a fast accelerator",
}
ALIASES = {"reference": "lstm"}  # the name `lstm` had before


def build_model(name: str = "lstm", seed: int = 0, sequence_length: int = 80):
    from models.imdb import build_model as build

    return build(name, seed, sequence_length)
