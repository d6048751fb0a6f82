"""`tfdata-repeat`: the `tfdata` pipeline ending in `.repeat()`, fed with `steps_per_epoch`.

Keras 3 `fit` makes a new iterator every epoch for a finite dataset and drops the old one; destroying a used
tf.data iterator whose pipeline autotunes can wait, idle, for tf.data's autotune thread (tens of seconds; see
benchmarks/iterator_teardown.py and docs/EPOCH_BOUNDARIES.md). An endless dataset with `steps_per_epoch`
keeps one iterator for the whole of fit (keras/src/trainers/epoch_iterator.py), so epochs never wait for it.

The repeat comes after the batch, so each pass over the data is one epoch: ceil(n / batch) batches, the last one
partial, exactly `steps_per_epoch`; the shuffle is re-run on each pass, so each epoch has a new order.
"""

from inputs.base import FeedStrategy, steps_per_epoch
from inputs.tfdata import shuffled_batches


class TfDataRepeatStrategy(FeedStrategy):
    name = "tfdata-repeat"
    description = "tfdata ending in .repeat(), with steps_per_epoch: one iterator for all of fit (no per-epoch teardown)"

    def fit_arguments(self, data, options):
        import tensorflow as tf

        dataset = shuffled_batches(data, options).repeat().prefetch(tf.data.AUTOTUNE)
        return {"x": dataset, "steps_per_epoch": steps_per_epoch(data.num_train, options.batch_size)}

    def usage(self):
        return (
            "import math\nimport tensorflow as tf\n\n"
            "dataset = (tf.data.Dataset.from_tensor_slices((x_train, y_train))\n"
            "           .shuffle(len(y_train), reshuffle_each_iteration=True).batch(32)\n"
            "           .repeat().prefetch(tf.data.AUTOTUNE))\n"
            "model.fit(dataset, steps_per_epoch=math.ceil(len(y_train) / 32), epochs=3)\n"
        )
