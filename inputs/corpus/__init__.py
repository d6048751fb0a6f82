"""The IMDB corpus: load (`sources`), split, vocabulary and cache (`prepare`), and the split written as
TFRecord shards (`records`, which loads TensorFlow Datasets: import it only where it is used)."""

from inputs.corpus.prepare import (
    CACHE_FORMAT,
    DataSettings,
    PreparedData,
    build_vocabulary,
    default_cache_dir,
    load_corpus,
    prepare,
    stratified_split,
)
from inputs.errors import DamagedFileError, DataError

__all__ = [
    "CACHE_FORMAT", "DamagedFileError", "DataError", "DataSettings", "PreparedData", "build_vocabulary", "default_cache_dir",
    "load_corpus", "prepare", "stratified_split",
]
