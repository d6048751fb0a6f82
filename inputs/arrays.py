"""`arrays`: the reference study's `fit`: NumPy arrays in memory, batched and shuffled by Keras itself."""

from inputs.base import FeedStrategy


class ArraysStrategy(FeedStrategy):
    name = "arrays"
    description = "model.fit(x, y, batch_size, shuffle=True) on in-memory NumPy arrays (the reference's fit)"
    # Keras 3.15 (TensorFlow backend) replays one permutation in every epoch once the global seed is set, as
    # every trial sets it: docs/METHOD.md, "A note on arrays"; tests/test_arrays.py pins it.
    new_order_each_epoch = False

    def fit_arguments(self, data, options):
        # Keras shuffles with TensorFlow's global seed, which the trial sets from `options.seed`.
        return {"x": data.x_train, "y": data.y_train, "batch_size": options.batch_size, "shuffle": True}

    def usage(self):
        return "model.fit(x_train, y_train, batch_size=32, shuffle=True, epochs=3)\n"
