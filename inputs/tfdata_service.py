"""`tfdata-service`: the tfdata-online pipeline, run by tf.data service workers in other processes or machines.

The workers tokenize raw review text with tf.strings (the same pipeline, the same integers as x_train); the
training process only receives finished batches over gRPC. The dispatcher is `FeedOptions.service_address`:
one the runner started with `inputs.service.local_cluster`, or one the user runs elsewhere
(`python -m inputs.service`).

Processing mode: "distributed_epoch" (ShardingPolicy.DYNAMIC). The dispatcher hands the source's elements
(here: single example indices of range(n), one worker-to-dispatcher request each) to whichever worker asks
next, so across all workers every example is processed once per job. "parallel_epochs" would have every worker run the whole epoch: N workers,
N copies of each example. TensorFlow documents the exactly-once visitation for distributed_epoch as long as
no worker restarts; after a restart, the examples in flight are lost (at most once).

One epoch = one job. The client dataset is counter() -> flat_map(epoch -> pipeline(order of (seed, epoch)) ->
distribute -> rebatch(batch_size) -> assert_cardinality(steps)) -> prefetch, fed to fit with steps_per_epoch:
- Each epoch builds and registers its own dataset, and the service runs every iteration of a dataset as a
  new job. Jobs are anonymous (no job_name): a job_name is shared by every dataset that uses it, so a second
  dataset (a second trial on the same dispatcher) with the same name would read an already finished job and
  get no data at all, or split one epoch between two readers.
- The order comes from (seed, epoch) through a stateless index shuffle: a job instantiates the registered graph
  afresh on each worker, so `shuffle(seed, reshuffle_each_iteration=True)` would repeat one order in every job.
- Each worker batches what it got, so each ends its share of an epoch with its own partial batch;
  `rebatch` on the client regroups the stream so only the epoch's last batch is partial.
- assert_cardinality stops training with an error if a job delivers fewer or more batches than an epoch has.

Promises (DESIGN.md, "A feed strategy"), as the tests pin them:
- each example exactly once per epoch: yes (without worker restarts), with one worker or several;
- batches of batch_size, one final partial batch per epoch: yes;
- a new order each epoch: yes;
- the same order for the same seed: only with ONE worker. With several, each worker shuffles the examples it
  happened to receive, and the client takes batches from whichever worker has one ready first: which
  examples share a batch, and the order of batches, depend on timing. What stays fixed for a seed is the
  set of examples of every epoch, and with one worker, the whole order.

The per-batch work is `inputs.text.tf_tokenize_batch_fn`, as in tfdata-online (tf.strings tokenizing and padding, plus
--preprocess-cost), on batches of a stateless per-epoch permutation (see `_epoch_pipeline`).
"""

from __future__ import annotations

import warnings

from inputs import preprocess_cost
from inputs.base import FeedStrategy, steps_per_epoch, train_texts
from inputs.errors import InputError
from inputs.text import tf_tokenize_batch_fn

PROCESSING_MODE = "distributed_epoch"


def _epoch_pipeline(texts, labels, tokenize_batch, batch_size, seed, epoch):
    """One epoch of the online pipeline, in an order drawn statelessly from (seed, epoch).

    tfdata-online shuffles with `shuffle(seed)`; here each epoch is a new job whose graph the workers build
    afresh, so the order must come from the epoch number. A stateless index shuffle does that without a
    tensor-valued op seed (which TensorFlow 2.21 cannot take while the global seed is 0, the study's default).
    The tokenizing map is tfdata-online's own.
    """
    import tensorflow as tf

    count = len(labels)
    key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])  # one permutation per (seed, epoch)
    return (
        tf.data.Dataset.range(count)
        .map(lambda index: tf.random.experimental.index_shuffle(index, key, count - 1))
        .batch(batch_size)
        .map(lambda indices: (tf.gather(texts, indices), tf.gather(labels, indices)))
        .map(tokenize_batch, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


class TfDataServiceStrategy(FeedStrategy):
    name = "tfdata-service"
    description = "the tfdata-online pipeline on tf.data service workers (distributed_epoch), rebatched by fit's process"
    needs_texts = True
    needs_service = True

    def check(self, options):
        """A dispatcher the user named answers and has a worker (within seconds, without TensorFlow); without
        one the study starts local servers for each trial."""
        from inputs.service.check import ServiceError, check_dispatcher

        if options.service_address:
            try:
                check_dispatcher(options.service_address)
            except ServiceError as error:
                raise InputError(str(error)) from None

    def fit_arguments(self, data, options):
        import tensorflow as tf  # imported here so listing strategies never loads TensorFlow

        from inputs.service.check import ServiceError, check_dispatcher

        address, batch_size, seed = options.service_address, options.batch_size, options.seed
        if not address:
            raise ServiceError("tfdata-service needs a tf.data service dispatcher: set service_address")
        check_dispatcher(address)  # fails in seconds with a clear line; the client itself would retry for long
        steps = steps_per_epoch(data.num_train, batch_size)
        texts = tf.constant(list(train_texts(data)))
        labels = tf.constant(data.y_train, tf.int32)
        # Calibrated here, eagerly: the cost's calibration runs TensorFlow ops and cannot run inside a trace.
        cost_iterations = preprocess_cost.tf_iterations(options.preprocess_cost_us, batch_size)
        tokenize_batch = tf_tokenize_batch_fn(data.vocabulary, data.sequence_length, cost_iterations)

        def one_epoch(epoch):
            pipeline = _epoch_pipeline(texts, labels, tokenize_batch, batch_size, seed, epoch)
            return (
                pipeline.apply(tf.data.experimental.service.distribute(processing_mode=PROCESSING_MODE, service=address))
                .rebatch(batch_size)
                .apply(tf.data.experimental.assert_cardinality(steps))
            )

        with warnings.catch_warnings():
            # distribute reads dataset options, which TensorFlow warns are unknown while tracing; none are set.
            warnings.filterwarnings("ignore", message="To make it possible to preserve tf.data options")
            dataset = tf.data.Dataset.counter().flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
        return {"x": dataset, "steps_per_epoch": steps}
