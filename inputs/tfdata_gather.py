"""`tfdata-gather`: batch-level tf.data on the in-memory arrays, endless, with `steps_per_epoch`.

Two findings of this study make this feed (benchmarks/harness_overhead.py, reports/benchmarks/harness_overhead.txt):
- an element-level pipeline (`from_tensor_slices -> shuffle -> batch`, the `tfdata` family) makes every
  training step slower and costlier in CPU than the compute-bound limit, although the pipeline alone needs a
  fraction of a millisecond per batch; a batch-level pipeline (one permutation per epoch, one gather per batch -
  how Keras feeds NumPy arrays, keras/src/trainers/data_adapters/array_data_adapter.py) steps like the limit;
- a finite dataset makes Keras build a new iterator every epoch, and destroying the used one can wait, idle, for
  tf.data's autotune thread (docs/EPOCH_BOUNDARIES.md); an endless dataset with `steps_per_epoch` keeps one
  iterator for all of fit.
- that one iterator is still destroyed when fit ends, and with autotuning on that wait moved there: a study probed
  it at up to 57 s (reports/all-30min-window), and `benchmarks/iterator_teardown.py --pipeline gather` saw 5 of 12
  deletions of this pipeline wait for the autotune thread's next wake-up, 0 of 12 with autotuning off
  (reports/benchmarks/iterator_teardown.txt). A gather per batch needs no tuning, so autotuning is off.

So: an endless series of epochs, each a seeded permutation of all examples (stateless: the same (seed, epoch)
gives the same order), cut into batches of `batch_size` with one final partial batch, each batch gathered from
the arrays in one op, with no autotune thread. Each pass is exactly one epoch of `ceil(n / batch)` steps.
"""

import inspect

from inputs.base import FeedStrategy, steps_per_epoch


def epoch_batches(x, y, batch_size: int, seed: int):
    """The endless dataset of batches: epoch after epoch, each a new seeded permutation, gathered per batch."""
    import tensorflow as tf  # imported here so listing strategies never loads TensorFlow

    num_examples = len(y)
    full_batches = num_examples // batch_size
    features, labels = tf.constant(x), tf.constant(y)

    def batches_of_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(num_examples, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch])
        )
        batched = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: full_batches * batch_size], [full_batches, batch_size]))
        if num_examples % batch_size:
            batched = batched.concatenate(tf.data.Dataset.from_tensors(order[full_batches * batch_size :]))
        return batched

    no_autotune = tf.data.Options()
    no_autotune.autotune.enabled = False  # no autotune thread, whose wake-up destroying the iterator can wait for
    return (
        tf.data.Dataset.counter()
        .flat_map(batches_of_epoch)
        .map(lambda ids: (tf.gather(features, ids), tf.gather(labels, ids)), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(no_autotune)
    )


class TfDataGatherStrategy(FeedStrategy):
    name = "tfdata-gather"
    description = (
        "batch-level tf.data: a seeded permutation per epoch, one gather per batch (as Keras feeds arrays), "
        "endless with steps_per_epoch (one iterator for all of fit), autotuning off (destroying it never waits)"
    )

    def fit_arguments(self, data, options):
        return {
            "x": epoch_batches(data.x_train, data.y_train, options.batch_size, options.seed),
            "steps_per_epoch": steps_per_epoch(data.num_train, options.batch_size),
        }

    def usage(self):
        # The function itself, so that what the summary shows is exactly what was measured.
        return (
            "import math\n\n\n" + inspect.getsource(epoch_batches)
            + "\n\nmodel.fit(epoch_batches(x_train, y_train, batch_size=32, seed=0),\n"
            "          steps_per_epoch=math.ceil(len(y_train) / 32), epochs=3)\n"
        )
