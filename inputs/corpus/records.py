"""A TensorFlow Datasets builder writing the study's IMDB split as sharded TFRecord files.

Shaped like TFDS' own `imdb_reviews` (features `text` and `label` = ClassLabel neg/pos, supervised keys
(text, label)), but generated from `inputs.corpus`' corpus and split, so it downloads nothing and its `train`
split holds exactly the reviews of `PreparedData.x_train`, in the same order; `validation` those of `x_val`.

Examples are keyed by their position and written with `disable_shuffling`, so the stored order is x_train's:
`train[:n]` is then the same subset as `PreparedData.limited(n)`. Readers shuffle when reading instead.
One builder config per split setting, in `<data_dir>/study_imdb/<config>/<version>/` (`records_dir`).
`verify_shards` reads every shard through once; `checked_builder` rebuilds damaged ones. The `tfrecord`
strategy reads the records; nothing here knows of it.
Importing this module loads TensorFlow Datasets: strategies import it inside their methods.
"""

from __future__ import annotations

import re
from pathlib import Path

import tensorflow_datasets as tfds

from inputs import corpus

NUM_SHARDS = 16  # ~2 MB each for the 20,000 training reviews: enough files for shuffling and parallel reads


def records_dir(cache_dir: str | None) -> Path:
    return (Path(cache_dir) if cache_dir else corpus.default_cache_dir()) / "tfds"


def verify_shards(split_info) -> None:
    """Every shard exists and holds the number of intact records TFDS recorded, or a DamagedFileError naming it."""
    import tensorflow as tf

    @tf.function  # traced once for all shards; reading checks every record's CRC
    def count_records(path):
        return tf.data.TFRecordDataset(path).reduce(tf.constant(0, tf.int64), lambda total, _: total + 1)

    for path, expected in zip(split_info.filepaths, split_info.shard_lengths):
        remedy = f"delete {Path(path).parent} and the records are rebuilt on the next run"
        if not Path(path).is_file():
            raise corpus.DamagedFileError(f"TFRecord shard {path} is missing: {remedy}", path)
        try:
            count = int(count_records(tf.constant(str(path))))
        except tf.errors.DataLossError as error:
            # TensorFlow wraps the reader's finding ("corrupted record at 12") in op and graph names.
            finding = re.search(r"(corrupted|truncated) record at \d+", error.message)
            detail = finding.group(0) if finding else error.message
            raise corpus.DamagedFileError(f"TFRecord shard {path} is damaged ({detail}): {remedy}", path) from None
        if count != expected:
            raise corpus.DamagedFileError(
                f"TFRecord shard {path} holds {count} records, not the {expected} written: {remedy}", path
            )


class StudyImdbConfig(tfds.core.BuilderConfig):
    """The records depend on the corpus and its split only, not on the vocabulary or sequence length."""

    def __init__(self, settings: corpus.DataSettings):
        super().__init__(
            name=f"{settings.source}-seed{settings.seed}-train{settings.train_size}-val{settings.validation_size}",
            description=f"IMDB reviews from the {settings.source!r} source, split as inputs.corpus.prepare does",
        )
        self.settings = settings


class StudyImdb(tfds.core.GeneratorBasedBuilder):
    """The study's IMDB train/validation split as TFRecords (see the module docstring)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "The study's split of the IMDB training reviews."}
    # No BUILDER_CONFIGS: every config is made from settings, and TFDS refuses a made config that shares
    # its name with a listed one.
    # Nothing is downloaded, so there is no checksums file next to the code to find. Saying so also spares
    # TFDS 4.9.10 looking this module up with the `importlib_resources` backport, which it uses on every
    # Python but declares only for Python < 3.9 (ModuleNotFoundError otherwise).
    code_path = None

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {"text": tfds.features.Text(), "label": tfds.features.ClassLabel(names=["neg", "pos"])}
            ),
            supervised_keys=("text", "label"),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download: the corpus comes from inputs.corpus
        settings = self.builder_config.settings
        texts, labels = corpus.load_corpus(settings.source)
        train_index, val_index = corpus.stratified_split(
            labels, settings.train_size, settings.validation_size, settings.seed
        )
        return {
            "train": self._generate_examples(texts, labels, train_index),
            "validation": self._generate_examples(texts, labels, val_index),
        }

    def _generate_examples(self, texts, labels, indices):
        for position, corpus_index in enumerate(indices):
            yield position, {"text": texts[corpus_index], "label": int(labels[corpus_index])}


def prepared_builder(settings: corpus.DataSettings, data_dir) -> StudyImdb:
    """The builder for `settings` in `data_dir`, its records written on first use and reused afterwards."""
    builder = StudyImdb(config=StudyImdbConfig(settings), data_dir=str(data_dir))
    if not builder.is_prepared():
        tfds.disable_progress_bar()  # progress bars would fill the trial's log
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(num_shards=NUM_SHARDS))
    return builder


def checked_builder(settings: corpus.DataSettings, data_dir) -> StudyImdb:
    """`prepared_builder`, with every training shard read through once (CRC and record count): damaged or
    missing shards are deleted and written again, once; still damaged, a DataError names the shard."""
    import shutil

    builder = prepared_builder(settings, data_dir)
    try:
        verify_shards(builder.info.splits["train"])
        return builder
    except corpus.DataError:
        shutil.rmtree(builder.data_dir)
    builder = prepared_builder(settings, data_dir)
    verify_shards(builder.info.splits["train"])
    return builder


def main(argv=None) -> int:
    """The tfrecord strategy's `prepare`, in a process of its own before any trial, argument `{"settings": {<DataSettings>},
    "cache_dir": ...}` (run with -c, not -m: TFDS finds a builder's files through its module's name); a problem
    is one line on stderr and exit status 2."""
    import json
    import sys

    spec = json.loads((argv or sys.argv[1:])[0])
    settings = corpus.DataSettings(**spec["settings"])
    try:
        checked_builder(settings, records_dir(spec.get("cache_dir")))
    except Exception as error:  # noqa: BLE001 - DataError, OSError or TensorFlow's own: one line, never a traceback
        print(f"TFRecords in {records_dir(spec.get('cache_dir'))}: {error}", file=sys.stderr)
        return 2
    return 0

