"""`compute-bound`: the limit no feeding strategy can beat on this machine.

The model is fed one batch that is already materialized, over and over, so the input costs nothing. It is
always measured, in every block, and listed apart from the strategies: every strategy's overhead is its epoch
time against this one. It does not deliver each example once (it repeats the first examples); it keeps the
epoch's batch sizes, the partial last one included, so its epochs do exactly the same amount of compute.
"""

from inputs.base import FeedStrategy, steps_per_epoch

NAME = "compute-bound"
UNKNOWN_BATCH_SIZE = "batches of unknown size"  # what the limit's diagnostic changes


class ComputeBound(FeedStrategy):
    name = NAME
    description = "the limit: one ready batch repeated, no input work at all"

    def fit_arguments(self, data, options):
        import tensorflow as tf  # imported here so listing strategies never loads TensorFlow

        batch_size = options.batch_size
        steps = steps_per_epoch(data.num_train, batch_size)
        last_size = data.num_train - (steps - 1) * batch_size
        full = tf.data.Dataset.from_tensors((data.x_train[:batch_size], data.y_train[:batch_size])).repeat(steps - 1)
        last = tf.data.Dataset.from_tensors((data.x_train[:last_size], data.y_train[:last_size]))
        # One epoch's worth of ready batches, repeated: each epoch consumes exactly one pass.
        dataset = full.concatenate(last).repeat().prefetch(1)
        return {"x": dataset, "steps_per_epoch": steps}

    def diagnostic(self, data, options):
        """The same ready batches with their batch dimension unknown - (None, 80), as `batch()` without
        `drop_remainder` and every generator leave it - so the model's step is traced for batches of any size.
        The difference to the limit's own steps is what the unknown size alone costs on this machine."""
        import tensorflow as tf

        arguments = self.fit_arguments(data, options)

        def forget_batch_size(x, y):  # not tf.reshape(x, [-1, ...]): its shape inference works the size out again
            relax = lambda tensor: tf.compat.v1.placeholder_with_default(tensor, [None, *tensor.shape[1:]])  # noqa: E731
            return relax(x), relax(y)

        return UNKNOWN_BATCH_SIZE, dict(arguments, x=arguments["x"].map(forget_batch_size))
