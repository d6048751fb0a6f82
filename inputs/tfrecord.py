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
  of failing halfway through an epoch or silently feeding fewer examples. `prepare`, which the study calls
  before its first trial, writes the records or does the same check (`inputs.corpus.records.checked_builder`),
  rebuilding damaged ones - in a process of its own, so the study's own process never loads TensorFlow; damage
  found inside a trial later (a DamagedFileError naming the shard) has `prepare` run again and the trial rerun,
  once (`study.repair`).
"""

from __future__ import annotations

import dataclasses
import json
import sys

from inputs import preprocess_cost
from inputs.base import FeedStrategy
from inputs.errors import DataError
from processes import children, supervisor

READ_PARALLELISM = 4  # shards read at once; TFDS' default of 16 would open every shard of the split at once
SHUFFLE_BUFFER = 10_000  # examples; shuffled shards supply the coarse randomness, the buffer the fine


class TfRecordStrategy(FeedStrategy):
    name = "tfrecord"
    description = "TFRecord shards via TFDS: shuffled files, parallel interleave -> shuffle -> batch -> tokenize"

    def prepare(self, settings, cache_dir):
        """The records written, or read through once and rebuilt when damaged (`records.main`, run with -c: TFDS
        finds a builder's files through its module's name)."""
        spec = {"settings": dataclasses.asdict(settings), "cache_dir": cache_dir}
        environment = children.child_environment()
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # Under a supervisor: the check (and anything it starts) ends with the study, however the study ends.
        exit_code, errors = supervisor.run(
            [sys.executable, "-c", "import sys; from inputs.corpus.records import main; sys.exit(main())", json.dumps(spec)],
            environment=environment, cwd=children.PROJECT_ROOT,
        )
        if exit_code != 0:
            lines = errors.strip().splitlines()
            raise DataError(lines[-1] if lines else f"the TFRecord check failed (status {exit_code})")

    def fit_arguments(self, data, options):
        import tensorflow as tf
        import tensorflow_datasets as tfds

        from inputs.corpus.records import prepared_builder, records_dir, verify_shards
        from inputs.text import tf_tokenize_batch_fn

        if data.settings is None:
            raise DataError("tfrecord writes the data's corpus split as records: prepare the data with inputs.corpus.prepare")
        builder = prepared_builder(data.settings, records_dir(options.cache_dir))
        batch_size, seed, limit, scale = options.batch_size, options.seed, options.limit, options.scale
        split = "train" if limit is None else f"train[:{limit}]"
        records = builder.info.splits[split].num_examples
        if records * scale != data.num_train:
            raise DataError(
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
