"""`tfdata`: the input API TensorFlow recommends, on the pre-tokenized arrays.

from_tensor_slices -> shuffle over the whole dataset (reshuffled each iteration, seeded) -> batch -> prefetch.
"""

from inputs.base import FeedStrategy


def shuffled_batches(data, options):
    """The batches of one epoch in a new seeded order per iteration: what every tfdata variant starts from."""
    import tensorflow as tf  # imported here so listing strategies never loads TensorFlow

    return (
        tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
        .shuffle(data.num_train, seed=options.seed, reshuffle_each_iteration=True)
        .batch(options.batch_size)
    )


class TfDataStrategy(FeedStrategy):
    name = "tfdata"
    description = "tf.data: from_tensor_slices -> shuffle(whole set, seeded) -> batch -> prefetch(AUTOTUNE)"

    def fit_arguments(self, data, options):
        import tensorflow as tf

        return {"x": shuffled_batches(data, options).prefetch(tf.data.AUTOTUNE)}
