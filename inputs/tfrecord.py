"""`tfrecord`: the data read from disk every epoch, the way TensorFlow Datasets serves a prepared dataset.

The data's split is written once as sharded TFRecord files by `inputs.corpus.records` (under
`<cache dir>/tfds`; later trials reuse them), then each epoch:
`builder.as_dataset(shuffle_files=True)` (shards in a new seeded order, read `READ_PARALLELISM` at a time by
a parallel interleave) -> repeat(scale) -> shuffle(SHUFFLE_BUFFER, seeded) -> batch -> map(the tf.strings
tokenizer of `inputs.text` + preprocess cost, AUTOTUNE) -> prefetch(AUTOTUNE).

- The records are the raw texts of x_train in x_train's order, so the integers are x_train's, and `--limit n`
  reads the split `train[:n]`, the same examples as `PreparedData.limited(n)`.
- `--scale k`: the records are not written k times; the epoch reads them k times (`repeat(k)` before the
  shuffle), so an epoch holds every example exactly k times, as the replicated in-memory corpus does.
- Before reading, every shard of the split is read through once with CRC checks and counted against the
  lengths TFDS recorded: a damaged or truncated shard stops the trial with an error naming the file, instead
  of failing halfway through an epoch or silently feeding fewer examples. run_study.py does the same check
  before the study's first trial (`inputs.corpus.records.checked_builder`), rebuilding damaged records; damage
  found inside a trial later has the records rebuilt once and the trial run again (`study.repair`).
"""

from __future__ import annotations

import re
from pathlib import Path

from inputs import corpus, preprocess_cost
from inputs.base import FeedStrategy

READ_PARALLELISM = 4  # shards read at once; TFDS' default of 16 would open every shard of the split at once
SHUFFLE_BUFFER = 10_000  # examples; shuffled shards supply the coarse randomness, the buffer the fine


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


class TfRecordStrategy(FeedStrategy):
    name = "tfrecord"
    description = "TFRecord shards via TFDS: shuffled files, parallel interleave -> shuffle -> batch -> tokenize"

    def fit_arguments(self, data, options):
        import tensorflow as tf
        import tensorflow_datasets as tfds

        from inputs.corpus.records import prepared_builder
        from inputs.text import tf_tokenize_batch_fn

        if data.settings is None:
            raise corpus.DataError("tfrecord writes the data's corpus split as records: prepare the data with inputs.corpus.prepare")
        builder = prepared_builder(data.settings, records_dir(options.cache_dir))
        batch_size, seed, limit, scale = options.batch_size, options.seed, options.limit, options.scale
        split = "train" if limit is None else f"train[:{limit}]"
        records = builder.info.splits[split].num_examples
        if records * scale != data.num_train:
            raise corpus.DataError(
                f"the TFRecords hold {records} training examples x scale {scale}, but the trial's data has "
                f"{data.num_train}: the records and the data were prepared with different settings"
            )
        verify_shards(builder.info.splits["train"])
        read_config = tfds.ReadConfig(
            shuffle_seed=seed,
            shuffle_reshuffle_each_iteration=True,
            interleave_cycle_length=READ_PARALLELISM,
            num_parallel_calls_for_interleave_files=READ_PARALLELISM,
            try_autocache=False,  # read the files every epoch, never from a cache in memory
            enable_ordering_guard=False,  # stored in x_train's order for slicing; read shuffled on purpose
        )
        cost_iterations = preprocess_cost.tf_iterations(options.preprocess_cost_us, batch_size)
        dataset = (
            builder.as_dataset(split=split, shuffle_files=True, as_supervised=True, read_config=read_config)
            .repeat(scale)
            .shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .map(
                tf_tokenize_batch_fn(data.vocabulary, data.sequence_length, cost_iterations),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .prefetch(tf.data.AUTOTUNE)
        )
        return {"x": dataset}
