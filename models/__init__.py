"""The shared models: `build_model(name, seed, settings)` returns a compiled keras.Model for the data of those
settings (inputs.corpus.DataSettings: its vocabulary size and sequence length).

Names and descriptions are here without importing Keras, so the command line stays fast.
"""

MODELS = {
    "lstm": "the reference study's LSTM: Embedding(20000,128) -> LSTM(128) -> Dense(1), 2,691,713 parameters",
    "small": "a cheap model, Embedding(20000,32) -> average pooling -> Dense(1), standing in for a fast accelerator",
}
ALIASES = {"reference": "lstm"}  # the name `lstm` had before


def build_model(name: str = "lstm", seed: int = 0, settings=None, *, sequence_length: int | None = None):
    """`settings`: the data's DataSettings (None: the defaults); the Embedding takes its vocabulary size, the input
    its sequence length. `sequence_length`, given, overrides the settings' (study/trial.py passes the prepared
    data's)."""
    from inputs.corpus import DataSettings
    from models.imdb import build_model as build

    settings = settings or DataSettings()
    return build(name, seed, settings.vocab_size, sequence_length or settings.sequence_length)
